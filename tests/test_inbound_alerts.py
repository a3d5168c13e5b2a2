"""The alert hooks (Alertmanager, Grafana) and the hooks file, in process: the WSGI routes
`slabot serve` mounts, with the real `Publisher` posting cards to `FakeSlack`, on SQLite and
PostgreSQL. Payloads are in the documented shapes (Alertmanager's webhook ``version: "4"``,
Grafana's alerting webhook); `test_inbound_e2e` drives a real Alertmanager.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import timedelta

import pytest
from support.conversation import POLICIES, clean_env, free_port
from support.hooks import T0, TOKEN, Hooks, cards, group, tickets_in
from support.hooks import fake as fake
from support.hooks import hooks as hooks

from slabot.inbound.hookroutes import HooksError, parse_hooks
from slabot.outages import Outages
from slabot.tickets import ChangeRequest, Tickets


def test_a_firing_group_opens_one_ticket_with_its_card_and_repeats_find_it(hooks, fake, store):
    status, answer = hooks.post("/hooks/alertmanager", group())
    assert (status, answer) == (201, {"action": "opened", "ticket": "SLA-1"})
    [ticket] = tickets_in(store)
    assert (ticket.source, ticket.source_ref) == ("alertmanager", '{}:{alertname="CheckoutErrors"}')
    assert ticket.severity == "p1" and ticket.policy == "liveops"
    assert ticket.channel == "C0CHECKOUT" and ticket.reporter == "alertmanager"
    # The clock starts when monitoring saw the problem, not when the hook arrived.
    assert ticket.reported_at == T0 - timedelta(minutes=30) and ticket.opened_at == T0
    # The route's customer is the ticket's, a field a report can cut by, not a line of text.
    assert ticket.customer == "Acme" and "Acme" not in ticket.description
    assert "*Customer*\\nAcme" in json.dumps(cards(fake, "C0CHECKOUT")[0]["blocks"])
    [card] = cards(fake, "C0CHECKOUT")
    assert "Checkout fails for 12% of requests" in card["text"]
    assert "from Alertmanager" in json.dumps(card["blocks"])

    hooks.clock.at = T0 + timedelta(minutes=5)  # Alertmanager's group_interval: sent again
    assert hooks.post("/hooks/alertmanager", group()) == (
        200,
        {"action": "repeat", "ticket": "SLA-1"},
    )
    assert len(tickets_in(store)) == 1 and len(cards(fake, "C0CHECKOUT")) == 1


def test_resolved_resolves_once_and_a_new_episode_after_close_gets_its_own_ticket(
    hooks, fake, store, policy_book
):
    hooks.post("/hooks/alertmanager", group())
    hooks.clock.at = T0 + timedelta(hours=1)
    resolved = group(status="resolved")
    assert hooks.post("/hooks/alertmanager", resolved) == (
        200,
        {"action": "resolved", "ticket": "SLA-1"},
    )
    assert hooks.post("/hooks/alertmanager", resolved)[1]["action"] == "repeat"
    [ticket] = tickets_in(store)
    assert ticket.status == "resolved" and ticket.resolved_at == T0 + timedelta(hours=1)
    [card] = cards(fake, "C0CHECKOUT")
    notes = [m["text"] for m in fake.thread("C0CHECKOUT", card["ts"])]
    assert notes == ["Alertmanager: the alert has resolved (CheckoutErrors)."]

    # A late copy of the first firing notification (a retry, the other Alertmanager of an HA
    # pair): its alert started before the resolution, so the ticket stays resolved.
    assert hooks.post("/hooks/alertmanager", group())[1] == {"action": "repeat", "ticket": "SLA-1"}
    assert tickets_in(store)[0].status == "resolved"

    # Back within the policy's reopen window: the same ticket reopens.
    hooks.clock.at = T0 + timedelta(hours=2)
    again = group(starts=T0 + timedelta(hours=2))
    assert hooks.post("/hooks/alertmanager", again)[1] == {"action": "reopened", "ticket": "SLA-1"}
    hooks.clock.at = T0 + timedelta(hours=3)
    ended = group(status="resolved", starts=T0 + timedelta(hours=2))
    assert hooks.post("/hooks/alertmanager", ended)[1] == {"action": "resolved", "ticket": "SLA-1"}
    Tickets(store, policy_book, admins={"UADMIN"}).close(
        ChangeRequest("T0001", 1, actor="UADMIN", now=hooks.clock.at)
    )

    # Closed, it cannot change: the next episode opens SLA-2 under the key's second episode,
    # and the group's notifications act on it from then on.
    hooks.clock.at = T0 + timedelta(days=2)
    third = group(starts=T0 + timedelta(days=2))
    assert hooks.post("/hooks/alertmanager", third) == (
        201,
        {"action": "opened", "ticket": "SLA-2"},
    )
    assert tickets_in(store)[1].source_ref == '{}:{alertname="CheckoutErrors"}#2'
    assert hooks.post("/hooks/alertmanager", third)[1] == {"action": "repeat", "ticket": "SLA-2"}
    hooks.clock.at = T0 + timedelta(days=2, hours=1)
    over = group(status="resolved", starts=T0 + timedelta(days=2))
    assert hooks.post("/hooks/alertmanager", over)[1] == {"action": "resolved", "ticket": "SLA-2"}
    assert [t.status for t in tickets_in(store)] == ["closed", "resolved"]


def test_resolved_past_the_reopen_window_the_next_episode_is_a_new_ticket(store, policy_book, fake):
    secpod = "channel: C0SEC\nroutes:\n  - {policy: secpod, severity: critical}\n"
    hooks = Hooks(store, policy_book, fake, secpod)
    assert hooks.post("/hooks/alertmanager", group())[0] == 201
    hooks.clock.at = T0 + timedelta(hours=1)
    hooks.post("/hooks/alertmanager", group(status="resolved"))
    hooks.clock.at = T0 + timedelta(days=4)  # secpod reopens within 3 days
    back = group(starts=T0 + timedelta(days=4))
    assert hooks.post("/hooks/alertmanager", back) == (201, {"action": "opened", "ticket": "SLA-2"})
    assert [t.status for t in tickets_in(store)] == ["resolved", "open"]


def test_an_outage_route_records_downtime_from_the_alert_and_no_ticket(hooks, store, policy_book):
    labels = {"alertname": "DbDown", "service": "db"}
    firing = group(key="db", labels=labels, starts=T0 - timedelta(minutes=7))
    assert hooks.post("/hooks/alertmanager", firing)[1] == {
        "action": "outage_started",
        "ticket": None,
    }
    assert hooks.post("/hooks/alertmanager", firing)[1]["action"] == "repeat"
    hooks.clock.at = T0 + timedelta(minutes=20)
    resolved = group(key="db", labels=labels, status="resolved", starts=T0 - timedelta(minutes=7))
    assert hooks.post("/hooks/alertmanager", resolved)[1]["action"] == "outage_ended"
    assert hooks.post("/hooks/alertmanager", resolved)[1]["action"] == "repeat"
    [record] = Outages(store, policy_book).records(
        ["T0001"], "liveops", T0 - timedelta(1), T0 + timedelta(1)
    )
    assert record.started_at == T0 - timedelta(minutes=7)
    assert record.ended_at == T0 + timedelta(minutes=20)
    assert tickets_in(store) == []


def test_grafana_group_posts_its_recovery_as_an_update(hooks, fake, store):
    labels = {"alertname": "High memory usage", "team": "web"}
    firing = {**group(key="grafana-1", labels=labels, version="1"), "orgId": 1, "state": "alerting"}
    firing["alerts"][0] |= {
        "silenceURL": "",
        "dashboardURL": "",
        "panelURL": "",
        "values": {"B": 4.2},
    }
    assert hooks.post("/hooks/grafana", firing)[0] == 201
    [ticket] = tickets_in(store)
    assert (ticket.source, ticket.severity, ticket.channel) == ("grafana", "p2", "C0ALERTS")
    hooks.clock.at = T0 + timedelta(minutes=10)
    resolved = {**firing, "status": "resolved"}
    resolved["alerts"] = [{**firing["alerts"][0], "status": "resolved"}]
    assert hooks.post("/hooks/grafana", resolved)[1] == {"action": "updated", "ticket": "SLA-1"}
    assert hooks.post("/hooks/grafana", resolved)[1]["action"] == "repeat"
    [ticket] = tickets_in(store)
    assert ticket.status == "open"
    [card] = cards(fake, "C0ALERTS")
    assert len(fake.thread("C0ALERTS", card["ts"])) == 1
    # Grafana's routes are its own: the same labels through Alertmanager match no route.
    status, answer = hooks.post("/hooks/alertmanager", group(key="x", labels=labels))
    assert status == 422 and "no route" in answer["error"] and "team=web" in answer["error"]


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        (f"Basic {base64.b64encode(f'alertmanager:{TOKEN}'.encode()).decode()}", 201),
        ("Basic !!!", 401),
        (f"Bearer {TOKEN}", 201),
    ],
)
def test_credentials_are_a_bearer_token_or_basic_auth_password(hooks, store, auth, status):
    answer = hooks.post("/hooks/alertmanager", group(), auth=auth)
    assert answer[0] == status
    assert len(tickets_in(store)) == (1 if status == 201 else 0)
    if status == 401:
        assert "SLABOT_ALERTMANAGER_TOKEN" in answer[1]["error"]


def test_a_hook_without_its_secret_is_off(store, policy_book, fake):
    # Set but empty (SLABOT_GRAFANA_TOKEN= in .env) is off too: never "no credentials needed".
    hooks = Hooks(store, policy_book, fake, slabot_grafana_token=" ")
    for auth in (None, "Bearer ", "Basic Og=="):  # Og== is ":"
        status, answer = hooks.post("/hooks/grafana", group(version="1"), auth=auth)
        assert status == 404 and "SLABOT_GRAFANA_TOKEN" in answer["error"]
    assert tickets_in(store) == []


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "not a JSON object"),
        (b'{"version": "4"}', 422, "documented shape"),
        (json.dumps(group(version="2")).encode(), 422, "documented shape"),
        (json.dumps(group(version="1")).encode(), 422, "is this Grafana"),
        (
            json.dumps(group(starts=T0 + timedelta(0))).replace("+00:00", "").encode(),
            422,
            "documented shape",
        ),
        (json.dumps({**group(), "alerts": []}).encode(), 422, "documented shape"),
        (
            json.dumps(
                group(labels={"alertname": "X", "service": "checkout", "severity": "info"})
            ).encode(),
            422,
            "severity",
        ),
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(hooks, store, fake, body, status, words):
    got, answer = hooks.post("/hooks/alertmanager", body)
    assert got == status and words in json.dumps(answer)
    assert tickets_in(store) == [] and fake.messages() == []


def test_a_shape_problem_names_its_place(hooks):
    body = group()
    del body["alerts"][0]["startsAt"]
    status, answer = hooks.post("/hooks/alertmanager", body)
    assert status == 422
    assert {"at": "alerts.0.startsAt", "error": "Field required"} in answer["problems"]


def test_only_post_and_bodies_of_sane_size(hooks):
    assert hooks.post("/hooks/alertmanager", b"", method="GET")[0] == 405
    status, answer = hooks.post("/hooks/alertmanager", b"x" * (1024 * 1024 + 1))
    assert status == 413 and "KiB" in answer["error"]


# -- the hooks file ---------------------------------------------------------------------------


def test_hooks_file_problems_name_their_lines(policy_book):
    text = """workspace: T0001
