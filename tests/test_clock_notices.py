"""The clock's maintenance notices (`slabot.clock.notices`, owed as
`slabot.outages.notices`): the reminders, and the announcement and calling off a lead's
command owes, through the fake Slack, on SQLite and PostgreSQL. Time never comes from the wall
clock: each tick is given its ``now``. The fake's log is the judge: each notice posted once,
whatever the clock or Slack did meanwhile.

LeadSquared maintenance on Sunday 6 December 2026, 02:00–04:00 IST, announced on Friday 4
December 01:00 (49 hours ahead) in channel COPS, unless a test says otherwise.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from support.desk import Now
from support.desk import fake as fake
from support.fakeslack import FakeSlack
from support.roles import recorders

from slabot.cli import main
from slabot.clock.dispatch import Backoff, Dispatcher
from slabot.clock.leader import Leadership
from slabot.clock.notices import NoticeDispatcher
from slabot.clock.runner import Ticker
from slabot.notify import Fanout
from slabot.notify.slack import SlackNotifier
from slabot.outages import Maintenances, Outages
from slabot.outages.notices import LEAD, REMINDERS
from slabot.slack.keepalive import KeepAliveWebClient
from slabot.store.tables import MaintenanceRecord, Notice, OutageRecord
from slabot.tickets import Tickets

IST = ZoneInfo("Asia/Kolkata")
H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
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


@pytest.fixture
def maintenances(store, policy_book) -> Maintenances:
    return Maintenances(store, policy_book, roles=recorders(store))


def notice_dispatcher(
    store,
    policy_book,
    fake: FakeSlack,
    name: str = "clock-a",
    *,
    timeout: float | None = None,
    stages: tuple[str, ...] | None = REMINDERS,
) -> NoticeDispatcher:
    """The duty as the clock builds it, as clock ``name``, for the reminders only unless
    ``stages`` says otherwise (None: every notice, the announcements too, as a clock); with
    ``timeout``, over the clock's own Web API client, waiting that long for Slack's answer."""
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    if timeout is not None:
        client = KeepAliveWebClient(
            token="xoxb-test", base_url=fake.url, timeout=timeout, retry_handlers=[]
        )
    backoff = Backoff(jitter=0)  # 5 s doubling up to 5 minutes
    return NoticeDispatcher(
        store, SlackNotifier(client), policy_book, name=name, backoff=backoff, stages=stages
    )


def plan(
    maintenances: Maintenances, *, announced: datetime = ANNOUNCED, channel: str | None = CHANNEL
):
    record, _ = maintenances.plan(
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


def tick(duty: NoticeDispatcher, now: Now, at: datetime) -> int:
    now.value = at
    return duty.tick(at)


def texts(fake: FakeSlack) -> list[str]:
    return [c.args["text"] for c in fake.calls_to("chat.postMessage", ok=True)]


def row(store, record: MaintenanceRecord) -> MaintenanceRecord:
    with store.reading() as session:
        return session.get(MaintenanceRecord, record.id)


def notices(store, record: MaintenanceRecord | OutageRecord) -> dict[str, Notice]:
    """``record``'s notices by stage."""
    of = Notice.c.maintenance_id if isinstance(record, MaintenanceRecord) else Notice.c.outage_id
    query = select(Notice).where(of == record.id)
    with store.reading() as session:
        return {n.stage: n for n in session.exec(query)}


def states(store, record: MaintenanceRecord | OutageRecord) -> dict[str, str]:
    return {stage: n.state for stage, n in notices(store, record).items()}


def test_the_channel_hears_an_hour_before_at_the_start_and_at_the_end(
    store, policy_book, fake, now, maintenances
):
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake)

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
    assert [c.args["metadata"] for c in calls] == [
        {"event_type": "slabot_timer", "event_payload": {"timer": f"maintenance:{record.id}:{s}"}}
        for s in ("before", "start", "end")
    ]
    owed = notices(store, record)
    assert [(owed[s].state, owed[s].fired_at) for s in ("before", "start", "end")] == [
        ("fired", START - LEAD),
        ("fired", START),
        ("fired", END),
    ]
    assert [owed[s].detail["ts"] for s in ("before", "start", "end")] == [
        c.response["ts"] for c in calls
    ]


