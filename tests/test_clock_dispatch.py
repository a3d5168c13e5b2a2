"""The clock's dispatcher, its notifiers and the "I'm on it" button, on SQLite and PostgreSQL.

Time never comes from the wall clock: each tick is given its ``now``, and the fake Slack stamps
its messages with that same test time (so history reads by ``oldest`` as Slack does). Nothing
here is timed; the only waits are bounded waits for a call the code under test must make.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from datetime import datetime
from typing import Any

import httpx
import pytest
import respx
from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from slack_bolt import BoltRequest
from slack_sdk import WebClient
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from support import signed
from support.courier import Courier
from support.desk import (
    CHANNEL,
    DAY,
    HOOK,
    HOUR,
    LEVEL_2,
    MIN,
    SEC,
    SECRET,
    T0,
    deliver,
    dispatcher,
    open_ticket,
    posts,
    sends,
    slack,
    texts,
    thread,
    tick,
    timer,
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
from support.fakeslack import FakeSlack

from slabot.cli import main
from slabot.clock.dispatch import Backoff, Dispatcher, TickReport
from slabot.clock.leader import Leadership
from slabot.clock.runner import Ticker, schedule
from slabot.notify import Delivery, DeliveryFailed, Fanout, timer_key
from slabot.notify.pagers import PAGERDUTY_URL, Pagers
from slabot.notify.slack import CLOCK_SKEW, SlackNotifier
from slabot.settings import load_settings
from slabot.slack.app import create_app
from slabot.slack.blocks import timers as messages
from slabot.store import Store
from slabot.store.tables import TicketEvent, TimerRow
from slabot.tickets import SYSTEM, ChangeRequest, TicketView


def test_a_page_reaches_each_person_the_channel_the_thread_and_the_card_once(
    store, desk, fake, now
):
    view = open_ticket(desk, fake, title="checkout <!channel> is down")
    clock = dispatcher(store, desk, fake)

    report = tick(clock, now, T0)

    assert (report.sent, report.late, report.dropped, report.retried, report.dead) == (
        1,
        0,
        0,
        0,
        0,
    )
    page = timer(store, view.ticket, "page", "rule0:level_2")
    key = timer_key(page)
    assert sends(fake) == {
        (key, CHANNEL): 1,
        (key, "D0L2A"): 1,
        (key, "D0L2B"): 1,
        (key, "C0PAGES"): 1,
    }
    [in_thread] = thread(fake, view)
    text = in_thread["text"]
    assert "Page to *Level 2*" in text and "SLA-1" in text
    assert "checkout &lt;!channel&gt; is down" in text  # the title is named, and pings nobody
    assert "*First response* due <!date^" in text and "1h left" in text
    assert "<@U0L2A> <@U0L2B> <!subteam^S0GROUP> <#C0PAGES>" in text
    assert "Contract: “Elevate immediately to Level 2.”" in text
    [button] = in_thread["blocks"][-1]["elements"]
    assert (button["action_id"], button["value"]) == ("sla_page_ack", "1:level_2")
    dm = fake.messages("D0L2A")[0]
    assert "Page to *Level 2*" in dm["text"] and "<@U0L2A>" not in dm["text"]
    [card] = fake.calls_to("chat.update")
    assert card.args["ts"] == view.ticket.message_ts
    assert page.state == "fired" and page.fired_at == T0 and page.attempts == 1
    assert page.detail["receipt"]["thread"] == in_thread["ts"]
    # the next repeat is owed now, 30 minutes on
    assert timer(store, view.ticket, "page", "rule0:level_2", 1).state == "pending"

    calls = len(fake.calls)
    assert not tick(clock, now, T0 + SEC)  # nothing twice
    assert len(fake.calls) == calls


def test_an_answer_while_the_page_is_sent_stops_its_repeats(store, desk, fake, now):
    """The tick records its outcomes after performing them; a page answered in between
    must get its next timers from its new state, not from the schedule the tick started with."""
    view = open_ticket(desk, fake)
    clock = dispatcher(store, desk, fake)
    sending = threading.Event()

    def answered(args: dict[str, Any]) -> None:  # the page's first call: answered right then
        desk.acknowledge_page(
            ChangeRequest("T1", view.ticket.number, actor="U0L2A", now=T0), "level_2"
        )
        sending.set()  # and the fake gives its usual answer

    fake.respond("conversations.open", answered, times=1)

    assert tick(clock, now, T0).sent == 1

    assert sending.is_set()
    assert timer(store, view.ticket, "page", "rule0:level_2").state == "fired"
    assert not [t for t in timers(store, view.ticket, "pending") if t.kind == "page"]
    # The page drew the card as the tick found the ticket; it is drawn again as it is now.
    first, last = ("\n".join(texts(c.args["blocks"])) for c in fake.calls_to("chat.update"))
    assert "*Owner*\nnobody yet" in first
    assert "*Owner*\n<@U0L2A>" in last


def test_a_card_posted_after_a_quick_change_shows_the_change(store, desk, fake, now):
    """`/sla open` acks first and posts the card after; a command typed at once can change the
    ticket in between. The card is drawn from the ticket as it stands when it is posted."""
    opened = desk.open(
        "T1",
        title="checkout is down",
        severity="p1",
        policy="liveops",
        reporter="UREP",
        now=T0,
        channel=CHANNEL,
    ).view
    desk.acknowledge(ChangeRequest("T1", opened.ticket.number, actor="U0FAST", now=T0 + SEC))

    deliver(desk, fake, T0 + 2 * SEC)

    [card] = fake.calls_to("chat.postMessage")
    assert "*Owner*\n<@U0FAST>" in "\n".join(texts(card.args["blocks"]))


def test_several_tickets_are_paged_in_one_tick_by_several_workers(store, desk, fake, now):
    views = [open_ticket(desk, fake, title=f"outage {n}") for n in range(12)]
    clock = dispatcher(store, desk, fake, workers=4)

    assert tick(clock, now, T0).sent == 12

    for view in views:
        assert timer(store, view.ticket, "page", "rule0:level_2").state == "fired"
        assert timer(store, view.ticket, "page", "rule0:level_2", 1).state == "pending"
        assert len(thread(fake, view)) == 1
    assert len(fake.calls_to("chat.update")) == 12


def test_a_burst_drains_batch_after_batch_each_timer_once(store, desk, fake, now):
    """`Dispatcher.ticks` claims the next batch while one is performed and records it while
    the next is: every timer still goes out once, and each is recorded."""
    views = [open_ticket(desk, fake, title=f"outage {n}") for n in range(12)]
    clock = dispatcher(store, desk, fake, batch=5)
    instants = iter([T0, T0 + SEC, T0 + 2 * SEC, None])

    reports = list(clock.ticks(lambda: next(instants)))

    assert [r.claimed for r in reports] == [5, 5, 2]
    assert sum(r.sent for r in reports) == 12
    assert set(sends(fake).values()) == {1} and len(sends(fake)) == 12 * 4  # thread, 2 DMs, #
    # each batch's pages reach each person as one message: 5 + 5 + 2 pages, three DMs each
    assert len(fake.messages("D0L2A")) == 3
    for view in views:
        assert timer(store, view.ticket, "page", "rule0:level_2").state == "fired"
        assert timer(store, view.ticket, "page", "rule0:level_2", 1).state == "pending"


def test_a_burst_slower_than_the_lease_never_takes_over_its_own_claims(store, desk, fake, now):
    """Each batch takes two minutes (Slack answering slowly), longer than the 60 s lease: the
    claim made meanwhile must not mistake the clock's own batch in flight for one a dead clock
    left behind, and perform it a second time."""
    for n in range(12):
        open_ticket(desk, fake, title=f"outage {n}")
    clock = dispatcher(store, desk, fake, batch=5)
    instants = iter([T0 + n * 2 * MIN for n in range(4)] + [None])

    reports = list(clock.ticks(lambda: next(instants)))

    assert [r.claimed for r in reports] == [5, 5, 2]
    assert set(sends(fake).values()) == {1} and len(sends(fake)) == 12 * 4


def test_a_run_the_database_cut_short_leaves_no_claim_stuck_and_repeats_nothing(
    store, desk, fake, now, monkeypatch, caplog
):
    """The database goes away after the claim and the posts, before the record: the clock
    cannot know what reached the database, so its claims must not stay its own (in flight for
    ever). After the lease it takes them over like a dead clock's and finds the posts in
    Slack's history; its log says the database was away and back, not that another clock led."""
    view = open_ticket(desk, fake)
    ticker = Ticker(dispatcher(store, desk, fake), Leadership(store), now=lambda: now.value)
    record = desk.record_timers

    def cut(*_args: Any, **_kw: Any) -> None:
        raise OperationalError("UPDATE timers", {}, Exception("server closed the connection"))

    caplog.set_level(logging.INFO, "slabot.clock")
    monkeypatch.setattr(desk, "record_timers", cut)
    try:
        ticker.run()
        sent = sends(fake)
        assert sent and set(sent.values()) == {1}
        monkeypatch.setattr(desk, "record_timers", record)  # the database is back
        now.value = T0 + 30 * SEC
        ticker.run()  # within the lease: nothing taken over yet
        assert timers(store, view.ticket, "sending")
        now.value = T0 + 61 * SEC
        ticker.run()
    finally:
        ticker.stop()

    assert not timers(store, view.ticket, "sending")
    page = timer(store, view.ticket, "page", "rule0:level_2")
    assert page.state == "fired" and set(page.detail["receipt"].values()) == {"found"}
    assert sends(fake) == sent
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("the database is unreachable (server closed") for m in said), said
    assert any(m.startswith("the database answers again") for m in said), said
    assert not any("another clock leads" in m for m in said), said


