"""A ticket as it stands (`TicketView`): its row, its policy, and its schedule at ``now``.

The schedule is never stored: it is recomputed from the ticket's whole history by the engine,
so what a card, a queue or the clock shows is what the events say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, or_, select

from ..policies import PolicyVersions
from ..refusals import Invalid, NotFound
from ..sla import Policy
from ..sla.history import Event
from ..sla.schedule import Schedule, schedule
from ..store import Store
from ..store.records import Session
from ..store.tables import Ticket, TicketEvent
from .events import engine_events

_REF = re.compile(r"(?:sla-?)?#?(\d{1,9})", re.IGNORECASE)


class _Stored(NamedTuple):
    """The columns of a stored event the engine and a view read."""

    kind: str
    at: datetime
    after: Mapping[str, Any]


@dataclass(frozen=True)
class TicketView:
    """A ticket as it stands: its row, the policy it runs under, and its schedule at ``now``.

    ``replayed``: a change use case answered a request it had applied before (same
    idempotency key), so this call changed nothing and there is nothing new to announce.
    ``last_update``: the text of the latest update, which the card quotes (cut) beside its
    progress line, so a reader sees what was said without opening the thread."""

    ticket: Ticket
    policy: Policy
    schedule: Schedule
    replayed: bool = False
    last_update: str | None = None


def parse_ref(ref: str | int) -> int:
    """``SLA-42``, ``sla42``, ``#42`` or ``42`` → 42."""
    match = _REF.fullmatch(str(ref).strip())
    if not match or int(match.group(1)) == 0:
        raise Invalid(f"{str(ref)[:40]!r} is not a ticket ID: use its number, such as SLA-42 or 42")
    return int(match.group(1))


def find(session: Session, workspace: str, ref: str | int, *, lock: bool = False) -> Ticket:
    """The ticket ``ref`` of ``workspace``; with ``lock``, locked for the transaction (every
    change locks its ticket first, so two changes to one ticket run one after the other)."""
    number = parse_ref(ref)
    query = select(Ticket).where(Ticket.c.workspace == workspace, Ticket.c.number == number)
    ticket = session.exec(query.with_for_update() if lock else query).first()
    if ticket is None:
        raise NotFound(f"there is no ticket SLA-{number} in this workspace")
    return ticket


def schedule_of(session: Session, ticket: Ticket, policy: Policy, now: datetime) -> Schedule:
    """The engine's schedule of ``ticket`` at ``now``, from its stored events."""
    return view_of(session, ticket, policy, now).schedule


def view_of(session: Session, ticket: Ticket, policy: Policy, now: datetime) -> TicketView:
    """``ticket`` as it stands at ``now``, from its stored events read once."""
    return _view(ticket, policy, _rows(session, ticket), now)


def history_of(session: Session, ticket: Ticket) -> list[Event]:
    """``ticket``'s history as the engine reads it."""
    return engine_events(_rows(session, ticket))


def _rows(session: Session, ticket: Ticket) -> list[Any]:
    return list(
        session.exec(
            select(TicketEvent.c.kind, TicketEvent.c.at, TicketEvent.c.after)
            .where(TicketEvent.c.ticket_id == ticket.id)
            .order_by(TicketEvent.c.id)
        ).all()
    )


def _view(ticket: Ticket, policy: Policy, rows: list[Any], now: datetime) -> TicketView:
    plan = schedule(policy, engine_events(rows), now)
    said = next((r.after.get("text") for r in reversed(rows) if r.kind == "update_posted"), None)
    return TicketView(ticket, policy, plan, last_update=said)


class TicketViews:
    def __init__(self, store: Store, versions: PolicyVersions):
        self.store = store
        self.versions = versions

    def view(self, workspace: str, ref: str | int, now: datetime) -> TicketView:
        with self.store.reading() as session:
            ticket = find(session, workspace, ref)
            return self.in_session(session, ticket, now)

    def views(self, rows: list[Ticket], now: datetime) -> list[TicketView]:
        """Views of several tickets (a queue page, a Home tab, a clock tick) with one read of
        their events: the columns the engine reads, not whole rows (a tick reads a thousand
        events, and building objects of whole rows took longer than the schedules)."""
        if not rows:
            return []
        with self.store.reading() as session:
            ids = [t.id for t in rows]
            stored: dict[int | None, list[Any]] = {i: [] for i in ids}
            query = (
                select(
                    TicketEvent.c.ticket_id,
                    TicketEvent.c.kind,
                    TicketEvent.c.at,
                    TicketEvent.c.after,
                )
                .where(TicketEvent.c.ticket_id.in_(ids))
                .order_by(TicketEvent.c.id)
            )
            # Unpacked as they come: reading a Row's columns by name costs several times more,
            # and the engine reads each event's three (a clock's tick: a thousand events).
            for ticket_id, kind, at, after in session.exec(query):
                stored[ticket_id].append(_Stored(kind, at, after))
            result = []
            for ticket in rows:
                policy = self.versions.get(session, ticket.policy_digest)
                result.append(_view(ticket, policy, stored[ticket.id], now))
            return result

    def by_source(
        self, workspace: str, source: str, source_ref: str, now: datetime
    ) -> TicketView | None:
        """The ticket an outside item opened (an alert group's repeat finds its ticket)."""
        return self.existing(workspace, None, source, source_ref, now)

    def existing(
        self,
        workspace: str,
        key: str | None,
        source: str,
        source_ref: str | None,
        now: datetime,
    ) -> TicketView | None:
        """The ticket opened before by the same request (idempotency ``key``) or the same
        outside item (``source``, ``source_ref``), if one was."""
        if key is None and source_ref is None:
            return None
        match: list[ColumnElement[bool]] = []
        if key is not None:
            match.append(Ticket.c.idempotency_key == key)
        if source_ref is not None:
            match.append((Ticket.c.source == source) & (Ticket.c.source_ref == source_ref))
        with self.store.reading() as session:
            query = select(Ticket).where(Ticket.c.workspace == workspace, or_(*match))
            ticket = session.exec(query).first()
            if ticket is None:
                return None
            return self.in_session(session, ticket, now)

    def in_session(self, session: Session, ticket: Ticket, now: datetime) -> TicketView:
        """``ticket``'s view at ``now``, read in the caller's transaction."""
        return view_of(session, ticket, self.versions.get(session, ticket.policy_digest), now)
