"""Tickets from Slack's own surfaces: the message shortcut, the global shortcut and the
Workflow Builder step, end to end over real HTTP with signed requests and the fake Slack
(the harness of ``test_slack_app.py``)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from support import signed
from support.conversation import ADMIN, CHANNEL, T0, TEAM, Slack, TestClock, build_app, serving
from support.fakeslack import FakeSlack

from slabot.policies import PolicyBook
from slabot.slack.shortcuts import FROM_ANYWHERE, FROM_MESSAGE
from slabot.slack.workflow import STEP
from slabot.store import Store
from slabot.tickets import Tickets

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def slack(store: Store, policy_book: PolicyBook):
    """The app over HTTP on ``store``, ``CHANNEL`` bound to liveops, and the fake Slack."""
    tickets = Tickets(store, policy_book, admins={ADMIN})
    tickets.bind_channel(TEAM, CHANNEL, "liveops", actor=ADMIN, now=T0)
    clock = TestClock(T0)
    with FakeSlack() as fake, serving(build_app(fake, tickets, clock)) as base:
        yield Slack(base, fake, clock, tickets)
        assert fake.errors == []


def shortcut_on(slack: Slack, ts: str, text: str, **kw):
    return slack.send(signed.message_shortcut(FROM_MESSAGE, message_ts=ts, text=text, **kw))


def opened_form(slack: Slack, count: int = 1) -> dict:
    [*_, call] = slack.fake.wait_for("views.open", count)
    return call.args["view"]


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b["block_id"] == block_id)


def submit_form(slack: Slack, view: dict, *, severity: str, channel: str | None = None, **kw):
    """Submit ``view`` as Slack would after the person chose ``severity`` (and a channel)."""
    values = {
        "title": {
            "value": signed.plain_text_value(block(view, "title")["element"].get("initial_value"))
        },
        "severity": {"value": signed.selected_option_value(f"liveops:{severity}")},
        "description": {
            "value": signed.plain_text_value(
                block(view, "description")["element"].get("initial_value")
            )
        },
        "reported": {
            "value": {
                "type": "datetimepicker",
                "selected_date_time": block(view, "reported")["element"].get("initial_date_time"),
            }
        },
    }
    if any(b["block_id"] == "channel" for b in view["blocks"]):  # Slack sends every input
        values["channel"] = {
            "value": {"type": "conversations_select", "selected_conversation": channel}
        }
    return slack.submit("sla_open", values, private_metadata=view["private_metadata"], **kw)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_the_message_shortcut_opens_the_form_filled_from_the_message_and_a_second_click_finds_it(
    slack: Slack,
):
    said = T0 - timedelta(minutes=40)
    ts = f"{said.timestamp():.6f}"
    text = "Checkout is down for every customer\nSince 08:20, all card payments fail."
    answer = shortcut_on(slack, ts, text)
    assert answer.status == 200
    view = opened_form(slack)
    assert block(view, "title")["element"]["initial_value"] == "Checkout is down for every customer"
    description = block(view, "description")["element"]["initial_value"]
    assert description.startswith(text)
    assert description.endswith(
        f"From https://fake-team.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}"
    )
    assert block(view, "reported")["element"]["initial_date_time"] == int(said.timestamp())
    assert "channel" not in {b["block_id"] for b in view["blocks"]}  # the message's channel
    assert json.loads(view["private_metadata"]) == {
        "channel": CHANNEL,
        "source": "slack-message",
        "ref": f"{CHANNEL}:{ts}",
    }
    done = submit_form(slack, view, severity="p1")
    assert (done.status, done.text) == (200, "")
    [ticket] = slack.all_tickets()
    assert (ticket.source, ticket.source_ref) == ("slack-message", f"{CHANNEL}:{ts}")
    assert ticket.reported_at == said.replace(microsecond=0) and ticket.channel == CHANNEL
    assert ticket.description == description
    slack.wait_thread(ticket.number, 1)
    assert "from a Slack message" in json.dumps(slack.card(ticket.number)["blocks"])
    # A second click on the same message says which ticket it opened; no second form.
    shortcut_on(slack, ts, text)
    [note] = slack.fake.wait_for("chat.postEphemeral")
    assert note.args["text"].startswith(f"This message already opened SLA-{ticket.number}")
    assert len(slack.fake.calls_to("views.open")) == 1
    # The same form submitted twice, or a second form from the message, opens nothing more.
    submit_form(slack, view, severity="p1")
    assert len(slack.all_tickets()) == 1


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_global_shortcut_opens_the_form_which_asks_for_the_channel(slack: Slack):
    assert slack.send(signed.global_shortcut(FROM_ANYWHERE)).status == 200
    view = opened_form(slack)
    assert block(view, "channel")["element"]["type"] == "conversations_select"
    assert json.loads(view["private_metadata"]) == {"channel": None}
    # Without a channel the form stays open, saying what is missing.
    values_view = {**view}
    block(values_view, "title")["element"]["initial_value"] = "Exports fail"
    refused = submit_form(slack, values_view, severity="p2")
    assert json.loads(refused.text) == {
        "response_action": "errors",
        "errors": {"channel": "Pick the channel the ticket's card goes to."},
    }
    assert slack.all_tickets() == []
    done = submit_form(slack, values_view, severity="p2", channel=CHANNEL)
    assert (done.status, done.text) == (200, "")
    [ticket] = slack.all_tickets()
    assert (ticket.channel, ticket.source, ticket.title) == (CHANNEL, "slack", "Exports fail")
    slack.wait_thread(ticket.number, 1)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_damaged_message_shortcut_is_refused_to_the_person_and_opens_nothing(slack: Slack):
    body = signed.message_shortcut(FROM_MESSAGE, message_ts="", text="x")
    assert slack.send(body).status == 200
    [note] = slack.fake.wait_for("chat.postEphemeral")
    assert note.args["text"].startswith("slabot could not read this shortcut (message.ts")
    assert slack.fake.calls_to("views.open") == [] and slack.all_tickets() == []


def run_step(slack: Slack, inputs: dict, execution_id: str = "Fx0001"):
    event = signed.function_executed(STEP, inputs, execution_id=execution_id)
    answer = slack.event(event)
    assert answer.status == 200
    return answer


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_the_workflow_step_opens_a_ticket_posts_its_card_and_hands_back_its_id(slack: Slack):
    inputs = {
        "title": "VPN down in Berlin",
        "description": "Reported by the office manager",
        "severity": "p2",
        "channel": CHANNEL,
        "reporter": "U0042",
    }
    run_step(slack, inputs)
    [done] = slack.fake.wait_for("functions.completeSuccess")
    [ticket] = slack.all_tickets()
    assert done.args["function_execution_id"] == "Fx0001"
    assert done.args["outputs"] == {
        "ticket_id": f"SLA-{ticket.number}",
        "ticket_number": ticket.number,
    }
    assert done.token is not None and done.token.startswith("xwfp-")
    assert (ticket.title, ticket.severity, ticket.reporter) == ("VPN down in Berlin", "p2", "U0042")
    assert (ticket.source, ticket.source_ref, ticket.channel) == (
        "slack-workflow",
        "Fx0001",
        CHANNEL,
    )
    slack.wait_thread(ticket.number, 1)
    # The same run delivered again (another event id) finds its ticket.
    run_step(slack, inputs)
    slack.fake.wait_for("functions.completeSuccess", 2)
    assert len(slack.all_tickets()) == 1


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_workflow_step_in_a_customers_channel_opens_the_customers_ticket(slack: Slack):
    """Issue 13: the channel's binding names the customer, whatever opens the ticket there."""
    slack.tickets.bind_channel(
        TEAM, CHANNEL, "liveops", actor=ADMIN, now=T0, customer="Umbrella Corp"
    )
    run_step(slack, {"title": "VPN down in Berlin", "severity": "p2", "channel": CHANNEL})
    slack.fake.wait_for("functions.completeSuccess")
    [ticket] = slack.all_tickets()
    assert (ticket.channel, ticket.customer) == (CHANNEL, "Umbrella Corp")
    slack.wait_thread(ticket.number, 1)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("inputs", "says"),
    [
        ({"title": "something odd", "channel": CHANNEL}, "Give the step a severity input."),
        ({"title": "x", "channel": CHANNEL, "severity": "p9"}, "p9"),
        ({"title": "  ", "channel": CHANNEL, "severity": "p2"}, "a ticket needs a title"),
        ({"channel": CHANNEL, "severity": "p2"}, "the step's inputs (title"),
    ],
)
def test_a_workflow_step_with_bad_inputs_fails_with_the_reason_and_opens_nothing(
    slack: Slack, inputs, says
):
    run_step(slack, inputs)
    [failed] = slack.fake.wait_for("functions.completeError")
    assert says in failed.args["error"]
    assert slack.all_tickets() == []
    assert slack.fake.calls_to("functions.completeSuccess") == []


