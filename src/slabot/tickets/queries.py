"""Read-only questions about tickets: the queue, one ticket's story, a month's tickets.

They read through the store's reading engine and never take write locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from ..store import Store
from ..store.records import Session
from ..store.tables import Ticket, TicketEvent, TimerRow

PAGE = 20


@dataclass(frozen=True)
class TicketStory:
    ticket: Ticket
    events: list[TicketEvent]
    timers: list[TimerRow]


def queue(
    store: Store,
    workspace: str,
    *,
    policy: str | None = None,
    limit: int = PAGE,
    after: tuple[datetime | None, int] | None = None,
    paused: bool = True,
) -> list[Ticket]:
    """Open tickets, the one closest to its next breach first; paused ones (no running
    deadline: waiting on the customer, or no target at all) last, unless ``paused`` is False
    (the tickets at risk); ties by id. ``after`` is the last row's (next_due_at, id) for the
    next page (next_due_at None when that row is paused).

    Two reads that each follow ``ix_tickets_queue`` (workspace, active, next_due_at, id) and
    stop after ``limit`` rows: the tickets with a deadline, then, if the page is not full, the
    paused ones by id. One ORDER BY that puts NULLs last cannot follow the index on SQLite
    (which sorts NULLs first), so it would sort every open ticket of the workspace."""
    base = select(Ticket).where(Ticket.c.workspace == workspace, Ticket.c.active)
    if policy:
        base = base.where(Ticket.c.policy == policy)
    due = Ticket.c.next_due_at
    rows: list[Ticket] = []
    with store.reading() as session:
        if after is None or after[0] is not None:
            running = base.where(due.is_not(None))
            if after is not None:
                last_due, last_id = after
                running = running.where(
                    due >= last_due,
                    or_(due > last_due, Ticket.c.id > last_id),
                )
            running = running.order_by(due, Ticket.c.id).limit(limit)
            rows += session.exec(running)
        if paused and len(rows) < limit:
            stopped = base.where(due.is_(None))
            if after is not None and after[0] is None:
                stopped = stopped.where(Ticket.c.id > after[1])
            # ORDER BY next_due_at (all NULL here), id: the index's own order, which
            # PostgreSQL follows; ORDER BY id alone makes it walk the primary key instead.
            stopped = stopped.order_by(due, Ticket.c.id).limit(limit - len(rows))
            rows += session.exec(stopped)
    return rows


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
        query = query.where(Ticket.c.workspace == workspace)
    if active is not None:
        query = query.where(Ticket.c.active == active)
    if policy:
        query = query.where(Ticket.c.policy == policy)
    with store.reading() as session:
        return list(session.exec(query.order_by(Ticket.c.opened_at.desc()).limit(limit)))


def story(store: Store, workspace: str, number: int) -> TicketStory | None:
    """A ticket with its whole history and every timer, fired or pending."""
    with store.reading() as session:
        ticket = _ticket(session, workspace, number)
        if ticket is None:
            return None
        events = session.exec(
            select(TicketEvent)
            .where(TicketEvent.c.ticket_id == ticket.id)
            .order_by(TicketEvent.c.id)
        )
        timers = session.exec(
            select(TimerRow)
            .where(TimerRow.c.ticket_id == ticket.id)
            .order_by(TimerRow.c.due_at, TimerRow.c.id)
        )
        return TicketStory(ticket, list(events), list(timers))


def between(
    store: Store, workspace: str, start: datetime, end: datetime, *, policy: str | None = None
) -> list[TicketStory]:
    """Tickets opened in [start, end), each with its history: what month-end reports read."""
    query = select(Ticket).where(
        Ticket.c.workspace == workspace, Ticket.c.opened_at >= start, Ticket.c.opened_at < end
    )
    if policy:
        query = query.where(Ticket.c.policy == policy)
    with store.reading() as session:
        rows = list(session.exec(query.order_by(Ticket.c.opened_at, Ticket.c.id)))
        ids = [t.id for t in rows]
        events: dict[int, list[TicketEvent]] = {i: [] for i in ids}  # type: ignore[misc]
        for chunk in range(0, len(ids), 500):
            for event in session.exec(
                select(TicketEvent)
                .where(TicketEvent.c.ticket_id.in_(ids[chunk : chunk + 500]))
                .order_by(TicketEvent.c.id)
            ):
                events[event.ticket_id].append(event)
        return [TicketStory(t, events[t.id], []) for t in rows]  # type: ignore[index]


def _ticket(session: Session, workspace: str, number: int) -> Ticket | None:
    query = select(Ticket).where(Ticket.c.workspace == workspace, Ticket.c.number == number)
    return session.exec(query).first()


def owned(store: Store, workspace: str, user: str, *, limit: int = PAGE) -> list[Ticket]:
    """Open tickets ``user`` owns, closest to breach first."""
    query = (
        select(Ticket)
        .where(Ticket.c.workspace == workspace, Ticket.c.active, Ticket.c.owner == user)
        .order_by(Ticket.c.next_due_at.is_(None), Ticket.c.next_due_at, Ticket.c.id)
        .limit(limit)
    )
    with store.reading() as session:
        return list(session.exec(query))


def counts(store: Store, workspace: str) -> dict[tuple[str, str], int]:
    """Open tickets per (policy, severity)."""
    query = (
        select(Ticket.c.policy, Ticket.c.severity, func.count())
        .where(Ticket.c.workspace == workspace, Ticket.c.active)
        .group_by(Ticket.c.policy, Ticket.c.severity)
    )
    with store.reading() as session:
        return {(policy, severity): n for policy, severity, n in session.exec(query)}


def policies_used(store: Store, workspace: str, since: datetime) -> set[str]:
    """Policies of a workspace's tickets still open or opened since ``since`` (one indexed
    read)."""
    used = select(Ticket.c.policy).where(
        Ticket.c.workspace == workspace, or_(Ticket.c.active, Ticket.c.opened_at >= since)
    )
    with store.reading() as session:
        return set(session.exec(used.distinct()))
