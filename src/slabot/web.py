"""The HTTP face of slabot: Slack's requests at ``/slack/events``, ``/healthz``, the
operator's routes it is given (``/metrics``, ``/readyz``: `slabot.ops.probes.ops_routes`), and
the HTTP API under ``/api/v1`` when it is given one (`slabot.inbound.api`).

A plain WSGI callable, so any WSGI server can run it; ``slabot serve`` uses waitress, a
production server with a thread pool (Bolt's own HTTP server is for development only).

A request Bolt cannot take in is answered here, at once, with a 400 and one line saying why:
a body that is not UTF-8 text, JSON that does not parse (or nests so deep that Python's
parser gives up), or a payload whose keys Bolt routes on have the wrong shape
(`slack.payloads.Envelope`). Bolt would answer each with a 500. Nothing of it is read further,
so nothing changes; everything else goes to Bolt, which checks the signature first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.internals import build_context

from .slack.payloads import BadRequest, check_envelope

EVENTS_PATH = "/slack/events"
API_PREFIX = "/api/v1"
TEXT: dict[str, str | Sequence[str]] = {"content-type": ["text/plain; charset=utf-8"]}


class _Handler(SlackRequestHandler):
    """Bolt's WSGI adapter, with what it cannot parse refused before it tries."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt = read_request(request)
        except BadRequest as exc:
            return BoltResponse(status=400, body=f"{exc}\n", headers=TEXT)
        return self.app.dispatch(bolt)


def read_request(request: WsgiHttpRequest) -> BoltRequest:
    """The request as Bolt reads it, or a `BadRequest` saying why it cannot be."""
    try:
        body = request.get_body()
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    try:
        bolt = BoltRequest(body=body, query=request.query_string, headers=request.get_headers())
    except RecursionError:
        raise BadRequest("the request body nests too deep to read") from None
    except (ValueError, TypeError, AttributeError, LookupError):
        # Bolt parses the body (JSON, a form, a form's JSON payload) and reads its ids as it
        # builds the request: whatever fails there is the body's shape, not our state.
        raise BadRequest("the request body is not a Slack request slabot can read") from None
    _keep_form_fields(bolt)
    check_envelope(bolt.body)
    return bolt


def _keep_form_fields(bolt: BoltRequest) -> None:
    """Bolt (1.30) takes a form whose text contains the word "payload" anywhere for an
    interactivity payload and, finding no ``payload=`` field, reads it as empty: ``/sla update
    1 the payload service is down`` would be lost (a 404). Such a form is read as the fields it
    is."""
    if bolt.body or not bolt.raw_body or bolt.raw_body.lstrip().startswith("{"):
        return
    fields = dict(parse_qsl(bolt.raw_body, keep_blank_values=True))
    if fields and "payload" not in fields:
        bolt.body = fields
        bolt.context = build_context(BoltContext(), fields)


def wsgi_app(
    app: App | None,
    health: Callable[[], bool] = lambda: True,
    routes: Mapping[str, Callable[..., Iterable[bytes]]] | None = None,
    api: Callable[..., Iterable[bytes]] | None = None,
) -> Callable[..., Iterable[bytes]]:
    slack = None if app is None else _Handler(app, path=EVENTS_PATH)  # None: Socket Mode
    routes = routes or {}

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        route = routes.get(path)
        if route is not None:
            return route(environ, start_response)
        if api is not None and (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            return api(environ, start_response)
        if environ.get("PATH_INFO") == "/healthz":
            ok = health()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"ok\n" if ok else b"unhealthy\n"]
        if slack is None:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found: Slack's requests come to this slabot over Socket Mode\n"]
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if stamp is not None and not stamp.strip().isdigit():
            # Bolt would fail on int(stamp) and answer 500; a request Slack did not sign is 401.
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": "invalid request"}']
        return slack(environ, start_response)

    return serve
