"""Slack input that cannot hurt: malformed-but-signed requests, replays and retries.

The real app over real HTTP (waitress), requests signed as Slack signs them, the fake Slack
(the harness of `test_slack_app`). Each malformed request must be answered at once (a click
acknowledged, a form given a field error, a body Bolt cannot parse a 400 with one line) and
change nothing. "At once" is asserted without a timer: Bolt answers a listener that raised
after acknowledging with a 404 once its three-second wait runs out, and one that raised before
with a 500, so a 200 that carries our answer is a listener that acknowledged. Replays: the same
signed command, click or form delivered again records one change and is answered as the first
was; an event is handled once per ``event_id``, also when only its retry arrives.
"""

# ruff: noqa: F811  (the fixtures imported from the kit are parameters here)
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import func, select
from support import signed
from support.conversation import (  # noqa: F401  (clock, fake and slack are fixtures)
    ADMIN,
    CHANNEL,
    REPORTER,
    T0,
    TEAM,
    Slack,
    clock,
    control,
    fake,
    slack,
    sqlite_only,
)

from slabot.store.deliveries import first_delivery
from slabot.store.tables import TicketEvent
from slabot.tickets import AlreadyDone, ChangeRequest

DEEP = "[" * 100_000 + "]" * 100_000  # Python's json gives up long before: RecursionError


def state(slack: Slack) -> tuple[Any, ...]:
    """Everything a request could change: each ticket's row and the count of events."""
    with slack.tickets.store.reading() as session:
        events = session.exec(select(func.count()).select_from(TicketEvent)).one()
    rows = [(t.number, t.version, t.status, t.severity, t.owner) for t in slack.all_tickets()]
    return rows, events


def channel_calls(slack: Slack) -> list[str]:
    """Web API calls that change what a channel shows (not the ephemeral answers)."""
    seen = ("chat.postMessage", "chat.update", "views.open", "views.publish")
    return [c.method for c in slack.fake.calls if c.method in seen]


def payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def edit_payload(body: str, change: Any) -> str:
    """A form body with its JSON payload changed by ``change(payload)``."""
    payload = json.loads(dict(parse_qsl(body))["payload"])
    change(payload)
    return payload_form(payload)


# -- clicks that cannot be read ---------------------------------------------------------------

CLICKS = {
    "a button without a value": ({"action_id": "sla_ack", "type": "button"}, "carries no value"),
    "a garbage value": (signed.button("sla_ack", "zz:yy"), "could not read this control"),
    "ticket number zero": (signed.button("sla_resolve", "0:1"), "could not read this control"),
    "a menu with nothing chosen": (
        {"action_id": "sla_severity", "type": "static_select", "selected_option": None},
        "carries no value",
    ),
    "a menu with a garbage option": (
        signed.select("sla_severity", "1:x:p3"),
        "could not read this control",
    ),
    "a page button with a garbage value": (
        signed.button("sla_page_ack", "zz"),
        "could not read this page's button",
    ),
    "a severity answer that is not JSON": (
        signed.button("sla_pick_severity_p1", "{x"),
        "could not read this answer",
    ),
    "a severity answer missing its keys": (
        signed.button("sla_pick_severity_p1", '{"summary": 3}'),
        "could not read this answer",
    ),
    "the update button with a garbage value": (
        signed.button("sla_update", "abc"),
        "could not read this control",
    ),
    "an unknown action id": (
        signed.button("sla_frobnicate", "1:1"),
        "not one slabot knows",
    ),
}


@sqlite_only
@pytest.mark.parametrize("case", CLICKS)
def test_a_click_that_cannot_be_read_is_acknowledged_told_and_changes_nothing(slack, case):
    action, says = CLICKS[case]
    slack.open()
    before, calls = state(slack), channel_calls(slack)
    channel, ts = slack.card_of(1)

    answer = slack.click(action, message_ts=ts, channel_id=channel)

    assert (answer.status, answer.text) == (200, "")  # acknowledged: no 404 after a wait
    [told] = slack.fake.wait_for("chat.postEphemeral")
    assert (told.args["channel"], told.args["user"]) == (CHANNEL, REPORTER)
    assert says in told.args["text"] and "\n" not in told.args["text"]
    assert state(slack) == before
    assert channel_calls(slack) == calls


