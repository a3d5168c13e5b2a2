"""slack_sdk's `WebClient`, reusing its HTTP connections.

The sync `WebClient` sends every call through ``urllib``, which opens a new connection for each
one: against slack.com that is a TCP and a TLS handshake per message, and for a clock sending a
burst of pages it was the largest share of its time after the database. This client keeps
everything slack_sdk does (building the request, Slack's errors, retry handlers, rate-limit
headers) and replaces only the step that moves bytes: idle connections wait in a small pool, one
per call in flight, and are reused.

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
import select
import socket
import ssl
import threading
from functools import cached_property
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient

IDLE_MAX = 32  # idle connections kept per host: one per clock worker (clock.dispatch.WORKERS)

Host = tuple[str, str]  # scheme, host[:port]


class Unanswered(URLError):
    """The request left (wholly or in part) and no answer came: the far end may have acted."""


class KeepAliveWebClient(WebClient):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._idle: dict[Host, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        host: Host = (parts.scheme, parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(req.header_items())
        connection = self._take(host)
        try:
            connection.request(req.get_method(), target, body=req.data, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise Unanswered(exc) from None
        if response.will_close:
            connection.close()
        else:
            self._give_back(host, connection)
        if not 200 <= response.status < 300:
            raise HTTPError(
                url, response.status, response.reason, response.headers, io.BytesIO(body)
            )
        charset = response.headers.get_content_charset() or "utf-8"
        return {
            "status": response.status,
            "headers": response.headers,
            "body": body.decode(charset),
        }

    @cached_property
    def _context(self) -> ssl.SSLContext:
        """One TLS context for every connection (making one reads the system's certificates)."""
        return self.ssl or ssl.create_default_context()

    def _take(self, host: Host) -> http.client.HTTPConnection:
        """An idle connection still open, else a new one (a failure to connect: `URLError`)."""
        while True:
            with self._lock:
                idle = self._idle.get(host)
                kept = idle.pop() if idle else None
            if kept is None:
                break
            if not _closed_by_peer(kept):
                return kept
            kept.close()
        scheme, netloc = host
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                netloc, timeout=self.timeout, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(netloc, timeout=self.timeout)
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            raise URLError(exc) from None
        # http.client sends a large body apart from its headers; without this the body would
        # wait for the far end to acknowledge the headers (Nagle against delayed ACKs).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _give_back(self, host: Host, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(host, [])
            if len(idle) < IDLE_MAX:
                idle.append(connection)
                return
        connection.close()


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection has something to read: the far end's close (or bytes nobody
    asked for), either way not a connection to send a request on. One poll, no waiting."""
    if connection.sock is None:
        return True
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))
