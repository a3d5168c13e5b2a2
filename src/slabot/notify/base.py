"""What the clock asks of a notifier, and how a notifier answers.

A notifier performs one timer (a reminder, a nudge, a page, a lifecycle note) as a set of named
*parts*: a thread reply, a DM to each person, a card update, a PagerDuty event. Parts are named
so that a failure can say which parts were done before it: the clock records them on the timer,
and the next attempt skips them, so a retry never repeats a DM that already arrived.

A failure can also name parts that are in *doubt*: the request left and no answer came (a
timeout, a connection dropped), so the far end may well have performed it. A clock that died
mid-delivery leaves every part not recorded as done in doubt. Before a part in doubt is sent
again the clock asks the notifiers to look for it (`Notifier.recover`), for a whole batch at
once, so each place is read once however many of its messages are in doubt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from ..sla.policy import Policy
from ..store.tables import TimerRow
from ..tickets import TicketView

Receipt = dict[str, Any]  # part name → what the far end answered (a Slack ts, a dedup key)


def timer_key(timer: TimerRow) -> str:
    """``<ticket id>:<kind>:<stage>:<repeat>``: the timer's identity outside the database, sent
    with every delivery (Slack message metadata, PagerDuty dedup_key, webhook header)."""
    return f"{timer.ticket_id}:{timer.kind}:{timer.stage}:{timer.repeat}"


@dataclass(frozen=True)
class Doubt:
    """Parts of a timer that may have arrived without the clock knowing, since ``since`` (the
    timer's first claim, so the search covers every attempt however many clocks died)."""

    since: datetime
    parts: frozenset[str] | None = None  # None: every part not done (a clock died sending)

    def covers(self, part: str) -> bool:
        return self.parts is None or part in self.parts


@dataclass(frozen=True)
class Delivery:
    """One attempt at performing a timer.

    ``late`` is why the timer goes out well after it fell due (None when on time).
    ``doubt`` says which parts may have arrived unrecorded: they are looked for
    (`Notifier.recover`) before being sent again.
    """

    timer: TimerRow
    view: TicketView
    now: datetime
    late: str | None = None
    done: frozenset[str] = frozenset()
    doubt: Doubt | None = None
    # A page: whom it reaches, worked out by the clock for its due time (the level's contacts
    # and whoever was on call then); None: the level's contacts.
    paged: tuple[str, ...] | None = None

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
    did arrive before the failure, ``doubtful`` those whose request left without an answer.
    ``held``: nothing failed, the far end's limit says to come back after ``retry_after`` (a
    429, or a post paced to its channel's limit before Slack had to say so): the timer waits
    without counting an attempt, since a limit is no reason to give a timer up.
    """

    reason: str
    retryable: bool = True
    retry_after: float | None = None
    done: frozenset[str] = field(default_factory=frozenset)
    doubtful: frozenset[str] = field(default_factory=frozenset)
    held: bool = False

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
            doubtful=frozenset().union(*(f.doubtful for f in failures)),
            held=all(f.held for f in failures),
        )


# What a look for parts in doubt found, per delivery key: the parts that had arrived, each with
# what to record of it ("found", or the ts of a card found again: where the ticket's thread
# is), or why nobody could tell yet (Slack's history rate-limited, say): then nothing is sent
# again.
Found = dict[str, str]
Recovery = dict[str, Found | DeliveryFailed]


class Notifier(Protocol):
    def together(self, deliveries: Sequence[Delivery]) -> dict[str, Receipt]:
        """Send once the parts several of a tick's deliveries share (one DM to a person paged
        by several), and say, by delivery key, which parts that did for each: `send` then
        skips them. Anything that failed is left to each delivery's own `send`."""
        ...

    def send(self, delivery: Delivery) -> Receipt:
        """Perform every part not in ``delivery.done``; raise `DeliveryFailed` if one fails."""
        ...

    def recover(self, deliveries: Sequence[Delivery]) -> Recovery:
        """Look for the parts each delivery's ``doubt`` covers, reading each place once for
        all of them; a delivery missing from the answer had none of its parts arrive."""
        ...

    def delivered(self, delivery: Delivery) -> bool:
        """Whether every part is in ``delivery.done``: nothing is left to send."""
        ...

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        """Tell people that this timer is dead (best effort: may itself fail)."""
        ...

    def redraw(self, delivery: Delivery) -> None:
        """What ``delivery`` drew of the ticket (its card) may show it as it was: the ticket
        changed while it was performed, or it was found drawn by an earlier attempt. Show it
        again as ``delivery.view`` has it now (best effort)."""
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

    def together(self, deliveries: Sequence[Delivery]) -> dict[str, Receipt]:
        shared: dict[str, Receipt] = {}
        for notifier in self.notifiers:
            for key, receipt in notifier.together(deliveries).items():
                shared.setdefault(key, {}).update(receipt)
        return shared

    def recover(self, deliveries: Sequence[Delivery]) -> Recovery:
        """What every notifier found; a delivery one of them could not look for waits."""
        found: Recovery = {}
        for notifier in self.notifiers:
            for key, looked in notifier.recover(deliveries).items():
                known = found.get(key, {})
                if not isinstance(known, DeliveryFailed):
                    found[key] = looked if isinstance(looked, DeliveryFailed) else known | looked
        return found

    def delivered(self, delivery: Delivery) -> bool:
        return all(notifier.delivered(delivery) for notifier in self.notifiers)

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        for notifier in self.notifiers:
            notifier.gave_up(delivery, reason)

    def redraw(self, delivery: Delivery) -> None:
        for notifier in self.notifiers:
            notifier.redraw(delivery)


@dataclass(frozen=True)
class Announcement:
    """What planned maintenance or an outage ``record`` (`MaintenanceRecord`,
    `OutageRecord`, under ``policy``: None when the deployment no longer has it) owes
    ``channel`` at ``stage`` (for an outage, the ``change`` of its trail announced), outside
    any ticket, named ``key`` in its metadata; ``since``: when its post may have arrived
    unrecorded from (its first claim), to be looked for before it is posted again."""

    key: str
    record: Any
    policy: Policy | None
    stage: str
    now: datetime
    channel: str
    change: Any = None
    since: datetime | None = None

    @property
    def where(self) -> tuple[str, str]:
        """The workspace and the channel."""
        return self.record.workspace, self.channel


class Announcer(Protocol):
    """What the clock asks of whoever posts the notices owed outside any ticket (planned
    maintenance, outages): post one, and find the ones in doubt."""

    def announce(self, owed: Announcement) -> str:
        """Post ``owed``; where it was posted (a ts). Raises `DeliveryFailed`."""
        ...

    def find_announced(self, owed: Sequence[Announcement]) -> dict[str, str | DeliveryFailed]:
        """Where each of ``owed`` was found posted, by key, or why nobody could tell yet."""
        ...