def test_two_clocks_ticking_together_send_each_reminder_once(
    store, policy_book, fake, now, maintenances
):
    plan(maintenances)
    a, b = (
        notice_dispatcher(store, policy_book, fake),
        notice_dispatcher(store, policy_book, fake, "clock-b"),
    )

    for at in (START - LEAD, START, END):
        assert tick(a, now, at) + tick(b, now, at) == 1

    assert len(texts(fake)) == 3


def test_two_clocks_claiming_at_the_same_instant_post_each_reminder_once(
    store, policy_book, fake, now, maintenances
):
    """Both clocks claim at once (threads released together): the database hands each notice
    to one of them (SKIP LOCKED on PostgreSQL, the write lock on SQLite)."""
    plan(maintenances)
    clocks = [notice_dispatcher(store, policy_book, fake, f"clock-{n}") for n in range(4)]
    now.value = START
    start = threading.Barrier(len(clocks))

    def run(duty: NoticeDispatcher) -> int:
        start.wait()
        return duty.tick(START)

    with ThreadPoolExecutor(len(clocks)) as pool:
        posted = list(pool.map(run, clocks))

    assert sorted(posted) == [0, 0, 0, 1]  # the reminder before is stale by then: dropped
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_a_clock_back_after_the_end_only_says_it_is_over(
    store, policy_book, fake, now, maintenances
):
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake)

    assert tick(duty, now, END + 30 * M) == 1

    [only] = texts(fake)
    assert "is over" in only
    owed = notices(store, record)
    assert states(store, record) == {
        "announce": "pending",  # this duty posts the reminders alone
        "before": "dropped",
        "start": "dropped",
        "end": "fired",
    }
    assert owed["start"].detail == {"dropped": "late: the maintenance is over"}


def test_a_clock_back_during_it_skips_the_reminder_before(
    store, policy_book, fake, now, maintenances
):
    plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake)

    assert tick(duty, now, START + 10 * M) == 1

    [only] = texts(fake)
    assert "starts now" in only


def test_maintenance_planned_less_than_the_lead_ahead_gets_no_reminder_before(
    store, policy_book, fake, now, maintenances
):
    plan(maintenances, announced=START - 30 * M)  # against the notice rule: it says so
    duty = notice_dispatcher(store, policy_book, fake)

    assert tick(duty, now, START - 20 * M) == 0
    assert tick(duty, now, START) == 1

    [start] = texts(fake)
    assert "starts now" in start and "counts as downtime" in start


def test_a_rate_limited_reminder_is_sent_on_a_later_tick(
    store, policy_book, fake, now, maintenances
):
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake)
    fake.fail_next("chat.postMessage", status=429)

    assert tick(duty, now, START - LEAD) == 0
    before = notices(store, record)["before"]
    assert (before.state, before.attempts) == ("pending", 0)  # a limit spends no attempt

    assert tick(duty, now, START - LEAD + M) == 1
    assert len(texts(fake)) == 1


def test_a_channel_slack_refuses_is_dead_until_an_operator_sends_it_again(
    store, policy_book, fake, now, maintenances, monkeypatch, capsys
):
    """The bot is not in the channel: the reminder is dead, not retried, and `slabot timers
    --notices` (or its older name, `--maintenance`) lists it; once the bot is invited,
    `--retry` sends it on the next tick."""
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake)
    fake.respond("chat.postMessage", {"ok": False, "error": "not_in_channel"}, times=1)

    assert tick(duty, now, START - LEAD) == 0
    dead = notices(store, record)["before"]
    assert (dead.state, dead.attempts) == ("dead", 1)
    assert dead.last_error == "Slack answered 200 not_in_channel"
    assert tick(duty, now, START - LEAD + M) == 0
    assert len(fake.calls_to("chat.postMessage")) == 1

    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    assert main(["timers", "--maintenance", "--dead"]) == 0
    header, line = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["ID", "Of", "Channel", "Stage"]
    assert line.split()[:7] == [
        str(dead.id),
        "maintenance",
        str(record.id),
        "(leadsquared)",
        CHANNEL,
        "before",
        "dead",
    ]
    assert main(["timers", "--notices", "--dead"]) == 0  # the flag's name since 0019
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == [
        str(dead.id),
        "maintenance",
        str(record.id),
    ]
    assert main(["timers", "--maintenance", "--retry", "99999"]) == 1
    assert "maintenance notice 99999 does not exist" in capsys.readouterr().err
    assert main(["timers", "--maintenance", "--retry", str(dead.id)]) == 0
    assert capsys.readouterr().out.strip() == "re-queued 1 dead maintenance notice"

    assert tick(duty, now, START - LEAD + 2 * M) == 1
    assert states(store, record)["before"] == "fired"
    assert main(["timers", "--maintenance", "--dead"]) == 0
    assert "no dead maintenance notices" in capsys.readouterr().out


