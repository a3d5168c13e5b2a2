"""Slack's per-channel limit, kept before Slack has to say 429.

Slack lets an app post about one message a second to a channel (short bursts pass) and answers
429 with a Retry-After beyond that. A burst of reminders to a busy channel would otherwise
spend its first seconds collecting 429s, and each 429 costs a call that a channel with room
could have used. `Pacer` books each post a *slot* in its channel instead, the generic cell
rate algorithm (GCRA) in virtual time: a channel's slots are ``interval`` apart, ``burst`` of
them may fall at once, and a post whose slot is later than ``now`` keeps its booking and is
told when to come back. The clock then puts its timer back until that instant (no worker
sleeps on it, no attempt is counted), and the timer finds its slot waiting when it returns.
A channel that is full holds only its own posts.

Pages go before reminders and notes: a page that finds its channel full takes the earliest
slot booked by something less urgent, which is booked again at the end of the line (it learns
so when it comes back for its old slot).

A 429 still happens (another app posting, a clock restarted without its bookings, a slot
spent late): `Pacer.limited` then moves the channel's next slot past Slack's Retry-After and
forgets its bookings, which are made again as their posts come back.

Instants are the ones the clock hands its deliveries, never the wall clock: pacing by a tick's
``now``, which is earlier than the moment of the call, spaces posts at least as far apart as
their slots say.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SECOND = timedelta(seconds=1)
# A booking whose post never came back for it this long (its ticket was resolved meanwhile,
# another clock took the lead) is forgotten: its slot is long spent anyway.
FORGET = timedelta(minutes=10)


@dataclass
class _Booking:
    slot: datetime
    urgent: bool


@dataclass
class _Channel:
    next_free: datetime  # GCRA's "theoretical arrival time": the slot after the last booked
    booked: dict[str, _Booking] = field(default_factory=dict)  # by post key


class Pacer:
    """Slots for posts, per channel: at most ``burst`` at once, then one each ``interval``.

    One burst of one is stricter than Slack (which lets short bursts pass): the margin is for
    posts that go out later than their slot (a busy tick), so that they still fit Slack's own
    allowance.
    """

    def __init__(self, interval: timedelta = SECOND, burst: int = 1):
        if burst < 1 or interval <= timedelta(0):
            raise ValueError("a pacer needs a positive interval and a burst of at least 1")
        self.interval = interval
        self.tolerance = interval * (burst - 1)
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()  # the clock's workers post at once

    def wait(self, channel: str, key: str, now: datetime, *, urgent: bool = False) -> float:
        """Seconds until the post ``key`` may go to ``channel``: 0 when it may go now (its
        slot is then spent), else it has a slot booked that far ahead and must come back."""
        with self._lock:
            lane = self._channels.setdefault(channel, _Channel(now))
            self._forget(lane, now)
            booking = lane.booked.get(key)
            if booking is None:
                booking = self._book(lane, key, now, urgent)
            if booking.slot > now:
                return (booking.slot - now).total_seconds()
            del lane.booked[key]
            return 0.0

    def limited(self, channel: str, until: datetime) -> None:
        """Slack answered 429: nothing goes to ``channel`` before ``until``."""
        with self._lock:
            lane = self._channels.setdefault(channel, _Channel(until))
            lane.next_free = max(lane.next_free, until + self.tolerance)
            lane.booked.clear()

    def _book(self, lane: _Channel, key: str, now: datetime, urgent: bool) -> _Booking:
        slot = max(now, lane.next_free - self.tolerance)
        lane.next_free = max(lane.next_free, slot) + self.interval
        if urgent and slot > now:  # take the earliest slot something less urgent holds
            later = [(b.slot, k) for k, b in lane.booked.items() if not b.urgent]
            if later:
                earliest, bumped = min(later)
                if earliest < slot:
                    lane.booked[bumped] = _Booking(slot, urgent=False)
                    slot = earliest
        lane.booked[key] = booking = _Booking(slot, urgent)
        return booking

    def _forget(self, lane: _Channel, now: datetime) -> None:
        stale = [k for k, b in lane.booked.items() if b.slot < now - FORGET]
        for key in stale:
            del lane.booked[key]
