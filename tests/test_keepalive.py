"""The clock's Slack client reuses connections, and fails exactly as slack_sdk's own does.

A small HTTP/1.1 server of the test's own records which connection each call came on, and can
close a connection after answering (as a server does with one left idle too long).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.web import SlackResponse

from slabot.notify.base import DeliveryFailed
from slabot.notify.slack import SlackNotifier
from slabot.slack.keepalive import (
    Connections,
    KeepAliveWebClient,
    KeepAliveWebhookClient,
    Unanswered,
    _encoded,
)

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@dataclass
class Server:
    url: str
    calls: list[tuple[int, dict]] = field(default_factory=list)  # (client port, JSON body)
    close_after: set[int] = field(default_factory=set)  # call numbers after which to hang up
    drop: set[int] = field(default_factory=set)  # calls read, then hung up on without an answer
    answers: dict[int, tuple[int, dict, dict]] = field(default_factory=dict)  # call → status…
    closed: threading.Event = field(default_factory=threading.Event)  # a connection was closed
    chunked: set[int] = field(default_factory=set)  # calls answered in chunks, not a length
    hang: set[int] = field(default_factory=set)  # calls read, then answered by no one
    release: threading.Event = field(default_factory=threading.Event)  # a hung call hangs up

    @property
    def connections(self) -> int:
        return len({port for port, _ in self.calls})


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            with lock:
                state.calls.append((self.client_address[1], body))
                n = len(state.calls)
            if n in state.drop:
                self.close_connection = True
                return
            if n in state.hang:
                state.release.wait(10)
                self.close_connection = True
                return
            status, answer, headers = state.answers.get(n, (200, {"ok": True, "n": n}, {}))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if n in state.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if n in state.chunked:  # in two chunks, one with an extension, then a trailer
                half = len(data) // 2
                for chunk, extension in ((data[:half], b";x=1"), (data[half:], b"")):
                    self.wfile.write(b"%x%s\r\n%s\r\n" % (len(chunk), extension, chunk))
                self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            else:
                self.wfile.write(data)
            if n in state.close_after:
                self.close_connection = True  # no "Connection: close": the client finds out

        def finish(self) -> None:
            super().finish()
            if self.close_connection:
                self.connection.close()
                state.closed.set()

        def log_message(self, *args: object) -> None:
            pass

        def date_time_string(self, timestamp: float | None = None) -> str:
            """One fixed Date, so two runs of the same calls answer alike across a second."""
            return "Mon, 23 Nov 2026 17:00:00 GMT"

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_port}/api/"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def client(server: Server) -> KeepAliveWebClient:
    return KeepAliveWebClient(token="xoxb-test", base_url=server.url, retry_handlers=[])


def test_calls_share_one_connection(server):
    slack = client(server)
    for n in range(5):
        assert slack.chat_postMessage(channel="C1", text=f"hi {n}")["n"] == n + 1
    assert server.connections == 1
    assert [body["text"] for _, body in server.calls] == [f"hi {n}" for n in range(5)]


def test_a_connection_the_server_closed_is_replaced_and_the_call_sent_once(server):
    slack = client(server)
    server.close_after = {2}
    for n in range(4):
        slack.chat_postMessage(channel="C1", text=f"hi {n}")
        if n == 1:
            assert server.closed.wait(5)  # an idle connection the server has since closed
    assert [body["text"] for _, body in server.calls] == [f"hi {n}" for n in range(4)]
    assert server.connections == 2


def test_a_call_whose_answer_never_came_is_not_sent_again_and_is_in_doubt(server):
    """The server read the request and hung up: it may have acted, so the client must not
    send it again, and the clock must look for the message before any re-send."""
    slack = client(server)
    slack.chat_postMessage(channel="C1", text="first")  # the connection is reused next
    server.drop = {2}
    notifier = SlackNotifier(slack)
    with pytest.raises(DeliveryFailed) as failed:
        notifier._call(slack.chat_postMessage, NOW, "t", part="thread", channel="C1", text="x")
    assert [body["text"] for _, body in server.calls] == ["first", "x"]
    assert failed.value.retryable and failed.value.doubtful == {"thread"}
    assert "no answer from Slack" in str(failed.value)
    assert slack.chat_postMessage(channel="C1", text="after")["ok"]  # on a new connection


def test_a_call_unanswered_within_the_clients_timeout_times_out_on_its_kept_connection(server):
    """The timeout is the client's at each request, set after its connection was made too (as
    slack_sdk lets it be set), and it runs out as a timeout, not as a far end that closed."""
    slack = client(server)
    slack.chat_postMessage(channel="C1", text="first")  # its connection is kept for the next
    server.hang = {2}
    slack.timeout = 0.2
    with pytest.raises(Unanswered) as unanswered:
        slack.chat_postMessage(channel="C1", text="x")
    server.release.set()
    assert isinstance(unanswered.value.reason, TimeoutError)
    assert server.connections == 1


def test_answers_in_chunks_are_read_whole_and_the_connection_reused(server):
    slack = client(server)
    server.chunked = {1, 3}
    answers = [slack.chat_postMessage(channel="C1", text=f"hi {n}") for n in range(3)]
    assert [a["n"] for a in answers] == [1, 2, 3]
    assert answers[0].headers["Transfer-Encoding"] == "chunked"
    assert server.connections == 1


def test_a_line_break_in_a_header_is_refused_before_anything_is_sent(server):
    slack = client(server)
    slack.headers["X-Extra"] = "a\r\nX-Injected: yes"
    with pytest.raises(ValueError):
        slack.chat_postMessage(channel="C1", text="x")
    assert server.calls == []


def test_threads_get_connections_of_their_own(server):
    slack = client(server)
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda n: slack.chat_postMessage(channel="C1", text=str(n)), range(80))
        )
    assert sorted(a["n"] for a in answers) == list(range(1, 81))
    assert 1 <= server.connections <= 8


def test_slack_errors_and_rate_limits_read_as_with_slack_sdk(server):
    slack = client(server)
    server.answers = {
        1: (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}),
        2: (200, {"ok": False, "error": "channel_not_found"}, {}),
        3: (503, {"ok": False, "error": "service_unavailable"}, {}),
    }
    with pytest.raises(SlackApiError) as limited:
        slack.chat_postMessage(channel="C1", text="a")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    with pytest.raises(SlackApiError) as unknown:
        slack.chat_postMessage(channel="C1", text="b")
    assert unknown.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as down:
        slack.chat_postMessage(channel="C1", text="c")
    assert down.value.response.status_code == 503
    assert slack.chat_postMessage(channel="C1", text="d")["ok"]  # the connection lives on
    assert server.connections == 1


def test_a_refused_connection_is_a_retryable_failure_for_the_clock():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slack = KeepAliveWebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(DeliveryFailed) as failed:
        SlackNotifier(slack)._call(
            slack.chat_postMessage, NOW, "t", part="thread", channel="C1", text="x"
        )
    assert failed.value.retryable and "unreachable" in str(failed.value)
    assert not failed.value.doubtful  # nothing was sent: it cannot have arrived


def test_answers_to_response_urls_share_one_connection_and_say_what_slack_said(server):
    """Each slash command has its own response URL, all on one host (hooks.slack.com): the
    answers go over one kept connection, and a refusal is handed back as slack_sdk's
    webhook client hands it back."""
    answers = Connections()
    base = server.url.removesuffix("/api/")
    server.answers = {3: (404, {"ok": False}, {})}
    sent = [
        KeepAliveWebhookClient(
            f"{base}/commands/T1/{n}", answers, timeout=5, retry_handlers=[]
        ).send_dict({"text": f"SLA-{n} opened"})
        for n in range(1, 4)
    ]
    assert [r.status_code for r in sent] == [200, 200, 404]
    assert [body["text"] for _, body in server.calls] == [f"SLA-{n} opened" for n in (1, 2, 3)]
    assert server.connections == 1


class _Seen(RetryHandler):
    """A retry handler that notes what slack_sdk (or the short path) shows it, and retries
    a 429 once, at once."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1)
        self.seen: list[tuple[object, ...]] = []

    def can_retry(self, *, state, request, response=None, error=None):
        self.seen.append(
            (
                request.method,
                request.url,
                request.headers,
                json.loads(request.data),
                response and (response.status_code, response.headers, response.body, response.data),
                type(error).__name__,
                state.current_attempt,
            )
        )
        return super().can_retry(state=state, request=request, response=response, error=error)

    def _can_retry(self, *, state, request, response=None, error=None):
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(self, *, state, request, response=None, error=None):
        state.increment_current_attempt()
        state.next_attempt_requested = True


