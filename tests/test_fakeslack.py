"""The stand-ins for Slack: the fake Web API (`support.fakeslack`) and signed requests.

They stand in for Slack in the end-to-end tests, so they are checked against Slack's own
published signing example and against the real slack_sdk and slack_bolt.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.request.internals import extract_team_id, extract_user_id, parse_body
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    FixedValueRetryIntervalCalculator,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from support import signed
from support.fakeslack import FakeSlack, block_kit_errors, view_errors
from support.signed import EXAMPLE_BODY, EXAMPLE_SECRET, EXAMPLE_SIGNATURE, EXAMPLE_TIMESTAMP

SECRET = "test-signing-secret"
CARD = [
    {"type": "header", "text": {"type": "plain_text", "text": "SLA-1 · P1 · Checkout down"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Status:* open"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "ack",
                "value": "1",
                "text": {"type": "plain_text", "text": "Acknowledge"},
            }
        ],
    },
]


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])


# -- signing ---------------------------------------------------------------------------------


def test_sign_reproduces_slacks_published_example() -> None:
    assert signed.sign(EXAMPLE_SECRET, EXAMPLE_TIMESTAMP, EXAMPLE_BODY) == EXAMPLE_SIGNATURE
    assert signed.sign(EXAMPLE_SECRET, str(EXAMPLE_TIMESTAMP), EXAMPLE_BODY.encode()) == (
        EXAMPLE_SIGNATURE
    )


def test_slack_sdk_verifier_accepts_the_published_example_inside_the_replay_window() -> None:
    headers = {
        "X-Slack-Request-Timestamp": str(EXAMPLE_TIMESTAMP),
        "X-Slack-Signature": EXAMPLE_SIGNATURE,
    }
    verifier = SignatureVerifier(EXAMPLE_SECRET, clock=FixedClock(EXAMPLE_TIMESTAMP + 299))
    assert verifier.generate_signature(timestamp=str(EXAMPLE_TIMESTAMP), body=EXAMPLE_BODY) == (
        EXAMPLE_SIGNATURE
    )
    assert verifier.is_valid_request(EXAMPLE_BODY, headers)
    # Our headers, for the same body and time, are the ones Slack sent.
    ours = signed.signed_headers(EXAMPLE_SECRET, EXAMPLE_BODY, timestamp=EXAMPLE_TIMESTAMP)
    assert ours["X-Slack-Signature"] == EXAMPLE_SIGNATURE
    assert ours["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid_request(EXAMPLE_BODY, ours)

    stale = SignatureVerifier(EXAMPLE_SECRET, clock=FixedClock(EXAMPLE_TIMESTAMP + 301))
    assert not stale.is_valid_request(EXAMPLE_BODY, headers)
    assert not verifier.is_valid_request(EXAMPLE_BODY.replace("text=", "text=x"), headers)
    assert not SignatureVerifier(
        "another-secret", clock=FixedClock(EXAMPLE_TIMESTAMP)
    ).is_valid_request(EXAMPLE_BODY, headers)


def test_form_encoding_matches_slacks() -> None:
    # Slack's example body is what urlencode makes of its fields: "/" as %2F, empty text kept.
    assert urlencode(parse_qsl(EXAMPLE_BODY, keep_blank_values=True)) == EXAMPLE_BODY


def test_signed_headers_carry_retries_and_pick_the_content_type() -> None:
    headers = signed.signed_headers(
        SECRET, '{"type":"event_callback"}', retry_num=1, retry_reason="http_timeout"
    )
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Slack-Retry-Num"] == "1"
    assert headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert abs(int(headers["X-Slack-Request-Timestamp"]) - time.time()) < 5
    assert "X-Slack-Retry-Num" not in signed.signed_headers(SECRET, "a=b")


# -- request builders, as Bolt reads them ----------------------------------------------------


def test_slash_command_has_slacks_fields_in_slacks_order() -> None:
    body = signed.slash_command(
        "open P1 <@U9> *bold* ünïcode & = +", user_id="U0042", channel_id="C0099"
    )
    fields = parse_qsl(body, keep_blank_values=True)
    assert [k for k, _ in fields] == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    parsed = parse_body(body, "application/x-www-form-urlencoded")
    assert parsed["text"] == "open P1 <@U9> *bold* ünïcode & = +"
    assert parsed["command"] == "/sla"
    assert (extract_team_id(parsed), extract_user_id(parsed)) == ("T0001", "U0042")
    assert parsed["response_url"].startswith("http://127.0.0.1:9/")
    assert parsed["trigger_id"] != parse_body(signed.slash_command("x"), None)["trigger_id"]


def test_interaction_payloads_parse_like_slacks() -> None:
    clicked = signed.block_actions(
        [signed.button("ack", "42")],
        team_id="T0002",
        user_id="U0003",
        message_ts="1700000000.000100",
    )
    assert clicked.startswith("payload=")
    payload = parse_body(clicked, "application/x-www-form-urlencoded")
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0001",
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == "1700000000.000100"
    assert payload["actions"][0]["action_id"] == "ack"
    assert (extract_team_id(payload), extract_user_id(payload)) == ("T0002", "U0003")

    ephemeral = parse_body(signed.block_actions([signed.select("sev", "P2")]), None)
    assert ephemeral["container"]["is_ephemeral"] is True and "message" not in ephemeral
    assert ephemeral["actions"][0]["selected_option"]["value"] == "P2"

    home = parse_body(signed.block_actions([signed.button("show", "7")], view={"id": "V1"}), None)
    assert home["container"] == {"type": "view", "view_id": "V1"} and home["view"]["type"] == "home"

    submitted = parse_body(
        signed.view_submission(
            "open_ticket",
            {"title": {"value": signed.plain_text_value("Checkout down")}},
            private_metadata='{"channel":"C0001"}',
        ),
        None,
    )
    assert submitted["type"] == "view_submission"
    assert submitted["view"]["callback_id"] == "open_ticket"
    assert submitted["view"]["state"]["values"]["title"]["value"]["value"] == "Checkout down"
    assert json.loads(submitted["view"]["private_metadata"]) == {"channel": "C0001"}

    event = parse_body(signed.event_callback(signed.app_home_opened("U0005")), "application/json")
    assert event["type"] == "event_callback" and event["event"]["type"] == "app_home_opened"
    assert (extract_team_id(event), extract_user_id(event)) == ("T0001", "U0005")


# -- the fake Web API through slack_sdk ------------------------------------------------------


def test_web_client_calls_are_answered_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    me = client.auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T0001", "UBOT", "B0001")

    posted = client.chat_postMessage(channel="C0001", text="SLA-1 opened", blocks=CARD)
    assert posted["ok"] and posted["channel"] == "C0001"
    assert posted["message"]["blocks"] == CARD
    later = client.chat_postMessage(channel="C0001", text="reply", thread_ts=posted["ts"])
    assert float(later["ts"]) > float(posted["ts"])

    updated = client.chat_update(
        channel="C0001", ts=posted["ts"], text="SLA-1 acked", blocks=CARD[:2]
    )
    assert (updated["channel"], updated["ts"]) == ("C0001", posted["ts"])

    opened = client.views_open(
        trigger_id="1.2.abc",
        view={
            "type": "modal",
            "callback_id": "open_ticket",
            "title": {"type": "plain_text", "text": "Open a ticket"},
            "submit": {"type": "plain_text", "text": "Open"},
            "blocks": CARD[1:2],
        },
    )
    assert opened["view"]["id"].startswith("V") and opened["view"]["callback_id"] == "open_ticket"

    [post, _] = fake.calls_to("chat.postMessage")
    assert post.args["blocks"] == CARD  # decoded objects, not a JSON string
    assert post.token == "xoxb-test" and post.headers["authorization"] == "Bearer xoxb-test"
    [update] = fake.wait_for("chat.update")
    assert update.args["blocks"] == CARD[:2] and update.ok
    assert fake.calls_to("views.open")[0].args["view"]["callback_id"] == "open_ticket"
    assert [c.method for c in fake.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
        "views.open",
    ]
    assert fake.message("C0001", posted["ts"])["text"] == "SLA-1 acked"
    assert [m["text"] for m in fake.thread("C0001", posted["ts"])] == ["reply"]


def test_form_bodies_decode_json_values_but_keep_text_as_typed(
    fake: FakeSlack, client: WebClient
) -> None:
    client.api_call(
        "chat.postMessage",
        params={"channel": "C0001", "text": '["not", "blocks"]', "blocks": json.dumps(CARD)},
    )
    [call] = fake.calls_to("chat.postMessage")
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.args["blocks"] == CARD
    assert call.args["text"] == '["not", "blocks"]'


def test_other_methods_answer_plausibly(fake: FakeSlack, client: WebClient) -> None:
    assert client.conversations_open(users="U0001")["channel"]["id"] == "D0001"
    assert client.users_info(user="U0001")["user"]["tz"] == "Europe/London"
    fake.users["U0002"] = {"tz": "Asia/Kolkata"}
    assert client.users_info(user="U0002")["user"]["tz"] == "Asia/Kolkata"
    assert client.chat_postEphemeral(channel="C0001", user="U0001", text="only you")["message_ts"]
    link = client.chat_getPermalink(channel="C0001", message_ts="1700000000.000100")["permalink"]
    assert link.endswith("/archives/C0001/p1700000000000100")
    assert client.reactions_add(channel="C0001", timestamp="1700000000.000100", name="eyes")["ok"]
    home = {"type": "home", "blocks": CARD[:2]}
    published = client.views_publish(user_id="U0001", view=home)
    assert fake.home_view("U0001")["blocks"] == CARD[:2]
    again = client.views_publish(user_id="U0001", view=home, hash=published["view"]["hash"])
    assert again["view"]["id"] == published["view"]["id"]
    with pytest.raises(SlackApiError) as stale:
        client.views_update(
            view_id=published["view"]["id"], view=home, hash=published["view"]["hash"]
        )
    assert stale.value.response["error"] == "hash_conflict"
    uploaded = client.files_upload_v2(channel="C0001", content="a,b\n1,2\n", filename="report.csv")
    assert uploaded["file"]["id"].startswith("F")
    assert [c.method for c in fake.calls[-3:]] == [
        "files.getUploadURLExternal",
        "file.upload",
        "files.completeUploadExternal",
    ]


def test_files_upload_v2_runs_its_three_steps_and_keeps_the_bytes(
    fake: FakeSlack, client: WebClient
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # binary: every byte value
    uploaded = client.files_upload_v2(
        channel="C0042",
        content=png,
        filename="sla-2026-11.png",
        title="SLA 2026-11",
        alt_txt="two charts",
        initial_comment="the chart",
    )
    step1, step2, step3 = fake.calls[-3:]
    assert step1.method == "files.getUploadURLExternal" and step1.args["length"] == str(len(png))
    assert step2.method == "file.upload" and step2.args["content"] == png
    assert step3.method == "files.completeUploadExternal"
    assert step3.args["channel_id"] == "C0042"
    [shared] = fake.files("C0042")
    assert shared["id"] == uploaded["file"]["id"]
    assert (shared["content"], shared["filename"], shared["title"]) == (
        png,
        "sla-2026-11.png",
        "SLA 2026-11",
    )
    assert (shared["alt_txt"], shared["initial_comment"]) == ("two charts", "the chart")
    [message] = fake.messages("C0042")
    assert message["files"][0]["id"] == shared["id"] and message["text"] == "the chart"
    assert fake.files("C0001") == []


def test_uploads_are_refused_as_slack_would(fake: FakeSlack, client: WebClient) -> None:
    answer = client.files_getUploadURLExternal(filename="a.png", length=10)
    url, file_id = answer["upload_url"], answer["file_id"]

    def upload(to: str, data: bytes) -> int:
        request = urllib.request.Request(to, data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert upload(url, b"short") == 400  # not the length declared
    assert upload(url.replace(file_id, "FNEVER"), b"0123456789") == 404
    with pytest.raises(SlackApiError) as missing:  # completed before its bytes arrived
        client.files_completeUploadExternal(files=[{"id": file_id}], channel_id="C1")
    assert missing.value.response["error"] == "file_not_found"
    assert upload(url, b"0123456789") == 200
    client.files_completeUploadExternal(files=[{"id": file_id}], channel_id="C1")
    assert [f["content"] for f in fake.files()] == [b"0123456789"]


def test_history_and_replies_read_by_time_with_metadata_on_request() -> None:
    now = [1_800_000_000.0]
    with FakeSlack(clock=lambda: now[0]) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        meta = {"event_type": "slabot_timer", "event_payload": {"timer": "1:page:x:0"}}
        parent = client.chat_postMessage(channel="C1", text="card")["ts"]
        assert parent == "1800000000.000000"
        same_instant = client.chat_postMessage(channel="C1", text="reply", thread_ts=parent)
        assert float(same_instant["ts"]) > float(parent)  # unique, in order
        now[0] += 10
        client.chat_postMessage(channel="C1", text="later", metadata=meta)

        history = client.conversations_history(channel="C1")["messages"]
        assert [m["text"] for m in history] == ["later", "card"]  # newest first, no replies
        assert "metadata" not in history[0]
        recent = client.conversations_history(
            channel="C1", oldest="1800000005", include_all_metadata=True
        )["messages"]
        assert [m["metadata"] for m in recent] == [meta]
        replies = client.conversations_replies(channel="C1", ts=parent)["messages"]
        assert [m["text"] for m in replies] == ["card", "reply"]
        paged = client.conversations_history(channel="C1", limit=1)
        assert paged["has_more"] and paged["response_metadata"]["next_cursor"] == "1"


def test_block_kit_limits_are_enforced_like_slack(client: WebClient) -> None:
    long_header = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    with pytest.raises(SlackApiError) as rejected:
        client.chat_postMessage(channel="C0001", text="t", blocks=long_header)
    assert rejected.value.response["error"] == "invalid_blocks"
    assert rejected.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert block_kit_errors([{"type": "divider"}] * 51) == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert block_kit_errors([{"type": "divider"}] * 51, max_blocks=100) == []
    assert block_kit_errors(CARD) == []
    title = {"type": "plain_text", "text": "A title longer than 24 chars"}
    assert view_errors({"type": "modal", "title": title, "blocks": []}) == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def test_overrides_answer_instead_of_the_builtin(fake: FakeSlack, client: WebClient) -> None:
    fake.respond("chat.update", {"ok": False, "error": "message_not_found"}, times=1)
    with pytest.raises(SlackApiError) as gone:
        client.chat_update(channel="C0001", ts="1.2", text="x")
    assert gone.value.response["error"] == "message_not_found"
    assert client.chat_update(channel="C0001", ts="1.2", text="x")["ok"]
    fake.respond(
        "users.lookupByEmail", lambda args: {"user": {"id": "U0777", "email": args["email"]}}
    )
    assert client.users_lookupByEmail(email="a@example.com")["user"]["id"] == "U0777"


# -- failures --------------------------------------------------------------------------------


def test_retry_handlers_ride_out_a_429_and_two_500s(fake: FakeSlack) -> None:
    client = WebClient(
        token="xoxb-test",
        base_url=fake.url,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            ),
        ],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    assert client.chat_postMessage(channel="C0001", text="one")["ok"]
    limited, ok = fake.calls_to("chat.postMessage")
    assert (limited.status, limited.response, limited.ok) == (
        429,
        {"ok": False, "error": "ratelimited"},
        False,
    )
    assert ok.status == 200 and ok.ok
    assert ok.at - limited.at >= 1.0  # Retry-After honoured

    fake.reset()
    fake.fail_next(None, status=500, times=2)
    assert client.chat_update(channel="C0001", ts="1700000000.000100", text="two")["ok"]
    assert [c.status for c in fake.calls_to("chat.update")] == [500, 500, 200]
    assert [c.ok for c in fake.calls] == [False, False, True]


def test_without_retry_handlers_the_failure_reaches_the_caller(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail_next(status=429, retry_after=1)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C0001", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    fake.fail_for(0.3, status=503)
    with pytest.raises(SlackApiError) as down:
        client.chat_postMessage(channel="C0001", text="x")
    assert down.value.response.status_code == 503
    time.sleep(0.35)
    assert client.chat_postMessage(channel="C0001", text="x")["ok"]
    assert [c.status for c in fake.calls] == [429, 503, 200]


def test_bad_tokens_and_unknown_methods(fake: FakeSlack) -> None:
    for token in ("xoxp-user-token", "nonsense", None):
        with pytest.raises(SlackApiError) as denied:
            WebClient(token=token, base_url=fake.url).chat_postMessage(channel="C0001", text="x")
        assert denied.value.response["error"] == "invalid_auth"
    form_token = WebClient(base_url=fake.url).api_call("auth.test", params={"token": "xoxb-form"})
    assert form_token["ok"] and fake.calls[-1].token == "xoxb-form"
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token="xoxb-test", base_url=fake.url).api_call("chat.teleport")
    assert unknown.value.response["error"] == "unknown_method"


def _exchange(fake: FakeSlack, *requests: bytes) -> bytes:
    """Raw requests on one connection; everything the fake sent until it closed or went quiet."""
    host, port = urlsplit(fake.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"".join(requests))
        sock.settimeout(0.5)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
        return received


def _post(body: bytes, *headers: bytes) -> bytes:
    head = [b"POST /api/auth.test HTTP/1.1", b"Host: slack", *headers]
    head.append(b"content-type: application/json")  # names are case-insensitive
    head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def test_raw_http_keeps_the_connection_reads_headers_and_refuses_bad_lines(
    fake: FakeSlack,
) -> None:
    """The fake reads requests itself (not through the email package): two requests on one
    connection both answered, ``Connection: close`` honoured, a bad line answered 400."""
    two = _exchange(fake, _post(b"{}", b"authorization: Bearer xoxb-a"), _post(b"{}"))
    assert two.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert b'"ok":true' in two and b'"error":"invalid_auth"' in two  # the second: no token
    assert fake.calls[-2].token == "xoxb-a"

    closed = _exchange(fake, _post(b"{}", b"Connection: close"), _post(b"{}"))
    assert closed.count(b"HTTP/1.1 200 OK") == 1  # the second request is never read

    assert _exchange(fake, _post(b"{}", b"no colon here")).startswith(b"HTTP/1.1 400 ")
    assert b"Error code: 400" in _exchange(fake, b"NONSENSE\r\n\r\n")  # as http.server does
    assert len(fake.calls) == 3  # the refused requests reached no method


def test_delay_makes_answers_slow(fake: FakeSlack, client: WebClient) -> None:
    fake.delay(0.2, "auth.test")
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.2
    fake.delay(0, "auth.test")
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started < 0.2


def test_the_per_channel_limit_answers_429_past_the_burst_channel_by_channel(
    fake: FakeSlack, client: WebClient
) -> None:
    """One message a second per channel, three at once: the fourth to a channel is refused
    (and not posted) with a Retry-After in whole seconds, while another channel still has
    its own burst; a second later, the channel takes one more."""
    seconds = [1_800_000_000.0]
    fake.limit_posts(1, burst=3, clock=lambda: seconds[0])

    for n in range(3):
        assert client.chat_postMessage(channel="C0001", text=f"a{n}")["ok"]
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C0001", text="a3")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert client.chat_postMessage(channel="C0002", text="b0")["ok"]
    assert client.chat_update(channel="C0001", ts="1.0", text="updates are not limited")["ok"]
    seconds[0] += 1
    assert client.chat_postMessage(channel="C0001", text="a3")["ok"]
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0001", text="a4")

    assert [m["text"] for m in fake.messages("C0001") if "a" in m["text"][:1]] == [
        "a0",
        "a1",
        "a2",
        "a3",
    ]
    fake.reset()  # off again
    for n in range(5):
        assert client.chat_postMessage(channel="C0001", text=f"c{n}")["ok"]


def test_a_hung_call_is_performed_at_once_and_answered_only_once_healed(
    fake: FakeSlack,
) -> None:
    fake.hang(channel="C0002")
    fake.fail_next("chat.postMessage", status=429, retry_after=9, channel="C0003")
    impatient = WebClient(token="xoxb-test", base_url=fake.url, timeout=0.2, retry_handlers=[])
    assert impatient.chat_postMessage(channel="C0001", text="other channels answer")["ok"]
    with pytest.raises(OSError):  # the client gave up waiting…
        impatient.chat_postMessage(channel="C0002", text="hung")
    assert [m["text"] for m in fake.messages("C0002")] == ["hung"]  # …but it was posted
    with pytest.raises(SlackApiError) as limited:
        impatient.chat_postMessage(channel="C0003", text="limited")
    assert limited.value.response.headers["Retry-After"] == "9"
    assert impatient.chat_postMessage(channel="C0003", text="once")["ok"]

    patient = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    answered = threading.Event()
    threading.Thread(
        target=lambda: answered.set() if patient.conversations_history(channel="C0002") else None
    ).start()
    fake.wait_for("conversations.history")
    assert not answered.wait(0.2)  # hung, until…
    fake.heal()
    assert answered.wait(5)
    assert impatient.chat_postMessage(channel="C0002", text="healed")["ok"]


def test_wait_for_times_out_saying_what_arrived(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C0001", text="x")
    started = time.monotonic()
    with pytest.raises(AssertionError) as timed_out:
        fake.wait_for("chat.update", timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 1
    message = str(timed_out.value)
    assert "1 call(s) to chat.update, got 0" in message
    assert "chat.postMessage → 200 ok (channel='C0001')" in message


def test_wait_for_wakes_when_calls_arrive_from_another_thread(
    fake: FakeSlack, client: WebClient
) -> None:
    threading.Timer(0.1, lambda: client.chat_postMessage(channel="C0001", text="late")).start()
    [call] = fake.wait_for("chat.postMessage", timeout=3)
    assert call.args["text"] == "late"


# -- end to end: a Bolt app over real HTTP, signed requests in, Web API calls out ------------


def _serve(app: App) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            response = app.dispatch(BoltRequest(body=body, headers=dict(self.headers.items())))
            data = (response.body or "").encode()
            self.send_response(response.status)
            for name, values in response.headers.items():
                for value in values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/slack/events"


def test_bolt_app_end_to_end(fake: FakeSlack) -> None:
    app = App(
        signing_secret=SECRET,
        client=WebClient(token="xoxb-test", base_url=fake.url),
    )
    retries: list[str | None] = []

    @app.command("/sla")
    def sla(ack, body, client, respond, request) -> None:
        ack()
        retries.append(request.headers.get("x-slack-retry-num", [None])[0])
        client.chat_postMessage(channel=body["channel_id"], text=body["text"], blocks=CARD)
        respond("opened")

    @app.action("ack")
    def acknowledge(ack, body, client) -> None:
        ack()
        client.chat_update(
            channel=body["channel"]["id"], ts=body["container"]["message_ts"], text="acked"
        )

    @app.view("open_ticket")
    def submitted(ack, view) -> None:
        ack(
            response_action="errors",
            errors={"title": view["state"]["values"]["title"]["value"]["value"]},
        )

    @app.event("app_home_opened")
    def home(event, client) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": CARD[:2]})

    server, url = _serve(app)
    try:
        assert fake.calls[0].method == "auth.test"  # Bolt checked its token against the fake

        command = signed.slash_command("open P1 checkout", response_url=fake.response_url("c1"))
        assert signed.post(url, command, SECRET)[0] == 200
        [card] = fake.wait_for("chat.postMessage")
        [reply] = fake.wait_for("response_url")
        assert card.args["text"] == "open P1 checkout" and reply.args["text"] == "opened"
        assert reply.path.endswith("/c1")
        status, _, _ = signed.post(url, command, SECRET, retry_num=1, retry_reason="http_timeout")
        assert status == 200
        fake.wait_for("chat.postMessage", count=2)
        assert retries == [None, "1"]

        assert signed.post(url, command, "wrong-secret")[0] == 401
        assert signed.post(url, command, SECRET, timestamp=int(time.time()) - 301)[0] == 401

        ts = card.response["ts"]
        clicked = signed.block_actions([signed.button("ack", "1")], message_ts=ts)
        assert signed.post(url, clicked, SECRET)[0] == 200
        [update] = fake.wait_for("chat.update")
        assert (update.args["channel"], update.args["ts"]) == ("C0001", ts)

        form = signed.view_submission(
            "open_ticket", {"title": {"value": signed.plain_text_value("too short")}}
        )
        status, headers, text = signed.post(url, form, SECRET)
        assert status == 200 and headers["content-type"].startswith("application/json")
        assert json.loads(text) == {"response_action": "errors", "errors": {"title": "too short"}}

        opened = signed.event_callback(signed.app_home_opened("U0009"))
        assert signed.post(url, opened, SECRET)[0] == 200
        fake.wait_for("views.publish")
        assert fake.home_view("U0009")["blocks"] == CARD[:2]
        assert fake.errors == []
    finally:
        server.shutdown()
        server.server_close()


def test_user_groups_are_listed_and_set_as_slack_takes_them(
    fake: FakeSlack, client: WebClient
) -> None:
    """``users`` is one comma-separated string, as Slack takes it; an unknown group is
    ``no_such_subteam``, and a group cannot be emptied."""
    fake.groups["S0ONCALL"] = ["U0ANA"]
    assert client.usergroups_users_list(usergroup="S0ONCALL")["users"] == ["U0ANA"]
    client.usergroups_users_update(usergroup="S0ONCALL", users="U0BEN, U0CAT")
    assert fake.members("S0ONCALL") == ["U0BEN", "U0CAT"]
    for call, error in (
        (lambda: client.usergroups_users_list(usergroup="S0NONE"), "no_such_subteam"),
        (
            lambda: client.usergroups_users_update(usergroup="S0NONE", users="U0ANA"),
            "no_such_subteam",
        ),
        (
            lambda: client.usergroups_users_update(usergroup="S0ONCALL", users=""),
            "no_users_provided",
        ),
    ):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == error
    assert fake.members("S0ONCALL") == ["U0BEN", "U0CAT"]
