"""The clock's Slack client reuses connections, and fails exactly as slack_sdk's own does.

A small HTTP/1.1 server of the test's own records which connection each call came on, and can
close a connection after answering (as a server does with one left idle too long).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk.errors import SlackApiError

from slabot.notify.base import DeliveryFailed
from slabot.notify.slack import SlackNotifier
from slabot.slack.keepalive import Connections, KeepAliveWebClient, KeepAliveWebhookClient

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