def test_a_clock_that_does_not_lead_claims_nothing(store, desk, fake, now):
    open_ticket(desk, fake)
    clock = dispatcher(store, desk, fake)

    assert list(clock.ticks(lambda: None)) == []
    assert not posts(fake) and not timers(store, 1, "fired")


def test_reminders_name_the_target_the_time_left_and_the_clause(store, desk, fake, now):
    view = open_ticket(desk, fake, severity="p3")  # P3: no pages, first response within 8h
    clock = dispatcher(store, desk, fake)
    assert not tick(clock, now, T0 + 4 * HOUR - SEC)

    report = tick(clock, now, T0 + 4 * HOUR)

    assert report.sent == 1
    [reminder] = thread(fake, view)
    # Nobody owns it and LiveOps' first level has nobody configured: no one is mentioned,
    # and never the whole channel.
    assert reminder["text"].startswith(":alarm_clock: Reminder (nobody owns it yet): SLA-1 (P3")
    assert "*First response* due <!date^" in reminder["text"] and "4h left" in reminder["text"]
    assert "P3: response time acknowledgement within 8 hours" in reminder["text"]
    assert reminder["metadata"]["event_payload"]["timer"].endswith("reminder:first_response@50%:0")

    desk.assign(
        ChangeRequest("T1", 1, actor=LEVEL_2[0], now=T0 + 5 * HOUR), "UOWNER"
    )  # the matrix assigns
    tick(clock, now, T0 + 8 * HOUR * 0.8)
    assert thread(fake, view)[-1]["text"].startswith(":alarm_clock: <@UOWNER> reminder")


def test_an_update_nudge_has_the_post_update_button(store, desk, fake, now):
    open_ticket(desk, fake)
    clock = dispatcher(store, desk, fake)
    tick(clock, now, T0)
    view = desk.acknowledge(
        ChangeRequest("T1", 1, actor="UOWNER", now=T0 + 10 * MIN)
    )  # updates every 4h now

    tick(clock, now, T0 + 10 * MIN + 4 * HOUR)

    nudge = thread(fake, view)[-1]
    assert nudge["text"].startswith(":memo: <@UOWNER> an update is owed on SLA-1")
    assert "*Next update* due" in nudge["text"] and "under a minute left" in nudge["text"]
    assert "P1: ETA or update every 4 Hours" in nudge["text"]
    [button] = nudge["blocks"][-1]["elements"]
    assert (button["action_id"], button["value"]) == ("sla_update", f"1:{view.ticket.version}")