def test_maintenance_without_a_channel_and_outages_are_not_reminded(
    store, policy_book, fake, now, outages, maintenances
):
    """Nor announced: an outage is announced only where a lead's command asks (a hook's own
    outages are not)."""
    plan(maintenances, channel=None)
    outages.start("T1", "leadsquared", channel=CHANNEL, actor="U1", now=START)
    duty = notice_dispatcher(store, policy_book, fake, stages=None)

    for at in (START - LEAD, START, END):
        assert tick(duty, now, at) == 0
    assert fake.calls_to("chat.postMessage") == []


def test_maintenance_called_off_is_not_reminded(store, policy_book, fake, now, maintenances):
    record = plan(maintenances)
    assert record.id is not None
    maintenances.cancel("T1", "leadsquared", record.id, actor="U1", now=ANNOUNCED + H)
    duty = notice_dispatcher(store, policy_book, fake)

    for at in (START - LEAD, START, END):
        assert tick(duty, now, at) == 0
    assert fake.calls_to("chat.postMessage") == []
    # The reminders owed with it are gone with it; the channel is owed the news instead.
    assert states(store, record) == {"announce": "pending", "called_off": "pending"}
    assert (row(store, record).cancelled_by, row(store, record).cancelled_at) == (
        "U1",
        ANNOUNCED + H,
    )


def test_the_leading_clock_runs_the_reminders_after_its_timers(
    store, policy_book, fake, now, maintenances
):
    plan(maintenances)
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    dispatcher = Dispatcher(store, Tickets(store, policy_book), Fanout([SlackNotifier(client)]))
    duty = NoticeDispatcher(store, SlackNotifier(client), policy_book)
    ticker = Ticker(dispatcher, Leadership(store), now=lambda: now.value, duties=[duty.tick])
    try:
        now.value = START - LEAD
        ticker.run()
    finally:
        ticker.stop()

    announced, before = texts(fake)
    assert announced.startswith("Planned maintenance of LeadSquared support")
    assert "Reminder: planned maintenance" in before


# -- exactly once ------------------------------------------------------------------------------


class Killed(BaseException):
    """The clock dies: nothing after this point of its tick runs."""


