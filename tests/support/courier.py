"""Letting the clock deliver what the use cases owe Slack: the test kit's one way to do it.

Only the owed messages (cards, notes, redraws, and a lead's maintenance announced or called
off): a test's timers (reminders, pages) and maintenance reminders go out when the test ticks
its own dispatcher or duty, as before cards were owed work.

A change owes its card, its thread note and the redraws it causes in its own transaction;
the clock posts them (`slabot.tickets.timers`); planned maintenance owes its announcement the
same way (`slabot.outages.notices`). In ``serve`` the in-process clock is woken
after each such change; here `Courier` is that clock, run on demand: ``courier()`` ticks a
real `Dispatcher` over the fake Slack at the test's ``now`` until nothing more is due.
`Courier.wire` calls it after every change that owes something, as ``serve`` wakes its
clock, so a test reads the card and thread right after the request, as a user would a moment
later. Call it yourself where a test makes changes through the use cases directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient

from slabot.clock.dispatch import Dispatcher, TickReport
from slabot.clock.notices import NoticeDispatcher
from slabot.notify import Fanout
from slabot.notify.slack import SlackNotifier
from slabot.outages.notices import ANNOUNCEMENTS
from slabot.store import Store
from slabot.tickets import Tickets
from slabot.tickets.timers import MESSAGES


class Courier:
    def __init__(self, store: Store, tickets: Tickets, slack_url: str, now: Callable[[], datetime]):
        client = WebClient(token="xoxb-test", base_url=slack_url, retry_handlers=[])
        notifier = Fanout([SlackNotifier(client)])
        self.dispatcher = Dispatcher(
            store, tickets, notifier, name="courier", workers=1, kinds=MESSAGES
        )
        self.notices = NoticeDispatcher(
            store, SlackNotifier(client), tickets.policies, name="courier", stages=ANNOUNCEMENTS
        )
        self.now = now
        self._lock = threading.Lock()  # one delivery at a time, as one clock leads

    def __call__(self) -> TickReport:
        """Deliver every message owed at ``now``: the cards first, then what waited on them,
        then maintenance announced or called off (as a clock's duty, after its timers)."""
        total = TickReport()
        with self._lock:
            while True:
                report = self.dispatcher.tick(self.now())
                total += report
                if not report.claimed:
                    self.notices.tick(self.now())
                    return total

    @classmethod
    def wire(
        cls, store: Store, tickets: Tickets, slack_url: str, now: Callable[[], datetime]
    ) -> Courier:
        """A courier called after every change of ``tickets`` that owes Slack something."""
        courier = cls(store, tickets, slack_url, now)
        tickets.when_owed(courier)
        return courier