def answered_at(slack, url: str):
    """The one answer posted to ``url`` (waited for), whatever else was answered elsewhere."""
    path = url.removeprefix(slack.fake.base)
    for _ in range(100):
        found = [c for c in slack.fake.calls_to("response_url") if c.path == path]
        if found:
            [told] = found
            return told
        time.sleep(0.05)
    raise AssertionError(f"nothing was answered at {path}")


@sqlite_only
@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(team="T0001"),  # Bolt takes a bare string; slabot reads team.id
        lambda p: p.update(user={"name": "no id"}),
        lambda p: p.update(trigger_id=7),
        lambda p: p.update(trigger_id="9" * 200),
        lambda p: p["actions"][0].update(action_ts=None),
    ],
    ids=[
        "team a string",
        "user without id",
        "trigger a number",
        "trigger longer than Slack's",
        "action without its time",
    ],
)
def test_a_click_missing_what_slabot_reads_is_told_through_its_response_url(slack, change):
    slack.open()
    before, calls = state(slack), channel_calls(slack)
    url = slack.fake.response_url("click")
    _, ts = slack.card_of(1)
    body = signed.block_actions(
        [signed.button("sla_ack", control(slack.card(1), "sla_ack")["value"])],
        message_ts=ts,
        channel_id=None,  # a click in a place slabot cannot post to: only the URL answers
        response_url=url,
    )
    answer = slack.send(edit_payload(body, change))

    assert (answer.status, answer.text) == (200, "")
    told = answered_at(slack, url)  # /sla open answered at its own URL before
    assert told.args["response_type"] == "ephemeral"
    assert told.args["text"].startswith("slabot could not read this click (")
    assert state(slack) == before
    assert channel_calls(slack) == calls


# -- forms that cannot be read ----------------------------------------------------------------

TEXT = {"text": {"value": signed.plain_text_value("rolled back")}}
FORMS = {
    "an update form with garbage metadata": ("sla_update", "garbage", TEXT, "text"),
    "an update form without metadata": ("sla_update", "", TEXT, "text"),
    "an update form for ticket zero": ("sla_update", "0:1", TEXT, "text"),
    "an update form whose input is not an object": (
        "sla_update",
        "1:2",
        {"text": {"value": "rolled back"}},
        "text",
    ),
    "an update form with an ETA past the year 9999": (
        "sla_update",
        "1:2",
        {**TEXT, "eta": {"value": {"type": "datetimepicker", "selected_date_time": 10**15}}},
        "text",
    ),
    "an open form with metadata that is not JSON": ("sla_open", "{x", {}, "title"),
    "an open form with metadata that is a list": ("sla_open", "[1]", {}, "title"),
    "an open form with metadata nested 100,000 deep": ("sla_open", DEEP, {}, "title"),
}


@sqlite_only
@pytest.mark.parametrize("case", FORMS)
def test_a_form_that_cannot_be_read_gets_a_field_error_and_changes_nothing(slack, case):
    callback, metadata, values, field = FORMS[case]
    slack.open()
    before, calls = state(slack), channel_calls(slack)

    answer = slack.submit(callback, values, private_metadata=metadata)

    assert answer.status == 200
    reply = json.loads(answer.text)
    assert reply["response_action"] == "errors" and list(reply["errors"]) == [field]
    assert reply["errors"][field].startswith("slabot could not")
    assert len(reply["errors"][field]) <= 150
    assert state(slack) == before
    assert channel_calls(slack) == calls


# -- bodies Bolt cannot parse -----------------------------------------------------------------

BODIES = {
    "not UTF-8": (b"payload=%7B%22type%22%3A%22block_actions%22%7D\xff\xfe", "not UTF-8 text"),
    "an event nested 100,000 deep": (
        '{"type":"event_callback","event":' + DEEP + "}",
        "nests too deep",
    ),
    "a payload nested 100,000 deep": (urlencode({"payload": DEEP}), "nests too deep"),
    "a payload that is not JSON": (urlencode({"payload": "{nope"}), "not a Slack request"),
    "a payload that is a list": (urlencode({"payload": "[1]"}), "not a Slack request"),
    "authorizations that are a string": (
        json.dumps({"type": "event_callback", "authorizations": "x", "event": {"type": "x"}}),
        "not a Slack request",
    ),
    "actions that are not a list": (
        payload_form({"type": "block_actions", "team": {"id": TEAM}, "actions": "sla_ack"}),
        "actions: Input should be a valid list",
    ),
    "actions of numbers": (
        payload_form({"type": "block_actions", "team": {"id": TEAM}, "actions": [1]}),
        "actions.0:",
    ),
    "a click with no action": (
        payload_form({"type": "block_actions", "team": {"id": TEAM}, "actions": []}),
        "a click with no action",
    ),
    "a view that is a string": (
        payload_form({"type": "view_submission", "team": {"id": TEAM}, "view": "sla_open"}),
        "view:|not a Slack request",  # an older Bolt (1.21) already fails reading it
    ),
    "an event that is a string": (
        json.dumps({"type": "event_callback", "event_id": "Ev1", "event": "app_home_opened"}),
        "event:|not a Slack request",  # an older Bolt (1.21) already fails reading it
    ),
}