# -- catching up ----------------------------------------------------------------------------------


def test_a_clock_that_was_down_sends_what_still_applies_once_marked_late(store, desk, fake, now):
    view = open_ticket(desk, fake, severity="p3")  # reminders at 4h and 6h24m, due at 8h
    clock = dispatcher(store, desk, fake)

    report = tick(clock, now, T0 + 7 * HOUR)  # the clock was down all day

    assert (report.sent, report.late) == (2, 2)
    texts = [m["text"] for m in thread(fake, view)]
    assert len(texts) == 2 and all("_(late: the clock was down)_" in t for t in texts)
    assert all(
        t.detail["late"] == "the clock was down" for t in timers(store, view.ticket, "fired")
    )
    assert not tick(clock, now, T0 + 7 * HOUR + SEC)


def test_a_clock_that_was_down_sends_only_the_latest_repeat_of_a_page(store, desk, fake, now):
    view = open_ticket(desk, fake)
    clock = dispatcher(store, desk, fake)

    tick(clock, now, T0 + 2 * HOUR + 5 * MIN)
    tick(clock, now, T0 + 2 * HOUR + 6 * MIN)  # the repeat the catch-up found owed

    first = timer(store, view.ticket, "page", "rule0:level_2", 0)
    assert first.state == "dropped" and "superseded" in first.detail["dropped"]
    latest = timer(store, view.ticket, "page", "rule0:level_2", 4)  # due at 2h
    assert latest.state == "fired" and latest.detail["late"] == "the clock was down"
    level_2 = [k for k, _ in sends(fake) if ":rule0:level_2:" in k]
    assert set(level_2) == {timer_key(latest)}


def test_timers_of_a_ticket_resolved_while_the_clock_was_down_are_dropped(store, desk, fake, now):
    view = open_ticket(desk, fake)
    page = timer(store, view.ticket, "page", "rule0:level_2")
    with store.writing() as session:  # a clock died as it claimed the page
        session.execute(
            update(TimerRow)
            .where(TimerRow.c.id == page.id)
            .values(state="sending", claimed_at=T0, claimed_by="dead-clock")
        )
    desk.resolve(ChangeRequest("T1", 1, actor="U0L2A", now=T0 + 5 * MIN))
    assert [t.state for t in timers(store, view.ticket)] == ["sending"]  # the rest went with it

    report = tick(dispatcher(store, desk, fake), now, T0 + HOUR)

    assert report.dropped == 1 and not posts(fake)
    dropped = timer(store, view.ticket, "page", "rule0:level_2")
    assert (dropped.state, dropped.detail["dropped"]) == ("dropped", "the ticket is resolved")


# -- the lifecycle --------------------------------------------------------------------------------


def test_follow_ups_auto_solve_and_auto_close_act_through_the_use_cases(store, desk, fake, now):
    view = open_ticket(desk, fake, severity="low", policy="secpod", at=T0)
    desk.acknowledge(ChangeRequest("T1", 1, actor="UOWNER", now=T0 + HOUR))
    waiting = T0 + 2 * HOUR
    desk.set_status(ChangeRequest("T1", 1, actor="UOWNER", now=waiting), "waiting_on_customer")
    clock = dispatcher(store, desk, fake)

    for day in (1, 2, 3):
        assert tick(clock, now, waiting + day * DAY).sent == 1
    follow_ups = [m["text"] for m in thread(fake, view) if ":envelope:" in m["text"]]
    assert len(follow_ups) == 3
    assert follow_ups[0].startswith(
        ":envelope: <@UOWNER> a follow-up with the customer is due (1 of 3)"
    )
    assert "Solved after three follow-ups or more than 7 days" in follow_ups[0]

    # Seed 002: "... after three follow-ups or more than 7 days, whichever is earlier."
    assert tick(clock, now, waiting + 4 * DAY).sent == 1
    solved = desk.view("T1", 1, now.value)
    assert solved.ticket.status == "resolved"
    with store.reading() as session:
        last = session.exec(
            select(TicketEvent)
            .where(TicketEvent.c.ticket_id == view.ticket.id)
            .order_by(TicketEvent.c.id.desc())
        ).first()
    assert (
        last.actor == SYSTEM
        and last.after["note"]
        == "solved automatically: no reply from the customer after 3 follow-ups"
    )
    assert thread(fake, view)[-1]["text"].startswith(":white_check_mark: SLA-1")
    assert fake.message(CHANNEL, view.ticket.message_ts)["text"].endswith("· Solved")

    assert tick(clock, now, waiting + 7 * DAY).sent == 1
    assert desk.view("T1", 1, now.value).ticket.status == "closed"
    assert thread(fake, view)[-1]["text"].startswith(":lock: SLA-1")
    assert "closed automatically, 3d after it was solved" in thread(fake, view)[-1]["text"]
    assert {t.state for t in timers(store, view.ticket)} == {"fired"}


def test_an_auto_solve_whose_note_failed_is_not_solved_twice(store, desk, fake, now):
    view = open_ticket(desk, fake, severity="low", policy="secpod")
    desk.set_status(ChangeRequest("T1", 1, actor="UREP", now=T0), "waiting_on_customer")
    clock = dispatcher(store, desk, fake)
    for day in (1, 2, 3):
        tick(clock, now, T0 + day * DAY)
    fake.fail_next("chat.postMessage", status=503)

    assert tick(clock, now, T0 + 7 * DAY).retried == 1
    assert desk.view("T1", 1, now.value).ticket.status == "resolved"
    assert tick(clock, now, T0 + 7 * DAY + MIN).sent == 1  # the note alone, this time

    with store.reading() as session:
        resolutions = session.exec(
            select(TicketEvent).where(
                TicketEvent.c.ticket_id == view.ticket.id, TicketEvent.c.actor == SYSTEM
            )
        ).all()
    assert len(resolutions) == 1
    assert sum(":white_check_mark:" in m["text"] for m in thread(fake, view)) == 1