def dies_before_recording(duty: NoticeDispatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """``duty``'s clock dies after its posts and before it records them."""

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed

    monkeypatch.setattr(duty.notices, "record", killed)


def test_a_clock_killed_after_posting_and_before_recording_never_posts_twice(
    store, policy_book, fake, now, maintenances, monkeypatch
):
    """Clock A posts the reminder and dies before recording it: its claim stays. Clock B waits
    out the lease, takes the claim over, finds the post in the channel by its metadata and
    records it; nothing is posted a second time, and the next stage goes out as usual."""
    record = plan(maintenances)
    a, b = (
        notice_dispatcher(store, policy_book, fake),
        notice_dispatcher(store, policy_book, fake, "clock-b"),
    )
    dies_before_recording(a, monkeypatch)
    with pytest.raises(Killed):
        tick(a, now, START - LEAD)
    assert len(texts(fake)) == 1
    assert notices(store, record)["before"].claimed_by == "clock-a"

    assert tick(b, now, START - LEAD + 30 * S) == 0  # A's lease runs
    assert tick(b, now, START - LEAD + 2 * M) == 0  # taken over, found: not posted again

    assert len(fake.calls_to("chat.postMessage")) == 1
    [post] = fake.calls_to("chat.postMessage", ok=True)
    before = notices(store, record)["before"]
    assert (before.state, before.detail) == ("fired", {"ts": post.response["ts"], "found": True})
    assert len(fake.calls_to("conversations.history")) == 1
    assert tick(b, now, START) == 1
    assert len(texts(fake)) == 2


def test_a_reminder_whose_answer_never_came_is_looked_for_not_posted_again(
    store, policy_book, fake, now, maintenances
):
    """Slack posts the reminder and never answers: it is in doubt, and the next attempt reads
    the channel before posting, finds it, and posts nothing."""
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake, timeout=0.5)
    fake.hang(60, "chat.postMessage", channel=CHANNEL)

    assert tick(duty, now, START - LEAD) == 0
    before = notices(store, record)["before"]
    assert (before.state, before.detail) == ("pending", {"doubtful": True})
    fake.heal()
    for n in range(1, 4):
        tick(duty, now, START - LEAD + n * M)

    assert len(fake.calls_to("chat.postMessage")) == 1
    assert states(store, record)["before"] == "fired"


def test_slack_failing_for_minutes_delays_a_reminder_without_losing_it(
    store, policy_book, fake, now, maintenances
):
    """Slack fails every post for twelve minutes of the clock's time (ticking every 30 s):
    the reminder keeps trying, waiting 5 s doubling up to the 5-minute cap, and goes out once
    when Slack is back, while it still means something (before the maintenance starts)."""
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake)
    fake.fail_next("chat.postMessage", status=500, times=6)  # waits 5, 10, 20, 40, 80, 160 s
    fake.fail_next("chat.postMessage", status=503)  # then the cap, 300 s: back at 12 minutes

    ticks = [tick(duty, now, START - LEAD + n * 30 * S) for n in range(30)]

    assert sum(ticks) == 1
    assert [c.status for c in fake.calls_to("chat.postMessage")][-2:] == [503, 200]
    [reminder] = texts(fake)
    assert reminder.startswith(":construction: Reminder:")
    before = notices(store, record)["before"]
    assert (before.state, before.attempts, before.fired_at) == ("fired", 8, START - LEAD + 12 * M)


# -- the announcement and its calling off ---------------------------------------------------------
# Issue 11: what a lead's ``/sla maintenance`` owes the channel is written with the maintenance
# and posted by the clock, once, whatever Slack does; the lead is answered at once meanwhile.


def announced(fake: FakeSlack) -> list[str]:
    return [t for t in texts(fake) if t.startswith("Planned maintenance of LeadSquared support")]


def test_the_announcement_is_posted_by_the_clock_with_the_reminders_after_it(
    store, policy_book, fake, now, maintenances
):
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake, stages=None)

    assert tick(duty, now, ANNOUNCED) == 1
    for at in (START - LEAD, START, END, END + H):
        tick(duty, now, at)

    announcement, before, start, end = texts(fake)
    assert announcement == (
        "Planned maintenance of LeadSquared support, Sun 6 Dec 02:00–04:00 IST: "
        "database upgrade &lt;!channel&gt;"
    )
    assert "Reminder" in before and "starts now" in start and "is over" in end
    [post] = fake.calls_to("chat.postMessage", ok=True)[:1]
    assert post.args["metadata"]["event_payload"] == {"timer": f"maintenance:{record.id}:announce"}
    assert "does not count as downtime" in str(post.args["blocks"])
    assert notices(store, record)["announce"].detail == {"ts": post.response["ts"]}