@pytest.mark.parametrize("case", BODIES)
def test_a_signed_body_bolt_cannot_parse_is_a_400_with_one_line(slack, case):
    body, says = BODIES[case]
    slack.open()
    before, calls = state(slack), channel_calls(slack)

    answer = slack.send(body)

    assert answer.status == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert any(words in answer.text for words in says.split("|"))
    assert answer.text.count("\n") == 1
    assert state(slack) == before
    assert channel_calls(slack) == calls


@sqlite_only
def test_a_command_missing_its_workspace_is_answered_and_changes_nothing(slack):
    slack.open()
    before = state(slack)
    fields = dict(parse_qsl(signed.slash_command("resolve 1", user_id=ADMIN)))
    del fields["team_id"]

    answer = slack.send(urlencode(fields))

    assert answer.ephemeral().startswith("slabot could not read this command (team_id")
    assert state(slack) == before


def test_a_command_whose_text_says_payload_is_not_lost(slack):
    """Bolt takes any form with "payload" in it for an interactivity payload."""
    slack.open()
    slack.clock.advance(minutes=5)
    assert slack.command("update 1 the payload service is down").text == ""
    slack.wait_thread(1, 2)
    [update] = slack.events_of(1, "update_posted")
    assert update.after["text"] == "the payload service is down"


# -- replays ----------------------------------------------------------------------------------


def test_the_same_command_delivered_twice_changes_the_ticket_once(slack):
    slack.open()
    slack.clock.advance(minutes=5)
    url = slack.fake.response_url("update")
    body = signed.slash_command("update 1 rolled back, watching errors", response_url=url)

    assert slack.send(body).text == ""
    slack.wait_thread(1, 2)
    again = slack.send(body)  # a replay: the same signed request, inside the 5-minute window

    assert (again.status, again.text) == (200, "")  # the first answer, not an error
    slack.nothing_more("chat.postMessage", 3)  # the card, its first reply, one update
    assert len(slack.events_of(1, "update_posted")) == 1
    path = url.removeprefix(slack.fake.base)
    assert [c for c in slack.fake.calls_to("response_url") if c.path == path] == []


def test_the_same_click_delivered_twice_acknowledges_once_and_refuses_nothing(slack):
    slack.open()
    slack.clock.advance(minutes=3)
    channel, ts = slack.card_of(1)
    value = control(slack.card(1), "sla_ack")["value"]
    body = signed.block_actions(
        [signed.button("sla_ack", value, block_id="sla_ticket")],
        message_ts=ts,
        channel_id=channel,
    )

    assert slack.send(body).status == 200
    slack.wait_thread(1, 2)
    assert slack.send(body).status == 200  # the same delivery again

    slack.nothing_more("chat.postEphemeral", 0)  # no "already acknowledged" for a replay
    assert len(slack.events_of(1, "acknowledged")) == 1
    assert len(slack.fake.calls_to("chat.update")) == 1
    assert len(slack.thread(1)) == 2


def test_the_same_command_delivered_twice_at_once_changes_the_ticket_once(slack):
    """Both deliveries in flight together: the second waits for the ticket's lock, then finds
    the first's key."""
    slack.open()
    slack.clock.advance(minutes=5)
    body = signed.slash_command("resolve 1 fixed", user_id=ADMIN)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: slack.send(body), range(2)))

    assert [(a.status, a.text) for a in answers] == [(200, ""), (200, "")]
    slack.wait_thread(1, 2)
    slack.nothing_more("chat.postMessage", 3)
    assert len(slack.events_of(1, "status_changed")) == 1
    assert slack.ticket(1).status == "resolved"


