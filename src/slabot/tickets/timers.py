"""The owner of the ``timers`` table, and its one writer: the work a ticket owes, written with
the change that caused it; the clock's claims and outcomes; what an operator sees and sends
again. The clock only drives it (`slabot.clock.dispatch`).

Two sorts of owed work share the table and the clock's one delivery path (claim, perform with
the exactly-once rule, record):

* **Timers** of the ticket's schedule (reminders, nudges, pages, follow-ups, auto-solve and
  auto-close): a ticket's pending timers are always what its schedule owes, added, moved or
  deleted in the same transaction as the change that caused them (`rewrite_timers`).
* **Messages** slabot owes Slack about a ticket (`MESSAGES`, written by `owe_messages` in the
  same transaction as the change): the card to post (``card``/``post``, once), the card to
  redraw (``card``/``redraw``: coalesced, one pending per ticket, drawn from the ticket as it
  stands when performed), a thread note (``note``, one per change, its words chosen by the
  adapter that asked for the change and rendered here from the ticket just before and just
  after it), and the copies of an answered page to redraw (``page_copy``). The schedule never
  owes these, so `rewrite_timers` leaves them alone. Nothing else of a ticket is performed
  while its card post is pending (`_card_waiting`): notes and page replies need its ts, which
  `TimerRecords.record` stores on the ticket in the transaction that records the post.

What it offers, by who asks:

* the use cases: `rewrite_timers`, `owe_messages`, `owe_page_copies`, `mark_acted` (in their
  transaction);
* the clock: `claim_due` (one short transaction: the due timers become ``sending``) and
  `TimerRecords.record` (its outcomes, with the next timers each settled ticket owes, in one
  transaction per tick);
* the operator (``slabot timers``): `listing` and `retry`. A timer whose delivery fails in a
  way that may pass (Slack down, rate limits, no answer) is *late*: it keeps trying, with
  waits capped at a few minutes, for as long as its ticket needs it, and the listing shows its
  tries and its last error. A timer is dead when only a person can fix its delivery (a revoked
  token, an unknown channel, a missing pager key); `retry` makes it due again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    String,
    Update,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from ..policies import PolicyVersions
from ..sla.schedule import Schedule, Timer
from ..store import Store
from ..store.queue import requeue_dead, seen_as, update_by_id
from ..store.records import Session
from ..store.tables import Ticket, TimerRow
from ..store.types import UTCDateTime
from .events import stamp
from .views import TicketView, schedule_of

TIMERS = TimerRow.__table__
CARD, NOTE, PAGE_COPY = "card", "note", "page_copy"
MESSAGES = frozenset({CARD, NOTE, PAGE_COPY})  # owed to Slack by changes, not by a schedule
POST, REDRAW = "post", "redraw"  # a card's two stages
# The thread's line for a change, from the ticket just after it and just before it (None when
# it opens): chosen by the adapter that asked for the change, in its own words.
Say = Callable[[TicketView, TicketView | None], str]


@dataclass(frozen=True)
class TimerOutcome:
    """What the clock did with a timer it claimed: the columns to write on its row."""

    timer_id: int
    ticket_id: int
    values: dict[str, Any]

    @property
    def settled(self) -> bool:
        """Fired, dropped or dead: the ticket's next timers are due to be written."""
        return self.values.get("state") in ("fired", "dropped", "dead")


class TimerRecords:
    def __init__(self, store: Store, versions: PolicyVersions):
        self.store = store
        self.versions = versions

    def record(
        self,
        outcomes: Sequence[TimerOutcome],
        claimed_by: str,
        now: datetime,
        views: Mapping[int, TicketView],
    ) -> set[int]:
        """The clock's outcomes for the timers it claimed in one tick, and the timers each
        settled ticket owes from ``now`` on (a page's next repeat, the next follow-up).

        One transaction for the whole tick: the outcome and the next timers are written
        together (a clock killed in between could otherwise leave a repeat nobody owes), and
        one commit instead of one per timer is most of what lets the clock keep up with a burst.
        The tickets are locked first, in id order, as every use case locks its ticket. The next
        timers come from ``views`` (the schedules the clock computed at ``now``) unless the
        ticket changed since, in which case it is recomputed here. Returns the ids of the timers
        not recorded because ``claimed_by`` no longer holds them (the lease ran out and another
        clock took them over); nothing is written for those.
        """
        if not outcomes:
            return set()
        ids = [o.timer_id for o in outcomes]
        with self.store.writing() as session:
            settled = sorted({o.ticket_id for o in outcomes if o.settled})
            lock = (
                select(Ticket.c.id, Ticket.c.version)
                .where(Ticket.c.id.in_(settled))
                .order_by(Ticket.c.id)
                .with_for_update()
            )
            versions = dict(session.exec(lock).all()) if settled else {}
            mine = (
                select(TimerRow.c.id)
                .where(
                    TimerRow.c.id.in_(ids),
                    TimerRow.c.state == "sending",
                    TimerRow.c.claimed_by == claimed_by,
                )
                .with_for_update()
            )
            held = set(session.exec(mine).all())
            rows = [{"id": o.timer_id, **o.values} for o in outcomes if o.timer_id in held]
            if rows:
                update_by_id(session, TIMERS, rows)
                _place_cards(session, [o for o in outcomes if o.timer_id in held])
            recorded = {o.ticket_id for o in outcomes if o.settled and o.timer_id in held}
            plans = {}
            for ticket_id in sorted(recorded):
                view = views.get(ticket_id)
                if view is not None and view.ticket.version == versions[ticket_id]:
                    plans[ticket_id] = view.schedule
                else:  # changed by someone while the clock performed
                    ticket = session.get_one(Ticket, ticket_id)
                    policy = self.versions.get(session, ticket.policy_digest)
                    plans[ticket_id] = schedule_of(session, ticket, policy, now)
            rewrite_timers(session, plans, revive=False)
        return set(ids) - held