# -- failures -------------------------------------------------------------------------------------


def test_slack_failures_are_retried_with_backoff_in_order_per_ticket(store, desk, fake, now):
    # Two P3 tickets, each owing reminders at 50% (4h) and 80% (6h24m) of first response.
    a = open_ticket(desk, fake, severity="p3", channel="CAAA", title="ticket a")
    b = open_ticket(desk, fake, severity="p3", channel="CBBB", title="ticket b", at=T0 + SEC)
    clock = dispatcher(store, desk, fake, workers=1)  # one ticket at a time: A's call is next
    first, second = "first_response@50%", "first_response@80%"
    fake.fail_next("chat.postMessage", status=429, retry_after=3600)  # A's, which comes first

    report = tick(clock, now, T0 + 4 * HOUR + SEC)

    assert (report.sent, report.paced) == (1, 1)  # B's went out all the same
    a1 = timer(store, a.ticket, "reminder", first)
    # Slack's limit is no failure: held, no attempt spent, nothing to report
    assert (a1.state, a1.attempts, a1.last_error) == ("pending", 0, None)
    assert a1.next_attempt_at == T0 + 5 * HOUR + SEC  # Slack's Retry-After, not our 10s
    assert timer(store, b.ticket, "reminder", first).state == "fired"

    fake.fail_next("chat.postMessage", status=500)
    assert tick(clock, now, T0 + 5 * HOUR + SEC).retried == 1
    fake.fail_next("chat.postMessage", status=500)
    assert tick(clock, now, T0 + 5 * HOUR + 11 * SEC).retried == 1
    a1 = timer(store, a.ticket, "reminder", first)
    assert a1.attempts == 2 and a1.next_attempt_at == T0 + 5 * HOUR + 31 * SEC  # 10s, doubled

    # At 6h25m both second reminders are due and Slack is still failing: A's first is tried
    # again and fails, B's second fails; A's second is not even tried, it waits behind.
    fake.fail_next("chat.postMessage", status=503, times=2)
    assert tick(clock, now, T0 + 6 * HOUR + 25 * MIN).retried == 2
    assert timer(store, a.ticket, "reminder", second).attempts == 0

    # Slack recovers: A's first goes out, then its second, both late, saying why.
    report = tick(clock, now, T0 + 6 * HOUR + 30 * MIN)

    assert (report.sent, report.late) == (3, 3)
    order = [m["metadata"]["event_payload"]["timer"].split(":")[2] for m in thread(fake, a)]
    assert order == [first, second]
    assert "(late: delivery kept failing)" in thread(fake, a)[0]["text"]
    assert "(late: delivery was held up)" in thread(fake, a)[1]["text"]
    assert len(thread(fake, b)) == 2 and set(sends(fake).values()) == {1}
    assert {t.state for t in timers(store, a.ticket) if t.kind == "reminder"} == {"fired"}


def test_an_unowned_tickets_reminders_go_to_the_first_level_never_the_channel(
    store, desk, fake, now
):
    view = open_ticket(desk, fake, severity="low", policy="secpod")  # level 1: U0SEC
    first = min(
        (t for t in timers(store, view.ticket) if t.kind == "reminder"), key=lambda t: t.due_at
    )
    tick(dispatcher(store, desk, fake), now, first.due_at)

    [reminder] = thread(fake, view)
    assert reminder["text"].startswith(":alarm_clock: <@U0SEC> reminder (nobody owns it yet): ")
    assert not [c for c in fake.calls if "<!channel>" in str(c.args) or "<!here>" in str(c.args)]