def test_the_same_page_answer_delivered_twice_is_recorded_once(slack):
    slack.open()
    slack.clock.advance(minutes=5)
    channel, ts = slack.card_of(1)
    body = signed.block_actions(
        [signed.button("sla_page_ack", "1:level_2")],
        user_id=ADMIN,
        message_ts=ts,
        channel_id=channel,
    )

    answers = [slack.send(body) for _ in range(2)]

    assert [(a.status, a.text) for a in answers] == [(200, ""), (200, "")]

    slack.wait_thread(1, 2)
    slack.nothing_more("chat.postMessage", 3)
    slack.nothing_more("chat.postEphemeral", 0)  # the repeat is answered as the first was
    assert len(slack.events_of(1, "page_acknowledged")) == 1
    assert slack.ticket(1).acknowledged_by == ADMIN
    assert len(slack.fake.calls_to("chat.update")) == 2  # the card, the clicked message


def test_the_same_update_form_submitted_twice_posts_one_update(slack):
    slack.open()
    slack.clock.advance(minutes=5)
    version = slack.ticket(1).version
    values = {"text": {"value": signed.plain_text_value("rolled back")}}
    body = signed.view_submission(
        "sla_update", values, private_metadata=f"1:{version}", view_id="VUPDATE01"
    )

    first, again = slack.send(body), slack.send(body)

    assert [(a.status, a.text) for a in (first, again)] == [(200, ""), (200, "")]  # form closes
    slack.wait_thread(1, 2)
    slack.nothing_more("chat.postMessage", 3)
    assert len(slack.events_of(1, "update_posted")) == 1


def test_a_changed_command_is_a_new_change(slack):
    """The key is the delivery, not the words: the same text typed again is applied again."""
    slack.open()
    slack.clock.advance(minutes=5)
    for _ in range(2):
        assert slack.command("update 1 still rolling back").text == ""
    slack.wait_thread(1, 3)
    assert len(slack.events_of(1, "update_posted")) == 2


# -- events -----------------------------------------------------------------------------------


def test_an_event_that_arrives_only_as_a_retry_is_handled_once(slack):
    body = signed.event_callback(signed.app_home_opened(REPORTER), event_id="Ev0RETRY01")

    first = slack.send(body, retry_num=1, retry_reason="http_timeout")  # the first was lost
    assert first.status == 200
    [published] = slack.fake.wait_for("views.publish")
    assert published.args["user_id"] == REPORTER

    assert slack.send(body, retry_num=2, retry_reason="http_timeout").status == 200
    slack.nothing_more("views.publish", 1)

    other = signed.event_callback(signed.app_home_opened(REPORTER), event_id="Ev0OTHER01")
    assert slack.send(other).status == 200
    slack.fake.wait_for("views.publish", 2)


def test_event_ids_are_remembered_for_a_day_then_forgotten(store):
    assert first_delivery(store, "Ev1", T0)
    assert not first_delivery(store, "Ev1", T0 + timedelta(hours=23))
    assert first_delivery(store, "Ev2", T0 + timedelta(hours=25))  # prunes Ev1
    assert first_delivery(store, "Ev1", T0 + timedelta(hours=25))


# -- the use cases ------------------------------------------------------------------------------


def test_a_change_with_a_key_already_applied_changes_nothing(tickets):
    opened = tickets.open(
        "T1", title="checkout down", reporter="UREP", now=T0, severity="p1", policy="liveops"
    )
    number = opened.view.ticket.number
    at = T0 + timedelta(minutes=5)

    first = tickets.acknowledge(
        ChangeRequest("T1", number, actor="UREP", now=at, idempotency_key="cmd:a")
    )
    again = tickets.acknowledge(
        ChangeRequest("T1", number, actor="UREP", now=at, idempotency_key="cmd:a")
    )

    assert not first.replayed and again.replayed
    assert again.ticket.version == first.ticket.version
    with pytest.raises(AlreadyDone):  # another request to acknowledge is still refused
        tickets.acknowledge(
            ChangeRequest("T1", number, actor="UREP", now=at, idempotency_key="cmd:b")
        )
    update = ChangeRequest("T1", number, actor="UREP", now=at, idempotency_key="modal:V1")
    tickets.post_update(update, "rolled back")
    replay = tickets.post_update(update, "rolled back")
    assert replay.replayed and replay.ticket.version == first.ticket.version + 1
    with tickets.store.reading() as session:
        kinds = session.exec(
            select(TicketEvent.c.kind).where(TicketEvent.c.ticket_id == opened.view.ticket.id)
        ).all()
    assert kinds.count("update_posted") == 1 and kinds.count("acknowledged") == 1
