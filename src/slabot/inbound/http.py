"""The inbound hooks as WSGI routes of ``slabot serve``: ``/hooks/alertmanager``,
``/hooks/grafana`` and ``/hooks/inbound``.

Each request is checked in this order, and the first problem is the answer, as JSON
(``{"error": "…", "problems": [...]}``) with a 4xx status, before anything is written:
method (405), size (413), credentials (401; 404 when the hook has no secret set, so it is off),
JSON (400), the payload's shape (422, each problem with its place), then what the payload asks
(422 no route / no channel / unknown policy, 404 no such ticket, 409 a change the ticket's
state refuses). A database that does not answer is a 503, which Alertmanager retries.

The alert hooks take a shared secret as a bearer token or as the password of basic auth (what
Alertmanager's ``http_config`` and Grafana's contact point can send); `authorized` is the one
check, in constant time. The inbound webhook is signed instead (`slabot.signatures`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy.exc import OperationalError

from ..outages import Outages
from ..settings import Settings
from ..signatures import SignatureError, verify, verify_zendesk
from ..tickets import (
    AlreadyDone,
    Conflict,
    Forbidden,
    NotFound,
    TicketError,
    Tickets,
)
from .alerts import AlertGroup, AlertIntake, Unroutable
from .hookroutes import Hooks, HooksError, load_hooks
from .webhook import Message, Refused, WebhookIntake

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # an alert group of a few hundred alerts fits many times over
Wsgi = Callable[..., Iterable[bytes]]
M = TypeVar("M", bound=BaseModel)
STATUS = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    413: "413 Content Too Large",
    422: "422 Unprocessable Content",
    503: "503 Service Unavailable",
}


class HttpError(Exception):
    def __init__(self, status: int, error: str, problems: list[dict[str, str]] | None = None):
        super().__init__(error)
        self.status, self.error, self.problems = status, error, problems


def hook_routes(
    settings: Settings,
    tickets: Tickets,
    hooks: Hooks,
    workspace: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Wsgi]:
    """The three routes, acting in ``workspace``. Each hook acts as itself, a system actor
    (`slabot.actors`): the hooks file (its operator's decision) tells it to resolve the tickets
    it opened and to record outages, so it needs no person's permission for those, as the
    clock needs none to auto-solve, and may do nothing else."""
    outages = Outages(tickets.store, tickets.policies, roles=tickets.roles)
    alerts = AlertIntake(tickets, outages, hooks, workspace)
    inbound = WebhookIntake(tickets, hooks, workspace)

    def alert_route(source: str, secret: SecretStr | None) -> Wsgi:
        def handle(environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            body = _body(environ)
            authorized(environ, secret, f"SLABOT_{source.upper()}_TOKEN")
            group = _parse(AlertGroup, body)
            if source == "alertmanager" and group.version != "4":
                raise HttpError(422, 'Alertmanager sends webhook version "4"; is this Grafana?')
            outcome = alerts.receive(source, group, now())
            return (201 if outcome.action == "opened" else 200), outcome.answer()

        return _wsgi(handle)

    def inbound_route(environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = _body(environ)
        message_id = _sender(environ, body, settings, now().timestamp())
        outcome = inbound.receive(message_id, _parse(Message, body), now())
        return (201 if outcome.action == "opened" else 200), outcome.answer()

    return {
        "/hooks/alertmanager": alert_route("alertmanager", settings.slabot_alertmanager_token),
        "/hooks/grafana": alert_route("grafana", settings.slabot_grafana_token),
        "/hooks/inbound": _wsgi(inbound_route),
    }


def authorized(environ: dict[str, Any], secret: SecretStr | None, setting: str) -> None:
    """Pass when the request carries the hook's secret (``Authorization: Bearer <secret>``, or
    basic auth with it as the password); the one place a hook's credentials are checked."""
    if secret is None:
        raise HttpError(404, f"this hook is off: set {setting} to turn it on")
    given = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = given.partition(" ")
    offered = b""
    if scheme.lower() == "bearer":
        offered = value.strip().encode()
    elif scheme.lower() == "basic":
        try:
            offered = base64.b64decode(value.strip(), validate=True).partition(b":")[2]
        except (binascii.Error, ValueError):
            offered = b""
    if not hmac.compare_digest(offered, secret.get_secret_value().encode()):
        raise HttpError(
            401,
            f"missing or wrong credentials: send the {setting} secret as a bearer token "
            "(Authorization: Bearer …) or as the basic-auth password",
        )


def _sender(environ: dict[str, Any], body: bytes, settings: Settings, now: float) -> str | None:
    """Who may post to the inbound webhook, and the message's id (its idempotency key): a
    Standard Webhooks signature (SLABOT_INBOUND_SECRET); Zendesk's own signature
    (SLABOT_ZENDESK_SECRET), since Zendesk cannot send the standard one; or, for senders that
    can sign nothing (Jira's "Send web request"), a bearer token (SLABOT_INBOUND_TOKEN), which
    proves the sender but not the moment, and gives no id."""
    headers = {
        key[5:].lower().replace("_", "-"): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    try:
        if "webhook-signature" in headers and settings.slabot_inbound_secret is not None:
            secret = settings.slabot_inbound_secret.get_secret_value()
            return verify(secret, headers, body, now)
        if "x-zendesk-webhook-signature" in headers and settings.slabot_zendesk_secret:
            secret = settings.slabot_zendesk_secret.get_secret_value()
            return verify_zendesk(secret, headers, body, now)
    except SignatureError as exc:
        raise HttpError(401, str(exc)) from None
    if "authorization" in headers and settings.slabot_inbound_token is not None:
        authorized(environ, settings.slabot_inbound_token, "SLABOT_INBOUND_TOKEN")
        return None
    if not (
        settings.slabot_inbound_secret
        or settings.slabot_zendesk_secret
        or settings.slabot_inbound_token
    ):
        raise HttpError(
            404,
            "the inbound webhook is off: set SLABOT_INBOUND_SECRET (or SLABOT_ZENDESK_SECRET, "
            "SLABOT_INBOUND_TOKEN)",
        )
    raise HttpError(
        401,
        "the request is not signed: send the webhook-id, webhook-timestamp and "
        "webhook-signature headers (Standard Webhooks), or Zendesk's signature, or the "
        "bearer token",
    )


def _wsgi(handle: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]) -> Wsgi:
    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = []
        try:
            if environ.get("REQUEST_METHOD") != "POST":
                headers.append(("Allow", "POST"))
                raise HttpError(405, "send the hook a POST with a JSON body")
            status, answer = handle(environ)
        except HttpError as exc:
            status, answer = exc.status, _error(exc.error, exc.problems)
        except (Unroutable, Refused) as exc:
            status, answer = 422, _error(str(exc))
        except TicketError as exc:
            status, answer = _ticket_status(exc), _error(str(exc))
        except OperationalError:
            log.warning("a hook could not reach the database", exc_info=True)
            status, answer = 503, _error("the database does not answer: send again later")
        body = json.dumps(answer).encode()
        start_response(
            STATUS[status],
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers],
        )
        return [body]

    return route


def _ticket_status(exc: TicketError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, (Conflict, AlreadyDone)):
        return 409
    return 422  # Invalid, SeverityUnclear: the payload asks what the policy cannot give


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "Content-Length is not a number") from None
    if length > MAX_BODY:
        raise HttpError(413, f"the body is over {MAX_BODY // 1024} KiB: send fewer alerts")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _parse(model: type[M], body: bytes) -> M:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise HttpError(400, "the body is not JSON: send one JSON object") from None
    if not isinstance(data, dict):
        raise HttpError(400, "the body is not a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {
                "at": ".".join(str(p) for p in e["loc"]) or "(body)",
                "error": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        raise HttpError(422, "the payload does not have the documented shape", problems) from None


def _error(error: str, problems: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": error, **({"problems": problems} if problems else {})}


def serve_hooks(
    path: Path, settings: Settings, tickets: Tickets, team: str | None
) -> dict[str, Wsgi]:
    """The hook routes of the hooks file at ``path`` (``SLABOT_HOOKS``), as ``slabot serve``
    configures them; `HooksError` for a hooks file that cannot be used, every problem on its
    own line. Without the setting serve has no hooks and never imports this module."""
    hooks = load_hooks(path)
    problems = hooks.check(tickets.policies)
    if problems:
        raise HooksError("\n".join(f"{path}: {p}" for p in problems))
    workspace = hooks.workspace or team
    if workspace is None:
        raise HooksError(
            f"{path}: workspace: Slack did not say which workspace this is: "
            "set workspace (its team ID, T…) in the hooks file"
        )
    return hook_routes(settings, tickets, hooks, workspace)