def test_a_timer_only_a_person_can_fix_is_dead_told_listed_and_retried(
    store, desk, fake, now, monkeypatch, capsys
):
    view = open_ticket(desk, fake, severity="p3")
    clock = dispatcher(store, desk, fake)
    fake.fail_next("chat.postMessage", status=503, times=2)
    fake.respond("chat.postMessage", {"ok": False, "error": "not_in_channel"}, times=1)

    reports = [tick(clock, now, T0 + 4 * HOUR + n * MIN) for n in range(4)]

    assert [r.retried for r in reports[:2]] == [1, 1] and reports[2].dead == 1
    dead = timer(store, view.ticket, "reminder", "first_response@50%")
    assert dead.state == "dead" and dead.attempts == 3
    assert dead.last_error == "Slack answered 200 not_in_channel"
    [told] = thread(fake, view)
    assert told["text"].startswith(":warning: slabot could not deliver the reminder for SLA-1")
    assert f"`slabot timers --retry {dead.id}`" in told["text"]
    assert "3 attempts, the last: Slack answered 200 not_in_channel" in told["text"]

    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    assert main(["timers", "--dead"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:4] == ["ID", "Ticket", "Kind", "Stage"]
    assert listed[1].split()[:6] == [
        str(dead.id),
        "SLA-1",
        "reminder",
        "first_response@50%",
        "1",
        "dead",
    ]
    assert main(["timers", "--retry", "banana"]) == 2
    assert "give a timer ID" in capsys.readouterr().err
    assert main(["timers", "--retry", "99999"]) == 1
    assert "timer 99999 does not exist" in capsys.readouterr().err

    assert main(["timers", "--retry", str(dead.id)]) == 0
    assert capsys.readouterr().out.strip() == "re-queued 1 dead timer"
    report = tick(clock, now, T0 + 5 * HOUR)
    assert (report.sent, report.late) == (1, 1)
    assert "(late: delivery kept failing)" in thread(fake, view)[-1]["text"]
    assert main(["timers", "--dead"]) == 0 and "no dead timers" in capsys.readouterr().out


def test_a_permanent_slack_error_kills_the_timer_at_once(store, desk, fake, now):
    view = open_ticket(desk, fake, severity="p3")
    fake.respond("chat.postMessage", {"ok": False, "error": "not_in_channel"}, times=1)

    report = tick(dispatcher(store, desk, fake), now, T0 + 4 * HOUR)

    assert report.dead == 1
    assert timer(store, view.ticket, "reminder", "first_response@50%").last_error == (
        "Slack answered 200 not_in_channel"
    )


# -- exactly once ---------------------------------------------------------------------------------


def test_two_dispatchers_ticking_at_once_never_send_a_timer_twice(store, desk, fake, now):
    count = 12
    for n in range(count):
        open_ticket(desk, fake, channel=f"C{n:04d}", title=f"ticket {n}")
    clocks = [dispatcher(store, desk, fake, name=n, batch=3) for n in ("clock-a", "clock-b")]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(clock: Dispatcher) -> None:
        try:
            start.wait()
            for _ in range(count):
                clock.tick(T0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in clocks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors
    assert len(sends(fake)) == count * 4  # each page: a thread, two DMs and a channel
    assert set(sends(fake).values()) == {1}
    with store.reading() as session:
        query = select(TimerRow).where(TimerRow.c.state == "fired", TimerRow.c.kind == "page")
        fired = session.exec(query).all()
    assert len(fired) == count and {t.claimed_by for t in fired} <= {"clock-a", "clock-b"}


def test_only_one_clock_leads_until_it_lets_go(store):
    first, second = Leadership(store), Leadership(store)
    try:
        assert first.acquire() and first.held
        assert first.acquire()  # still held: checked, not taken twice
        assert not second.acquire() and not second.held
        first.release()
        assert not first.held
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def _interrupted(store: Store, view: TicketView, fake: FakeSlack, *, posted: set[str]) -> TimerRow:
    """The P1 page as a clock killed mid-delivery leaves it: claimed at T0, and ``posted``
    (some of its parts) already in Slack."""
    page = timer(store, view.ticket, "page", "rule0:level_2")
    with store.writing() as session:
        session.execute(
            update(TimerRow)
            .where(TimerRow.c.id == page.id)
            .values(state="sending", claimed_at=T0, claimed_by="killed-clock")
        )
    parts = {"thread", "dm:U0L2A", "dm:U0L2B", "post:C0PAGES", "card"}
    SlackNotifier(slack(fake)).send(Delivery(page, view, T0, done=frozenset(parts - posted)))
    return page


def test_an_interrupted_delivery_that_had_arrived_is_recorded_without_sending_again(
    store, desk, fake, now
):
    view = open_ticket(desk, fake)
    page = _interrupted(
        store, view, fake, posted={"thread", "dm:U0L2A", "dm:U0L2B", "post:C0PAGES"}
    )
    before = sends(fake)
    clock = dispatcher(store, desk, fake)

    assert not tick(clock, now, T0 + 30 * SEC)  # within the lease: the other clock may be alive
    report = tick(clock, now, T0 + 61 * SEC)

    assert report.sent == 1
    assert sends(fake) == before and set(before.values()) == {1}
    fired = timer(store, view.ticket, "page", "rule0:level_2")
    assert fired.state == "fired" and fired.claimed_by == "clock-a"
    assert fired.detail["receipt"] == dict.fromkeys(
        ["dm:U0L2A", "dm:U0L2B", "post:C0PAGES", "thread"], "found"
    )
    history = fake.calls_to("conversations.history") + fake.calls_to("conversations.replies")
    oldest = f"{(T0 - CLOCK_SKEW).timestamp():.6f}"  # from the first claim, less the skew
    assert history and all(
        c.args["oldest"] == oldest and c.args["include_all_metadata"] for c in history
    )
    assert page.id == fired.id


def test_an_interrupted_delivery_sends_only_what_had_not_arrived(store, desk, fake, now):
    view = open_ticket(desk, fake)
    page = _interrupted(store, view, fake, posted={"thread", "dm:U0L2A"})
    key = timer_key(page)

    report = tick(dispatcher(store, desk, fake), now, T0 + 2 * MIN)

    assert report.sent == 1
    assert sends(fake) == {
        (key, CHANNEL): 1,
        (key, "D0L2A"): 1,
        (key, "D0L2B"): 1,
        (key, "C0PAGES"): 1,
    }
    fired = timer(store, view.ticket, "page", "rule0:level_2")
    assert fired.detail["receipt"]["thread"] == "found"
    assert fired.detail["receipt"]["dm:U0L2B"] != "found"


def test_a_recovery_reads_each_conversation_once_and_waits_out_a_429_on_history(
    store, desk, fake, now
):
    """Four pages a killed clock had sent: one read of each channel and DM for all of them
    (and of each ticket's thread), never a second post; a 429 on history holds them all back,
    unsent, until its Retry-After has passed, without another read meanwhile."""
    views = [open_ticket(desk, fake, channel=f"C000{n}", title=f"outage {n}") for n in range(4)]
    for view in views:
        _interrupted(store, view, fake, posted={"thread", "dm:U0L2A", "dm:U0L2B", "post:C0PAGES"})
    before = sends(fake)
    clock = dispatcher(store, desk, fake)
    fake.fail_next("conversations.history", status=429, retry_after=20)

    limited = tick(clock, now, T0 + 2 * MIN)

    assert (limited.sent, limited.paced, limited.retried) == (0, 4, 0)
    assert len(fake.calls_to("conversations.history")) == 1  # the rest waited, unasked
    assert all(timer(store, v.ticket, "page", "rule0:level_2").state == "pending" for v in views)
    assert not tick(clock, now, T0 + 2 * MIN + 10 * SEC)  # still within the Retry-After
    reads = len(fake.calls_to("conversations.history"))
    replies = len(fake.calls_to("conversations.replies"))

    report = tick(clock, now, T0 + 2 * MIN + 20 * SEC)

    assert report.sent == 4 and sends(fake) == before
    history = fake.calls_to("conversations.history")[reads:]
    assert sorted(c.args["channel"] for c in history) == ["C0PAGES", "D0L2A", "D0L2B"]
    threads = [c.args["ts"] for c in fake.calls_to("conversations.replies")[replies:]]
    assert sorted(threads) == sorted(v.ticket.message_ts for v in views)


def test_a_429_in_one_workspace_holds_back_no_call_of_another(fake):
    """Slack limits an app per workspace: a 429 on history in one workspace makes its next
    read wait, unasked, while another workspace's read of the same method goes on."""
    clients = {
        team: WebClient(token=f"xoxb-{team}", base_url=fake.url, retry_handlers=[])
        for team in ("T1", "T2")
    }
    notifier = SlackNotifier(_Installed(clients))
    fake.fail_next("conversations.history", status=429, retry_after=20)

    def read(team: str) -> Any:
        method = clients[team].conversations_history
        return notifier._call(method, T0, "conversations.history", channel="C0001")

    with pytest.raises(DeliveryFailed) as limited:
        read("T1")
    with pytest.raises(DeliveryFailed) as held:
        read("T1")
    assert limited.value.held and held.value.held and 19 <= held.value.retry_after <= 20
    assert read("T2")["ok"]
    assert [c.status for c in fake.calls_to("conversations.history")] == [429, 200]


class _Installed:
    """Two workspaces, each with its own token."""

    def __init__(self, clients: dict[str, WebClient]):
        self.clients = clients

    def client_for(self, workspace: str) -> WebClient:
        return self.clients[workspace]


def test_a_timer_held_behind_one_in_doubt_stays_in_doubt(store, desk, fake, now):
    """A killed clock had sent both reminders of a ticket. Looking for the first is
    rate-limited, so the second waits behind it: it must still be looked for, not sent."""
    view = open_ticket(desk, fake, severity="p3")
    at = T0 + 6 * HOUR + 30 * MIN
    now.value = at
    for stage in ("first_response@50%", "first_response@80%"):
        sent = timer(store, view.ticket, "reminder", stage)
        with store.writing() as session:
            session.execute(
                update(TimerRow)
                .where(TimerRow.c.id == sent.id)
                .values(state="sending", claimed_at=at, claimed_by="killed-clock")
            )
        SlackNotifier(slack(fake)).send(Delivery(sent, desk.view("T1", 1, at), at))
    before = sends(fake)
    clock = dispatcher(store, desk, fake)
    fake.fail_next("conversations.replies", status=429, retry_after=20)

    assert (tick(clock, now, at + 2 * MIN).paced, len(posts(fake))) == (1, 2)
    report = tick(clock, now, at + 2 * MIN + 20 * SEC)

    assert report.sent == 2 and sends(fake) == before and set(before.values()) == {1}


def test_a_post_slack_performed_but_answered_late_is_found_not_sent_again(store, desk, fake, now):
    """Slack posts in one channel at once but answers a minute later, after the clock gave up
    waiting: the post is in doubt, and the next attempt finds it in the thread instead of
    posting it again; the other channels' pages go out meanwhile."""
    views = [open_ticket(desk, fake, channel=f"C000{n}", title=f"outage {n}") for n in range(4)]
    fake.hang(60, "chat.postMessage", channel="C0001")
    clock = dispatcher(store, desk, fake, timeout=0.5)

    first = tick(clock, now, T0)

    assert (first.sent, first.retried) == (3, 1)
    hung = timer(store, views[1].ticket, "page", "rule0:level_2")
    assert hung.state == "pending" and hung.detail["doubtful"] == ["thread"]
    assert hung.last_error.startswith("no answer from Slack")
    reports = [tick(clock, now, T0 + n * 10 * SEC) for n in range(1, 7)]  # still hanging

    assert sum(r.sent for r in reports) == 1 and not any(r.dead for r in reports)
    assert len(sends(fake)) == 4 * 4 and set(sends(fake).values()) == {1}
    page = timer(store, views[1].ticket, "page", "rule0:level_2")
    assert page.state == "fired" and page.detail["receipt"]["thread"] == "found"
    assert "doubtful" not in page.detail
    [read] = fake.calls_to("conversations.replies")
    assert read.args["oldest"] == f"{(T0 - CLOCK_SKEW).timestamp():.6f}"  # from the first claim


def test_slack_hanging_on_every_call_for_a_minute_sends_each_page_once(store, desk, fake, now):
    """Every call is performed and answered only after a minute: the clock's waits run out,
    its lookups for the posts in doubt run out too, and nothing is sent again until Slack
    answers and the lookups find them."""
    views = [open_ticket(desk, fake, channel=f"C000{n}", title=f"outage {n}") for n in range(3)]
    fake.hang()
    clock = dispatcher(store, desk, fake, timeout=0.3)

    hanging = [tick(clock, now, T0 + n * 10 * SEC) for n in range(7)]
    fake.heal()
    after = [tick(clock, now, T0 + 70 * SEC + n * 30 * SEC) for n in range(4)]

    assert sum(r.sent for r in hanging) == 0 and sum(r.sent for r in after) == 3
    assert not any(r.dead for r in hanging + after)
    assert len(sends(fake)) == 3 * 4 and set(sends(fake).values()) == {1}
    for view in views:
        page = timer(store, view.ticket, "page", "rule0:level_2")
        assert page.state == "fired" and page.detail["receipt"]["thread"] == "found"
        assert len(thread(fake, view)) == 1


def test_a_429_on_one_channel_holds_up_no_other_channel(store, desk, fake, now):
    a1 = open_ticket(desk, fake, severity="p3", channel="CAAA", title="a1")
    a2 = open_ticket(desk, fake, severity="p3", channel="CAAA", title="a2", at=T0 + SEC)
    b = open_ticket(desk, fake, severity="p3", channel="CBBB", title="b", at=T0 + 2 * SEC)
    c = open_ticket(desk, fake, severity="p3", channel="CCCC", title="c", at=T0 + 3 * SEC)
    clock = dispatcher(store, desk, fake, workers=1)  # in due order: a1 is asked first
    fake.fail_next("chat.postMessage", status=429, retry_after=30, channel="CAAA")
    calls = len(fake.calls)

    report = tick(clock, now, T0 + 4 * HOUR + 5 * SEC)

    assert (report.sent, report.paced, report.retried) == (2, 2, 0)
    asked = [c.args["channel"] for c in fake.calls[calls:] if c.method == "chat.postMessage"]
    assert sorted(asked) == ["CAAA", "CBBB", "CCCC"]  # a2 waited without asking Slack
    waiting = timer(store, a2.ticket, "reminder", "first_response@50%")
    assert waiting.next_attempt_at == T0 + 4 * HOUR + 35 * SEC
    assert (waiting.attempts, waiting.last_error) == (0, None)  # a limit, not a failure

    assert tick(clock, now, T0 + 4 * HOUR + 35 * SEC).sent == 2
    assert set(sends(fake).values()) == {1} and len(sends(fake)) == 4
    assert all(len(thread(fake, v)) == 1 for v in (a1, a2, b, c))


def test_a_ten_minute_outage_delays_every_reminder_and_kills_none(
    store, desk, fake, now, monkeypatch, capsys
):
    """Slack fails for ten minutes of the clock's time (the old limit of 8 attempts ran out
    in about five): each timer keeps trying, with waits capped at five minutes, `slabot
    timers` says it is late and why, and once Slack is back each goes out once, in order."""
    views = [
        open_ticket(desk, fake, severity="p3", channel=f"C000{n}", title=f"t{n}") for n in range(3)
    ]
    clock = dispatcher(store, desk, fake, backoff=Backoff(), rand=lambda: 1.0)  # shortest waits
    fake.fail_for(3600, status=503)
    start = T0 + 6 * HOUR + 25 * MIN  # the clock was down: both reminders are due

    outage = [tick(clock, now, start + n * 15 * SEC) for n in range(41)]
    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    assert main(["timers"]) == 0
    listing = capsys.readouterr().out.splitlines()
    fake.heal()
    back = [tick(clock, now, start + 10 * MIN + n * 30 * SEC) for n in range(11)]

    assert sum(r.sent for r in outage) == 0 and not any(r.dead for r in outage + back)
    late = [line for line in listing if "first_response@50%" in line]
    assert len(late) == 3 and all(" late " in line for line in late)
    assert all("Slack answered 503 service_unavailable" in line for line in late)
    first = timer(store, views[0].ticket, "reminder", "first_response@50%")
    assert first.attempts > 8
    assert set(sends(fake).values()) == {1} and len(sends(fake)) == 6
    for view in views:
        order = [m["metadata"]["event_payload"]["timer"].split(":")[2] for m in thread(fake, view)]
        assert order == ["first_response@50%", "first_response@80%"]


# -- pagers ---------------------------------------------------------------------------------------


@respx.mock
def test_a_page_also_goes_to_pagerduty_and_a_signed_webhook(store, desk, fake, now):
    pagerduty = respx.post(PAGERDUTY_URL).mock(
        return_value=httpx.Response(202, json={"status": "success", "dedup_key": "dk"})
    )
    hook = respx.post(HOOK).mock(return_value=httpx.Response(204))
    view = open_ticket(desk, fake, policy="pagerdemo")

    assert tick(dispatcher(store, desk, fake), now, T0).sent == 1

    key = timer_key(timer(store, view.ticket, "page", "rule0:level_2"))
    event = json.loads(pagerduty.calls.last.request.content)
    assert event["routing_key"] == "pd-routing-key" and event["event_action"] == "trigger"
    assert event["dedup_key"] == key
    assert event["payload"]["summary"] == "SLA-1 page to Level 2: checkout is down"
    assert event["payload"]["custom_details"]["clause"] == "Elevate immediately to Level 2."
    request = hook.calls.last.request
    # Standard Webhooks: the id and the sending time are signed with the body, so a captured
    # page cannot be replayed later; the id is the timer's key, the same on every retry.
    stamp = request.headers["webhook-timestamp"]
    assert request.headers["webhook-id"] == key and int(stamp) == int(T0.timestamp())
    signed = f"{key}.{stamp}.".encode() + request.content
    digest = hmac.new(b"hook-secret", signed, hashlib.sha256).digest()
    assert request.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert "X-Slabot-Signature" not in request.headers
    assert request.headers["X-Slabot-Timer"] == key
    assert json.loads(request.content)["ticket"] == "SLA-1"
    fired = timer(store, view.ticket, "page", "rule0:level_2")
    assert (
        fired.detail["receipt"]["pagerduty"] == "dk" and fired.detail["receipt"]["webhook"] == "204"
    )


@respx.mock
def test_a_failing_pager_is_retried_alone_after_its_retry_after(store, desk, fake, now):
    pagerduty = respx.post(PAGERDUTY_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "90"}),
            httpx.ConnectError("connection refused"),
            httpx.Response(202, json={"status": "success", "dedup_key": "dk"}),
        ]
    )
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    view = open_ticket(desk, fake, policy="pagerdemo")
    clock = dispatcher(store, desk, fake)

    assert tick(clock, now, T0).retried == 1
    page = timer(store, view.ticket, "page", "rule0:level_2")
    assert page.next_attempt_at == T0 + 90 * SEC and page.last_error == "PagerDuty answered 429"
    assert set(page.detail["done"]) == {
        "thread",
        "dm:U0L2A",
        "dm:U0L2B",
        "post:C0PAGES",
        "card",
        "webhook",
    }
    assert tick(clock, now, T0 + 90 * SEC).retried == 1
    assert "PagerDuty unreachable" in timer(store, view.ticket, "page", "rule0:level_2").last_error
    assert tick(clock, now, T0 + 2 * MIN).sent == 1

    assert pagerduty.call_count == 3 and hook.call_count == 1
    assert set(sends(fake).values()) == {1}