def test_the_announcement_goes_out_once_while_slack_answers_500_for_a_while(
    store, policy_book, fake, now, maintenances
):
    """Slack fails every post for about five minutes of the clock's time (ticking every
    30 s): the announcement waits 5 s doubling, and is posted once when Slack is back."""
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake, stages=None)
    fake.fail_next("chat.postMessage", status=500, times=6)  # waits 5, 10, 20, 40, 80, 160 s

    ticks = [tick(duty, now, ANNOUNCED + n * 30 * S) for n in range(20)]

    assert sum(ticks) == 1
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [500] * 6 + [200]
    assert len(announced(fake)) == 1
    owed = notices(store, record)["announce"]
    assert (owed.state, owed.attempts) == ("fired", 7)


def test_a_clock_killed_between_posting_the_announcement_and_recording_it_never_posts_twice(
    store, policy_book, fake, now, maintenances, monkeypatch
):
    record = plan(maintenances)
    a = notice_dispatcher(store, policy_book, fake, stages=None)
    b = notice_dispatcher(store, policy_book, fake, "clock-b", stages=None)
    dies_before_recording(a, monkeypatch)
    with pytest.raises(Killed):
        tick(a, now, ANNOUNCED)
    assert len(announced(fake)) == 1
    assert notices(store, record)["announce"].state == "sending"

    assert tick(b, now, ANNOUNCED + 30 * S) == 0  # A's lease runs
    assert tick(b, now, ANNOUNCED + 2 * M) == 0  # taken over, found: not posted again

    assert len(fake.calls_to("chat.postMessage")) == 1
    owed = notices(store, record)["announce"]
    assert (owed.state, owed.detail["found"]) == ("fired", True)


def test_called_off_while_slack_is_down_the_channel_hears_both_in_order_once(
    store, policy_book, fake, now, maintenances
):
    """Slack is down when the maintenance is announced and when it is called off: once Slack
    is back, the channel hears the announcement, then the calling off, each once, and no
    reminder."""
    record = plan(maintenances)
    assert record.id is not None
    duty = notice_dispatcher(store, policy_book, fake, stages=None)
    fake.fail_next("chat.postMessage", status=503, times=3)
    tick(duty, now, ANNOUNCED)
    maintenances.cancel("T1", "leadsquared", record.id, actor="U1", now=ANNOUNCED + M)

    for n in range(1, 40):
        tick(duty, now, ANNOUNCED + n * M)

    assert [t.split(",")[0] for t in texts(fake)] == [
        "Planned maintenance of LeadSquared support",
        "Maintenance of LeadSquared support called off",
    ]
    assert states(store, record) == {"announce": "fired", "called_off": "fired"}


def test_an_announcement_slack_refuses_is_dead_and_listed_for_the_operator(
    store, policy_book, fake, now, maintenances, monkeypatch, capsys
):
    record = plan(maintenances)
    duty = notice_dispatcher(store, policy_book, fake, stages=None)
    fake.respond("chat.postMessage", {"ok": False, "error": "not_in_channel"}, times=1)

    assert tick(duty, now, ANNOUNCED) == 0
    dead = notices(store, record)["announce"]
    assert (dead.state, dead.last_error) == ("dead", "Slack answered 200 not_in_channel")

    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    assert main(["timers", "--maintenance", "--dead"]) == 0
    _, line = capsys.readouterr().out.splitlines()
    assert line.split()[:7] == [
        str(dead.id),
        "maintenance",
        str(record.id),
        "(leadsquared)",
        CHANNEL,
        "announce",
        "dead",
    ]
    assert main(["timers", "--maintenance", "--retry", str(dead.id)]) == 0
    assert tick(duty, now, ANNOUNCED + M) == 1
    assert len(announced(fake)) == 1


def test_planning_and_calling_off_wake_the_clock_once_they_have_committed(store, policy_book):
    """``serve`` wakes its clock when a change owes Slack a message: the announcement
    appears within a tick. The wake comes after the commit (the clock must find the row)."""
    seen: list[set[str]] = []

    def wake() -> None:
        with store.reading() as session:
            seen.append({n.stage for n in session.exec(select(Notice))})

    maintenances = Maintenances(store, policy_book, roles=recorders(store), owed=wake)
    record = plan(maintenances)
    assert record.id is not None
    maintenances.cancel("T1", "leadsquared", record.id, actor="U1", now=ANNOUNCED + M)
    plan(maintenances, channel=None)  # nothing to announce: nothing to wake for

    assert seen == [{"announce", "before", "start", "end"}, {"announce", "called_off"}]


