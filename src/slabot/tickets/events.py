"""Stored ticket events, and the engine's view of them.

The store keeps every change as a row (kind, actor, instant, before, after); the engine reads
the few facts it needs. Instants inside ``before``/``after`` are ISO 8601 strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ..sla.history import (
    Acknowledged,
    DowntimeCorrected,
    Event,
    LevelRouted,
    Opened,
    PageAcknowledged,
    ReleaseAgreed,
    SeverityChanged,
    StatusChanged,
    UpdatePosted,
)
from ..store.tables import TicketEvent

# kinds that change nothing the engine reads: kept for the audit trail
AUDIT_ONLY = {"owner_assigned", "message_posted", "customer_replied"}


def stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def engine_events(rows: Iterable[TicketEvent]) -> list[Event]:
    events = [engine_event(row.kind, row.at, row.after) for row in rows]
    return [e for e in events if e is not None]


def engine_event(kind: str, at: datetime, after: Mapping[str, Any]) -> Event | None:
    """One stored event as the engine reads it; None for the kinds kept only for the audit."""
    reader = READERS.get(kind)
    if reader is None:
        if kind in AUDIT_ONLY:
            return None
        raise ValueError(f"unknown ticket event kind {kind!r}")
    fields, make = reader
    return make(at, *(after.get(name) for name in fields), *(None,) * (2 - len(fields)))


def _truth(value: Any) -> bool:
    """A JSON boolean as stored, or as a database hands it back out of the JSON (SQLite
    ``json_extract`` gives 1/0, PostgreSQL ``->>`` gives 'true'/'false')."""
    return value in (True, 1, "1", "true")


def _verdict(value: Any) -> bool | None:
    """A correction's ``counts`` as stored: "yes", "no", or None (as the severity says)."""
    return None if value is None else value == "yes"


Make = Callable[[datetime, Any, Any], Event]
# Per kind: the (at most two) keys of ``after`` the engine reads, and how they make its event.
# `slabot.tickets.histories` has the database take these keys out of the JSON.
READERS: dict[str, tuple[tuple[str, ...], Make]] = {
    "opened": (("severity", "reported_at"), lambda at, sev, rep: Opened(at, sev, instant(rep))),
    "severity_changed": (("severity",), lambda at, sev, _: SeverityChanged(at, sev)),
    "acknowledged": ((), lambda at, _a, _b: Acknowledged(at)),
    "update_posted": (
        ("eta", "workaround"),
        lambda at, eta, w: UpdatePosted(at, instant(eta), _truth(w)),
    ),
    "status_changed": (("status",), lambda at, status, _: StatusChanged(at, status)),
    "page_acknowledged": (("level",), lambda at, level, _: PageAcknowledged(at, level)),
    "downtime_corrected": (
        ("counts", "cause"),
        lambda at, counts, cause: DowntimeCorrected(at, _verdict(counts), cause),
    ),
    "level_routed": (("level",), lambda at, level, _: LevelRouted(at, level)),
    "release_agreed": (
        ("release_at", "agreed_by"),
        lambda at, release, who: ReleaseAgreed(at, datetime.fromisoformat(release), who),
    ),
}
