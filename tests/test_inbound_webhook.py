"""The generic signed webhook (``/hooks/inbound``) and the Standard Webhooks signatures it
shares with outbound pages: the published test vector, the time window, replays; then what a
helpdesk's messages do to tickets, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.conversation import POLICIES, clean_env, free_port
from support.conversation import SECRET as SIGNING_SECRET
from support.fakeslack import FakeSlack
from support.hooks import HOOKS, T0, Hooks, cards, tickets_in
from support.processes import Process, wait_until

from slabot import signatures
from slabot.signatures import SignatureError, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks specification's
VECTOR = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')


def test_the_specification_test_vector():
    assert (
        signatures.signature(SECRET, *VECTOR) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    headers = signatures.headers(SECRET, *VECTOR)
    assert verify(SECRET, headers, VECTOR[2], VECTOR[1] + 299) == VECTOR[0]


def test_a_rotating_secret_may_send_several_signatures():
    headers = signatures.headers(SECRET, *VECTOR)
    headers["webhook-signature"] = "v1,bm9wZQ== " + headers["webhook-signature"]
    assert verify(SECRET, headers, VECTOR[2], VECTOR[1]) == VECTOR[0]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"webhook-id": ""}, "not signed"),
        ({"webhook-signature": ""}, "not signed"),
        ({"webhook-timestamp": "soon"}, "not a number"),
        ({"webhook-timestamp": str(VECTOR[1] - 301)}, "more than 5 minutes"),
        ({"webhook-timestamp": str(VECTOR[1] + 301)}, "more than 5 minutes"),
        ({"webhook-id": "msg_other"}, "does not match"),  # the id is signed
        ({"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"}, "does not match"),
    ],
)
def test_what_is_not_proven_is_refused_saying_why(change, words):
    headers = signatures.headers(SECRET, *VECTOR) | change
    with pytest.raises(SignatureError, match=words):
        verify(SECRET, headers, VECTOR[2], VECTOR[1])


def test_a_changed_body_or_another_secret_does_not_verify():
    headers = signatures.headers(SECRET, *VECTOR)
    with pytest.raises(SignatureError):
        verify(SECRET, headers, b'{"test": 2432232315}', VECTOR[1])
    with pytest.raises(SignatureError):
        verify("whsec_c2Vjb25kLXNlY3JldA==", headers, VECTOR[2], VECTOR[1])
    # A secret typed by hand (not whsec_<base64>) is its own bytes.
    typed = signatures.headers("typed by hand", *VECTOR)
    assert verify("typed by hand", typed, VECTOR[2], VECTOR[1]) == VECTOR[0]


# -- the route --------------------------------------------------------------------------------

HELPDESK = "whsec_aGVscGRlc2stc2lnbmluZy1zZWNyZXQ="


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def hooks(store, policy_book, fake: FakeSlack) -> Hooks:
    return Hooks(store, policy_book, fake, slabot_inbound_secret=HELPDESK)


def send(hooks: Hooks, message: dict, message_id: str, at_offset: int = 0, secret: str = HELPDESK):
    body = json.dumps(message).encode()
    stamp = int(hooks.clock().timestamp()) + at_offset
    signed = signatures.headers(secret, message_id, stamp, body)
    return hooks.post("/hooks/inbound", body, auth=None, headers=signed)


ZENDESK = {
    "source": "zendesk",
    "ref": "48213",
    "title": "Checkout fails for EU customers",
    "description": "Customer reports card payments failing since 09:00",
    "severity": "P1",
    "policy": "liveops",
    "reported_at": (T0 - timedelta(minutes=45)).isoformat(),
}


def test_a_helpdesk_opens_updates_and_resolves_its_ticket(hooks, store, fake):
    assert send(hooks, ZENDESK, "msg_1") == (201, {"action": "opened", "ticket": "SLA-1"})
    [ticket] = tickets_in(store)
    assert (ticket.source, ticket.source_ref, ticket.reporter) == ("zendesk", "48213", "zendesk")
    assert ticket.reported_at == T0 - timedelta(minutes=45) and ticket.channel == "C0ALERTS"
    [card] = cards(fake, "C0ALERTS")
    assert "Checkout fails for EU customers" in card["text"]

    # The same message again (a retry, or a replay inside the five minutes): no second ticket.
    assert send(hooks, ZENDESK, "msg_1")[1] == {"action": "repeat", "ticket": "SLA-1"}
    # Another message about the same Zendesk ticket finds it by its reference.
    assert send(hooks, ZENDESK, "msg_2")[1] == {"action": "repeat", "ticket": "SLA-1"}

    hooks.clock.at = T0 + timedelta(minutes=10)
    update = {"action": "update", "source": "zendesk", "ref": "48213", "text": "Logs received"}
    assert send(hooks, update, "msg_3") == (200, {"action": "updated", "ticket": "SLA-1"})
    assert send(hooks, update, "msg_3")[1]["action"] == "repeat"  # posted once
    resolve = {"action": "resolve", "source": "zendesk", "ref": "48213", "text": "Solved"}
    assert send(hooks, resolve, "msg_4") == (200, {"action": "resolved", "ticket": "SLA-1"})
    [ticket] = tickets_in(store)
    assert ticket.status == "resolved"
    notes = [m["text"] for m in fake.thread("C0ALERTS", card["ts"])]
    assert notes == ["zendesk 48213: Logs received", "zendesk 48213: Solved"]


@pytest.mark.parametrize(
    ("message", "offset", "secret", "status", "words"),
    [
        (ZENDESK, 0, "whsec_d3Jvbmc=", 401, "does not match"),
        (ZENDESK, -600, HELPDESK, 401, "5 minutes"),  # a captured message, sent later
        ({**ZENDESK, "source": "alertmanager"}, 0, HELPDESK, 422, "its own door"),
        ({**ZENDESK, "title": " "}, 0, HELPDESK, 422, "needs a title"),
        ({**ZENDESK, "severity": "P9"}, 0, HELPDESK, 422, "P9"),
        ({**ZENDESK, "reported_at": "2026-11-23T09:00:00"}, 0, HELPDESK, 422, "timezone"),
        ({**ZENDESK, "colour": "red"}, 0, HELPDESK, 422, "colour"),
        (
            {"action": "update", "ref": "1", "source": "jira", "text": "x"},
            0,
            HELPDESK,
            404,
            "open it",
        ),
    ],
)
def test_a_refused_message_says_why_and_changes_nothing(
    hooks, store, fake, message, offset, secret, status, words
):
    got, answer = send(hooks, message, "msg_x", offset, secret)
    assert got == status and words in json.dumps(answer)
    assert tickets_in(store) == [] and fake.messages() == []


def test_the_message_names_its_channel_or_the_hooks_file_does(store, policy_book, fake):
    hooks = Hooks(store, policy_book, fake, "routes: []\n", slabot_inbound_secret=HELPDESK)
    status, answer = send(hooks, ZENDESK, "msg_1")
    assert status == 422 and "no channel for the ticket" in answer["error"]
    assert send(hooks, {**ZENDESK, "channel": "C0HELP"}, "msg_2")[0] == 201
    assert [t.channel for t in tickets_in(store)] == ["C0HELP"]


def test_the_webhook_is_off_without_its_secret(store, policy_book, fake):
    hooks = Hooks(store, policy_book, fake)
    status, answer = send(hooks, ZENDESK, "msg_1")
    assert status == 404 and "SLABOT_INBOUND_SECRET" in answer["error"]
    assert tickets_in(store) == []


# -- senders that cannot sign Standard Webhooks -----------------------------------------------


def zendesk_headers(secret: str, stamp: str, body: bytes, invocation: str) -> dict[str, str]:
    """What Zendesk sends: base64 HMAC-SHA256 of the timestamp followed by the body."""
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Invocation-Id": invocation,
    }


def test_zendesk_signs_in_its_own_scheme(store, policy_book, fake):
    hooks = Hooks(store, policy_book, fake, slabot_zendesk_secret="zd-secret")
    body = json.dumps(ZENDESK).encode()
    stamp = hooks.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    signed = zendesk_headers("zd-secret", stamp, body, "inv-1")
    assert hooks.post("/hooks/inbound", body, auth=None, headers=signed)[0] == 201
    update = json.dumps({"action": "update", "source": "zendesk", "ref": "48213", "text": "hi"})
    signed = zendesk_headers("zd-secret", stamp, update.encode(), "inv-2")
    assert hooks.post("/hooks/inbound", update.encode(), auth=None, headers=signed)[0] == 200
    # Zendesk's retry of the same invocation: the update is posted once.
    answer = hooks.post("/hooks/inbound", update.encode(), auth=None, headers=signed)
    assert answer[1]["action"] == "repeat"
    # Captured and sent again ten minutes later: refused.
    hooks.clock.at += timedelta(minutes=10)
    status, answer = hooks.post("/hooks/inbound", update.encode(), auth=None, headers=signed)
    assert status == 401 and "5 minutes" in answer["error"]
    wrong = zendesk_headers("other", hooks.clock().strftime("%Y-%m-%dT%H:%M:%SZ"), body, "inv-3")
    status, answer = hooks.post("/hooks/inbound", body, auth=None, headers=wrong)
    assert status == 401 and "SLABOT_ZENDESK_SECRET" in answer["error"]


def test_a_sender_that_cannot_sign_uses_the_bearer_token(store, policy_book, fake):
    hooks = Hooks(store, policy_book, fake, slabot_inbound_token="jira-token-0123456789")
    jira = {**ZENDESK, "source": "jira", "ref": "SUP-7"}
    assert hooks.post("/hooks/inbound", jira, auth="Bearer wrong")[0] == 401
    assert hooks.post("/hooks/inbound", jira, auth=None)[0] == 401
    assert tickets_in(store) == []
    assert hooks.post("/hooks/inbound", jira, auth="Bearer jira-token-0123456789")[0] == 201
    # Without a message id, the ticket's source and reference still make a repeat harmless.
    answer = hooks.post("/hooks/inbound", jira, auth="Bearer jira-token-0123456789")
    assert answer == (200, {"action": "repeat", "ticket": "SLA-1"})


# -- over real HTTP, against a real `slabot serve` --------------------------------------------


def test_a_helpdesk_over_http_against_slabot_serve(store, tmp_path):
    """The same conversation as above, end to end: a real ``slabot serve`` process with the
    hooks file and the secret in its environment, Standard Webhooks signatures made with the
    real clock, the card at the fake Slack."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp_path / "hooks.yaml").write_text(HOOKS)
    opened = {**ZENDESK, "reported_at": (datetime.now(UTC) - timedelta(minutes=45)).isoformat()}
    with FakeSlack(clock=time.time) as fake:
        env = clean_env(
            SLACK_API_URL=fake.url,
            SLACK_BOT_TOKEN="xoxb-test-inbound",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            DATABASE_URL=store.url.render_as_string(hide_password=False),
            SLABOT_POLICIES=str(POLICIES),
            SLABOT_HOOKS=str(tmp_path / "hooks.yaml"),
            SLABOT_INBOUND_SECRET=HELPDESK,
        )
        serve = Process(
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            tmp_path,  # its clock posts
        )
        try:
            wait_until("serve to answer", lambda: _post(base, {}, "msg_0")[0] != 0, serve.output)
            assert _post(base, opened, "msg_1") == (201, {"action": "opened", "ticket": "SLA-1"})
            wait_until("the card", lambda: cards(fake, "C0ALERTS"), serve.output)
            assert _post(base, opened, "msg_1") == (200, {"action": "repeat", "ticket": "SLA-1"})
            resolve = {"action": "resolve", "source": "zendesk", "ref": "48213", "text": "Solved"}
            assert _post(base, resolve, "msg_2") == (200, {"action": "resolved", "ticket": "SLA-1"})
            status, answer = _post(base, opened, "msg_3", secret="whsec_d3Jvbmc=")
            assert status == 401 and "does not match" in answer["error"]
        finally:
            serve.stop()

    [ticket] = tickets_in(store)
    assert (ticket.source, ticket.source_ref, ticket.status) == ("zendesk", "48213", "resolved")
    assert ticket.reported_at == datetime.fromisoformat(opened["reported_at"])
    [card] = cards(fake, "C0ALERTS")
    assert "Checkout fails for EU customers" in card["text"]


def _post(base: str, message: dict, message_id: str, secret: str = HELPDESK) -> tuple[int, Any]:
    """POST a signed message to the webhook over HTTP: (status, JSON answer); 0 when nothing
    answers yet."""
    body = json.dumps(message).encode()
    signed = signatures.headers(secret, message_id, int(time.time()), body)
    request = urllib.request.Request(
        f"{base}/hooks/inbound",
        data=body,
        method="POST",
        headers={**signed, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except (urllib.error.URLError, ConnectionError):
        return 0, None