@pytest.mark.parametrize("name", ["slack-app-manifest.yml", "slack-app-manifest.socket.yml"])
def test_both_manifests_declare_the_shortcuts_and_the_workflow_step(name):
    manifest = yaml.safe_load((ROOT / name).read_text())
    shortcuts = {(s["type"], s["callback_id"]) for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {("message", FROM_MESSAGE), ("global", FROM_ANYWHERE)}
    step = manifest["functions"][STEP]
    assert set(step["input_parameters"]) == {
        "title",
        "description",
        "severity",
        "channel",
        "reporter",
    }
    assert set(step["output_parameters"]) == {"ticket_id", "ticket_number"}
    assert "function_executed" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["settings"]["org_deploy_enabled"] is True
    assert manifest["settings"]["function_runtime"] == "remote"


CUSTOMER_TEAM, CUSTOMER = "T0CUST", "U0CUST1"  # the customer's own workspace, without slabot


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("named", [TEAM, CUSTOMER_TEAM], ids=["vendor", "customer"])
def test_a_customer_in_a_slack_connect_channel_reports_and_comments_in_the_vendors_workspace(
    slack: Slack, named: str
):
    """``CHANNEL`` is shared with a customer's workspace through Slack Connect; slabot is
    installed in the vendor's (``TEAM``) only. The customer's person reports from their own
    message, posts an update on the card and may not resolve: every ticket and change is the
    vendor workspace's, whatever workspace each payload names.

    Payloads as Slack sends them in a shared channel: a form the customer submits names their
    own workspace in ``team`` and the installed one in ``view.app_installed_team_id`` (read
    first by slack-bolt's ``extract_team_id`` for this reason); a click on the card names the
    card's workspace in ``team`` and the clicker's in ``user.team_id`` (java-slack-sdk issue
    1041). Which workspace a customer's message shortcut names is not documented: both."""
    customer = {"team_id": CUSTOMER_TEAM, "user_id": CUSTOMER}
    ts = f"{(T0 - timedelta(minutes=5)).timestamp():.6f}"
    payload = signed.message_shortcut(
        FROM_MESSAGE,
        message_ts=ts,
        text="Our agents cannot log in",
        author=CUSTOMER,
        team_id=named,
        user_id=CUSTOMER,
    )
    assert slack.send(payload).status == 200
    view = opened_form(slack)
    done = submit_form(slack, view, severity="p2", installed_team_id=TEAM, **customer)
    assert (done.status, done.text) == (200, "")
    [ticket] = slack.all_tickets()
    assert (ticket.workspace, ticket.reporter, ticket.channel) == (TEAM, CUSTOMER, CHANNEL)
    slack.wait_thread(ticket.number, 1)

    # A comment: the card's "Post update" opens the form, whose submission lands on the ticket.
    on_card = {"user_team_id": CUSTOMER_TEAM, "user_id": CUSTOMER}
    assert slack.click_on_card(ticket.number, "sla_update", **on_card).status == 200
    update = opened_form(slack, 2)
    values = {"text": {"value": signed.plain_text_value("Still failing for the EU agents")}}
    posted = slack.submit(
        "sla_update",
        values,
        private_metadata=update["private_metadata"],
        installed_team_id=TEAM,
        **customer,
    )
    assert (posted.status, posted.text) == (200, "")
    assert "Still failing for the EU agents" in slack.wait_thread(ticket.number, 2)[-1]

    # No rights beyond the policy's: resolving is the owner's and the matrix's, said privately.
    assert slack.click_on_card(ticket.number, "sla_resolve", **on_card).status == 200
    [told] = slack.fake.wait_for("chat.postEphemeral")
    assert told.args["user"] == CUSTOMER
    assert told.args["text"].startswith(f"you may not resolve SLA-{ticket.number}")
    assert slack.ticket(ticket.number).status == "open"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_an_org_wide_installs_shortcut_naming_no_team_acts_in_the_persons_workspace(
    slack: Slack,
):
    """Installed org-wide, the shortcut comes with ``team: null``: the person's workspace
    (``user.team_id``) is the one whose channel binding preselects the form's policy."""
    assert slack.send(signed.global_shortcut(FROM_ANYWHERE, org="E0GRID")).status == 200
    view = opened_form(slack)
    assert view["callback_id"] == "sla_open"
    assert block(view, "channel")  # it asks where the card goes