@respx.mock
def test_a_pager_without_its_key_in_the_environment_needs_an_operator(store, desk, fake, now):
    respx.post(HOOK).mock(return_value=httpx.Response(200))
    view = open_ticket(desk, fake, policy="pagerdemo")
    notifier = Fanout(
        [SlackNotifier(slack(fake)), Pagers(httpx.Client(), env={"HOOK_SECRET": "s"})]
    )

    report = Dispatcher(store, desk, notifier, name="clock-a").tick(T0)

    assert report.dead == 1
    page = timer(store, view.ticket, "page", "rule0:level_2")
    assert (
        page.last_error
        == "PD_ROUTING_KEY is not set: the policy takes the PagerDuty routing key from it"
    )
    assert "webhook" in page.detail["done"]


# -- "I'm on it" ----------------------------------------------------------------------------------


def click(app, fake: FakeSlack, user: str, value: str, *, channel: str, message_ts: str) -> None:
    body = signed.block_actions(
        [signed.button("sla_page_ack", value)],
        team_id="T1",
        user_id=user,
        channel_id=channel,
        message_ts=message_ts,
        message=fake.message(channel, message_ts),
    )
    response = app.dispatch(BoltRequest(body=body, headers=signed.signed_headers(SECRET, body)))
    assert response.status == 200


