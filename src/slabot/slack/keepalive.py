"""slack_sdk's `WebClient`, reusing its HTTP connections.

The sync `WebClient` sends every call through ``urllib``, which opens a new connection for each
one: against slack.com that is a TCP and a TLS handshake per message, and for a clock sending a
burst of pages it was the largest share of its time after the database. This client keeps
everything slack_sdk does (building the request, Slack's errors, retry handlers, rate-limit
headers) and replaces only the step that moves bytes: idle connections wait in a small pool, one
per call in flight, and are reused.

The bytes are moved here, on the socket `http.client` connected (and wrapped in TLS): the
request in one write, the answer read back with its headers as a plain dict. `http.client`
reads an answer's headers through the `email` package, which cost about 0.1 ms of CPU a call
(more than the rest of the exchange), and slack_sdk read them twice more through it (the
charset, a dict of them); a clock bursting thousands of calls a second spent a tenth of its
time there (bench/README.md, "clock", fifth round). Answers are HTTP/1.1: a length, chunks, or
the rest until the far end closes; a ``100 Continue`` is skipped.

A connection the far end closed while idle is seen to be closed before it is reused (it reads
as ready, at its end), and a new one is made. A call is never sent twice by this client: once
a request has left, a failure (a timeout, a connection dropped before the answer) may come
after Slack performed it, and raises `Unanswered` so that the caller can tell it from a
failure to connect (a plain `URLError`: nothing was sent). Both are `URLError`s, so callers
(and slack_sdk's retry handlers) handle this client like slack_sdk's own.
"""

from __future__ import annotations

import http.client
import io
import re
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient, WebhookResponse

IDLE_MAX = 32  # idle connections kept per host: one per clock worker (clock.dispatch.WORKERS)
LINE_MAX = 65536  # an answer's status or header line, as http.client bounds it
HEADERS_MAX = 100  # headers in an answer, as http.client bounds them
_UNSAFE = re.compile(r"[\r\n\0]")  # what would end a request line or header early

Host = tuple[str, str]  # scheme, host[:port]


class Unanswered(URLError):
    """The request left (wholly or in part) and no answer came: the far end may have acted."""