class _Stored(NamedTuple):
    """What `rewrite_timers` reads of a stored timer."""

    id: int
    state: str
    due_at: datetime


def rewrite_timers(session: Session, plans: Mapping[int, Schedule], *, revive: bool = True) -> None:
    """Make each ticket's pending timers what its plan (ticket id → schedule) owes: the
    ones no longer owed deleted, the new ones added, the moved ones moved. With ``revive``,
    a timer the clock dropped (its ticket was resolved or paused as it came due) that a
    change has made owed again (a reopen, a pause that ended) is pending again; the clock's
    own records pass False, since the same instant cannot owe what it has just dropped.
    Timers being sent or already settled are left as they are."""
    if not plans:
        return
    # Per ticket, each stored timer by its key; the rows unpacked as they come (reading a
    # Row's columns by name cost the clock's record 2 ms a batch).
    existing: dict[int, dict[tuple[str, str, int], _Stored]] = {t: {} for t in plans}
    query = select(
        TimerRow.c.id,
        TimerRow.c.ticket_id,
        TimerRow.c.kind,
        TimerRow.c.stage,
        TimerRow.c.repeat,
        TimerRow.c.state,
        TimerRow.c.due_at,
    ).where(TimerRow.c.ticket_id.in_(list(plans)), TimerRow.c.kind.not_in(MESSAGES))
    for row_id, ticket_id, kind, stage, repeat, state, due_at in session.exec(query):
        existing[ticket_id][(kind, stage, repeat)] = _Stored(row_id, state, due_at)
    stale: list[int] = []
    moved: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    for ticket_id, plan in plans.items():
        wanted = {timer.key: timer for timer in plan.timers}
        rows = existing[ticket_id]
        stale += [r.id for key, r in rows.items() if r.state == "pending" and key not in wanted]
        for key, timer in wanted.items():
            row = rows.get(key)
            if row is None:
                new.append(
                    {
                        "ticket_id": ticket_id,
                        "kind": timer.kind,
                        "stage": timer.stage,
                        "repeat": timer.repeat,
                        "due_at": timer.due_at,
                        "next_attempt_at": timer.due_at,
                        "state": "pending",
                        "attempts": 0,
                        "target": timer.target,
                        "level": timer.level,
                        "detail": _detail(timer),
                    }
                )
            elif row.state == "pending" and row.due_at != timer.due_at:
                moved.append(
                    {"id": row.id, "due_at": timer.due_at, "next_attempt_at": timer.due_at}
                )
            elif row.state == "dropped" and revive:
                moved.append(
                    {
                        "id": row.id,
                        "state": "pending",
                        "attempts": 0,
                        "detail": _detail(timer),
                        "due_at": timer.due_at,
                        "next_attempt_at": timer.due_at,
                    }
                )
    if stale:
        session.execute(delete(TimerRow).where(TimerRow.c.id.in_(stale)))
    if moved:
        update_by_id(session, TIMERS, moved)
    if new:
        session.execute(insert(TIMERS), new)


# -- the clock's claims, and the operator's -----------------------------------------------------