def test_im_on_it_answers_the_page_and_tells_the_thread(store, desk, fake, now):
    view = open_ticket(desk, fake)
    clock = dispatcher(store, desk, fake)
    tick(clock, now, T0)
    settings = load_settings(
        slack_signing_secret=SECRET, slack_bot_token="xoxb-test", slack_api_url=fake.url
    )
    app = create_app(settings, slack(fake), tickets=desk, now=lambda: now.value)
    Courier.wire(store, desk, fake.url, lambda: now.value)  # as serve wakes its clock
    dm = fake.messages("D0L2B")[0]
    now.value = T0 + 5 * MIN

    click(app, fake, "U0L2B", "1:level_2", channel="D0L2B", message_ts=dm["ts"])

    # the card after the page, the card now, and every copy of the page: the thread reply,
    # both DMs and the channel post
    fake.wait_for("chat.update", count=6)
    acked = desk.view("T1", 1, now.value).ticket
    assert (acked.acknowledged_by, acked.owner) == ("U0L2B", "U0L2B")
    assert not [t for t in timers(store, view.ticket, "pending") if t.kind == "page"]
    assert any(
        m["text"] == "<@U0L2B> is on it: answered the page to Level 2." for m in thread(fake, view)
    )
    for channel, ts in [
        ("D0L2A", fake.messages("D0L2A")[0]["ts"]),
        ("D0L2B", dm["ts"]),
        ("C0PAGES", fake.messages("C0PAGES")[0]["ts"]),
        (CHANNEL, thread(fake, view)[0]["ts"]),
    ]:
        taken = fake.message(channel, ts)
        assert taken["blocks"][-1]["elements"][0]["text"].startswith(
            ":white_check_mark: Taken by <@U0L2B> at <!date^"
        ), channel
        assert not [b for b in taken["blocks"] if b["type"] == "actions"], channel

    desk.resolve(ChangeRequest("T1", 1, actor="U0L2B", now=now.value))
    click(
        app, fake, "U0L2A", "1:level_2", channel="D0L2A", message_ts=fake.messages("D0L2A")[0]["ts"]
    )
    [refused] = fake.wait_for("chat.postEphemeral")
    assert refused.args["user"] == "U0L2A" and "SLA-1 is resolved" in refused.args["text"]