# -- an outage's announcements -------------------------------------------------------------------


def outage_texts(fake: FakeSlack) -> list[str]:
    return [t for t in texts(fake) if t.startswith("Outage")]


def test_an_outages_start_and_end_go_out_in_order_once_while_slack_answers_500(
    store, policy_book, fake, now, outages
):
    """Slack fails every post for a few minutes while a lead starts and ends an outage: once
    it answers, the channel hears the start, then the end, each once."""
    duty = notice_dispatcher(store, policy_book, fake, stages=None)
    fake.fail_next("chat.postMessage", status=500, times=5)
    record = outages.start(
        "T1", "leadsquared", channel=CHANNEL, actor="U1", now=ANNOUNCED, announce_in=CHANNEL
    )
    tick(duty, now, ANNOUNCED)
    outages.end(
        "T1", "leadsquared", actor="U1", now=ANNOUNCED + M, note="back", announce_in=CHANNEL
    )

    for n in range(1, 30):
        tick(duty, now, ANNOUNCED + n * M)

    started, ended = outage_texts(fake)
    assert started.startswith("Outage of LeadSquared support declared")
    assert ended == "Outage of LeadSquared support over after 1m: back"
    assert states(store, record) == {"started": "fired", "ended": "fired"}


def test_a_clock_killed_between_posting_an_outages_announcement_and_recording_it(
    store, policy_book, fake, now, outages, monkeypatch
):
    record = outages.start(
        "T1", "leadsquared", channel=CHANNEL, actor="U1", now=ANNOUNCED, announce_in=CHANNEL
    )
    a = notice_dispatcher(store, policy_book, fake, stages=None)
    b = notice_dispatcher(store, policy_book, fake, "clock-b", stages=None)
    dies_before_recording(a, monkeypatch)
    with pytest.raises(Killed):
        tick(a, now, ANNOUNCED)
    assert tick(b, now, ANNOUNCED + 30 * S) == 0  # A's lease runs
    assert tick(b, now, ANNOUNCED + 2 * M) == 0  # taken over, found: not posted again

    [post] = fake.calls_to("chat.postMessage")
    event = notices(store, record)["started"].event_id
    assert post.args["metadata"]["event_payload"] == {"timer": f"outage:{record.id}:{event}"}
    assert notices(store, record)["started"].detail["found"] is True


def test_a_correction_is_announced_where_the_outage_was_each_one_once(
    store, policy_book, fake, now, outages
):
    """Every edit is its own announcement (one per change of the trail), in the outage's
    channel whichever channel the lead typed in; one recorded without a channel is announced
    where the lead typed."""
    record = outages.start(
        "T1", "leadsquared", channel=CHANNEL, actor="U1", now=ANNOUNCED, announce_in=CHANNEL
    )
    assert record.id is not None
    for n, note in enumerate(("checkout down", "checkout and search down"), start=1):
        outages.edit(
            "T1",
            "leadsquared",
            record.id,
            actor="U1",
            now=ANNOUNCED + n * M,
            note=note,
            reason="the status page",
            announce_in="CELSEWHERE",
        )
    quiet = outages.start("T2", "leadsquared", channel=None, actor="U1", now=ANNOUNCED)
    assert quiet.id is not None
    outages.delete(
        "T2",
        "leadsquared",
        quiet.id,
        reason="a drill",
        actor="U1",
        now=ANNOUNCED + M,
        announce_in="CLEAD",
    )
    duty = notice_dispatcher(store, policy_book, fake, stages=None)

    assert tick(duty, now, ANNOUNCED + 5 * M) == 4
    assert tick(duty, now, ANNOUNCED + 10 * M) == 0

    calls = fake.calls_to("chat.postMessage", ok=True)
    assert [(c.args["channel"], c.args["text"].split(" of ")[0]) for c in calls] == [
        (CHANNEL, "Outage"),
        (CHANNEL, "Outage #1"),
        ("CLEAD", "Outage #2"),
        (CHANNEL, "Outage #1"),
    ]
