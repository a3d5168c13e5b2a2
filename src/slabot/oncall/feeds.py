"""``/oncall/ROTATION.ics?token=…``: each rotation's shifts as an iCalendar feed that any
calendar app subscribes to (`slabot serve`, HTTP mode, when ``SLABOT_ONCALL_FEED_TOKEN`` is set).

Calendar apps fetch a subscription with a plain GET and cannot send headers, so the secret is
in the address, compared in constant time. The shifts are `OnCall.feed`'s, the same that
``/sla oncall`` shows, overrides included.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from .service import Describe, OnCall

Wsgi = Callable[..., Iterable[bytes]]
PREFIX = "/oncall/"


def feed_routes(
    oncall: OnCall,
    workspace: str,
    token: str,
    describe: Describe = str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Wsgi]:
    """One route per rotation, ``/oncall/KEY.ics``, for `slabot.web.wsgi_app`."""

    def route(key: str) -> Wsgi:
        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
                return _plain(start_response, "405 Method Not Allowed", "GET the feed\n")
            given = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _plain(
                    start_response,
                    "403 Forbidden",
                    "the feed's address needs its token: ?token= and SLABOT_ONCALL_FEED_TOKEN\n",
                )
            body = oncall.feed(workspace, key, now(), describe)
            start_response(
                "200 OK",
                [
                    ("Content-Type", "text/calendar; charset=utf-8"),
                    ("Content-Disposition", f'inline; filename="{key}.ics"'),
                    ("Cache-Control", "private, max-age=300"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

        return serve

    return {f"{PREFIX}{r.key}.ics": route(r.key) for r in oncall.team.rotations}


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode()]