# -- the words ------------------------------------------------------------------------------------


def test_every_message_fits_block_kit(store, desk, fake, now):
    """The fake checks Block Kit like Slack: a very long title still makes valid messages."""
    view = open_ticket(desk, fake, title="x" * 3000)
    page = timer(store, view.ticket, "page", "rule0:level_2")
    for message in (
        messages.page(view, page, T0, "the clock was down", "<!channel>"),
        messages.reminder(view, page, T0, None),
        messages.nudge(view, page, T0, None),
        messages.gave_up(view, page, "y" * 5000),
    ):
        assert slack(fake).chat_postMessage(
            channel=CHANNEL, text=message.text, blocks=message.blocks
        )["ok"]


def test_a_wake_during_a_runs_duties_runs_the_clock_again_at_once_not_an_interval_later():
    """``serve`` wakes its clock as each change commits. A wake that lands after the run under
    way last looked for one (during its duties, say) asks APScheduler for a run it skips, one
    being under way: it must not wait for the next interval (an hour here), or the card the
    change owes would appear that much later."""
    runs: list[bool] = []
    skipped, again = threading.Event(), threading.Event()

    def duty(_now: datetime) -> None:
        if not runs:
            ticker.wake()  # a change commits while the first run performs its duties
            assert skipped.wait(30), "APScheduler never tried to run the tick again"

    class Runs:
        def tick(self, report: Any) -> None:
            pass

        def ran(self, leading: bool) -> None:
            runs.append(leading)
            if len(runs) > 1:
                again.set()

    ticker = Ticker(_Drew(), _Leads(), duties=[duty], observers=[Runs()])  # type: ignore[arg-type]
    scheduler = schedule(ticker, 3600, background=True)
    scheduler.add_listener(lambda _event: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    scheduler.start()
    try:
        assert again.wait(30), "the wake was lost until the next interval"
    finally:
        scheduler.shutdown(wait=True)
    assert runs[:2] == [True, True]


class _Drew:
    """A dispatcher whose every tick drew one card."""

    name = "drew"

    def ticks(self, leading: Any) -> Any:
        leading()
        yield TickReport(drawn=1)


class _Leads:
    held = True

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass
