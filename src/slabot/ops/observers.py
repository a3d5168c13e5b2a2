"""Where the metrics are counted: around the web app, the Slack client and the clock's notifier
(the pagers' HTTP client: `slabot.ops.pager_calls`). Each wraps or plugs into what it watches
and changes nothing of what it does."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from ..notify import Delivery, DeliveryFailed, Notifier, Receipt, Recovery
from . import logs
from .metrics import Metrics

if TYPE_CHECKING:
    from ..clock.dispatch import TickReport
    from .probes import Heartbeat

WSGIApp = Callable[..., Iterable[bytes]]
BODY_MAX = 1 << 20  # Slack's requests are a few KB; a larger body is left for Bolt to refuse


def request_metrics(
    app: WSGIApp, metrics: Metrics, path: str, surfaces: Mapping[str, str] | None = None
) -> WSGIApp:
    """Count and time the requests to ``path`` (Slack's: the surface read from the body, and
    the workspace named in the request's log lines) and to the paths ``surfaces`` names (a
    path, or a prefix ending in ``/`` for everything under it: the hooks, the HTTP API), by
    surface and outcome. Other paths (probes, metrics, a scan of unknown URLs) pass through
    uncounted, so no request can add a series of its own."""
    named = dict(surfaces or {})
    prefixes = [(p, s) for p, s in named.items() if p.endswith("/")]

    def surface_of(environ: dict[str, Any]) -> tuple[str, str | None] | None:
        where = environ.get("PATH_INFO", "")
        if where == path:
            return _surface(_body(environ), environ.get("CONTENT_TYPE", ""))
        surface = named.get(where) or next((s for p, s in prefixes if where.startswith(p)), None)
        return None if surface is None else (surface, None)

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        counted = surface_of(environ)
        if counted is None:
            return app(environ, start_response)
        surface, workspace = counted
        status = ["500"]

        def respond(line: str, headers: list[Any], *exc_info: Any) -> Any:
            status[0] = line.split(" ", 1)[0]
            return start_response(line, headers, *exc_info)

        started = time.perf_counter()
        try:
            with logs.context(workspace=workspace):
                return app(environ, respond)
        finally:
            metrics.request_seconds.labels(surface).observe(time.perf_counter() - started)
            metrics.requests.labels(surface, _outcome(status[0])).inc()

    return serve


def _body(environ: dict[str, Any]) -> bytes:
    """Read the request's body and put it back for the app behind."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if not 0 < length <= BODY_MAX:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _surface(body: bytes, content_type: str) -> tuple[str, str | None]:
    """(command | interaction | event | other, the workspace) of one Slack request."""
    try:
        if content_type.startswith("application/json"):
            event = json.loads(body)
            return "event", event.get("team_id")
        form = parse_qs(body.decode())
        if "command" in form:
            return "command", form.get("team_id", [None])[0]
        if "payload" in form:
            payload = json.loads(form["payload"][0])
            return "interaction", (payload.get("team") or {}).get("id")
    except (ValueError, AttributeError, UnicodeDecodeError):
        pass
    return "other", None


def _outcome(status: str) -> str:
    return {"2": "ok", "4": "refused", "5": "error"}.get(status[:1], "other")


class SlackCalls(RetryHandler):
    """Counts each Web API answer by method and outcome; never asks for a retry itself.

    slack_sdk shows every answer (each attempt, 429s and 5xx included) and every connection
    error to its retry handlers in turn, so this one goes first in ``client.retry_handlers``:
    it sees everything whatever the handlers after it decide."""

    def __init__(self, metrics: Metrics):
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = urlsplit(request.url).path.rsplit("/", 1)[-1] or "unknown"
        self.metrics.slack_calls.labels(method, _slack_outcome(response)).inc()
        return False


def _slack_outcome(response: HttpResponse | None) -> str:
    if response is None:
        return "connection"
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code >= 500:
        return "http_5xx"
    body = response.body or {}
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    return "ok" if body.get("ok", True) else str(body.get("error", "error"))[:64]


def count_slack_calls(client: Any, metrics: Metrics) -> Any:
    """``client`` (a slack_sdk WebClient) with its answers counted."""
    client.retry_handlers.insert(0, SlackCalls(metrics))
    return client


class ObservedNotifier:
    """A notifier that counts each delivery by the timer's kind, its lag and the pages it
    delivered, and names the ticket, timer and workspace in the log lines sent meanwhile."""

    def __init__(self, inner: Notifier, metrics: Metrics):
        self.inner = inner
        self.metrics = metrics

    def send(self, delivery: Delivery) -> Receipt:
        timer = delivery.timer
        try:
            with _about(delivery):
                receipt = self.inner.send(delivery)
        except DeliveryFailed as failure:
            # Held to Slack's limits (a 429, the channel's pace) is no failure: the clock
            # records it as paced, spending no attempt, and so is it counted here.
            outcome = "paced" if failure.held else "failed" if failure.retryable else "refused"
            self.metrics.deliveries.labels(timer.kind, outcome).inc()
            raise
        self.metrics.deliveries.labels(timer.kind, "late" if delivery.late else "sent").inc()
        lag = (delivery.now - timer.due_at).total_seconds()
        self.metrics.lag.labels(timer.kind).observe(max(lag, 0.0))
        if timer.kind == "page":
            self.metrics.pages.labels(timer.level or "unknown").inc()
        return receipt

    def together(self, deliveries: Sequence[Delivery]) -> dict[str, Receipt]:
        """The inner notifier's shared parts, as they are (each delivery is counted once, by
        its own `send`)."""
        return self.inner.together(deliveries)

    def recover(self, deliveries: Sequence[Delivery]) -> Recovery:
        """The inner notifier's search for messages in doubt, as it is (nothing is sent)."""
        return self.inner.recover(deliveries)

    def delivered(self, delivery: Delivery) -> bool:
        with _about(delivery):
            return self.inner.delivered(delivery)

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        self.metrics.gave_up.labels(delivery.timer.kind).inc()
        with _about(delivery):
            self.inner.gave_up(delivery, reason)

    def redraw(self, delivery: Delivery) -> None:
        with _about(delivery):
            self.inner.redraw(delivery)


def _about(delivery: Delivery) -> Any:
    ticket = delivery.view.ticket
    return logs.context(workspace=ticket.workspace, ticket=ticket.ref, timer=delivery.key)


class ClockWatch:
    """The clock's `slabot.clock.runner.Observer`: counts what each tick recorded, shows
    whether this clock leads, and beats the heartbeat the readiness probe reads."""

    def __init__(self, metrics: Metrics, heartbeat: Heartbeat):
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.name = "unknown"  # the dispatcher's name, once built

    def tick(self, report: TickReport) -> None:
        for (kind, outcome), count in report.kinds.items():
            self.metrics.timers.labels(kind, outcome).inc(count)
        self.heartbeat.beat()  # a long burst is many ticks in one run: still alive

    def ran(self, leading: bool) -> None:
        self.metrics.ticks.inc()
        self.metrics.last_tick.set_to_current_time()
        self.metrics.leader.labels(self.name).set(1 if leading else 0)
        self.heartbeat.beat()