class Connections:
    """Idle connections by host, each reused by the next request to its host. One pool serves
    a `KeepAliveWebClient` (slack.com's Web API) or the answers to slash commands
    (`KeepAliveWebhookClient`: every response URL is on hooks.slack.com)."""

    def __init__(self, context: ssl.SSLContext | None = None):
        self._given = context
        self._idle: dict[Host, list[_Kept]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def carries(url: str, req: Request, proxy: str | None) -> bool:
        """Whether this pool can move ``req``: http(s) without a proxy, a body of bytes."""
        body = req.data
        scheme = urlsplit(url).scheme
        return proxy is None and scheme in ("http", "https") and isinstance(body, bytes | None)

    def exchange(self, url: str, req: Request, timeout: float) -> _Answer:
        """Send ``req`` and read its answer on a kept connection; `HTTPError` for an answer
        other than 2xx, `Unanswered` when the request left and no answer came. ``timeout``:
        the asking client's, read at each request (a client's timeout may be set after it is
        made, as slack_sdk allows)."""
        parts = urlsplit(url)
        host: Host = (parts.scheme, parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request = _request(req.get_method(), parts.netloc, target, req.header_items(), req.data)  # type: ignore[arg-type]
        kept = self._take(host, timeout)
        try:
            kept.connection.sock.sendall(request)
            answer = kept.receive()
        except (OSError, http.client.HTTPException) as exc:
            kept.close()
            raise Unanswered(exc) from None
        if answer.will_close:
            kept.close()
        else:
            self._give_back(host, kept)
        if not 200 <= answer.status < 300:
            message = http.client.HTTPMessage()
            for name, value in answer.headers.items():
                message[name] = value
            raise HTTPError(url, answer.status, answer.reason, message, io.BytesIO(answer.body))
        return answer

    @cached_property
    def _context(self) -> ssl.SSLContext:
        """One TLS context for every connection (making one reads the system's certificates)."""
        return self._given or ssl.create_default_context()

    def _take(self, host: Host, timeout: float) -> _Kept:
        """An idle connection still open, else a new one (a failure to connect: `URLError`)."""
        while True:
            with self._lock:
                idle = self._idle.get(host)
                kept = idle.pop() if idle else None
            if kept is None:
                break
            if not _closed_by_peer(kept.connection):
                kept.connection.sock.settimeout(timeout)
                return kept
            kept.close()
        scheme, netloc = host
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(netloc, timeout=timeout, context=self._context)
        else:
            connection = http.client.HTTPConnection(netloc, timeout=timeout)
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            raise URLError(exc) from None
        # A request goes in one write; this sends it without waiting for an earlier segment's
        # acknowledgement (Nagle against delayed ACKs).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Kept(connection)

    def _give_back(self, host: Host, kept: _Kept) -> None:
        with self._lock:
            idle = self._idle.setdefault(host, [])
            if len(idle) < IDLE_MAX:
                idle.append(kept)
                return
        kept.close()


class KeepAliveWebClient(WebClient):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._connections = Connections(self.ssl)

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not self._connections.carries(url, req, self.proxy):
            return super()._perform_urllib_http_request_internal(url, req)
        answer = self._connections.exchange(url, req, self.timeout)
        return {
            "status": answer.status,
            "headers": answer.headers,
            "body": answer.body.decode(answer.charset),
        }


class KeepAliveWebhookClient(WebhookClient):
    """slack_sdk's `WebhookClient` (a post to one response URL, retried as it retries) over
    kept connections: Bolt's ``respond`` makes a new client, and a new connection, for each
    answer (a TCP and a TLS handshake with hooks.slack.com before the person reads a word)."""

    def __init__(self, url: str, connections: Connections, **kwargs: Any):
        super().__init__(url, **kwargs)
        self._connections = connections

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        if not self._connections.carries(url, req, self.proxy):
            return super()._perform_http_request_internal(url, req)
        answer = self._connections.exchange(url, req, self.timeout)
        return WebhookResponse(
            url=url,
            status_code=answer.status,
            body=answer.body.decode(answer.charset),
            headers=answer.headers,
        )


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: dict[str, str]  # as the far end spelled the names
    body: bytes
    will_close: bool  # the far end closes the connection after it

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == name), None)

    @property
    def charset(self) -> str:
        for param in (self.header("Content-Type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip(' "'):
                return value.strip(' "')
        return "utf-8"


class _Kept:
    """A connected socket (``connection`` made it, and wrapped it in TLS) and its reader."""

    def __init__(self, connection: http.client.HTTPConnection):
        self.connection = connection
        self.reader = connection.sock.makefile("rb")

    def receive(self) -> _Answer:
        while True:
            version, status, reason = self._status()
            headers = self._headers()
            if status != 100:
                break
        lowered = {k.lower(): v for k, v in headers.items()}
        connection = lowered.get("connection", "").lower()
        will_close = "close" in connection or (
            version == "HTTP/1.0" and "keep-alive" not in connection
        )
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in lowered.get("transfer-encoding", "").lower():
            body = self._chunks()
        elif "content-length" in lowered:
            body = self._exactly(_number(lowered["content-length"], 10))
        else:
            body, will_close = self.reader.read(), True
        return _Answer(status, reason, headers, body, will_close)

    def close(self) -> None:
        self.reader.close()
        self.connection.close()

    def _line(self) -> bytes:
        line = self.reader.readline(LINE_MAX + 1)
        if len(line) > LINE_MAX:
            raise http.client.LineTooLong("header line")
        return line

    def _status(self) -> tuple[str, int, str]:
        line = self._line()
        if not line:
            raise http.client.RemoteDisconnected("the far end closed the connection unanswered")
        version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
            raise http.client.BadStatusLine(line.decode("latin-1"))
        return version, int(code), reason

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(HEADERS_MAX):
            line = self._line()
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip()] = value.strip()
        raise http.client.HTTPException(f"more than {HEADERS_MAX} headers")

    def _exactly(self, length: int) -> bytes:
        data = self.reader.read(length)
        if len(data) < length:
            raise http.client.IncompleteRead(data, length - len(data))
        return data

    def _chunks(self) -> bytes:
        chunks = []
        while size := _number(self._line().split(b";", 1)[0], 16):
            chunks.append(self._exactly(size))
            self._line()  # the chunk's CRLF
        self._headers()  # trailers, up to the blank line
        return b"".join(chunks)


def _request(
    method: str, netloc: str, target: str, headers: list[tuple[str, str]], body: bytes | None
) -> bytes:
    """A request's bytes, head and body, to send in one write; `ValueError` (nothing sent)
    when a line break in the target or a header would end its line early."""
    fields = [
        ("Host", netloc),
        ("Accept-Encoding", "identity"),
        *((n, v) for n, v in headers if n.lower() not in ("host", "content-length")),
        ("Content-Length", str(len(body or b""))),
    ]
    if _UNSAFE.search(target) or any(_UNSAFE.search(n + v) for n, v in fields):
        raise ValueError("a line break in the request's head")
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return f"{method} {target} HTTP/1.1\r\n{head}\r\n".encode("latin-1") + (body or b"")


def _number(text: str | bytes, base: int) -> int:
    """A length in an answer's head; one that does not read as a length is a broken answer."""
    try:
        value = int(text.strip(), base)
    except ValueError:
        raise http.client.HTTPException(f"not a length: {text[:20]!r}") from None
    if value < 0:
        raise http.client.HTTPException(f"a negative length: {value}")
    return value


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection has something to read: the far end's close (or bytes nobody
    asked for), either way not a connection to send a request on. One poll, no waiting."""
    if connection.sock is None:
        return True
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))
