"""What an operator sees of the timers, and how a dead one is sent again.

A timer whose delivery fails in a way that may pass (Slack down, rate limits, no answer) is
*late*: it keeps trying, with waits capped at a few minutes, for as long as its ticket needs
it, and the listing shows its tries and its last error. A timer is dead when its delivery
failed in a way only a person can fix (a revoked token, an unknown channel, a missing pager
key). Re-queuing it makes it due again at its own due time, so
any clock sends it on its next tick whatever that clock's time reads (the operator's machine may
run ahead of the clock's), with a fresh count of attempts; the parts that did arrive before
(recorded on the timer) are not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import select

from ..store import Store
from ..store.tables import Ticket, Timer

OUTSTANDING = ("pending", "sending", "dead")  # what the plain listing shows


@dataclass(frozen=True)
class TimerLine:
    timer: Timer
    ref: str  # SLA-42
    workspace: str

    @property
    def state(self) -> str:
        """The timer's state in an operator's words: ``late`` once an attempt has failed
        (it is past due and retrying), else as stored."""
        timer = self.timer
        return "late" if timer.state == "pending" and timer.attempts else timer.state


class NotDead(Exception):
    """A timer asked to be retried is missing or not dead; the message says which."""


def listing(store: Store, *, dead_only: bool, limit: int) -> list[TimerLine]:
    """Dead timers, or every timer still to be done (and the dead), soonest first."""
    states = ("dead",) if dead_only else OUTSTANDING
    query = (
        select(Timer, Ticket.number, Ticket.workspace)
        .join(Ticket, Ticket.id == Timer.ticket_id)  # type: ignore[arg-type]
        .where(Timer.state.in_(states))  # type: ignore[attr-defined]
        .order_by(Timer.next_attempt_at, Timer.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    with store.reading() as session:
        return [TimerLine(t, f"SLA-{n}", ws) for t, n, ws in session.exec(query)]


def retry(store: Store, ids: list[int] | None) -> int:
    """Re-queue dead timers (``ids``, or every dead one when None); how many were re-queued.

    Named timers must all be dead, else nothing changes and `NotDead` says which are not."""
    with store.writing() as session:
        if ids is not None:
            query = select(Timer.id, Timer.state).where(Timer.id.in_(ids))  # type: ignore[union-attr]
            found = {timer_id: state for timer_id, state in session.exec(query)}
            wrong = [
                f"timer {i} does not exist"
                if i not in found
                else f"timer {i} is {found[i]}, not dead"
                for i in ids
                if found.get(i) != "dead"
            ]
            if wrong:
                raise NotDead("; ".join(wrong) + ": only dead timers can be retried")
        requeue = update(Timer).where(Timer.state == "dead")  # type: ignore[arg-type]
        if ids is not None:
            requeue = requeue.where(Timer.id.in_(ids))  # type: ignore[union-attr]
        requeued = requeue.values(
            state="pending",
            next_attempt_at=Timer.due_at,
            attempts=0,
            claimed_at=None,
            claimed_by=None,
        )
        return session.execute(requeued).rowcount  # type: ignore[attr-defined]
