"""Which contract duties a change would put off by more than their own period.

An ETA moves the next update to the ETA (an update is not owed before the promised fix): a
P1 owed an update every hour, given an ETA fifteen hours away, would go fifteen hours without
one, and nobody would have said so. A change like that is asked to be confirmed first; this
module says what it postpones, as facts (which target, from when to when, its period), and
leaves the wording to whoever asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .history import Event
from .policy import Policy
from .schedule import TARGET_LABELS, schedule


@dataclass(frozen=True)
class Postponement:
    """``target`` was due at ``due``; after the change it is due at ``until``. ``every`` is
    the target's own period (``update_every``'s interval, a deadline's span)."""

    target: str
    due: datetime
    until: datetime
    every: timedelta

    @property
    def by(self) -> timedelta:
        return self.until - self.due

    @property
    def label(self) -> str:
        return TARGET_LABELS[self.target]


def postponements(
    policy: Policy, history: Sequence[Event], change: Event, plain: Event, now: datetime
) -> tuple[Postponement, ...]:
    """The deadlines ``change`` puts off by more than their period, compared with ``plain``,
    the same change without what postpones (an update without its ETA)."""
    without = schedule(policy, [*history, plain], now)
    with_it = schedule(policy, [*history, change], now)
    found = []
    for deadline in with_it.deadlines:
        before = without.deadline(deadline.target)
        if before is None or before.due is None or deadline.due is None:
            continue
        if deadline.due - before.due > deadline.within:
            found.append(Postponement(deadline.target, before.due, deadline.due, deadline.within))
    return tuple(found)