def _sent_both_ways(server: Server, monkeypatch, call) -> list[tuple[list[bytes], list, object]]:
    """``call(client, api_call)`` made through the short path, then slack_sdk's own
    (`WebClient.api_call`), each on a new client and server answers from call 1: what went
    on the wire, what a retry handler saw and what came back, for each way."""
    sent: list[bytes] = []
    send = Connections.send

    def recording(self, host, request, timeout):
        sent.append(request)
        return send(self, host, request, timeout)

    def read(request: bytes) -> tuple[bytes, object]:  # the head but for its length; the JSON
        head, _, body = request.partition(b"\r\n\r\n")
        return re.sub(rb"Content-Length: \d+\r\n", b"", head + b"\r\n"), json.loads(body)

    monkeypatch.setattr(Connections, "send", recording)
    answers = dict(server.answers)
    results = []
    for way in ("short", "slack_sdk"):
        sent.clear()
        server.calls.clear()
        server.answers = dict(answers)
        seen = _Seen()
        slack = KeepAliveWebClient(token="xoxb-test", base_url=server.url, retry_handlers=[seen])
        api_call = slack.api_call if way == "short" else partial(WebClient.api_call, slack)
        try:
            outcome: object = call(slack, api_call)
        except SlackApiError as exc:
            outcome = ("SlackApiError", str(exc), exc.response.headers, exc.response.data)
        results.append(([read(r) for r in sent], seen.seen, outcome))
    return results


