"""The clock's maintenance reminders (`slabot.clock.maintenance`) through the fake Slack, on
SQLite and PostgreSQL. Time never comes from the wall clock: each tick is given its ``now``.

LeadSquared maintenance on Sunday 6 December 2026, 02:00–04:00 IST, announced on Friday 4
December 01:00 (49 hours ahead) in channel COPS, unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from support.desk import Now
from support.desk import fake as fake
from support.fakeslack import FakeSlack
from support.roles import recorders

from slabot.clock.dispatch import Dispatcher
from slabot.clock.leader import Leadership
from slabot.clock.maintenance import LEAD, MaintenanceReminders
from slabot.clock.runner import Clock
from slabot.notify import Fanout
from slabot.notify.slack import SlackNotifier
from slabot.outages import Outages
from slabot.store.tables import OutageRecord
from slabot.tickets import Tickets

IST = ZoneInfo("Asia/Kolkata")
H, M = timedelta(hours=1), timedelta(minutes=1)
CHANNEL = "COPS"


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=IST).astimezone(UTC)


START, END = ist(6, 2), ist(6, 4)
ANNOUNCED = ist(4, 1)


@pytest.fixture
def now() -> Now:
    """The kit's clock (and so the kit's ``fake`` Slack's timestamps), at the announcement."""
    return Now(ANNOUNCED)


@pytest.fixture
def outages(store, policy_book) -> Outages:
    return Outages(store, policy_book, roles=recorders(store))


def reminders(store, policy_book, fake: FakeSlack) -> MaintenanceReminders:
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    return MaintenanceReminders(store, client, policy_book)


def plan(outages: Outages, *, announced: datetime = ANNOUNCED, channel: str | None = CHANNEL):
    record, _ = outages.plan_maintenance(
        "T1",
        "leadsquared",
        START,
        2 * H,
        channel=channel,
        actor="U1",
        now=announced,
        note="database upgrade <!channel>",
    )
    return record


def tick(duty: MaintenanceReminders, now: Now, at: datetime) -> int:
    now.value = at
    return duty.tick(at)


def texts(fake: FakeSlack) -> list[str]:
    return [c.args["text"] for c in fake.calls_to("chat.postMessage", ok=True)]


def row(store, record: OutageRecord) -> OutageRecord:
    with store.reading() as session:
        return session.get(OutageRecord, record.id)


def test_the_channel_hears_an_hour_before_at_the_start_and_at_the_end(
    store, policy_book, fake, now, outages
):
    record = plan(outages)
    duty = reminders(store, policy_book, fake)

    assert LEAD == H
    assert tick(duty, now, START - LEAD - M) == 0
    assert tick(duty, now, START - LEAD) == 1
    assert tick(duty, now, START - 30 * M) == 0
    assert tick(duty, now, START) == 1
    assert tick(duty, now, END - M) == 0
    assert tick(duty, now, END) == 1
    assert tick(duty, now, END + H) == 0

    before, start, end = texts(fake)
    assert before.startswith(":construction: Reminder: planned maintenance of *")
    assert f"starts <!date^{int(START.timestamp())}^" in before
    assert f"until <!date^{int(END.timestamp())}^" in before
    assert "\n> database upgrade &lt;!channel&gt;" in before  # the note pings nobody
    assert "starts now" in start and "is over" in end
    assert "counts as downtime" not in before  # the notice rule was met
    calls = fake.calls_to("chat.postMessage", ok=True)
    assert {c.args["channel"] for c in calls} == {CHANNEL}
    assert [c.args["metadata"]["event_payload"] for c in calls] == [
        {"outage": record.id, "stage": stage} for stage in ("before", "start", "end")
    ]
    stored = row(store, record)
    assert (stored.reminded_before_at, stored.reminded_start_at, stored.reminded_end_at) == (
        START - LEAD,
        START,
        END,
    )


