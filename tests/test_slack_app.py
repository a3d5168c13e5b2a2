"""The Slack app end to end: the real app over real HTTP, Slack-signed requests, a fake Slack.

Nothing of ours is mocked. Each test runs `create_app` with the real use cases on a real store,
served by waitress (the server ``slabot serve`` uses) on a free local port, with a `WebClient`
made by `make_client` (so with its 429/5xx retry handlers) pointed at `FakeSlack`. Requests
are built and signed as Slack builds and signs them (`support.signed`) and sent over HTTP. What the
app then says to Slack is read back from the fake: cards, threads, ephemerals, views.

The core flows (open, card, acknowledge, resolve) run on SQLite and PostgreSQL; the rest on
SQLite. Waiting is done with ``fake.wait_for``; the few checks that something does *not*
happen wait a bounded moment for it (``nothing_more``). No latency is asserted here: that is
``bench/slash_latency.py``'s job.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.signature import Clock
from support import signed
from support.conversation import (
    ADMIN,
    CHANNEL,
    OTHER_TEAM,
    POLICIES,
    REPORTER,
    SECRET,
    STRANGER,
    TEAM,
    Answer,
    action_ids,
    build_app,
    clean_env,
    control,
    ephemeral_click,
    free_port,
    header,
    serving,
    sqlite_only,
    texts,
)
from support.fakeslack import TEAM_DOMAIN, block_kit_errors, view_errors
from support.signed import EXAMPLE_BODY, EXAMPLE_SECRET, EXAMPLE_SIGNATURE, EXAMPLE_TIMESTAMP

from slabot.clock.dispatch import Backoff
from slabot.tickets import NotFound, Tickets


@sqlite_only
def test_slacks_published_signing_example_is_verified_by_the_app(
    store, policy_book, fake, clock, monkeypatch
):
    assert signed.sign(EXAMPLE_SECRET, EXAMPLE_TIMESTAMP, EXAMPLE_BODY) == EXAMPLE_SIGNATURE
    app = build_app(fake, Tickets(store, policy_book), clock, secret=EXAMPLE_SECRET)
    # The app's own check, with slack_sdk's clock (public: slack_sdk.signature.Clock) set to the
    # example's time plus a minute; Bolt's private attributes differ between its versions.
    monkeypatch.setattr(Clock, "now", lambda self: EXAMPLE_TIMESTAMP + 60)
    example = {
        "X-Slack-Request-Timestamp": str(EXAMPLE_TIMESTAMP),
        "X-Slack-Signature": EXAMPLE_SIGNATURE,
    }
    with serving(app) as base:
        url = f"{base}/slack/events"

        def status(body: str, headers: dict[str, str]) -> int:
            return signed.post(url, body, EXAMPLE_SECRET, headers=headers)[0]

        # Accepted: it reaches the app, which has no /webhook-collect command (404, not 401).
        assert status(EXAMPLE_BODY, example) == 404
        assert status(EXAMPLE_BODY.replace("text=", "text=x"), example) == 401
        assert status(EXAMPLE_BODY, {**example, "X-Slack-Signature": "v0=" + "0" * 64}) == 401
        old = EXAMPLE_TIMESTAMP - 301
        stale = {
            "X-Slack-Request-Timestamp": str(old),
            "X-Slack-Signature": signed.sign(EXAMPLE_SECRET, old, EXAMPLE_BODY),
        }
        assert status(EXAMPLE_BODY, stale) == 401


@sqlite_only
def test_requests_are_checked_against_the_signing_secret_and_the_replay_window(slack):
    body = signed.slash_command("help")
    assert slack.send(body).status == 200
    six_minutes_ago = int(time.time()) - 360
    assert slack.send(body, timestamp=six_minutes_ago).status == 401
    assert slack.send(body, timestamp=int(time.time()) + 360).status == 401
    forged = {"X-Slack-Signature": signed.sign("another-secret", int(time.time()), body)}
    assert slack.send(body, headers=forged).status == 401
    unsigned = {"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""}
    assert slack.send(body, headers=unsigned).status == 401
    # A refused request changes nothing.
    opened = signed.slash_command("open p1 checkout is down")
    assert slack.send(opened, timestamp=six_minutes_ago).status == 401
    assert slack.all_tickets() == []
    assert slack.fake.calls_to("chat.postMessage") == []


@sqlite_only
def test_healthz(slack):
    with urllib.request.urlopen(f"{slack.base}/healthz", timeout=5) as response:
        assert response.status == 200
        assert response.read() == b"ok\n"


# -- /sla open ---------------------------------------------------------------------------------


def test_open_posts_the_card_and_its_thread_then_updates_the_card_in_place(slack):
    answer = slack.command("open p1 checkout is down")
    assert (answer.status, answer.text) == (200, "")  # acknowledged; the card comes after

    card_call, reply_call = slack.fake.wait_for("chat.postMessage", 2)
    assert card_call.ok and card_call.args["channel"] == CHANNEL
    assert header(card_call.args).startswith("SLA-1 · P1 — Critical · checkout is down")
    assert "SLA-1" in card_call.args["text"] and "P1" in card_call.args["text"]
    assert block_kit_errors(card_call.args["blocks"]) == []
    assert action_ids(card_call.args) == [
        "sla_ack",
        "sla_severity",
        "sla_update",
        "sla_wait",
        "sla_resolve",
    ]
    ts = card_call.response["ts"]
    assert reply_call.args["thread_ts"] == ts
    assert reply_call.args["text"] == (
        f"<@{REPORTER}> opened SLA-1 as *P1 — Critical* under the liveops policy."
    )

    ticket = slack.ticket(1)
    assert (ticket.title, ticket.severity, ticket.policy) == ("checkout is down", "p1", "liveops")
    assert (ticket.reporter, ticket.channel, ticket.status) == (REPORTER, CHANNEL, "open")
    slack.wait_thread(1, 1)
    assert slack.ticket(1).message_ts == ts

    # A later change updates that very message, and tells its thread.
    slack.clock.advance(minutes=5)
    assert slack.command("ack SLA-1").text == ""
    [update] = slack.fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (CHANNEL, ts)
    assert slack.wait_thread(1, 2)[1] == f"<@{REPORTER}> acknowledged SLA-1 and owns it."
    card = slack.card(1)
    assert f"<@{REPORTER}>" in json.dumps(card["blocks"])  # the owner
    assert "sla_ack" not in action_ids(card)
    assert len(slack.fake.messages(CHANNEL)) == 3  # one card, two replies: nothing re-posted


def test_a_typed_eta_is_read_in_the_typers_zone_and_said_back(slack):
    # LiveOps runs in Los Angeles; the agent works in London. "eta:17:00" meant 17:00 in Los
    # Angeles (01:00 in London) while the form said "in your own time zone".
    slack.fake.users["U0001"] = {"tz": "Europe/London"}
    number = slack.open("p1 all calls dropping")
    assert slack.command(f"ack {number}").text == ""
    slack.wait_thread(number, 2)
    london = ZoneInfo("Europe/London")
    local = slack.clock().astimezone(london)
    expected = datetime(local.year, local.month, local.day, 17, 0, tzinfo=london)
    if expected <= slack.clock():
        expected += timedelta(days=1)
    said = slack.command(f"update {number} eta:17:00 carrier engaged")
    # 17:00 in London is 24h away: LiveOps owes a P1 an update every 4h, so it asks first.
    assert said.ephemeral().startswith(f"This ETA puts off SLA-{number}'s *Next update* by 20h")
    assert f"read as {expected:%a %d %b} 17:00 (Europe/London)" in json.dumps(said.json)
    assert slack.events_of(number, "update_posted") == []
    post_it = control(said.json, "sla_update_confirm")
    answered = slack.fake.response_url("confirm")
    click = signed.button("sla_update_confirm", post_it["value"])
    answers = len(slack.fake.calls_to("response_url"))
    assert slack.send(ephemeral_click(click, "1.5", response_url=answered)).status == 200
    slack.wait_thread(number, 3)
    [posted] = slack.events_of(number, "update_posted")
    assert datetime.fromisoformat(posted.after["eta"]) == expected
    assert posted.after["text"] == "carrier engaged"
    # The question is answered after the change commits (and its note may already be out).
    after = slack.fake.wait_for("response_url", answers + 1)[answers:]
    [replaced] = [c for c in after if "Posted" in str(c.args)]
    assert replaced.args["replace_original"] in (True, "true")


def test_the_update_form_warns_of_a_postponing_eta_and_posts_it_when_posted_again(slack):
    number = slack.open("p1 all calls dropping")
    assert slack.command(f"ack {number}").text == ""
    slack.wait_thread(number, 2)
    assert slack.click_on_card(number, "sla_update").status == 200
    [opened] = slack.fake.wait_for("views.open")
    form = opened.args["view"]
    eta = int((slack.clock() + timedelta(hours=19)).timestamp())
    values = {
        "text": {"value": signed.plain_text_value("Vendor fix lands tomorrow")},
        "eta": {"value": {"type": "datetimepicker", "selected_date_time": eta}},
        "workaround": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    view_id = opened.response["view"]["id"]

    def post(metadata: str) -> Answer:
        return slack.submit("sla_update", values, view_id=view_id, private_metadata=metadata)

    warned = post(form["private_metadata"]).json
    assert warned["response_action"] == "update"
    again = warned["view"]
    assert view_errors(again) == []
    words = json.dumps(again["blocks"], ensure_ascii=False)
    assert f"This ETA puts off SLA-{number}'s *Next update* by 15h" in words
    assert "(owed every 4h)" in words and "Post it again to confirm" in words
    # What was typed is kept.
    assert "Vendor fix lands tomorrow" in words and f'"initial_date_time": {eta}' in words
    assert slack.events_of(number, "update_posted") == []

    assert (post(again["private_metadata"]).text) == ""
    slack.wait_thread(number, 3)
    [posted] = slack.events_of(number, "update_posted")
    assert datetime.fromisoformat(posted.after["eta"]).timestamp() == eta


def test_cancel_leaves_a_postponing_update_unposted(slack):
    number = slack.open("p1 all calls dropping")
    asked = slack.command(f"update {number} eta:+30h fix after the weekend")
    assert "puts off" in asked.ephemeral()
    answered = slack.fake.response_url("cancel")
    click = signed.button("sla_update_cancel", "cancel")
    answers = len(slack.fake.calls_to("response_url"))  # /sla open's own answer came before
    assert slack.send(ephemeral_click(click, "1.5", response_url=answered)).status == 200
    after = slack.fake.wait_for("response_url", answers + 1)[answers:]
    [told] = [c for c in after if "Not posted" in str(c.args)]
    assert told.args["replace_original"] in (True, "true")
    assert slack.events_of(number, "update_posted") == []


def test_a_release_the_customer_agreed_becomes_the_resolution_due_date_on_the_card(slack):
    # Seed 000 (LeadSquared): "Medium - 3 | 10 business days, or specific release".
    slack.fake.users[REPORTER] = {"tz": "Asia/Kolkata"}
    number = slack.open("policy:leadsquared medium export partially failing")
    assert slack.command(f"ack {number}").text == ""
    slack.wait_thread(number, 2)
    said = slack.command(f"release {number} 2027-01-20 Priya (Acme IT), by e-mail")
    assert said.text == ""
    [event] = slack.events_of(number, "release_agreed")
    assert event.actor == REPORTER and event.after["agreed_by"] == "Priya (Acme IT), by e-mail"
    # A bare date is by the end of that day, in the typer's zone.
    release = datetime(2027, 1, 21, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert datetime.fromisoformat(event.after["release_at"]) == release
    note = slack.wait_thread(number, 3)[-1]
    assert "recorded a release agreed by Priya (Acme IT), by e-mail" in note
    assert f"<!date^{int(release.timestamp())}^" in note  # "Resolution now due …"
    card = " ".join(texts(slack.card(number)))
    assert "the release agreed by Priya (Acme IT), by e-mail" in card
    # A policy whose resolution allows no release says what to do instead.
    urgent = slack.open("policy:leadsquared urgent the service is down")
    refused = slack.command(f"release {urgent} 2027-01-20 Priya").text
    assert "post the date as an ETA" in refused
    assert "Which date, and who agreed it?" in slack.command(f"release {number} 2027-01-20").text
    assert "can't read the release date" in slack.command(f"release {number} soon Priya").text


@sqlite_only
def test_opens_are_acknowledged_while_earlier_ones_wait_for_the_database(slack):
    """Bolt acknowledges on a pool of five threads: the work after an open's acknowledgement
    runs elsewhere, so opens waiting for the database never leave the next one unanswered
    (Bolt gives up on a listener that has not acknowledged within three seconds)."""
    with slack.tickets.store.writing():  # another writer's turn: every open waits for it
        answers = [slack.command(f"open p3 printer {n} jams") for n in range(8)]
        assert [(a.status, a.text) for a in answers] == [(200, "")] * 8
        assert slack.all_tickets() == []
    opened = slack.fake.wait_for("response_url", 8, timeout=30)
    refs = sorted(call.args["text"].split(" ", 1)[0] for call in opened)
    assert refs == sorted(f"SLA-{n}" for n in range(1, 9))
    assert sorted(t.number for t in slack.all_tickets()) == list(range(1, 9))


def test_open_records_when_the_customer_reported_and_times_the_opening(slack):
    # Seed 003 (LiveOps): "1 | Time to open: Within 1 hours", from the problem's report.
    number = slack.open("p1 reported:-90m all calls dropping")
    ticket = slack.ticket(number)
    assert ticket.title == "all calls dropping"
    assert ticket.opened_at - ticket.reported_at == timedelta(minutes=90)
    card = json.dumps(slack.card(number)["blocks"], ensure_ascii=False)
    assert "reported <!date^" in card
    assert "*Time to open* — missed by 30m" in card
    # A report time still to come is refused, and nothing is opened.
    refused = slack.command("open p2 reported:2099-01-01T09:00 something odd").ephemeral()
    assert "cannot be reported after the ticket opens" in refused
    assert (
        "I can't read when it was reported"
        in slack.command("open p2 reported:someday odd").ephemeral()
    )
    with pytest.raises(NotFound):
        slack.tickets.view(TEAM, number + 1, slack.clock())


@sqlite_only
def test_open_names_its_policy_in_a_channel_bound_to_none(slack):
    number = slack.open("policy:liveops p2 calls failing", channel_id="C0777")
    ticket = slack.ticket(number)
    assert (ticket.policy, ticket.severity, ticket.channel) == ("liveops", "p2", "C0777")
    refusal = slack.command("open p2 calls failing", channel_id="C0888").ephemeral()
    assert "bound to no policy" in refusal and "/sla policy NAME" in refusal


@sqlite_only
def test_open_classifies_text_without_a_severity(slack):
    number = slack.open("all calls are failing, system unavailable")
    ticket = slack.ticket(number)
    assert ticket.severity == "p1"
    assert ticket.title == "all calls are failing, system unavailable"
    assert "P1" in header(slack.card(number))


def test_unclear_text_asks_with_buttons_and_a_pick_opens_one_ticket_however_often_clicked(slack):
    answer = slack.command("open something odd happened on Tuesday")
    body = answer.json
    assert answer.status == 200 and body["response_type"] == "ephemeral"
    assert body["text"].startswith("Which severity is it?")
    assert block_kit_errors(body["blocks"]) == []
    buttons = [b["accessory"] for b in body["blocks"] if "accessory" in b]
    assert [b["action_id"] for b in buttons] == [
        "sla_pick_severity_p1",
        "sla_pick_severity_p2",
        "sla_pick_severity_p3",
    ]
    assert slack.all_tickets() == []  # nothing guessed
    assert slack.fake.calls_to("chat.postMessage") == []

    # The user clicks "P2" on the ephemeral question, twice and at once (a double click).
    p2 = buttons[1]
    action = signed.button(p2["action_id"], p2["value"], block_id="pick")
    clicks = [ephemeral_click(action, "1700000999.000100") for _ in range(2)]
    answers: list[Answer] = []
    threads = [threading.Thread(target=lambda b=b: answers.append(slack.send(b))) for b in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status for a in answers] == [200, 200]

    replies = slack.wait_thread(1, 1)
    [ticket] = slack.all_tickets()
    assert (ticket.severity, ticket.title, ticket.policy) == (
        "p2",
        "something odd happened on Tuesday",
        "liveops",
    )
    assert replies == [f"<@{REPORTER}> opened SLA-1 as *P2 — High* under the liveops policy."]
    slack.nothing_more("chat.postMessage", 2)
    assert len(slack.all_tickets()) == 1
    # A third click, later, still opens nothing new.
    assert slack.send(ephemeral_click(action, "1700000999.000100")).status == 200
    slack.nothing_more("chat.postMessage", 2, wait=0.3)
    assert len(slack.all_tickets()) == 1


def test_open_without_text_opens_the_form_and_a_submission_opens_one_ticket(slack):
    answer = slack.command("open", trigger_id="13345224609.738474920.8088930838d88f008e0")
    assert (answer.status, answer.text) == (200, "")
    [opened] = slack.fake.wait_for("views.open")
    assert opened.ok and opened.args["trigger_id"] == "13345224609.738474920.8088930838d88f008e0"
    form = opened.args["view"]
    assert view_errors(form) == []
    assert form["callback_id"] == "sla_open"
    assert json.loads(form["private_metadata"]) == {"channel": CHANNEL}
    blocks = {b["block_id"]: b for b in form["blocks"]}
    assert {"title", "severity", "policy", "description"} <= set(blocks)
    # The severity picker shows each level of this channel's policy with its definition.
    options = blocks["severity"]["element"]["options"]
    assert options[0]["value"] == "liveops:p1"
    assert "critical functions" in options[0]["description"]["text"]
    assert blocks["policy"]["element"]["initial_option"]["value"] == "liveops"

    assert blocks["reported"]["optional"] is True  # empty: reported as it opens

    def submit(title: str | None, view_id: str, reported: datetime | None = None) -> Answer:
        values = {
            "title": {"value": signed.plain_text_value(title)},
            "severity": {"value": signed.selected_option_value("liveops:p2")},
            "policy": {"value": signed.selected_option_value("liveops")},
            "description": {"value": signed.plain_text_value("Agents in EU see busy tones")},
        }
        if reported is not None:
            stamp = {"type": "datetimepicker", "selected_date_time": int(reported.timestamp())}
            values["reported"] = {"value": stamp}
        return slack.submit(
            "sla_open",
            values,
            view_id=view_id,
            private_metadata=form["private_metadata"],
            blocks=form["blocks"],
            title="Open a ticket",
        )

    view_id = opened.response["view"]["id"]
    refused = submit("   ", view_id)
    assert refused.status == 200
    assert refused.json["response_action"] == "errors"
    assert "needs a title" in refused.json["errors"]["title"]
    later = submit("Calls failing in EU", view_id, reported=slack.clock() + timedelta(hours=1))
    assert "cannot be reported after" in later.json["errors"]["reported"]
    assert slack.all_tickets() == []

    done = submit("Calls failing in EU", view_id, reported=slack.clock() - timedelta(minutes=20))
    assert (done.status, done.text) == (200, "")  # the form closes
    replies = slack.wait_thread(1, 1)
    ticket = slack.ticket(1)
    assert (ticket.title, ticket.severity, ticket.description) == (
        "Calls failing in EU",
        "p2",
        "Agents in EU see busy tones",
    )
    assert "opened SLA-1 as *P2 — High*" in replies[0]
    assert header(slack.card(1)).startswith("SLA-1 · P2 — High · Calls failing in EU")
    assert ticket.opened_at - ticket.reported_at == timedelta(minutes=20)

    # The same form submitted again (a double click on Submit): no second ticket.
    assert submit("Calls failing in EU", view_id).status == 200
    slack.nothing_more("chat.postMessage", 2)
    assert len(slack.all_tickets()) == 1


def test_the_open_forms_severities_follow_the_chosen_policy(slack):
    # Choosing LeadPro and a LiveOps severity used to open under LiveOps in a LeadPro channel.
    assert slack.command("open").text == ""
    [opened] = slack.fake.wait_for("views.open")
    form, view_id = opened.args["view"], opened.response["view"]["id"]

    def severities(view: dict[str, Any]) -> list[str]:
        block = next(b for b in view["blocks"] if b["block_id"] == "severity")
        return [o["value"] for o in block["element"]["options"]]

    assert severities(form) == ["liveops:p1", "liveops:p2", "liveops:p3"]
    typed = {
        "title": {"value": signed.plain_text_value("exports fail")},
        "description": {"value": signed.plain_text_value("since 09:00")},
    }
    state = {"values": typed}
    view = {
        "id": view_id,
        "type": "modal",
        "hash": opened.response["view"]["hash"],
        "private_metadata": form["private_metadata"],
    }
    menu = signed.select("sla_open_policy", "leadpro", block_id="policy")
    assert slack.click(menu, view={**view, "state": state}).status == 200
    [redrawn] = slack.fake.wait_for("views.update")
    assert redrawn.ok and redrawn.args["view_id"] == view_id
    again = redrawn.args["view"]
    assert view_errors(again) == []
    assert all(v.startswith("leadpro:") for v in severities(again))
    by_id = {b["block_id"]: b for b in again["blocks"]}
    assert by_id["title"]["element"]["initial_value"] == "exports fail"  # kept as typed
    assert by_id["description"]["element"]["initial_value"] == "since 09:00"

    # A form drawn before the menu changed cannot open under a contract not chosen.
    values = {
        **typed,
        "policy": {"value": signed.selected_option_value("leadpro")},
        "severity": {"value": signed.selected_option_value("liveops:p1")},
    }
    refused = slack.submit("sla_open", values, private_metadata=form["private_metadata"])
    assert "pick one of leadpro's" in refused.json["errors"]["severity"]
    assert slack.all_tickets() == []


def test_a_severity_without_a_summary_opens_the_form_with_it_chosen(slack):
    # "/sla open p1" used to open a ticket titled "p1".
    for n, (text, chosen) in enumerate(
        [("open p1", "liveops:p1"), ("open policy:leadsquared URGENT", "leadsquared:urgent")],
        start=1,
    ):
        assert slack.command(text).text == ""
        opened = slack.fake.wait_for("views.open", n)[-1]
        form = opened.args["view"]
        assert view_errors(form) == []
        severity = next(b for b in form["blocks"] if b["block_id"] == "severity")["element"]
        assert severity["initial_option"]["value"] == chosen
        title = next(b for b in form["blocks"] if b["block_id"] == "title")["element"]
        assert "initial_value" not in title
    assert slack.all_tickets() == []
    # A severity and a word is a ticket, as before.
    assert slack.ticket(slack.open("p1 down")).title == "down"


def test_a_retried_delivery_creates_no_second_ticket(slack):
    body = signed.slash_command("open p1 checkout is down", response_url=slack.fake.response_url())
    assert slack.send(body).status == 200
    slack.wait_thread(1, 1)
    retried = slack.send(body, retry_num=1, retry_reason="http_timeout")
    assert retried.status == 200
    again = slack.send(body)  # the same delivery once more, without the retry headers
    assert again.status == 200
    slack.nothing_more("chat.postMessage", 2)
    assert len(slack.all_tickets()) == 1


# -- the card's buttons -----------------------------------------------------------------------


def test_acknowledge_and_resolve_on_the_card_once_however_often_clicked(slack):
    number = slack.open()
    slack.clock.advance(minutes=3)
    stale_ack = control(slack.card(number), "sla_ack")["value"]

    assert slack.click_on_card(number, "sla_ack").status == 200
    slack.fake.wait_for("chat.update")
    assert slack.wait_thread(number, 2)[1] == f"<@{REPORTER}> acknowledged SLA-1 and owns it."
    ticket = slack.ticket(number)
    assert (ticket.owner, ticket.acknowledged_by) == (REPORTER, REPORTER)
    assert "sla_ack" not in action_ids(slack.card(number))

    # The second click of a double click (the card it was made on still showed the button).
    channel, ts = slack.card_of(number)
    second = signed.button("sla_ack", stale_ack, block_id="sla_ticket")
    assert slack.click(second, message_ts=ts, channel_id=channel).status == 200
    [told] = slack.fake.wait_for("chat.postEphemeral")
    assert (told.args["channel"], told.args["user"]) == (CHANNEL, REPORTER)
    assert "SLA-1 was already acknowledged by <@U0001>" in told.args["text"]
    assert len(slack.events_of(number, "acknowledged")) == 1
    assert len(slack.fake.calls_to("chat.update")) == 1
    assert len(slack.thread(number)) == 2

    slack.clock.advance(minutes=30)
    assert slack.click_on_card(number, "sla_resolve").status == 200
    slack.fake.wait_for("chat.update", 2)
    assert slack.wait_thread(number, 3)[2] == f"<@{REPORTER}> resolved SLA-1."
    assert slack.ticket(number).status == "resolved"
    card = slack.card(number)
    assert action_ids(card) == ["sla_reopen", "sla_close"]
    assert "Resolved" in json.dumps(card["blocks"]) or "resolved" in card["text"].lower()


def test_every_button_on_the_card(slack):
    number = slack.open("p1 all calls dropping")
    updates = 0

    def step(action_id: str, reply: str, option: str | None = None) -> None:
        nonlocal updates
        slack.clock.advance(minutes=2)
        replies_before = len(slack.thread(number))
        assert slack.click_on_card(number, action_id, option=option).status == 200
        updates += 1
        slack.fake.wait_for("chat.update", updates)
        replies = slack.wait_thread(number, replies_before + 1)
        assert replies[-1] == reply
        assert block_kit_errors(slack.card(number)["blocks"]) == []

    step("sla_ack", "<@U0001> acknowledged SLA-1 and owns it.")
    step(
        "sla_severity",
        "<@U0001> changed the severity from *P1 — Critical* to *P2 — High*. Deadlines "
        "recomputed. Next update now due <!date^1795626120^{date_short_pretty} at {time}|"
        "Wed 25 Nov 09:02 PST>.",
        option="p2",
    )
    assert slack.ticket(number).severity == "p2"
    assert "P2 — High" in header(slack.card(number))
    step("sla_wait", "<@U0001> set SLA-1 to *Waiting on customer*. The clock is paused.")
    assert slack.ticket(number).status == "waiting_on_customer"
    assert "sla_resume" in action_ids(slack.card(number))
    step("sla_resume", "<@U0001> set SLA-1 to *Open*.")
    assert slack.ticket(number).status == "open"
    step("sla_resolve", "<@U0001> resolved SLA-1.")
    step("sla_reopen", "<@U0001> reopened SLA-1: its clocks run again.")
    assert slack.ticket(number).status == "open"

    # Post update: the button opens the form; its submission posts the update.
    assert slack.click_on_card(number, "sla_update").status == 200
    [opened] = slack.fake.wait_for("views.open")
    form = opened.args["view"]
    assert form["callback_id"] == "sla_update" and view_errors(form) == []
    eta = slack.clock() + timedelta(hours=3)
    values = {
        "text": {"value": signed.plain_text_value("Carrier is rerouting *EU* trunks")},
        "eta": {"value": {"type": "datetimepicker", "selected_date_time": int(eta.timestamp())}},
        "workaround": {
            "value": {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "A workaround"}, "value": "workaround"}
                ],
            }
        },
    }
    replies_before = len(slack.thread(number))
    answer = slack.submit(
        "sla_update",
        values,
        view_id=opened.response["view"]["id"],
        private_metadata=form["private_metadata"],
        blocks=form["blocks"],
    )
    assert (answer.status, answer.text) == (200, "")
    slack.fake.wait_for("chat.update", updates + 1)
    reply = slack.wait_thread(number, replies_before + 1)[-1]
    assert reply.startswith("Update from <@U0001> (ETA <!date^")
    assert reply.endswith(", workaround available): Carrier is rerouting *EU* trunks")
    [posted] = slack.events_of(number, "update_posted")
    assert posted.after["workaround"] is True and posted.after["text"].startswith("Carrier")
    progress = json.dumps(slack.card(number)["blocks"], ensure_ascii=False)
    assert f"ETA <!date^{int(eta.timestamp())}^" in progress
    assert ":memo: Last update <!date^" in progress and "workaround in place since" in progress
    assert "“Carrier is rerouting *EU* trunks”" in progress  # what it said, beside it

    # An empty update is refused next to its field; the form stays open.
    values["text"] = {"value": signed.plain_text_value("  ")}
    refused = slack.submit("sla_update", values, private_metadata=form["private_metadata"])
    assert refused.json["response_action"] == "errors" and "text" in refused.json["errors"]

    # Resolved, the card offers Close; closed, it offers nothing more.
    updates += 1
    step("sla_resolve", "<@U0001> resolved SLA-1.")
    step("sla_close", "<@U0001> closed SLA-1.")
    assert slack.ticket(number).status == "closed"
    assert action_ids(slack.card(number)) == []


def test_buttons_enforce_permissions_and_workspaces(slack):
    number = slack.open()
    assert slack.click_on_card(number, "sla_ack").status == 200
    slack.wait_thread(number, 2)

    # A stranger may not resolve another's ticket: told so, privately; nothing changes.
    assert slack.click_on_card(number, "sla_resolve", user_id=STRANGER).status == 200
    [told] = slack.fake.wait_for("chat.postEphemeral")
    assert told.args["user"] == STRANGER
    assert told.args["text"].startswith("you may not resolve SLA-1")
    # A user of another workspace sees nothing of this one's tickets.
    assert (
        slack.click_on_card(number, "sla_severity", option="p3", team_id=OTHER_TEAM).status == 200
    )
    told = slack.fake.wait_for("chat.postEphemeral", 2)[1]
    assert told.args["text"] == "there is no ticket SLA-1 in this workspace"
    ticket = slack.ticket(number)
    assert (ticket.status, ticket.severity) == ("open", "p1")
    assert len(slack.fake.calls_to("chat.update")) == 1
    # An admin may.
    assert slack.click_on_card(number, "sla_resolve", user_id=ADMIN).status == 200
    slack.fake.wait_for("chat.update", 2)
    assert slack.ticket(number).status == "resolved"


# -- /sla commands -----------------------------------------------------------------------------


def test_commands_change_the_ticket_and_keep_card_and_thread_true(slack):
    number = slack.open("p2 calls failing for some agents")
    assert number == 1
    steps = [
        ("ack 1", "<@U0001> acknowledged SLA-1 and owns it."),
        (
            "sev 1 p1 now all agents",
            "<@U0001> changed the severity from *P2 — High* to *P1 — Critical*: now all agents. "
            "Deadlines recomputed.",
        ),
        ("update 1 eta:+2h carrier engaged", "Update from <@U0001> (ETA <!date^"),
        ("wait 1 customer", "<@U0001> set SLA-1 to *Waiting on customer*. The clock is paused."),
        ("resume SLA-1", "<@U0001> set SLA-1 to *Open*."),
        ("assign 1 <@U9|x>", "<@U0001> assigned SLA-1 to <@U9>."),
        ("resolve 1 carrier fixed the trunk", "<@U0001> resolved SLA-1: carrier fixed the trunk."),
        (
            "reopen 1 still broken for the customer",
            "<@U0001> reopened SLA-1: its clocks run again. Why: still broken for the customer",
        ),
        ("resolve #1", "<@U0001> resolved SLA-1."),
        ("close 1", "<@U0001> closed SLA-1."),
    ]
    for i, (text, reply) in enumerate(steps, start=1):
        slack.clock.advance(minutes=7)
        # Resolve and close are the owner's (U9 after the assignment) or an admin's.
        user = ADMIN if text.startswith(("resolve", "close", "reopen")) else REPORTER
        answer = slack.command(text, user_id=user)
        assert (answer.status, answer.text) == (200, ""), (text, answer)
        slack.fake.wait_for("chat.update", i)
        got = slack.wait_thread(number, i + 1)[-1]
        assert got.replace(f"<@{ADMIN}>", "<@U0001>").startswith(reply), (text, got)
    ticket = slack.ticket(number)
    assert (ticket.status, ticket.severity, ticket.owner) == ("closed", "p1", "U9")
    [update] = slack.events_of(number, "update_posted")
    assert update.after["eta"].startswith("2026-11-23T19:2")  # two hours after it was posted
    # The reopen's reason is kept in the audit trail, not only in the thread.
    reopened = [e for e in slack.events_of(number, "status_changed") if e.after["status"] == "open"]
    assert reopened[-1].after["reason"] == "still broken for the customer"
    card = slack.card(number)
    assert action_ids(card) == []  # a closed ticket has nothing left to click
    assert block_kit_errors(card["blocks"]) == []
    assert len(slack.fake.messages(CHANNEL)) == 1 + len(steps) + 1


def test_changes_in_quick_succession_leave_the_card_showing_the_last_one(slack):
    number = slack.open("p1 checkout is down")
    steps = ["ack 1", "wait 1 customer", "resume 1", "sev 1 p2", "wait 1 third-party"]
    steps += ["update 1 still on it", "resume 1", "sev 1 p3", "assign 1 <@U0009>"]
    for text in steps:  # as fast as the app acknowledges them, without waiting for Slack
        assert slack.command(text).text == ""
    slack.fake.wait_for("chat.update", len(steps))
    replies = slack.wait_thread(number, 1 + len(steps))
    ticket = slack.ticket(number)
    assert (ticket.severity, ticket.status, ticket.owner) == ("p3", "open", "U0009")
    card = slack.card(number)
    assert header(card).startswith("SLA-1 · P3 — Low")
    fields = json.dumps(card["blocks"][1])
    assert "*Status*\\nOpen" in fields and "*Owner*\\n<@U0009>" in fields
    # Every change has its reply (in the order they were published, which may differ).
    assert "<@U0001> acknowledged SLA-1 and owns it." in replies
    assert "<@U0001> assigned SLA-1 to <@U0009>." in replies
    assert sum("changed the severity" in r for r in replies) == 2
    assert len(slack.fake.messages(CHANNEL)) == 1 + 1 + len(steps)


def test_a_card_update_retried_after_a_later_change_does_not_bring_back_an_old_state(slack):
    number = slack.open("p1 checkout is down")
    slack.fake.fail_next("chat.update", status=429, retry_after=1)
    assert slack.command("ack 1").text == ""  # its card update is rate limited: retried in 1s
    assert slack.command("wait 1 customer").text == ""  # meanwhile, another change
    # The card's one pending redraw waits out Slack's second, then draws the ticket as it
    # stands: the later change, never the acknowledged state the refused update carried.
    slack.clock.advance(seconds=1)
    slack.deliver()
    updates = slack.fake.wait_for("chat.update", 2, timeout=10)
    assert [u.status for u in updates] == [429, 200]
    slack.wait_thread(number, 3)
    card = slack.card(number)
    assert "*Status*\\nWaiting on customer" in json.dumps(card["blocks"][1])
    assert "sla_resume" in action_ids(card) and "sla_ack" not in action_ids(card)


@sqlite_only
def test_read_only_commands_answer_ephemerally(slack):
    slack.open("p1 checkout is down")
    slack.open("p3 how do i export a report")
    calls = len(slack.fake.calls)

    listed = slack.command("list")
    assert listed.ephemeral() == "2 open tickets"
    queue = json.dumps(listed.json["blocks"])
    assert queue.index("SLA-1") < queue.index("SLA-2")  # most urgent first
    assert "First response due <!date^" in queue
    # Each line links to its card (the workspace's domain asked once, not once a line).
    for number in (1, 2):
        channel, ts = slack.card_of(number)
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        assert f"*<{link}|SLA-{number}>*" in queue
    assert len(slack.fake.calls_to("team.info")) == 1
    calls = len(slack.fake.calls)
    assert slack.command("list").ephemeral() == "2 open tickets"  # the domain is kept

    for text in ("show 1", "show SLA-1", "info sla-1", "1", "SLA-1", "#1"):
        shown = slack.command(text)
        assert shown.ephemeral().startswith("SLA-1 (P1 — Critical): checkout is down"), text
        assert "checkout is down" in json.dumps(shown.json["blocks"])

    assert slack.command("policy").ephemeral() == "Policy liveops"
    assert "LiveOps Support Plus" in json.dumps(slack.command("policy").json["blocks"])
    assert slack.command("matrix").ephemeral() == "Escalation matrix of liveops"
    assert slack.command("matrix policy:secpod").ephemeral() == "Escalation matrix of secpod"
    for text in ("help", ""):
        helped = slack.command(text).ephemeral()
        assert (
            "/sla open [severity] [policy:NAME] [customer:NAME] [reported:-2h|09:30] summary"
            in helped
        )
    # None of them posted anything for the channel.
    assert len(slack.fake.calls) == calls


@sqlite_only
def test_policy_name_binds_the_channel_and_says_so(slack):
    refused = slack.command("open p1 calls failing", channel_id="C0002").ephemeral()
    assert "this channel is bound to no policy and there is no default" in refused  # C0002
    # Asked which policy the channel has, the answer speaks of the channel, not of a ticket.
    unbound = slack.command("policy", channel_id="C0002").ephemeral()
    assert "bound to no policy" in unbound and "ticket" not in unbound

    answer = slack.command("policy liveops", channel_id="C0002")
    assert (answer.status, answer.text) == (200, "")
    [said] = slack.fake.wait_for("chat.postMessage")
    assert said.args["channel"] == "C0002"
    assert said.args["text"] == (
        "<@U0001> bound this channel to the *LiveOps Support Plus* policy: "
        "new tickets opened here run on its clocks."
    )
    assert slack.command("policy", channel_id="C0002").ephemeral() == "Policy liveops"
    number = slack.open("p1 calls failing", channel_id="C0002")
    assert slack.ticket(number).policy == "liveops"

    assert slack.command("policy secpod", channel_id="C0002").text == ""
    slack.wait_thread(number, 1)
    assert slack.command("policy", channel_id="C0002").ephemeral() == "Policy secpod"
    assert slack.ticket(slack.open("high scanner broken", channel_id="C0002")).policy == "secpod"
    assert slack.ticket(number).policy == "liveops"  # a ticket keeps the policy it opened under
    assert "nope" in slack.command("policy nope", channel_id="C0002").ephemeral()


@sqlite_only
@pytest.mark.parametrize(
    ("text", "kw", "expected"),
    [
        ("frobnicate 1", {}, "I don't know `frobnicate`. Try `/sla help`."),
        ("ack 99", {}, "there is no ticket SLA-99 in this workspace"),
        ("ack banana", {}, "'banana' is not a ticket ID"),
        ("ack", {}, "Which ticket? `/sla ack ID`"),
        ("sev 1", {}, "Which severity?"),
        ("sev 1 p9", {}, "p9"),
        ("update 1 eta:whenever soon", {}, "I can't read the ETA 'whenever'"),
        ("update 1 eta:2020-01-01T00:00 done", {}, "the ETA is already past"),
        ("wait 1 godot", {}, "Waiting on whom?"),
        ("assign 1 bob", {}, "Assign to whom? Mention them"),
        ("reopen 1", {}, "only a resolved ticket can be reopened"),
        ("close 1", {}, "is not resolved: resolve it first"),
        ("resolve 1", {"user_id": STRANGER}, "you may not resolve SLA-1"),
        ("sev 1 p3", {"user_id": STRANGER}, "you may not change the severity of SLA-1"),
        ("show 1", {"team_id": OTHER_TEAM}, "there is no ticket SLA-1 in this workspace"),
        ("1", {"team_id": OTHER_TEAM}, "there is no ticket SLA-1 in this workspace"),
        ("resolve 1", {"team_id": OTHER_TEAM, "user_id": ADMIN}, "there is no ticket SLA-1"),
        ("ack 1", {"team_id": OTHER_TEAM}, "there is no ticket SLA-1 in this workspace"),
        ("policy nope", {}, "nope"),
        ("matrix policy:nope", {}, "nope"),
    ],
)
def test_errors_answer_ephemerally_and_change_nothing(slack, text, kw, expected):
    number = slack.open()
    assert slack.command("ack 1").text == ""
    slack.wait_thread(number, 2)

    def web_api_calls() -> int:  # what reaches the channel; the refusal goes to one person
        reads = ("response_url", "users.info")  # (users.info: the zone a typed time is in)
        return len([c for c in slack.fake.calls if c.method not in reads])

    before, calls = slack.ticket(number), web_api_calls()
    answer = slack.command(text, **kw)
    assert expected in answer.ephemeral()
    after = slack.ticket(number)
    assert (after.version, after.status, after.severity) == (
        before.version,
        before.status,
        before.severity,
    )
    assert web_api_calls() == calls


def test_another_workspace_sees_none_of_this_ones_tickets(slack):
    slack.open()
    other = slack.command("list", team_id=OTHER_TEAM)
    assert other.ephemeral() == "No open tickets."
    assert "SLA-1" not in other.text
    # Its own numbering starts at 1 too, and its ticket is its own.
    number = slack.open("policy:liveops p3 cosmetic typo", team_id=OTHER_TEAM, channel_id="C0X")
    assert number == 1
    assert slack.ticket(1, OTHER_TEAM).title == "cosmetic typo"
    assert slack.ticket(1).title == "checkout is down"


# -- hostile text ------------------------------------------------------------------------------


@sqlite_only
def test_hostile_text_is_stored_as_typed_and_shown_escaped(slack):
    nasty = (
        "p2 <!channel> <!here> <@U1> <#C1|general> <https://evil.example|click> &amp; &lt; "
        "*bold* _it_ ~gone~ `code` ```block``` > quote\n"
        "ünïcødé 日本語 👨\u200d👩\u200d👧\u200d👦 🇬🇧 \u202eevil\u202c e\u0301 \ufeff "
    )
    text = (nasty * 40)[:4000]
    assert len(text) == 4000
    body = signed.slash_command(f"open {text}", response_url=slack.fake.response_url())
    answer = slack.send(body)
    assert (answer.status, answer.text) == (200, "")
    slack.wait_thread(1, 1)
    [ticket] = slack.all_tickets()
    assert ticket.description == text  # every character, as typed
    assert text.startswith("p2 " + ticket.title.removesuffix("…"))
    assert ticket.severity == "p2"

    slack.clock.advance(minutes=1)
    for hostile in (f"update 1 {text}", f"sev 1 p1 {text[:500]}", f"resolve 1 {text}"):
        assert slack.command(hostile, user_id=ADMIN).text == ""
    slack.wait_thread(1, 4)
    assert slack.command("reopen 1", user_id=ADMIN).text == ""
    slack.wait_thread(1, 5)
    answers = [slack.command(t) for t in ("show 1", "list", "1")]
    home = slack.event(signed.app_home_opened(REPORTER))
    assert home.status == 200
    slack.fake.wait_for("views.publish")
    unclear = slack.command(f"open {text.replace('p2', 'xx')[:1500]}")
    assert unclear.status == 200 and unclear.json["response_type"] == "ephemeral"

    shown = [t for call in slack.fake.calls for t in texts(call.args)]
    shown += [t for a in [*answers, unclear] for t in texts(a.json)]
    assert shown
    for piece in shown:
        for token in ("<!channel>", "<!here>", "<@U1>", "<#C1", "<https://evil"):
            assert token not in piece, (token, piece[:200])
    everything = [t for call in slack.fake.calls for t in texts(call.args, plain=True)]
    assert not any("\u202e" in t for t in everything)  # no bidi override reverses our text
    assert any("<!channel>" in t for t in everything)  # plain text shows what was typed
    for a in answers:
        assert a.ephemeral()
    for call in slack.fake.calls:
        assert call.ok, call.summary()
        if "blocks" in call.args:
            assert block_kit_errors(call.args["blocks"]) == []
        if "view" in call.args:
            assert view_errors(call.args["view"]) == []
    card = slack.card(1)
    assert "&lt;!channel&gt;" in card["text"]


# -- Slack failing after the acknowledgement ---------------------------------------------------


@sqlite_only
@pytest.mark.parametrize("status", [429, 500])
def test_the_card_is_posted_after_slack_refuses_once(slack, status):
    slack.fake.fail_next("chat.postMessage", status=status, retry_after=1)
    answer = slack.command("open p1 checkout is down")
    assert (answer.status, answer.text) == (200, "")
    (first,) = slack.fake.wait_for("chat.postMessage", 1, timeout=10)
    assert first.status == status and not first.ok
    if status == 429:  # Retry-After is honoured: not a moment sooner
        slack.clock.advance(seconds=0.5)
        slack.deliver()
        assert len(slack.fake.calls_to("chat.postMessage")) == 1
        slack.clock.advance(seconds=0.5)
    else:  # Slack failed: the clock tries again after its first backoff
        slack.clock.advance(seconds=Backoff().base.total_seconds())
    slack.deliver()
    first, second, *_thread = slack.fake.wait_for("chat.postMessage", 2, timeout=10)
    assert second.ok and header(second.args).startswith("SLA-1")
    slack.wait_thread(1, 1)
    assert slack.ticket(1).message_ts == second.response["ts"]


# -- an agent's day ------------------------------------------------------------------------------

AGENT = "U0042"  # works from Tokyo; LiveOps's contract runs in Los Angeles
# What would stop being true on a card drawn once: a span counted from the drawing, or a raw
# instant in one zone (issue 18).
STALE = re.compile(r"\d+[dhm] (left|ago)\b|\bin \d+[dhm]\b|\d{4}-\d\d-\d\d \d\d:\d\d|\bUTC\b")


def test_an_agents_day_reads_true_at_every_step(slack):
    """Issue 18's day in the life, through signed requests to the real app and the fake Slack:
    open by text (classified) and by form, acknowledge, update with an ETA typed in another
    zone, wait, resume, change severity, resolve, reopen with a reason, close; at each step,
    what the channel's card and thread, the typer's ephemeral answer and the Home tab say."""
    slack.fake.users[AGENT] = {"tz": "Asia/Tokyo"}
    clock = slack.clock
    card_text = lambda n: json.dumps(slack.card(n)["blocks"], ensure_ascii=False)  # noqa: E731

    def at(when: datetime) -> str:
        return f"<!date^{int(when.timestamp())}^"

    # 09:00 in Los Angeles: a customer's calls fail; the reporter types it, no severity.
    opened = clock()
    one = slack.open("all calls are failing, system unavailable")
    assert header(slack.card(one)).startswith(f"SLA-{one} · P1 — Critical")
    assert f"*First response* — due {at(opened + timedelta(hours=1))}" in card_text(one)
    assert slack.thread(one) == [
        f"<@{REPORTER}> opened SLA-{one} as *P1 — Critical* under the liveops policy."
    ]

    # A second problem, by the form: `/sla open p3` opens it with P3 chosen.
    assert slack.command("open p3").text == ""
    [form_opened] = slack.fake.wait_for("views.open")
    form = form_opened.args["view"]
    severity = {b["block_id"]: b for b in form["blocks"]}["severity"]["element"]
    assert severity["initial_option"]["value"] == "liveops:p3"
    values = {
        "title": {"value": signed.plain_text_value("Export button greyed out")},
        "severity": {"value": signed.selected_option_value("liveops:p3")},
        "policy": {"value": signed.selected_option_value("liveops")},
        "description": {"value": signed.plain_text_value("")},
    }
    answer = slack.submit(
        "sla_open",
        values,
        view_id=form_opened.response["view"]["id"],
        private_metadata=form["private_metadata"],
        title="Open a ticket",
    )
    assert (answer.status, answer.text) == (200, "")
    two = one + 1
    slack.wait_thread(two, 1)
    assert header(slack.card(two)).startswith(f"SLA-{two} · P3 — Low · Export button greyed out")

    # 09:05: the agent acknowledges on the card and owns it.
    clock.advance(minutes=5)
    assert slack.click_on_card(one, "sla_ack", user_id=AGENT).status == 200
    assert slack.wait_thread(one, 2)[-1] == f"<@{AGENT}> acknowledged SLA-{one} and owns it."
    slack.fake.wait_for("chat.update", 1)
    card = card_text(one)
    assert f"*Owner*\\n<@{AGENT}>" in card and "*First response* — met ✓" in card
    assert "sla_ack" not in action_ids(slack.card(one))

    # 09:10: an update with an ETA typed in Tokyo's time: 04:00 there is 11:00 here.
    clock.advance(minutes=5)
    eta = datetime(2026, 11, 24, 4, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    answers = len(slack.fake.calls_to("response_url"))  # the opens' answers came before
    said = slack.command(f"update {one} eta:04:00 carrier rerouting EU trunks", user_id=AGENT)
    assert said.text == ""
    after = slack.fake.wait_for("response_url", answers + 1)[answers:]
    [back] = [c for c in after if "read as" in str(c.args)]
    assert back.args["text"] == "ETA '04:00' read as Tue 24 Nov 04:00 (Asia/Tokyo)."
    assert slack.wait_thread(one, 3)[-1] == (
        f"Update from <@{AGENT}> (ETA {at(eta)}{{date_short_pretty}} at {{time}}|Mon 23 Nov "
        "11:00 PST>): carrier rerouting EU trunks"
    )
    slack.fake.wait_for("chat.update", 2)
    card = card_text(one)
    assert f":memo: Last update {at(clock())}" in card and f"ETA {at(eta)}" in card
    assert "“carrier rerouting EU trunks”" in card

    # Waiting on the customer: the clocks stop; Resume is offered.
    clock.advance(minutes=10)
    assert slack.command(f"wait {one} customer", user_id=AGENT).text == ""
    assert slack.wait_thread(one, 4)[-1] == (
        f"<@{AGENT}> set SLA-{one} to *Waiting on customer*. The clock is paused."
    )
    slack.fake.wait_for("chat.update", 3)
    assert "paused: waiting on customer" in card_text(one)
    assert "sla_resume" in action_ids(slack.card(one))

    # An hour later the customer answers; the agent resumes on the card.
    clock.advance(hours=1)
    assert slack.click_on_card(one, "sla_resume", user_id=AGENT).status == 200
    assert slack.wait_thread(one, 5)[-1] == f"<@{AGENT}> set SLA-{one} to *Open*."

    # Fewer customers affected: P2.
    clock.advance(minutes=5)
    assert slack.command(f"sev {one} p2 only EU affected", user_id=AGENT).text == ""
    note = slack.wait_thread(one, 6)[-1]
    assert note.startswith(
        f"<@{AGENT}> changed the severity from *P1 — Critical* to *P2 — High*: only EU "
        "affected. Deadlines recomputed. Next update now due <!date^"
    )
    slack.fake.wait_for("chat.update", 5)
    assert header(slack.card(one)).startswith(f"SLA-{one} · P2 — High")

    # The agent's Home: their ticket, linked to its card; the queue at risk.
    assert slack.event(signed.app_home_opened(AGENT)).status == 200
    slack.fake.wait_for("views.publish")
    home = json.dumps(slack.fake.home_view(AGENT)["blocks"], ensure_ascii=False)
    mine = home[home.index("Your tickets") : home.index("At risk")]
    channel, ts = slack.card_of(one)
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    assert f"*<{link}|SLA-{one}>* · P2 — High" in mine and f"SLA-{two}" not in mine
    risky = home[home.index("At risk") : home.index("by policy and severity")]
    assert f"SLA-{one}" in risky and f"SLA-{two}" in risky

    # Resolved on the card: Reopen and Close are offered.
    clock.advance(minutes=30)
    assert slack.click_on_card(one, "sla_resolve", user_id=AGENT).status == 200
    assert slack.wait_thread(one, 7)[-1] == f"<@{AGENT}> resolved SLA-{one}."
    slack.fake.wait_for("chat.update", 6)
    assert {"sla_reopen", "sla_close"} <= set(action_ids(slack.card(one)))
    assert "*Status*\\nResolved" in card_text(one)

    # The reporter reopens it, saying why; the reason is in the thread and the audit trail.
    clock.advance(minutes=20)
    assert slack.command(f"reopen {one} still broken for the customer").text == ""
    assert slack.wait_thread(one, 8)[-1] == (
        f"<@{REPORTER}> reopened SLA-{one}: its clocks run again. "
        "Why: still broken for the customer"
    )
    [reopened] = [
        e for e in slack.events_of(one, "status_changed") if e.after.get("status") == "open"
    ][-1:]
    assert "still broken for the customer" in json.dumps(reopened.after)

    # Fixed for good: resolved, then closed on the card (closing is for good: it asks first).
    clock.advance(hours=1)
    assert slack.command(f"resolve {one} patched the carrier config", user_id=AGENT).text == ""
    slack.wait_thread(one, 9)
    slack.fake.wait_for("chat.update", 8)
    close = control(slack.card(one), "sla_close")
    assert "cannot be reopened" in close["confirm"]["text"]["text"]
    assert slack.click_on_card(one, "sla_close", user_id=AGENT).status == 200
    assert slack.wait_thread(one, 10)[-1] == f"<@{AGENT}> closed SLA-{one}."
    slack.fake.wait_for("chat.update", 9)
    assert action_ids(slack.card(one)) == []
    assert slack.ticket(one).status == "closed"

    # Home again: nothing of theirs is open any more.
    assert slack.event(signed.app_home_opened(AGENT)).status == 200
    slack.fake.wait_for("views.publish", 2)
    home = json.dumps(slack.fake.home_view(AGENT)["blocks"], ensure_ascii=False)
    assert f"SLA-{one}" not in home[home.index("Your tickets") : home.index("At risk")]

    # Nothing anyone read all day said something that would stop being true.
    read = [c for c in slack.fake.calls if c.method in ("chat.postMessage", "chat.update")]
    read += slack.fake.calls_to("views.publish")
    for call in read:
        for text in texts(call.args):
            assert STALE.search(text) is None, text


# -- App Home ----------------------------------------------------------------------------------


def test_app_home_opened_publishes_the_users_home_tab(slack):
    slack.open("p1 checkout is down")
    slack.open("p3 how do i export a report")
    assert slack.command("ack 2").text == ""
    slack.wait_thread(2, 2)
    # Waiting on the customer: its clocks stand still, so it is not at risk.
    slack.open("p2 exports fail for one customer")
    assert slack.command("wait 3 customer").text == ""
    # LeadSquared's severities: urgent comes before low in the policy, after it in the alphabet.
    slack.open("policy:leadsquared low a typo on the login page")
    slack.open("policy:leadsquared urgent the service is down")

    answer = slack.event(signed.app_home_opened(REPORTER))
    assert answer.status == 200
    [published] = slack.fake.wait_for("views.publish")
    assert published.ok and published.args["user_id"] == REPORTER
    home = slack.fake.home_view(REPORTER)
    assert home is not None and home["type"] == "home"
    assert view_errors(home) == []
    words = json.dumps(home["blocks"], ensure_ascii=False)
    mine = words[words.index("Your tickets") : words.index("At risk")]
    assert "SLA-2" in mine and "SLA-1" not in mine
    risky = words[words.index("At risk") : words.index("by policy and severity")]
    assert risky.index("SLA-1") < risky.index("SLA-2")  # closest to breach first
    assert "SLA-3" not in risky
    counted = words[words.index("by policy and severity") :]
    # Each entry links to its card.
    assert f"*<https://{TEAM_DOMAIN}.slack.com/archives/{CHANNEL}/p" in mine
    assert "|SLA-1>* · P1" in risky
    assert "*leadsquared* (2) — urgent: 1 · low: 1" in counted
    assert "*liveops* (3) — p1: 1 · p2: 1 · p3: 1" in counted

    # Another tab (Messages) publishes nothing.
    assert slack.event(signed.app_home_opened(REPORTER, tab="messages")).status == 200
    slack.nothing_more("views.publish", 1, wait=0.3)


# -- settings and `slabot serve` ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-test"}, "SLACK_SIGNING_SECRET", "is not set"),
        (
            {"SLACK_BOT_TOKEN": "not-a-token", "SLACK_SIGNING_SECRET": "s"},
            "SLACK_BOT_TOKEN",
            "starts with xoxb-",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "x"},
            "SLACK_API_URL",
            "Web API base URL",
        ),
    ],
    ids=["missing secret", "malformed token", "malformed api url"],
)
def test_serve_refuses_bad_settings_with_one_clear_line(tmp_path, env, variable, words):
    done = subprocess.run(
        [sys.executable, "-m", "slabot", "serve", "--port", str(free_port())],
        env=clean_env(**env),
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("slabot serve: ") and variable in lines[0] and words in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_slabot_serve_posts_the_card_of_a_signed_command(tmp_path, fake):
    port = free_port()
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
        SLABOT_POLICIES=str(POLICIES),
    )
    command = [sys.executable, "-m", "slabot", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--threads", "4"]
    server = subprocess.Popen(
        command,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        fake.wait_for("auth.test", timeout=30)  # it checks its token before it listens
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    assert response.read() == b"ok\n"
                    break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "slabot serve never answered /healthz"
                time.sleep(0.05)
        body = signed.slash_command("open policy:liveops p1 calls failing", channel_id="C0042")
        status, _, text = signed.post(f"{base}/slack/events", body, SECRET)
        assert (status, text) == (200, "")
        card, reply = fake.wait_for("chat.postMessage", 2, timeout=10)
        assert card.ok and card.args["channel"] == "C0042"
        assert header(card.args).startswith("SLA-1 · P1 — Critical · calls failing")
        assert card.token == "xoxb-test"
        assert reply.args["thread_ts"] == card.response["ts"]
        assert signed.post(f"{base}/slack/events", body, "wrong-secret")[0] == 401
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