def _answer(response: SlackResponse) -> tuple[object, ...]:
    return (
        response.status_code,
        response.data,
        response.headers,
        response.api_url,
        response.req_args,
        response.http_verb,
    )


def test_the_short_path_sends_the_same_bytes_and_reads_the_same_answers_as_slack_sdk(
    server, monkeypatch
):
    """Messages and cards (a JSON body) skip slack_sdk's layers: the request's head on the
    wire (byte for byte, but for the body's length), its JSON, what the retry handlers see and
    the response are still slack_sdk's own, also after the client's token and headers change."""
    message = {"channel": "C1", "text": "é ✓", "blocks": [{"type": "section"}], "n": [1.5, None]}

    def call(slack, api_call):
        first = _answer(api_call("chat.postMessage", json=dict(message)))
        slack.token = "xoxb-other"
        slack.headers["X-Extra"] = "1"
        return first, _answer(api_call("chat.update", json=dict(message, ts="1.2")))

    short, sdk = _sent_both_ways(server, monkeypatch, call)
    assert short == sdk
    sent, seen, _ = short
    assert len(sent) == len(seen) == 2
    assert b"Bearer xoxb-other" in sent[1][0] and b"X-extra: 1" in sent[1][0]


def test_a_body_orjson_would_write_otherwise_is_written_or_refused_as_slack_sdk_does():
    assert (
        _encoded({"text": "é ✓", "n": [1.5, None, True]})
        == '{"text":"é ✓","n":[1.5,null,true]}'.encode()
    )
    assert _encoded({1: "one", "big": 2**70}) == json.dumps({1: "one", "big": 2**70}).encode()
    for odd in (datetime(2026, 1, 1), {"nested": NOW}):
        with pytest.raises(TypeError):
            json.dumps(odd)
        with pytest.raises(TypeError):
            _encoded({"at": odd})


def test_the_short_path_retries_and_refuses_as_slack_sdk_does(server, monkeypatch):
    """A 429 retried once by its handler, then a 429, a refusal in a 200 and a 503 read as
    slack_sdk reads them (Retry-After under both spellings)."""
    server.answers = {
        1: (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
        3: (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"}),
        4: (429, {"ok": False, "error": "ratelimited"}, {"retry-after": "3"}),
        5: (200, {"ok": False, "error": "channel_not_found"}, {}),
        6: (503, {"ok": False, "error": "service_unavailable"}, {}),
    }

    def call(slack, api_call):
        outcomes = []
        for n in range(5):
            try:
                outcomes.append(_answer(api_call("chat.postMessage", json={"text": str(n)})))
            except SlackApiError as exc:
                outcomes.append(
                    ("SlackApiError", str(exc), exc.response.headers, exc.response.data)
                )
        return outcomes

    short, sdk = _sent_both_ways(server, monkeypatch, call)
    assert short == sdk
    _, seen, outcomes = short
    assert [s[4][0] for s in seen] == [429, 200, 429, 429, 200, 503, 200]  # type: ignore[index]
    assert outcomes[0][1] == {"ok": True, "n": 2}  # the retry's answer
    assert outcomes[1][2]["retry-after"] == outcomes[1][2]["Retry-After"] == "3"  # type: ignore[index]
