"""What a ticket owes Slack (its card, its thread notes, redraws) as rows written with the change
that caused it, and delivered by the clock with the exactly-once rule (`slabot.tickets.timers`,
`slabot.clock.dispatch`), on SQLite and PostgreSQL.

The fake Slack's log is the judge: one card per ticket, posted before anything else of its
ticket, showing the ticket as it stands; each note once, in order, in the card's thread."""

from __future__ import annotations

import time
import urllib.request

import pytest
from sqlalchemy import select, update
from support.conversation import POLICIES, SECRET, clean_env, free_port
from support.desk import (
    CHANNEL,
    HOUR,
    MIN,
    SEC,
    T0,
    dispatcher,
    texts,
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
from support.fakeslack import FakeSlack
from support.processes import Process, wait_until
from support.signed import post, slash_command

from slabot.store.tables import Ticket, TimerRow
from slabot.tickets import AlreadyDone, ChangeRequest, TicketView
from slabot.tickets.timers import MESSAGES


def say(line: str):
    return lambda view, before: line


def open_p1(desk, *, at=T0, channel=CHANNEL, **kw) -> TicketView:
    return desk.open(
        "T1",
        title="checkout is down",
        severity="p1",
        policy="liveops",
        reporter="UREP",
        now=at,
        channel=channel,
        say=say("opened"),
        **kw,
    ).view


def owed(store, view: TicketView) -> list[tuple[str, str, int, str]]:
    return [
        (t.kind, t.stage, t.repeat, t.state)
        for t in timers(store, view.ticket, messages=True)
        if t.kind in MESSAGES
    ]


def channel_posts(fake, channel=CHANNEL):
    return [c for c in fake.calls_to("chat.postMessage", ok=True) if c.args["channel"] == channel]


def cards(fake, channel=CHANNEL):
    """The top-level messages of ``channel``: the cards."""
    return [c for c in channel_posts(fake, channel) if not c.args.get("thread_ts")]


def card_text(call) -> str:
    return "\n".join(texts(call.args["blocks"]))


def stored(desk, view: TicketView) -> Ticket:
    return desk.view("T1", view.ticket.number, T0).ticket


# -- what a change owes --------------------------------------------------------------------------


def test_opening_owes_the_card_and_its_note_and_nothing_is_posted_in_the_request(store, desk, fake):
    view = open_p1(desk)

    assert owed(store, view) == [("card", "post", 0, "pending"), ("note", "1", 0, "pending")]
    assert fake.calls_to("chat.postMessage") == [] and view.ticket.message_ts is None
    # A ticket with no channel has no card and no thread.
    lone = desk.open("T1", title="x", severity="p1", policy="liveops", reporter="U", now=T0)
    assert owed(store, lone.view) == []


def test_a_refused_change_owes_nothing(store, desk):
    view = open_p1(desk)
    desk.acknowledge(ChangeRequest("T1", 1, actor="UONE", now=T0 + SEC, say=say("ack")))
    before = owed(store, view)

    with pytest.raises(AlreadyDone):
        desk.acknowledge(ChangeRequest("T1", 1, actor="UTWO", now=T0 + 2 * SEC, say=say("again")))

    assert owed(store, view) == before


def test_changes_before_the_card_is_posted_owe_no_redraw_and_are_drawn_on_it(
    store, desk, fake, now
):
    """The card's post draws the ticket as it stands when performed: changes made before it
    owe their notes but no redraw, and the one card shows them all."""
    view = open_p1(desk)
    desk.acknowledge(ChangeRequest("T1", 1, actor="U0FAST", now=T0 + SEC, say=say("ack")))
    desk.change_severity(
        ChangeRequest("T1", 1, actor="U0FAST", now=T0 + 2 * SEC, say=say("sev")), "p2"
    )

    assert [o[:2] for o in owed(store, view)] == [
        ("card", "post"),
        ("note", "1"),
        ("note", "2"),
        ("note", "3"),
    ]
    clock = dispatcher(store, desk, fake)
    tick(clock, now, T0 + 3 * SEC)
    tick(clock, now, T0 + 3 * SEC)

    [card] = cards(fake)
    assert "*Owner*\n<@U0FAST>" in card_text(card) and "P2" in card_text(card)
    ticket = stored(desk, view)
    assert ticket.message_ts == card.response["ts"]
    replies = fake.thread(CHANNEL, card.response["ts"])
    assert [m["text"] for m in replies] == ["opened", "ack", "sev"]
    assert fake.calls_to("chat.update") == []  # nothing owed a redraw


def test_a_redraw_is_coalesced_and_owed_again_when_one_is_under_way(store, desk, fake, now):
    view = open_p1(desk)
    clock = dispatcher(store, desk, fake)
    tick(clock, now, T0)
    tick(clock, now, T0)
    desk.acknowledge(ChangeRequest("T1", 1, actor="UONE", now=T0 + SEC))
    desk.change_severity(ChangeRequest("T1", 1, actor="UONE", now=T0 + 2 * SEC), "p2")

    redraws = [o for o in owed(store, view) if o[:2] == ("card", "redraw")]
    assert redraws == [("card", "redraw", 0, "pending")]
    # Being performed, a redraw may show the ticket as it was: another is owed.
    with store.writing() as session:
        session.execute(
            update(TimerRow)
            .where(TimerRow.c.ticket_id == view.ticket.id, TimerRow.c.kind == "card")
            .where(TimerRow.c.stage == "redraw")
            .values(state="sending", claimed_at=T0 + 3 * SEC, claimed_by="other-clock")
        )
    desk.set_status(ChangeRequest("T1", 1, actor="UONE", now=T0 + 4 * SEC), "waiting_on_customer")
    desk.set_status(ChangeRequest("T1", 1, actor="UONE", now=T0 + 5 * SEC), "open")

    redraws = [o for o in owed(store, view) if o[:2] == ("card", "redraw")]
    assert redraws == [("card", "redraw", 0, "sending"), ("card", "redraw", 1, "pending")]


# -- delivery ----------------------------------------------------------------------------------


def test_nothing_of_a_ticket_goes_out_before_its_card_and_all_of_it_goes_in_its_thread(
    store, desk, fake, now
):
    """Reported two hours ago, the P1's reminders and pages are due as it opens; Slack fails
    the card's first post. Nothing waits forever and nothing lands outside the thread."""
    fake.fail_next("chat.postMessage", status=500, channel=CHANNEL)
    view = open_p1(desk, reported_at=T0 - 2 * HOUR)
    clock = dispatcher(store, desk, fake)

    first = tick(clock, now, T0)

    assert (first.claimed, first.retried) == (1, 1)  # the card alone, to retry
    assert channel_posts(fake) == [] and fake.calls_to("conversations.open") == []
    for n in range(1, 6):
        tick(clock, now, T0 + n * MIN)

    [card] = cards(fake)
    ts = card.response["ts"]
    later = [c for c in fake.calls_to("chat.postMessage", ok=True) if c is not card]
    assert later and all(c.at >= card.at for c in later)
    assert all(c.args.get("thread_ts") == ts for c in channel_posts(fake) if c is not card)
    assert fake.thread(CHANNEL, ts)[0]["text"] == "opened"  # before the page due as it opened
    assert stored(desk, view).message_ts == ts


def test_a_card_whose_answer_never_came_is_found_in_the_channel_not_posted_again(
    store, desk, fake, now
):
    """Slack posts the card but answers after the clock stopped waiting: the next attempt
    reads the channel, finds the card by its metadata, and keeps its ts."""
    fake.hang(60, "chat.postMessage", channel=CHANNEL)
    view = open_p1(desk)
    desk.acknowledge(ChangeRequest("T1", 1, actor="U0FAST", now=T0 + SEC, say=say("ack")))
    clock = dispatcher(store, desk, fake, timeout=0.5)

    tick(clock, now, T0 + SEC)
    assert len(fake.calls_to("chat.postMessage")) == 1  # the card alone, performed
    assert stored(desk, view).message_ts is None
    fake.heal()
    for n in range(1, 5):
        tick(clock, now, T0 + n * 30 * SEC)

    assert len(cards(fake)) == 1
    found = fake.messages(CHANNEL)[0]
    assert stored(desk, view).message_ts == found["ts"]
    replies = [m["text"] for m in fake.thread(CHANNEL, found["ts"])]
    assert [r for r in replies if r in ("opened", "ack")] == ["opened", "ack"]  # each once
    post = next(t for t in timers(store, view.ticket, messages=True) if t.kind == "card")
    assert post.state == "fired" and post.detail["receipt"] == {"card": found["ts"]}


def test_a_card_found_after_a_timeout_shows_the_changes_made_while_it_was_in_doubt(
    store, desk, fake, now
):
    """Slack posted the card and answered too late; the ticket was acknowledged before the
    retry (the post still owed, so no redraw was owed): the card found in the channel shows
    the ticket as the first attempt saw it, and is drawn again to show it as it stands (a P2:
    no page of its own redraws the card)."""
    fake.hang(60, "chat.postMessage", channel=CHANNEL)
    desk.open(
        "T1",
        title="checkout is slow",
        severity="p2",
        policy="liveops",
        reporter="UREP",
        now=T0,
        channel=CHANNEL,
        say=say("opened"),
    )
    clock = dispatcher(store, desk, fake, timeout=0.5)
    tick(clock, now, T0 + SEC)
    fake.heal()
    desk.acknowledge(ChangeRequest("T1", 1, actor="U0FAST", now=T0 + 2 * SEC, say=say("ack")))
    for n in range(1, 5):
        tick(clock, now, T0 + n * 30 * SEC)

    [card] = cards(fake)
    shown = fake.message(CHANNEL, card.response["ts"])
    assert "*Owner*\n<@U0FAST>" in "\n".join(texts(shown["blocks"]))


def test_a_clock_killed_after_posting_the_card_leaves_it_to_be_found(store, desk, fake, now):
    """The card went out, the clock died before recording it: the next clock takes the claim
    over after the lease, finds the card in the channel, and posts no second one."""
    view = open_p1(desk)
    tick(dispatcher(store, desk, fake), now, T0)
    with store.writing() as session:  # as the dead clock left it: claimed, unrecorded
        session.execute(
            update(TimerRow)
            .where(TimerRow.c.ticket_id == view.ticket.id, TimerRow.c.kind == "card")
            .values(state="sending", claimed_at=T0, claimed_by="killed-clock", detail={})
        )
        session.execute(update(Ticket).where(Ticket.c.id == view.ticket.id).values(message_ts=None))

    clock = dispatcher(store, desk, fake, name="clock-b")
    tick(clock, now, T0 + 2 * MIN)
    tick(clock, now, T0 + 2 * MIN)

    [card] = cards(fake)
    assert stored(desk, view).message_ts == card.response["ts"]
    notes = [m["text"] for m in fake.thread(CHANNEL, card.response["ts"])]
    assert notes[0] == "opened" and notes.count("opened") == 1


# -- /sla open against a real `slabot serve` while Slack fails or hangs ------------------------


def _serve(store, fake, tmp_path):
    port = free_port()
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=store.url.render_as_string(hide_password=False),
        SLABOT_POLICIES=str(POLICIES),
    )
    serve = Process(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    wait_until("/healthz", lambda: _ok(f"{base}/healthz"), serve.output)
    return serve, f"{base}/slack/events"


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _command(events: str, fake, text: str, key: str) -> int:
    body = slash_command(text, channel_id="C0OPEN", response_url=fake.response_url(key))
    status, _, _ = post(events, body, SECRET)
    return status


@pytest.mark.parametrize("slack_fails", ["answers 500", "hangs after performing"])
def test_sla_open_while_slack_fails_gives_one_ticket_one_card_and_a_true_answer(
    store, tmp_path, slack_fails
):
    """Slack fails (or performs and never answers) as the ticket opens, and while it is
    acknowledged: the opener is told the truth at once; when Slack recovers there is one
    ticket and one card, showing the acknowledgement made meanwhile, with both notes under
    it in order."""
    with FakeSlack(clock=time.time) as fake:
        serve, events = _serve(store, fake, tmp_path)
        if slack_fails == "answers 500":
            fake.fail_for(8, status=500, method="chat.postMessage")
        else:
            fake.hang(None, "chat.postMessage")
        try:
            assert _command(events, fake, "open policy:liveops p2 checkout is slow", "o") == 200
            [told] = fake.wait_for("response_url", timeout=30)
            assert "SLA-1 opened; its card will appear in <#C0OPEN> as soon as Slack" in str(
                told.args
            )
            assert _command(events, fake, "ack 1", "a") == 200
            if slack_fails == "hangs after performing":
                fake.wait_for("chat.postMessage", timeout=30)  # performed, never answered
                time.sleep(11)  # past the clock's wait for an answer: the card is in doubt
                fake.heal()

            def carded() -> bool:
                with store.reading() as session:
                    ticket = session.exec(select(Ticket)).one()
                if not ticket.message_ts:
                    return False
                card = fake.message("C0OPEN", ticket.message_ts) or {"blocks": []}
                drawn = "*Owner*\n<@U0001>" in "\n".join(texts(card["blocks"]))
                # The redraw owed by the ack may follow the notes: wait for it as well.
                return drawn and len(fake.thread("C0OPEN", ticket.message_ts)) >= 2

            wait_until("the card, redrawn, and its notes", carded, serve.output)
        finally:
            serve.stop()
        with store.reading() as session:
            [ticket] = session.exec(select(Ticket)).all()
        [card] = [m for m in fake.messages("C0OPEN") if not m.get("thread_ts")]
        assert card["ts"] == ticket.message_ts
        assert "*Owner*\n<@U0001>" in "\n".join(texts(card["blocks"]))  # the ack meanwhile
        replies = [m["text"] for m in fake.thread("C0OPEN", ticket.message_ts)]
        assert replies == [
            "<@U0001> opened SLA-1 as *P2 — High* under the liveops policy.",
            "<@U0001> acknowledged SLA-1 and owns it.",
        ]
