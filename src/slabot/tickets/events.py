"""Stored ticket events, and the engine's view of them.

The store keeps every change as a row (kind, actor, instant, before, after); the engine reads
the few facts it needs. Instants inside ``before``/``after`` are ISO 8601 strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

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
    events = [engine_event(row.kind, row.at, row.after) for row in rows]
    return [e for e in events if e is not None]


def engine_event(kind: str, at: datetime, after: Mapping[str, Any]) -> Event | None:
    """One stored event as the engine reads it; None for the kinds kept only for the audit."""
    if kind == "opened":
        return Opened(at, after["severity"], instant(after.get("reported_at")))
    if kind == "severity_changed":
        return SeverityChanged(at, after["severity"])
    if kind == "acknowledged":
        return Acknowledged(at)
    if kind == "update_posted":
        return UpdatePosted(at, instant(after.get("eta")), bool(after.get("workaround")))
    if kind == "status_changed":
        return StatusChanged(at, after["status"])
    if kind == "page_acknowledged":
        return PageAcknowledged(at, after["level"])
    if kind in AUDIT_ONLY:
        return None
    raise ValueError(f"unknown ticket event kind {kind!r}")