def claim_due(
    store: Store,
    now: datetime,
    name: str,
    *,
    lease: timedelta,
    batch: int,
    kinds: Collection[str] | None = None,
) -> list[TimerRow]:
    """Up to ``batch`` due timers, pages first, then earliest due first, none behind an
    earlier timer of its ticket that is waiting to be retried or being performed.

    Three reads: the timers a dead clock left ``sending`` (rare; never this clock's own,
    which are in flight however long they take), then the pending pages that are next in
    their ticket (a page behind its ticket's earlier reminder waits its turn: each ticket's
    messages keep their order), then the other pending ones, each in the order of
    ``ix_timers_queue`` (state, due time, id), which the database reads only as far as the
    batch needs. ``due_at <= now`` bounds that read (a timer's next attempt is never before
    its due time), so a quiet tick reads nothing past the due timers. When work queues
    (a burst, a channel at Slack's pace), pages so go before reminders and notes."""
    reads, take = _claim_statements(None if kinds is None else frozenset(kinds), store.is_sqlite)
    params: dict[str, Any] = {"now": now, "stale": now - lease, "name": name}
    with store.writing() as session:
        rows: list[TimerRow] = []
        for read in reads:
            # a page taken already is not taken again with the rest
            taken = {"left": batch - len(rows), "taken": [row.id for row in rows]}
            rows += session.exec(read, params={**params, **taken})
            if len(rows) == batch:
                break
        rows.sort(key=lambda row: (row.due_at, row.id))  # each ticket's in due order
        if rows:
            session.execute(take, {**params, "ids": [row.id for row in rows]})
    return rows


@cache
def _claim_statements(
    kinds: frozenset[str] | None, sqlite: bool
) -> tuple[tuple[Select[TimerRow], ...], Update]:
    """`claim_due`'s three reads and its update, built once per ``kinds`` and database and run
    with their bind parameters (``now``, ``stale``, ``name``; ``left`` and ``taken`` for the
    reads, ``ids`` for the update): building them anew took about a fifth of each claim's CPU
    in a burst, with SQLAlchemy's cache key computed again for every new statement."""
    now = bindparam("now", type_=UTCDateTime)
    stale = bindparam("stale", type_=UTCDateTime)
    name = bindparam("name", type_=String)
    earlier = TIMERS.alias().c
    # A claim of this clock's is in flight however old (a batch can outlast the lease when
    # Slack is slow); only another clock's can have been left behind by its death.
    mine = earlier.claimed_by == name
    busy = or_(
        and_(earlier.state == "pending", earlier.next_attempt_at > now),
        and_(earlier.state == "sending", or_(earlier.claimed_at >= stale, mine)),
    )
    before = or_(
        earlier.due_at < TimerRow.c.due_at,
        and_(earlier.due_at == TimerRow.c.due_at, earlier.id < TimerRow.c.id),
    )
    same_ticket = earlier.ticket_id == TimerRow.c.ticket_id
    behind = exists().where(same_ticket, busy, before)
    owed_before = exists().where(same_ticket, earlier.state.in_(("pending", "sending")), before)
    card = TIMERS.alias().c  # nothing of a ticket goes out before its card: its thread
    uncarded = exists().where(_card_waiting(TimerRow.c.ticket_id, card), card.id != TimerRow.c.id)
    interrupted = and_(
        TimerRow.c.state == "sending",
        TimerRow.c.claimed_at < stale,
        TimerRow.c.claimed_by != name,
    )
    due = and_(
        TimerRow.c.state == "pending",
        TimerRow.c.due_at <= now,
        TimerRow.c.next_attempt_at <= now,
    )
    first_page = and_(due, TimerRow.c.kind == "page", ~owed_before)
    reads = []
    for which in (and_(interrupted, ~behind), first_page, and_(due, ~behind)):
        if kinds is not None:
            which = and_(which, TimerRow.c.kind.in_(sorted(kinds)))
        query = (
            select(TimerRow)
            .where(
                which,
                ~uncarded,
                TimerRow.c.id.not_in(bindparam("taken", expanding=True)),
            )
            .order_by(TimerRow.c.state, TimerRow.c.due_at, TimerRow.c.id)
            .limit(bindparam("left", type_=Integer))
        )
        if not sqlite:
            query = query.with_for_update(skip_locked=True)
        reads.append(query)
    take = (
        update(TimerRow)
        .where(TimerRow.c.id.in_(bindparam("ids", expanding=True)))
        .values(
            state="sending",
            claimed_at=now,
            claimed_by=name,
            # kept from the first claim (or from a claim made before it was)
            first_claimed_at=func.coalesce(TimerRow.c.first_claimed_at, TimerRow.c.claimed_at, now),
        )
    )
    return tuple(reads), take


OUTSTANDING = ("pending", "sending", "dead")  # what the plain listing shows


@dataclass(frozen=True)
class TimerLine:
    timer: TimerRow
    ref: str  # SLA-42
    workspace: str

    @property
    def state(self) -> str:
        return seen_as(self.timer)


def listing(store: Store, *, dead_only: bool, limit: int) -> list[TimerLine]:
    """Dead timers, or every timer still to be done (and the dead), soonest first."""
    states = ("dead",) if dead_only else OUTSTANDING
    query = (
        select(TimerRow, Ticket.c.number, Ticket.c.workspace)
        .join(Ticket, Ticket.c.id == TimerRow.c.ticket_id)
        .where(TimerRow.c.state.in_(states))
        .order_by(TimerRow.c.next_attempt_at, TimerRow.c.id)
        .limit(limit)
    )
    with store.reading() as session:
        return [TimerLine(t, f"SLA-{n}", ws) for t, n, ws in session.exec(query)]


