"""Read-only questions about tickets: the queue, one ticket's story, a month's tickets.

They read through the store's reading engine and never take write locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, select

from ..store import Store
from ..store.tables import Ticket, TicketEvent, Timer

PAGE = 20


@dataclass(frozen=True)
class TicketStory:
    ticket: Ticket
    events: list[TicketEvent]
    timers: list[Timer]


def queue(
    store: Store,
    workspace: str,
    *,
    policy: str | None = None,
    limit: int = PAGE,
    after: tuple[datetime, int] | None = None,
) -> list[Ticket]:
    """Open tickets, the one closest to its next breach first; paused ones (no running
    deadline) last. ``after`` is the last row's (next_due_at, id) for the next page."""
    query = select(Ticket).where(Ticket.workspace == workspace, Ticket.active)
    if policy:
        query = query.where(Ticket.policy == policy)
    if after is not None:
        due, last_id = after
        query = query.where(
            or_(Ticket.next_due_at > due, (Ticket.next_due_at == due) & (Ticket.id > last_id))
        )
    query = query.order_by(Ticket.next_due_at.is_(None), Ticket.next_due_at, Ticket.id)  # type: ignore[union-attr]
    with store.reading() as session:
        return list(session.exec(query.limit(limit)))


def tickets(
    store: Store,
    *,
    workspace: str | None = None,
    active: bool | None = None,
    policy: str | None = None,
    limit: int = 100,
) -> list[Ticket]:
    """Tickets for operators, newest first."""
    query = select(Ticket)
    if workspace:
        query = query.where(Ticket.workspace == workspace)
    if active is not None:
        query = query.where(Ticket.active == active)
    if policy:
        query = query.where(Ticket.policy == policy)
    with store.reading() as session:
        return list(session.exec(query.order_by(Ticket.opened_at.desc()).limit(limit)))  # type: ignore[attr-defined]


def story(store: Store, workspace: str, number: int) -> TicketStory | None:
    """A ticket with its whole history and every timer, fired or pending."""
    with store.reading() as session:
        ticket = _ticket(session, workspace, number)
        if ticket is None:
            return None
        events = session.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
        timers = session.exec(
            select(Timer).where(Timer.ticket_id == ticket.id).order_by(Timer.due_at, Timer.id)
        )
        return TicketStory(ticket, list(events), list(timers))


def between(
    store: Store, workspace: str, start: datetime, end: datetime, *, policy: str | None = None
) -> list[TicketStory]:
    """Tickets opened in [start, end), each with its history: what month-end reports read."""
    query = select(Ticket).where(
        Ticket.workspace == workspace, Ticket.opened_at >= start, Ticket.opened_at < end
    )
    if policy:
        query = query.where(Ticket.policy == policy)
    with store.reading() as session:
        rows = list(session.exec(query.order_by(Ticket.opened_at, Ticket.id)))
        ids = [t.id for t in rows]
        events: dict[int, list[TicketEvent]] = {i: [] for i in ids}  # type: ignore[misc]
        for chunk in range(0, len(ids), 500):
            for event in session.exec(
                select(TicketEvent)
                .where(TicketEvent.ticket_id.in_(ids[chunk : chunk + 500]))  # type: ignore[attr-defined]
                .order_by(TicketEvent.id)
            ):
                events[event.ticket_id].append(event)
        return [TicketStory(t, events[t.id], []) for t in rows]  # type: ignore[index]


def _ticket(session: Session, workspace: str, number: int) -> Ticket | None:
    query = select(Ticket).where(Ticket.workspace == workspace, Ticket.number == number)
    return session.exec(query).first()
