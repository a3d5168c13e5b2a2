"""HTTP plumbing: the server, the handler, and reading arguments the way Slack does.

Lean where every call passes: a request's headers are read into an `HTTPMessage` directly
(`http.server` parses them through the email package), JSON is read and written by orjson, and
an answer goes out in one write. In the clock's burst benchmark the fake shares two cores with
the clock and the database, and answering cost it 0.4 ms of CPU a call, two thirds of it in
those three steps (bench/README.md, "clock", eighth round): a Slack that answers at once must
not be the slow party.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import formatdate
from functools import lru_cache
from http import HTTPStatus
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from .records import FREE_TEXT_ARGS, Call

LINE_MAX = 65536  # a request's line or header, as http.server bounds them
HEADERS_MAX = 100
_PHRASES = {status.value: status.phrase for status in HTTPStatus}

if TYPE_CHECKING:
    from .server import FakeSlack


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a benchmark's burst should queue, not be refused

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed while waiting for its answer (a test's kill -9) is not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack
    server_version = "FakeSlack/1.0"
    sys_version = ""
    # As Slack does: connections stay open for the next call unless the client says "close"
    # (urllib does, on every call). Without Nagle, as a real server, so an answer's headers
    # and body do not wait on the client's delayed ACK.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def parse_request(self) -> bool:
        """The request line and headers, as `http.server` reads them but for the email
        package: a bad line or too many or too long headers answer 400 or 431, and
        ``Connection`` and ``Expect: 100-continue`` are honoured."""
        self.command = None  # type: ignore[assignment]  # as http.server, until it is read
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request line {self.requestline!r}")
            return False
        self.command, self.path, self.request_version = words
        headers = HTTPMessage()
        for _ in range(HEADERS_MAX + 1):
            line = self.rfile.readline(LINE_MAX + 1)
            if len(line) > LINE_MAX:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, colon, value = line.decode("iso-8859-1").partition(":")
            if not colon or not name.strip():
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad header line {line!r}")
                return False
            headers[name.strip()] = value.strip()
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        if headers.get("Expect", "").lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def do_POST(self) -> None:
        self.fake._handle(self)

    def do_GET(self) -> None:
        self.fake._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _write(
    req: BaseHTTPRequestHandler,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    data = orjson.dumps(body, default=_jsonable, option=orjson.OPT_NON_STR_KEYS)
    _answer(req, status, "application/json; charset=utf-8", data, headers)


def _write_text(req: BaseHTTPRequestHandler, status: int, text: str) -> None:
    _answer(req, status, "text/plain; charset=utf-8", text.encode(), None)


def _answer(
    req: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    data: bytes,
    headers: dict[str, str] | None,
) -> None:
    """An answer's status line, headers and body in one write, as Slack's servers send."""
    lines = [
        f"{req.protocol_version} {status} {_PHRASES.get(status, '')}",
        f"Server: {req.version_string()}",
        f"Date: {_date(int(time.time()))}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(data)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    req.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)


@lru_cache(maxsize=2)
def _date(second: int) -> str:
    return formatdate(second, usegmt=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):  # an uploaded file's content, echoed by api.test
        return f"<{len(value)} bytes>"
    return repr(value)


def _history_page(
    messages: list[dict[str, Any]], args: dict[str, Any], *, newest_first: bool
) -> dict[str, Any]:
    """One page of ``conversations.history`` or ``.replies``: ``oldest``/``latest`` (exclusive
    unless ``inclusive``), ``limit`` (100) and ``cursor`` as Slack reads them."""
    inclusive = _flag(args.get("inclusive"))
    oldest = float(args.get("oldest") or 0)
    latest = float(args.get("latest") or "inf")

    def within(ts: float) -> bool:
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    chosen = sorted(
        (m for m in messages if within(float(m["ts"]))),
        key=lambda m: float(m["ts"]),
        reverse=newest_first,
    )
    start = int(args.get("cursor") or 0)
    limit = max(1, int(args.get("limit") or 100))
    page = chosen[start : start + limit]
    more = start + limit < len(chosen)
    keep_metadata = _flag(args.get("include_all_metadata"))
    shown = [
        {k: v for k, v in m.items() if k != "channel" and (keep_metadata or k != "metadata")}
        for m in page
    ]
    return {
        "ok": True,
        "messages": shown,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _check_status(status: int) -> None:
    if not 400 <= status <= 599:
        raise ValueError(f"an injected failure needs an HTTP error status, not {status}")


def _selected(call: Call, method: str | None, ok: bool | None) -> bool:
    return (method is None or call.method == method) and (ok is None or call.ok == ok)


def parse_args(query: str, raw: bytes, content_type: str) -> dict[str, Any]:
    """The arguments of one Web API request: query string, then form, JSON or multipart body."""
    args: dict[str, Any] = {}
    if query:
        args.update(_decode_form(parse_qsl(query, keep_blank_values=True)))
    kind = content_type.split(";", 1)[0].strip().lower()
    if not raw:
        return args
    if kind == "application/json":
        body = orjson.loads(raw)
        if isinstance(body, dict):
            args.update(body)
    elif kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
        )
        pairs: list[tuple[str, Any]] = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                pairs.append((name, payload))
            else:
                pairs.append((name, payload.decode("utf-8")))
        args.update(_decode_form(pairs))
    else:
        args.update(_decode_form(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
    return args


def _decode_form(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key, value in pairs:
        if isinstance(value, str) and key not in FREE_TEXT_ARGS and value[:1] in ("[", "{"):
            try:
                decoded = orjson.loads(value)
            except ValueError:
                decoded = value
            if isinstance(decoded, list | dict):
                value = decoded
        args[key] = value
    return args
