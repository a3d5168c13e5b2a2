"""Stored ticket events, and the engine's view of them.

The store keeps every change as a row (kind, actor, instant, before, after); the engine reads
the few facts it needs. Instants inside ``before``/``after`` are ISO 8601 strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..sla.history import (
    Acknowledged,
    Event,
    Opened,
    PageAcknowledged,
    SeverityChanged,
    StatusChanged,
    UpdatePosted,
)
from ..store.tables import TicketEvent

# kinds that change nothing the engine reads: kept for the audit trail
AUDIT_ONLY = {"owner_assigned", "message_posted"}


def stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def engine_events(rows: Iterable[TicketEvent]) -> list[Event]:
    events: list[Event] = []
    for row in rows:
        after = row.after
        if row.kind == "opened":
            events.append(Opened(row.at, after["severity"], instant(after.get("reported_at"))))
        elif row.kind == "severity_changed":
            events.append(SeverityChanged(row.at, after["severity"]))
        elif row.kind == "acknowledged":
            events.append(Acknowledged(row.at))
        elif row.kind == "update_posted":
            events.append(
                UpdatePosted(row.at, instant(after.get("eta")), bool(after.get("workaround")))
            )
        elif row.kind == "status_changed":
            events.append(StatusChanged(row.at, after["status"]))
        elif row.kind == "page_acknowledged":
            events.append(PageAcknowledged(row.at, after["level"]))
        elif row.kind not in AUDIT_ONLY:
            raise ValueError(f"unknown ticket event kind {row.kind!r}")
    return events