routes:
  - match: {service: checkout}
    policy: liveops
    firing: tickets
    channel: C0CHECKOUT
  - match: {service: db}
    colour: red
"""
    with pytest.raises(HooksError) as caught:
        parse_hooks(text, "hooks.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("hooks.yaml: line 5: routes[0].firing: Input should be 'ticket'")
    assert lines[1] == (
        "hooks.yaml: line 8: routes[1].colour: unknown key (check its spelling against the "
        "README's hooks file)"
    )
    unclosed = r"hooks.yaml: line 2, column 12: not valid YAML: a flow mapping starts here"
    with pytest.raises(HooksError, match=unclosed):
        parse_hooks("routes:\n  - match: {a: b\n", "hooks.yaml")


def test_hooks_file_is_checked_against_the_policies(policy_book):
    hooks = parse_hooks(
        """routes:
  - match: {a: b}
    policy: nosuch
    channel: C0X1
  - match: {a: c}
    policy: liveops
    severity: P9
    channel: C0X1
  - match: {a: d}
    firing: outage
  - match: {a: e}
    policy: liveops
"""
    )
    problems = hooks.check(policy_book)
    assert problems[0].startswith("routes[0].policy: ")
    assert problems[1].startswith("routes[1]: ") and "P9" in problems[1]
    assert problems[2] == "routes[2].policy: an outage is recorded against a policy: name one"
    assert problems[3].startswith("routes[3].channel: no channel")
    assert len(problems) == 4


def test_serve_stops_on_a_hooks_file_it_cannot_use_saying_where(tmp_path, fake):
    (tmp_path / "hooks.yaml").write_text(
        "channel: C0ALERTS\nroutes:\n  - match: {a: b}\n    policy: liveops\n    severity: P9\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "slabot", "serve", "--no-clock", "--port", str(free_port())],
        env=clean_env(
            SLACK_API_URL=fake.url,
            SLACK_BOT_TOKEN="xoxb-test-0123456789",
            SLACK_SIGNING_SECRET="s",
            DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
            SLABOT_POLICIES=str(POLICIES),
            SLABOT_HOOKS=str(tmp_path / "hooks.yaml"),
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"slabot serve: {tmp_path / 'hooks.yaml'}: routes[0]: ")
    assert "P9" in line