def retry(store: Store, ids: list[int] | None) -> int:
    """Re-queue dead timers (``ids``, or every dead one when None); how many were re-queued.
    The parts that did arrive before (recorded on the timer) are not sent again."""
    with store.writing() as session:
        return requeue_dead(session, TimerRow, ids, "timer")


def owe_messages(
    session: Session,
    ticket: Ticket,
    now: datetime,
    *,
    opened: bool = False,
    note: str | None = None,
) -> None:
    """What ``ticket``'s change owes Slack, written in the change's transaction: its card
    posted (``opened``) or redrawn, and ``note`` in its thread. A ticket without a channel has
    no card and no thread. A redraw is coalesced: while one is pending (or the card's post,
    which draws the ticket as it then stands), nothing more is owed; one being performed may
    show the ticket as it was, so then another is owed."""
    if not ticket.channel:
        return
    assert ticket.id is not None  # flushed by the change
    owed: list[dict[str, Any]] = []
    if opened:
        owed.append(_message(ticket.id, CARD, POST, 0, now))
    else:
        cards = select(TimerRow.c.state, TimerRow.c.stage, TimerRow.c.repeat).where(
            TimerRow.c.ticket_id == ticket.id, TimerRow.c.kind == CARD
        )
        found = list(session.exec(cards))
        if not any(state == "pending" for state, _, _ in found):
            repeat = 1 + max((r for _, stage, r in found if stage == REDRAW), default=-1)
            owed.append(_message(ticket.id, CARD, REDRAW, repeat, now))
    if note:
        owed.append(_message(ticket.id, NOTE, str(ticket.version), 0, now, {"text": note}))
    if owed:
        session.execute(insert(TIMERS), owed)


def owe_page_copies(
    session: Session,
    ticket: Ticket,
    now: datetime,
    level: str,
    by: str,
    copies: list[dict[str, str]],
) -> None:
    """The copies of ``level``'s pages (``part``, ``ts``: as the clock recorded them) to redraw
    as taken by ``by`` at ``now``."""
    if not copies:
        return
    assert ticket.id is not None
    detail = {"level": level, "by": by, "at": now.isoformat(), "copies": copies}
    row = _message(ticket.id, PAGE_COPY, level, ticket.version, now, detail)
    session.execute(insert(TIMERS), [row])


def mark_acted(session: Session, timer_id: int, at: datetime) -> None:
    """The clock's auto-solve or auto-close ``timer_id`` has made its change, at ``at``: in the
    change's transaction, so a clock that dies before recording the timer never acts twice."""
    timer = session.get_one(TimerRow, timer_id)
    timer.detail = {**timer.detail, "acted": stamp(at)}


def _card_waiting(ticket_id: Any, other: ReadOnlyColumnCollection[str, Any]) -> ColumnElement[bool]:
    """Whether ``other`` (the columns of an alias of ``timers``) is the not yet posted card of
    ``ticket_id``: everything else of that ticket waits for it (notes and page replies go in
    its thread)."""
    return and_(
        other.ticket_id == ticket_id,
        other.kind == CARD,
        other.stage == POST,
        other.state.in_(("pending", "sending")),
    )


def _message(
    ticket_id: int,
    kind: str,
    stage: str,
    repeat: int,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "kind": kind,
        "stage": stage,
        "repeat": repeat,
        "due_at": now,
        "next_attempt_at": now,
        "state": "pending",
        "attempts": 0,
        "detail": detail or {},
    }


def _place_cards(session: Session, outcomes: Sequence[TimerOutcome]) -> None:
    """Where each card posted (or found again) in this record lives: every later message of
    its ticket goes in its thread, and every redraw edits it."""
    posted = {
        o.timer_id: ts
        for o in outcomes
        if o.values.get("state") == "fired"
        and isinstance(ts := (o.values.get("detail") or {}).get("receipt", {}).get(CARD), str)
    }
    if not posted:
        return
    posts = select(TimerRow.c.id, TimerRow.c.ticket_id).where(
        TimerRow.c.id.in_(list(posted)), TimerRow.c.kind == CARD, TimerRow.c.stage == POST
    )
    for timer_id, ticket_id in session.exec(posts).all():
        ts = posted[timer_id]  # a stored row's id
        session.execute(update(Ticket).where(Ticket.c.id == ticket_id).values(message_ts=ts))


def _detail(timer: Timer) -> dict[str, Any]:
    """What the clock needs besides the key to word a timer's message."""
    return {"share": timer.share, "trigger": timer.trigger, "clause": timer.clause}