def test_two_clocks_ticking_together_send_each_reminder_once(
    store, policy_book, fake, now, outages
):
    plan(outages)
    a, b = reminders(store, policy_book, fake), reminders(store, policy_book, fake)

    for at in (START - LEAD, START, END):
        assert tick(a, now, at) + tick(b, now, at) == 1

    assert len(texts(fake)) == 3


def test_a_clock_back_after_the_end_only_says_it_is_over(store, policy_book, fake, now, outages):
    record = plan(outages)
    duty = reminders(store, policy_book, fake)

    assert tick(duty, now, END + 30 * M) == 1

    [only] = texts(fake)
    assert "is over" in only
    stored = row(store, record)
    assert stored.reminded_before_at == stored.reminded_start_at == END + 30 * M


def test_a_clock_back_during_it_skips_the_reminder_before(store, policy_book, fake, now, outages):
    plan(outages)
    duty = reminders(store, policy_book, fake)

    assert tick(duty, now, START + 10 * M) == 1

    [only] = texts(fake)
    assert "starts now" in only


def test_maintenance_planned_less_than_the_lead_ahead_gets_no_reminder_before(
    store, policy_book, fake, now, outages
):
    plan(outages, announced=START - 30 * M)  # against the notice rule: it says so
    duty = reminders(store, policy_book, fake)

    assert tick(duty, now, START - 20 * M) == 0
    assert tick(duty, now, START) == 1

    [start] = texts(fake)
    assert "starts now" in start and "counts as downtime" in start


def test_a_rate_limited_reminder_is_sent_on_a_later_tick(store, policy_book, fake, now, outages):
    record = plan(outages)
    duty = reminders(store, policy_book, fake)
    fake.fail_next("chat.postMessage", status=429)

    assert tick(duty, now, START - LEAD) == 0
    assert row(store, record).reminded_before_at is None  # the claim was given back

    assert tick(duty, now, START - LEAD + M) == 1
    assert len(texts(fake)) == 1


def test_a_channel_slack_refuses_is_given_up_not_retried(store, policy_book, fake, now, outages):
    record = plan(outages)
    duty = reminders(store, policy_book, fake)
    fake.respond("chat.postMessage", {"ok": False, "error": "channel_not_found"}, times=1)

    assert tick(duty, now, START - LEAD) == 0
    assert row(store, record).reminded_before_at == START - LEAD
    assert tick(duty, now, START - LEAD + M) == 0
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_maintenance_without_a_channel_and_outages_are_not_reminded(
    store, policy_book, fake, now, outages
):
    plan(outages, channel=None)
    outages.start("T1", "leadsquared", channel=CHANNEL, actor="U1", now=START)
    duty = reminders(store, policy_book, fake)

    for at in (START - LEAD, START, END):
        assert tick(duty, now, at) == 0
    assert fake.calls_to("chat.postMessage") == []


def test_maintenance_called_off_is_not_reminded(store, policy_book, fake, now, outages):
    record = plan(outages)
    assert record.id is not None
    outages.cancel("T1", "leadsquared", record.id, actor="U1", now=ANNOUNCED + H)
    duty = reminders(store, policy_book, fake)

    for at in (START - LEAD, START, END):
        assert tick(duty, now, at) == 0
    assert fake.calls_to("chat.postMessage") == []
    assert (row(store, record).cancelled_by, row(store, record).cancelled_at) == (
        "U1",
        ANNOUNCED + H,
    )


def test_the_leading_clock_runs_the_reminders_after_its_timers(
    store, policy_book, fake, now, outages
):
    plan(outages)
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    dispatcher = Dispatcher(store, Tickets(store, policy_book), Fanout([SlackNotifier(client)]))
    duty = MaintenanceReminders(store, client, policy_book)
    clock = Clock(dispatcher, Leadership(store), now=lambda: now.value, duties=[duty.tick])
    try:
        now.value = START - LEAD
        clock.run()
    finally:
        clock.stop()

    [before] = texts(fake)
    assert "Reminder: planned maintenance" in before
