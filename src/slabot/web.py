"""The HTTP face of slabot: Slack's requests at ``/slack/events``, ``/healthz``, and the
operator's routes it is given (``/metrics``, ``/readyz``: `slabot.ops.probes.ops_routes`).

A plain WSGI callable, so any WSGI server can run it; ``slabot serve`` uses waitress, a
production server with a thread pool (Bolt's own HTTP server is for development only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"


def wsgi_app(
    app: App,
    health: Callable[[], bool] = lambda: True,
    routes: Mapping[str, Callable[..., Iterable[bytes]]] | None = None,
) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    routes = routes or {}

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is not None:
            return route(environ, start_response)
        if environ.get("PATH_INFO") == "/healthz":
            ok = health()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"ok\n" if ok else b"unhealthy\n"]
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if stamp is not None and not stamp.strip().isdigit():
            # Bolt would fail on int(stamp) and answer 500; a request Slack did not sign is 401.
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": "invalid request"}']
        return slack(environ, start_response)

    return serve
