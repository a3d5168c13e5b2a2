"""Slack's limits as part of the clock's design, on SQLite and PostgreSQL: posts paced to a
message a second per channel before Slack says 429, pages before reminders when work queues,
and a 429 that holds its own channel only.

The fake Slack enforces the limit (`FakeSlack.limit_posts`) in the test's time, the same time
every tick is given: nothing here depends on how fast the machine runs.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from support.desk import (
    HOUR,
    MIN,
    SEC,
    T0,
    dispatcher,
    open_ticket,
    posts,
    sends,
    thread,
    tick,
    timers,
)
from support.desk import (
    book as book,
)
from support.desk import (
    desk as desk,
)
from support.desk import (
    fake as fake,
)
from support.desk import (
    now as now,
)

from slabot.clock.dispatch import Dispatcher, TickReport
from slabot.slack.pacing import Pacer
from slabot.store import Store


def drain(clock: Dispatcher, now, start: datetime, ticks: int) -> list[TickReport]:
    """A tick a second from ``start``, as ``slabot clock`` ticks."""
    return [tick(clock, now, start + n * SEC) for n in range(ticks)]


def kind_of(call) -> str:
    return call.args["metadata"]["event_payload"]["timer"].split(":")[1]


def all_timers(store: Store) -> list:
    return [t for n in range(1, 20) for t in timers(store, n)]


def test_a_burst_to_few_channels_is_paced_once_each_none_dead_pages_first(store, desk, fake, now):
    """Eight reminders and a page fall due together in two channels of a Slack that takes a
    message a second per channel (three at once): the clock spaces its posts itself, so Slack
    never has to say 429; the page goes first in its channel; every timer goes once, none is
    dead or counted as a failed attempt."""
    reminded = [
        open_ticket(desk, fake, severity="p3", channel=ch, title=f"{ch} {n}", at=T0 + n * SEC)
        for n in range(4)
        for ch in ("CAAA", "CBBB")
    ]
    due = T0 + 4 * HOUR + 10 * SEC  # every reminder at 50 % is due, and the page at open
    paged = open_ticket(desk, fake, severity="p1", channel="CAAA", title="down", at=due)
    fake.limit_posts(1, burst=3)
    # one worker: the order the dispatcher chose is the order Slack sees
    clock = dispatcher(store, desk, fake, pacer=Pacer(), workers=1)

    reports = drain(clock, now, due, 8)

    assert [c for c in fake.calls if c.status == 429] == []
    assert sum(r.sent for r in reports) == 9
    assert sum(r.retried + r.dead + r.dropped for r in reports) == 0
    assert sum(r.paced for r in reports) > 0  # some waited for their slot
    assert set(sends(fake).values()) == {1} and len(sends(fake)) == 8 + 4  # the page: 4 places
    in_a = [c for c in posts(fake) if c.args["channel"] == "CAAA"]
    assert kind_of(in_a[0]) == "page"
    stamps = [float(c.response["ts"]) for c in in_a]
    assert all(b - a >= 1 for a, b in itertools.pairwise(stamps))  # a second apart
    assert all(len(thread(fake, v)) == 1 for v in reminded) and len(thread(fake, paged)) == 1
    reminders = [t for t in all_timers(store) if t.kind == "reminder" and t.state == "fired"]
    assert len(reminders) == 8
    assert all(t.attempts == 1 and t.last_error is None for t in reminders)


def test_a_429_on_one_channel_does_not_delay_another_paced_one(store, desk, fake, now):
    """Slack says 429 (Retry-After 30 s) to the first post in CAAA: that channel waits it out
    without another call, while CBBB's posts go on at a second each; then CAAA's go, once,
    none counted as a failed attempt."""
    for n in range(3):
        for ch in ("CAAA", "CBBB"):
            open_ticket(desk, fake, severity="p3", channel=ch, title=f"{ch} {n}", at=T0 + n * SEC)
    fake.limit_posts(1, burst=3)
    clock = dispatcher(store, desk, fake, pacer=Pacer(), workers=1)
    start = T0 + 4 * HOUR + 5 * SEC
    fake.fail_next("chat.postMessage", status=429, retry_after=30, channel="CAAA")
    calls = len(fake.calls)  # after the cards

    early = drain(clock, now, start, 5)

    to = [c.args["channel"] for c in fake.calls[calls:] if c.method == "chat.postMessage"]
    assert to.count("CAAA") == 1  # the one refused; nothing else asked of it meanwhile
    assert [c.args["channel"] for c in posts(fake)] == ["CBBB"] * 3  # not held up
    assert sum(r.paced for r in early) >= 3 and not any(r.retried for r in early)

    late = drain(clock, now, start + 30 * SEC, 4)

    assert sum(r.sent for r in early + late) == 6
    assert [c for c in fake.calls if c.status == 429 and c.args["channel"] != "CAAA"] == []
    assert set(sends(fake).values()) == {1} and len(sends(fake)) == 6
    assert all(t.attempts <= 1 and t.last_error is None for t in all_timers(store))


def test_when_work_queues_pages_are_claimed_first_and_each_ticket_keeps_its_order(
    store, desk, fake, now
):
    """The clock was down: a P3 ticket owes its two reminders and its breach page, three
    other tickets a reminder each, and a P1 its page, all at once, two a tick. The P1's page
    goes in the first tick, ahead of reminders due hours before it; the P3's page waits for
    its own ticket's reminders."""
    late = open_ticket(desk, fake, severity="p3", channel="CAAA", title="slow export")
    others = [
        open_ticket(desk, fake, severity="p3", channel="CCCC", title=f"c{n}", at=T0 + n * SEC)
        for n in range(1, 4)
    ]
    back = T0 + 8 * HOUR + 2 * MIN
    urgent = open_ticket(desk, fake, severity="p1", channel="CBBB", title="down", at=back - MIN)
    clock = dispatcher(store, desk, fake, batch=2)

    first = tick(clock, now, back)

    assert first.claimed == 2
    assert next(t.state for t in timers(store, urgent.ticket) if t.kind == "page") == "fired"
    reports = drain(clock, now, back + SEC, 6)
    assert sum(r.dead + r.retried for r in [first, *reports]) == 0
    for view in [late, *others]:  # each ticket's messages in its order: reminders, then page
        order = [
            kind_of(c) for c in posts(fake) if c.args.get("thread_ts") == view.ticket.message_ts
        ]
        assert order[-1] == "page" and order.count("page") == 1 and "reminder" in order
    assert set(sends(fake).values()) == {1}


def test_the_fake_counts_a_429_when_nothing_paces(store, desk, fake, now):
    """The same kind of burst without pacing draws a 429 from the fake (after which the
    channel's last reminder waits without asking): the limit is real, so the tests above
    show the pacing, not a lenient fake."""
    for n in range(5):
        open_ticket(desk, fake, severity="p3", channel="CAAA", title=f"a{n}", at=T0 + n * SEC)
    fake.limit_posts(1, burst=3)
    calls = len(fake.calls)
    clock = dispatcher(store, desk, fake, workers=1)

    report = tick(clock, now, T0 + 4 * HOUR + 10 * SEC)

    statuses = [c.status for c in fake.calls[calls:] if c.method == "chat.postMessage"]
    assert statuses == [200, 200, 200, 429] and (report.sent, report.paced) == (3, 2)
