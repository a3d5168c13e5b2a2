"""What the clock asks of a notifier, and how a notifier answers.

A notifier performs one timer (a reminder, a nudge, a page, a lifecycle note) as a set of named
*parts*: a thread reply, a DM to each person, a card update, a PagerDuty event. Parts are named
so that a failure can say which parts were done before it: the clock records them on the timer,
and the next attempt skips them, so a retry never repeats a DM that already arrived.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from ..store.tables import Timer
from ..tickets import TicketView

Receipt = dict[str, Any]  # part name → what the far end answered (a Slack ts, a dedup key)


def timer_key(timer: Timer) -> str:
    """``<ticket id>:<kind>:<stage>:<repeat>``: the timer's identity outside the database, sent
    with every delivery (Slack message metadata, PagerDuty dedup_key, webhook header)."""
    return f"{timer.ticket_id}:{timer.kind}:{timer.stage}:{timer.repeat}"


@dataclass(frozen=True)
class Delivery:
    """One attempt at performing a timer.

    ``late`` is why the timer goes out well after it fell due (None when on time).
    ``recovering_since`` is set when a clock died while performing it: parts may have arrived
    since then, and must be looked for before being sent again.
    """

    timer: Timer
    view: TicketView
    now: datetime
    late: str | None = None
    done: frozenset[str] = frozenset()
    recovering_since: datetime | None = None

    @property
    def key(self) -> str:
        return timer_key(self.timer)

    def with_view(self, view: TicketView) -> Delivery:
        return replace(self, view=view)


@dataclass
class DeliveryFailed(Exception):
    """A delivery did not (fully) happen.

    ``retryable``: worth trying again later (429, 5xx, timeout, connection refused), else only
    an operator can help (bad token, unknown channel, missing configuration). ``retry_after``
    is the far end's own wish (Slack's Retry-After), in seconds. ``done`` names the parts that
    did arrive before the failure.
    """

    reason: str
    retryable: bool = True
    retry_after: float | None = None
    done: frozenset[str] = field(default_factory=frozenset)

    def __str__(self) -> str:
        return self.reason

    @classmethod
    def combined(cls, failures: list[DeliveryFailed], done: frozenset[str]) -> DeliveryFailed:
        """Several parts failed: retryable only if each is, after the longest wait asked."""
        waits = [f.retry_after for f in failures if f.retry_after is not None]
        return cls(
            "; ".join(f.reason for f in failures),
            retryable=all(f.retryable for f in failures),
            retry_after=max(waits, default=None),
            done=done.union(*(f.done for f in failures)),
        )


class Notifier(Protocol):
    def send(self, delivery: Delivery) -> Receipt:
        """Perform every part not in ``delivery.done``; raise `DeliveryFailed` if one fails."""
        ...

    def delivered(self, delivery: Delivery) -> bool:
        """Whether every part not in ``delivery.done`` already arrived (after a crash)."""
        ...

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        """Tell people that this timer is dead (best effort: may itself fail)."""
        ...

    def redraw(self, delivery: Delivery) -> None:
        """The ticket changed while ``delivery`` was performed, which may have shown it as it
        was: show it again as ``delivery.view`` has it now (best effort)."""
        ...


class Fanout:
    """Several notifiers as one: each gets its chance even when another fails, so a Slack
    outage does not hold back PagerDuty, and the parts that arrived are reported as done."""

    def __init__(self, notifiers: Iterable[Notifier]):
        self.notifiers = tuple(notifiers)

    def send(self, delivery: Delivery) -> Receipt:
        receipt: Receipt = {}
        failures: list[DeliveryFailed] = []
        for notifier in self.notifiers:
            try:
                receipt.update(notifier.send(delivery))
            except DeliveryFailed as failure:
                failures.append(failure)
        if failures:
            raise DeliveryFailed.combined(failures, frozenset(receipt))
        return receipt

    def delivered(self, delivery: Delivery) -> bool:
        return all(notifier.delivered(delivery) for notifier in self.notifiers)

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        for notifier in self.notifiers:
            notifier.gave_up(delivery, reason)

    def redraw(self, delivery: Delivery) -> None:
        for notifier in self.notifiers:
            notifier.redraw(delivery)
