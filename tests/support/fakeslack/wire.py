"""HTTP plumbing: the server, the handler, and reading arguments the way Slack does."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .records import FREE_TEXT_ARGS, Call

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
    data = json.dumps(body, default=_jsonable).encode()
    req.send_response(status)
    req.send_header("Content-Type", "application/json; charset=utf-8")
    req.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        req.send_header(name, value)
    req.end_headers()
    req.wfile.write(data)


def _write_text(req: BaseHTTPRequestHandler, status: int, text: str) -> None:
    data = text.encode()
    req.send_response(status)
    req.send_header("Content-Type", "text/plain; charset=utf-8")
    req.send_header("Content-Length", str(len(data)))
    req.end_headers()
    req.wfile.write(data)


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
        body = json.loads(raw.decode("utf-8"))
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
                decoded = json.loads(value)
            except ValueError:
                decoded = value
            if isinstance(decoded, list | dict):
                value = decoded
        args[key] = value
    return args
