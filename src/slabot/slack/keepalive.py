"""slack_sdk's `WebClient`, reusing its HTTP connections.

The sync `WebClient` sends every call through ``urllib``, which opens a new connection for each
one: against slack.com that is a TCP and a TLS handshake per message, and for a clock sending a
burst of pages it was the largest share of its time after the database. This client keeps
what slack_sdk does (the request it builds, Slack's errors, retry handlers, rate-limit headers)
and replaces the step that moves bytes: idle connections wait in a small pool, one per call in
flight, and are reused. Calls with a JSON body (messages, cards) also skip the layers slack_sdk
builds each request through, to the same bytes and the same answers
(`KeepAliveWebClient.api_call`).

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
import logging
import re
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from functools import cached_property
from json import JSONDecodeError, dumps, loads
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

import orjson
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest as RetryHttpRequest
from slack_sdk.http_retry.response import HttpResponse as RetryHttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse
from slack_sdk.web.deprecation import show_deprecation_warning_if_any
from slack_sdk.web.internal_utils import (
    _build_req_args,
    _build_unexpected_body_error_message,
    _get_url,
)
from slack_sdk.webhook import WebhookClient, WebhookResponse

IDLE_MAX = 32  # idle connections kept per host: one per clock worker (clock.dispatch.WORKERS)
LINE_MAX = 65536  # an answer's status or header line, as http.client bounds it
HEADERS_MAX = 100  # headers in an answer, as http.client bounds them
ROUTES_MAX = 1024  # request heads kept per client (a method, token and headers each)
_UNSAFE = re.compile(r"[\r\n\0]")  # what would end a request line or header early
# orjson's own writing of types json.dumps refuses, left off: those go to json.dumps
_AS_JSON_DUMPS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)

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
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        head = _head(req.get_method(), parts.netloc, target, req.header_items())
        answer = self.send((parts.scheme, parts.netloc), _with_body(head, req.data), timeout)  # type: ignore[arg-type]
        if not 200 <= answer.status < 300:
            message = http.client.HTTPMessage()
            for name, value in answer.headers.items():
                message[name] = value
            raise HTTPError(url, answer.status, answer.reason, message, io.BytesIO(answer.body))
        return answer

    def send(self, host: Host, request: bytes, timeout: float) -> _Answer:
        """Send a request's bytes to ``host`` and read its answer, whatever its status, on a
        kept connection; `Unanswered` when the request left and no answer came."""
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
            if not kept.closed_by_peer():
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
    """slack_sdk's `WebClient` over kept connections, with a short path for the calls that
    carry a JSON body (every message and card the clock sends).

    slack_sdk builds each call through several layers: the URL joined, the headers merged
    three times, a `urllib.request.Request` made (its URL parsed again) and copied for the
    retry handlers; about half of a call's CPU in the clock's burst, the bytes moved included
    (bench/README.md, "clock", seventh round). The short path makes each method's request head
    once (`_Route`, from slack_sdk's own header functions, so what Slack receives is the same,
    byte for byte) and runs slack_sdk's retry loop as slack_sdk does: each answer, and each
    failure, shown to the retry handlers in turn; the result a validated `SlackResponse`,
    a refusal its `SlackApiError`. Anything else (forms, files, a proxy, default parameters,
    a token in the body, extra headers) goes slack_sdk's own way."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._connections = Connections(self.ssl)
        self._routes: dict[tuple[str, str, str | None, tuple[tuple[str, str], ...]], _Route] = {}

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        route = None
        if (
            isinstance(json, dict)
            and http_verb == "POST"
            and not (files or data or params or headers or auth)
            and "token" not in json
            and not self.default_params
            and self.proxy is None
        ):
            route = self._route(api_method)
        if route is None:
            return super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        assert json is not None  # the short path's condition
        body = _encoded(json)
        if self._logger.isEnabledFor(logging.DEBUG):
            shown = {
                k: "(redacted)" if k.lower() == "authorization" else v
                for k, v in route.headers.items()
            }
            self._logger.debug(
                f"Sending a request - url: {route.url}, query_params: {{}}, body_params: {{}}, "
                f"files: {{}}, json_body: {json}, headers: {shown}"
            )
        status, answer_headers, data_read = self._exchange(
            route, _with_body(route.head, body), body
        )
        request_args = {
            "headers": dict(route.headers),
            "data": {},
            "params": {},
            "files": None,
            "json": json,
        }
        return SlackResponse(
            client=self,
            http_verb="POST",
            api_url=route.url,
            req_args=request_args,
            data=data_read,
            headers=answer_headers,
            status_code=status,
        ).validate()

    def _route(self, api_method: str) -> _Route | None:
        """``api_method``'s URL and request head for this client's base URL, token and headers
        (each may be changed after the client is made); None when the URL is not one a kept
        connection carries."""
        key = (api_method, self.base_url, self.token, tuple(self.headers.items()))
        route = self._routes.get(key)
        if route is None:
            url = _get_url(self.base_url, api_method)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https"):
                return None
            show_deprecation_warning_if_any(api_method)  # once a method: warnings shows it once
            merged = _build_req_args(
                token=self.token,
                http_verb="POST",
                files=None,  # type: ignore[arg-type]
                data=None,  # type: ignore[arg-type]
                default_params={},
                params=None,  # type: ignore[arg-type]
                json={},
                headers=dict(self.headers),
                auth=None,  # type: ignore[arg-type]
                ssl=self.ssl,
                proxy=None,
            )["headers"]
            named = self._build_urllib_request_headers(
                token=self.token,  # type: ignore[arg-type]
                has_json=True,
                has_files=False,
                additional_headers=merged,
            )
            named["Content-Type"] = "application/json;charset=utf-8"
            # A urllib Request (slack_sdk's way) capitalizes each name: the same bytes here.
            lines = [(name.capitalize(), str(value)) for name, value in named.items()]
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            head = _head("POST", parts.netloc, target, lines)
            route = _Route(url, (parts.scheme, parts.netloc), head, named, {n: v for n, v in lines})
            if len(self._routes) < ROUTES_MAX:
                self._routes[key] = route
        return route

    def _exchange(
        self, route: _Route, request: bytes, body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """slack_sdk's retry loop (`_perform_urllib_http_request`) over a kept connection: the
        answer's status, headers and body read as JSON (a body that is not: slack_sdk's
        ``ok: false``), once no retry handler asks for another attempt; the last failure
        raised when one asks for none."""
        handlers = self.retry_handlers
        state = RetryState()
        last: tuple[int, dict[str, Any], str] | Exception | None = None
        for _ in range(100):  # slack_sdk's bound on attempts
            state.next_attempt_requested = False
            asked = RetryHttpRequest(method="POST", url=route.url, headers=route.wire, data=body)
            try:
                answer = self._connections.send(route.host, request, self.timeout)
                text = answer.body.decode(answer.charset)
                headers: dict[str, Any] = dict(answer.headers)
                if self._logger.isEnabledFor(logging.DEBUG):
                    self._logger.debug(
                        "Received the following response - "
                        f"status: {answer.status}, headers: {headers}, body: {text}"
                    )
                # slack_sdk reads a body that looks like JSON for its handlers, in the attempt
                parsed = loads(text) if handlers and text.startswith("{") else None
            except Exception as err:
                last = err
                self._logger.error(f"Failed to send a request to Slack API server: {err}")
                if not self._retry(handlers, state, asked, None, err):
                    raise
                continue
            last = (answer.status, headers, text)
            if 200 <= answer.status < 300:
                if handlers:
                    shown = RetryHttpResponse(
                        status_code=answer.status,
                        headers=headers,
                        body=parsed or {},
                        data=text.encode(),
                    )
                    if self._retry(handlers, state, asked, shown, None):
                        continue
                return answer.status, headers, self._parsed(text) if parsed is None else parsed
            if answer.status == 429:  # slack_sdk names Retry-After both ways
                for name, alias in (("Retry-After", "retry-after"), ("retry-after", "Retry-After")):
                    if name in headers and alias not in headers:
                        headers[alias] = headers[name]
            message = http.client.HTTPMessage()
            for name, value in answer.headers.items():
                message[name] = value
            error = HTTPError(route.url, answer.status, answer.reason, message, None)
            shown = RetryHttpResponse(
                status_code=answer.status,
                headers={k: [v] for k, v in headers.items()},
                data=text.encode(),
            )
            if not self._retry(handlers, state, asked, shown, error):
                return answer.status, headers, self._parsed(text)
        if isinstance(last, tuple):  # attempts ran out: the last answer, as slack_sdk returns it
            status, headers, text = last
            return status, headers, self._parsed(text)
        raise last or SlackRequestError("no attempt made")

    def _retry(
        self,
        handlers: list[RetryHandler],
        state: RetryState,
        request: RetryHttpRequest,
        response: RetryHttpResponse | None,
        error: Exception | None,
    ) -> bool:
        """Whether a handler (the first that can) asked for another attempt, as slack_sdk asks
        them: it has waited for it already."""
        for handler in handlers:
            if handler.can_retry(state=state, request=request, response=response, error=error):
                handler.prepare_for_next_attempt(
                    state=state, request=request, response=response, error=error
                )
                if error is not None and response is None:
                    self._logger.info(f"Going to retry the same request: POST {request.url}")
                break
        return state.next_attempt_requested

    def _parsed(self, text: str) -> dict[str, Any]:
        try:
            return loads(text)
        except JSONDecodeError:
            message = _build_unexpected_body_error_message(text)
            self._logger.error(f"Failed to decode Slack API response: {message}")
            return {"ok": False, "error": message}

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not self._connections.carries(url, req, self.proxy):
            return super()._perform_urllib_http_request_internal(url, req)
        answer = self._connections.exchange(url, req, self.timeout)
        return {
            "status": answer.status,
            "headers": answer.headers,
            "body": answer.body.decode(answer.charset),
        }


@dataclass(frozen=True)
class _Route:
    """A Web API method's request as `KeepAliveWebClient` sends it, but for its body."""

    url: str
    host: Host
    head: bytes  # up to the body's length (`_with_body`)
    headers: dict[str, str]  # as slack_sdk names them in a response's req_args
    wire: dict[str, str | list[str]]  # as they went (urllib's spelling), for retry handlers


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
        # Registered once, not a poller made and filled at each reuse (15,000 in a burst).
        self._poller = select.poll()
        self._poller.register(connection.sock, select.POLLIN)

    def closed_by_peer(self) -> bool:
        """Whether this idle connection has something to read: the far end's close (or bytes
        nobody asked for), either way not a connection to send a request on. One poll, no
        waiting."""
        return self.connection.sock is None or bool(self._poller.poll(0))

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


def _encoded(fields: dict[str, Any]) -> bytes:
    """A call's JSON body. orjson: a card's body (3 KB, a dozen blocks) took 25 µs with
    `json.dumps`, 2 µs with it, and a burst of the clock encodes 15,000 (bench/README.md,
    "clock", seventh round). What Slack reads is the same JSON (compact, and UTF-8 where
    slack_sdk's escapes non-ASCII text). What orjson would write otherwise or not at all
    (dates, dataclasses, subclasses of str and dict; integers past 64 bits, keys that are not
    text) goes to `json.dumps`, as slack_sdk's call would have, to be written or refused the
    same way (enums and UUIDs, which no message holds, orjson writes as their values)."""
    try:
        return orjson.dumps(fields, option=_AS_JSON_DUMPS)
    except TypeError:  # orjson.JSONEncodeError
        return dumps(fields).encode("utf-8")


def _head(method: str, netloc: str, target: str, headers: list[tuple[str, str]]) -> bytes:
    """A request's head up to its length (`_with_body` ends it); `ValueError` (nothing sent)
    when a line break in the target or a header would end its line early."""
    fields = [
        ("Host", netloc),
        ("Accept-Encoding", "identity"),
        *((n, v) for n, v in headers if n.lower() not in ("host", "content-length")),
    ]
    if _UNSAFE.search(target) or any(_UNSAFE.search(n + v) for n, v in fields):
        raise ValueError("a line break in the request's head")
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return f"{method} {target} HTTP/1.1\r\n{lines}".encode("latin-1")


def _with_body(head: bytes, body: bytes | None) -> bytes:
    """A request's bytes, head (from `_head`) and body, to send in one write."""
    body = body or b""
    return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)


def _number(text: str | bytes, base: int) -> int:
    """A length in an answer's head; one that does not read as a length is a broken answer."""
    try:
        value = int(text.strip(), base)
    except ValueError:
        raise http.client.HTTPException(f"not a length: {text[:20]!r}") from None
    if value < 0:
        raise http.client.HTTPException(f"a negative length: {value}")
    return value
