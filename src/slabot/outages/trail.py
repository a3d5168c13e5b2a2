"""The audit trails of outages and maintenance: ``outage_events`` and ``maintenance_events``,
which this module owns.

Seed 001 (LeadPro): "The client must provide the dates and times of each unavailability
incident that the Client is claiming" and "Uptime is measured using our automated systems over
each calendar month". A month's uptime, its credit and each claim date rest on the recorded
spells, so a spell corrected afterwards (backdated, edited, deleted) must say who corrected it,
when, from what to what and why.

Interpretation: the contract is silent on correcting records; every change to a row of
``outages`` (or ``maintenances``: announced, called off) appends one event to its trail, in the
change's own transaction, and nothing rewrites an event. An event's ``at`` is when the change
was made; the instants it changed are in ``before`` and ``after`` (as ISO 8601 strings in the
store, as instants in a `Change`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ..store.records import Session
from ..store.tables import MaintenanceEvent, MaintenanceRecord, OutageEvent, OutageRecord

# The fields of an outage a change can move, in the order a trail shows them; maintenance has
# no cause and is never force majeure.
FIELDS = ("started_at", "ended_at", "cause", "note", "force_majeure")
MAINTENANCE_FIELDS = ("started_at", "ended_at", "note")
INSTANTS = ("started_at", "ended_at")
GONE = ("deleted", "cancelled")  # the row stays, counting nowhere


@dataclass(frozen=True)
class Change:
    """One entry of an outage's trail, as read back: instants are instants again."""

    kind: str  # started, ended, edited, deleted, announced, cancelled
    actor: str
    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    id: int | None = None  # its row of ``outage_events``, which an announcement names


def fields(record: OutageRecord | MaintenanceRecord) -> dict[str, Any]:
    """The fields of ``record`` a change can move, as they are now."""
    names = MAINTENANCE_FIELDS if isinstance(record, MaintenanceRecord) else FIELDS
    return {name: getattr(record, name) for name in names}


def append(
    session: Session,
    record: OutageRecord | MaintenanceRecord,
    kind: str,
    *,
    actor: str,
    at: datetime,
    before: dict[str, Any] | None = None,
    reason: str = "",
) -> Change:
    """Append ``kind`` to ``record``'s trail: the fields that differ from ``before`` (all of
    them for a new row), before and after; for a row that stops counting (deleted, called
    off), every field before and nothing after."""
    assert record.id is not None
    now = {name: _stored(value) for name, value in fields(record).items()}
    old = {name: _stored(value) for name, value in (before or {}).items()}
    if kind in GONE:
        old, now = now, {}
    else:
        moved = [name for name in now if name not in old or old[name] != now[name]]
        old = {name: old[name] for name in moved if name in old}
        now = {name: now[name] for name in moved}
    change: dict[str, Any] = {
        "kind": kind,
        "actor": actor,
        "at": at,
        "before": old,
        "after": now,
        "reason": reason,
    }
    event: OutageEvent | MaintenanceEvent
    if isinstance(record, MaintenanceRecord):
        event = MaintenanceEvent(maintenance_id=record.id, **change)
    else:
        event = OutageEvent(outage_id=record.id, **change)
    session.add(event)  # inserted: its id, for an announcement of it
    return read(event)


def changes(session: Session, outage: OutageRecord) -> list[Change]:
    """The trail of one outage, oldest first."""
    query = select(OutageEvent).where(OutageEvent.c.outage_id == outage.id)
    return [read(row) for row in session.exec(query.order_by(OutageEvent.c.id))]


def read(row: OutageEvent | MaintenanceEvent) -> Change:
    """A stored event as a `Change`."""
    return Change(
        row.kind, row.actor, row.at, _read(row.before), _read(row.after), row.reason, row.id
    )


def _stored(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _read(stored: dict[str, Any]) -> dict[str, Any]:
    return {
        name: datetime.fromisoformat(value) if name in INSTANTS and value else value
        for name, value in stored.items()
    }
