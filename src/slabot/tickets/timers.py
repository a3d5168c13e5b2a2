"""The owner of the ``timers`` table: the work a ticket owes, written with the change that
caused it, and the clock's outcomes.

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
  while its card post is pending (`card_waiting`): notes and page replies need its ts, which
  `TimerRecords.record` stores on the ticket in the transaction that records the post.

The clock's outcomes for the timers it claimed are recorded here too, with the next timers
each settled ticket owes, in one transaction per tick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, update
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from ..policies import PolicyVersions
from ..sla.schedule import Schedule
from ..sla.schedule import Timer as EngineTimer
from ..store import Store
from ..store.bulk import update_by_id
from ..store.tables import Ticket, Timer
from .views import TicketView, schedule_of

TIMERS = Timer.__table__  # type: ignore[attr-defined]
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
                select(Ticket.id, Ticket.version)
                .where(Ticket.id.in_(settled))  # type: ignore[union-attr]
                .order_by(Ticket.id)  # type: ignore[arg-type]
                .with_for_update()
            )
            versions = dict(session.exec(lock).all()) if settled else {}
            mine = (
                select(Timer.id)
                .where(
                    Timer.id.in_(ids),  # type: ignore[union-attr]
                    Timer.state == "sending",
                    Timer.claimed_by == claimed_by,
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


def rewrite_timers(session: Session, plans: Mapping[int, Schedule], *, revive: bool = True) -> None:
    """Make each ticket's pending timers what its plan (ticket id → schedule) owes: the
    ones no longer owed deleted, the new ones added, the moved ones moved. With ``revive``,
    a timer the clock dropped (its ticket was resolved or paused as it came due) that a
    change has made owed again (a reopen, a pause that ended) is pending again; the clock's
    own records pass False, since the same instant cannot owe what it has just dropped.
    Timers being sent or already settled are left as they are."""
    if not plans:
        return
    existing: dict[int, dict[tuple[str, str, int], Any]] = {t: {} for t in plans}
    # Seven columns: sqlmodel's select() is typed for at most four.
    query = select(  # type: ignore[call-overload]
        Timer.id,
        Timer.ticket_id,
        Timer.kind,
        Timer.stage,
        Timer.repeat,
        Timer.state,
        Timer.due_at,
    ).where(col(Timer.ticket_id).in_(list(plans)), col(Timer.kind).not_in(MESSAGES))
    for row in session.exec(query):
        existing[row.ticket_id][(row.kind, row.stage, row.repeat)] = row
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
        session.execute(delete(Timer).where(Timer.id.in_(stale)))  # type: ignore[union-attr]
    if moved:
        update_by_id(session, TIMERS, moved)
    if new:
        session.execute(insert(TIMERS), new)


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
        cards = select(Timer.state, Timer.stage, Timer.repeat).where(
            Timer.ticket_id == ticket.id, Timer.kind == CARD
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


def card_waiting(ticket_id: Any, other: type[Timer]) -> ColumnElement[bool]:
    """Whether ``other`` (an alias of `Timer`) is the not yet posted card of ``ticket_id``:
    everything else of that ticket waits for it (notes and page replies go in its thread)."""
    return and_(
        col(other.ticket_id) == ticket_id,
        col(other.kind) == CARD,
        col(other.stage) == POST,
        col(other.state).in_(("pending", "sending")),
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
    posts = select(Timer.id, Timer.ticket_id).where(
        col(Timer.id).in_(list(posted)), Timer.kind == CARD, Timer.stage == POST
    )
    for timer_id, ticket_id in session.exec(posts).all():
        ts = posted[timer_id]  # type: ignore[index]  # a stored row's id
        session.execute(update(Ticket).where(col(Ticket.id) == ticket_id).values(message_ts=ts))


def _detail(timer: EngineTimer) -> dict[str, Any]:
    """What the clock needs besides the key to word a timer's message."""
    return {"share": timer.share, "trigger": timer.trigger, "clause": timer.clause}
