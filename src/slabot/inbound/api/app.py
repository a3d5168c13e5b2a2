"""The HTTP API under ``/api/v1``: a Falcon WSGI app, validated and documented by spectree
from the pydantic models in `models`.

Why Falcon and spectree: Falcon is a small WSGI framework made for JSON APIs, with no
template engine or global request state, and it runs beside Bolt inside the same waitress
server (``web.py`` hands it every ``/api/v1`` path). Spectree validates each request against
the same pydantic models it turns into the OpenAPI document, so the document cannot drift
from what the API accepts. Flask with flask-openapi3, or FastAPI through an ASGI adapter,
would do the same at a higher import cost (measured on the loaded 2-core machine, wall time
of `python -c import …`: pydantic alone 0.4-0.5 s; with Falcon and spectree 1.1-1.3 s; with
Flask 1.6-2.1 s, flask-openapi3 2.7-3.0 s, FastAPI 1.7-2.7 s). ``serve`` imports this module
only on the first API request (`slabot.inbound.api.lazy_api`), so its readiness time does
not pay even that.

Each responder parses, calls one use case of `slabot.tickets`, and answers; the use case owes
the card and the thread's note (worded by `cards.note`), which the clock posts. Refusals are
JSON (`errors`), never a 500 for bad input.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar, Protocol

import falcon
from pydantic import ValidationError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from sqlalchemy.exc import OperationalError

from ...tickets import ChangeRequest, TicketError, Tickets, TicketView, parse_ref
from ...tickets.queries import queue
from ..tokens import Caller, TokenError, authenticate
from . import idempotency
from .cards import note
from .errors import ApiError, invalid, refusal, serialize
from .models import (
    ChangeHeaders,
    Empty,
    Error,
    Opened,
    OpenTicket,
    Pause,
    PostUpdate,
    Queue,
    QueueQuery,
    Resolve,
    Ticket,
)

PREFIX = "/api/v1"
MAX_BODY = 256 * 1024  # a description of 40,000 characters of 4-byte UTF-8 fits four times
READ, WRITE = "tickets:read", "tickets:write"
log = logging.getLogger(__name__)


def _rewrite_validation(req: Any, resp: Any, error: Exception | None, *_: Any) -> None:
    """Spectree's hook: its validation errors in the API's one error shape."""
    if isinstance(error, ValidationError):
        resp.media = {
            "error": "invalid",
            "message": "the request does not fit: fix the fields listed",
            "fields": invalid(error, "body"),
        }


spec = SpecTree(
    "falcon",
    title="slabot API",
    version="1",
    path=PREFIX.strip("/"),
    filename="openapi.json",
    page_templates={},
    annotations=False,
    before=_rewrite_validation,
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(
                type=SecureType.HTTP,
                scheme="bearer",
                description="a token from `slabot tokens create`",
            ),
        )
    ],
    security={"bearer": []},
)
REFUSALS = {f"HTTP_{code}": Error for code in (401, 403, 404, 409, 413, 415, 422)}
ERRORS = {**REFUSALS, "HTTP_400": Error}


def _answers(**ok: Any) -> Response:
    return Response(**ok, **ERRORS)


@dataclass
class Api:
    """What every responder needs: the use cases and the time."""

    tickets: Tickets
    now: Callable[[], datetime]

    @contextmanager
    def change(self, req: falcon.Request, caller: Caller) -> Iterator[Change]:
        """One change under its ``Idempotency-Key``: claimed first, released if the use case
        refuses it."""
        key = req.context.headers.idempotency_key
        body = json.dumps(req.get_media(default_when_empty={}), sort_keys=True).encode()
        printed = idempotency.fingerprint(req.method, req.path, body)
        store = self.tickets.store
        now = self.now()
        try:
            idempotency.claim(store, caller.token_id, key, printed, now)
        except idempotency.Reused:
            raise ApiError(
                422,
                f"the Idempotency-Key {key!r} was sent before with another request: use a "
                "new key for a new change, and the same request when you retry",
            ) from None
        change = Change(idempotency.use_case_key(caller.token_id, key), now)
        try:
            yield change
        except TicketError as exc:
            idempotency.release(store, caller.token_id, key)
            raise refusal(exc) from None


@dataclass(frozen=True)
class Change:
    key: str  # for the use case
    now: datetime


def _number(ref: str) -> int:
    """The ticket number in the path (SLA-42, 42); anything else names no ticket: 404."""
    try:
        return parse_ref(ref)
    except TicketError as exc:
        raise ApiError(404, str(exc)) from None


def _caller(req: falcon.Request) -> Caller:
    return req.context.caller


def _answer(resp: falcon.Response, model: Any, status: int = 200) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.media = model.model_dump(mode="json")


class TicketList:
    """``/tickets``: the queue, and opening a ticket."""

    scopes: ClassVar = {"GET": READ, "POST": WRITE}

    def __init__(self, api: Api):
        self.api = api

    @spec.validate(query=QueueQuery, resp=_answers(HTTP_200=Queue), tags=["tickets"])
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The queue: open tickets, the closest to a breach first; paused ones last."""
        caller, query = _caller(req), req.context.query
        rows = queue(
            self.api.tickets.store,
            caller.workspace,
            policy=query.policy,
            limit=query.limit,
            paused=not query.at_risk,
        )
        views = self.api.tickets.views(rows, self.api.now())
        _answer(resp, Queue(tickets=[Ticket.of(v) for v in views]))

    @spec.validate(
        json=OpenTicket,
        headers=ChangeHeaders,
        resp=_answers(HTTP_201=Opened, HTTP_200=Opened),
        tags=["tickets"],
    )
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Open a ticket; its deadlines count from ``reported_at``. 201: opened; 200: the
        ``source_ref`` had opened it before (nothing new)."""
        caller, body = _caller(req), req.context.json
        channel = body.channel or caller.channel
        if channel is None:
            raise ApiError(
                422,
                "no channel for the ticket's card: send channel (a Slack channel ID such as "
                f"C0123ABCD), or give the token {caller.name} one (slabot tokens create "
                "--channel)",
                fields=[{"field": "channel", "problem": "required: the token has none"}],
            )
        with self.api.change(req, caller) as change:
            result = self.api.tickets.open(
                caller.workspace,
                title=body.title,
                reporter=caller.actor,
                now=change.now,
                severity=body.severity,
                policy=body.policy,
                channel=channel,
                description=body.description,
                reported_at=body.reported_at and body.reported_at.astimezone(UTC),
                idempotency_key=change.key,
                source="api",
                source_ref=body.source_ref,
                say=note("open", caller.actor),
                customer=body.customer,
            )
        # A repeat answers as the first did: 201 if this key opened the ticket, 200 if the
        # source_ref had (the use case returns the ticket either way, created=False).
        created = result.created or result.view.ticket.idempotency_key == change.key
        reason = result.classification.reason if result.classification else None
        opened = Opened(created=created, classified=reason, ticket=Ticket.of(result.view))
        _answer(resp, opened, 201 if created else 200)


class TicketItem:
    """``/tickets/{ref}``: one ticket with its deadlines."""

    scopes: ClassVar = {"GET": READ}

    def __init__(self, api: Api):
        self.api = api

    @spec.validate(resp=_answers(HTTP_200=Ticket), tags=["tickets"])
    def on_get(self, req: falcon.Request, resp: falcon.Response, ref: str) -> None:
        """A ticket (SLA-42 or 42) with every deadline: due, state, breached."""
        try:
            view = self.api.tickets.view(_caller(req).workspace, _number(ref), self.api.now())
        except TicketError as exc:
            raise refusal(exc) from None
        _answer(resp, Ticket.of(view))


class UseCase(Protocol):
    """A `Tickets` change as every route calls it: what the request body adds is bound
    already, and the rest is the same for all of them."""

    def __call__(self, request: ChangeRequest, /) -> TicketView: ...


class TicketChange:
    """``/tickets/{ref}/<action>``: one change by one use case; the card and thread follow."""

    scopes: ClassVar = {"POST": WRITE}
    verb = ""

    def __init__(self, api: Api):
        self.api = api

    def use_case(self, body: Any) -> UseCase:
        """The change this route makes, with what ``body`` says bound."""
        raise NotImplementedError

    def said(self, body: Any) -> dict[str, Any]:
        """What the thread note quotes from the request."""
        return {}

    def run(self, req: falcon.Request, resp: falcon.Response, ref: str) -> None:
        caller, body, number = _caller(req), req.context.json, _number(ref)
        say = note(self.verb, caller.actor, **self.said(body))
        use_case = self.use_case(body)
        with self.api.change(req, caller) as change:
            view = use_case(
                ChangeRequest(
                    caller.workspace,
                    number,
                    actor=caller.actor,
                    now=change.now,
                    idempotency_key=change.key,
                    say=say,
                )
            )
        _answer(resp, Ticket.of(view))


def _change_route(cls: type[TicketChange], model: type, summary: str) -> type[TicketChange]:
    """Give a change its validated, documented ``on_post`` (spectree reads the decorator)."""

    @spec.validate(
        json=model, headers=ChangeHeaders, resp=_answers(HTTP_200=Ticket), tags=["changes"]
    )
    def on_post(self: TicketChange, req: falcon.Request, resp: falcon.Response, ref: str) -> None:
        self.run(req, resp, ref)

    on_post.__doc__ = summary
    cls.on_post = on_post  # type: ignore[attr-defined]
    return cls


class PostUpdateRoute(TicketChange):
    verb = "update"

    def use_case(self, body: PostUpdate) -> UseCase:
        eta = body.eta and body.eta.astimezone(UTC)
        tickets = self.api.tickets
        return partial(tickets.post_update, text=body.text, eta=eta, workaround=body.workaround)

    def said(self, body: PostUpdate) -> dict[str, Any]:
        return {"text": body.text, "eta": body.eta, "workaround": body.workaround}


class AcknowledgeRoute(TicketChange):
    verb = "ack"

    def use_case(self, body: Empty) -> UseCase:
        return self.api.tickets.acknowledge


class PauseRoute(TicketChange):
    verb = "wait"

    def use_case(self, body: Pause) -> UseCase:
        return partial(self.api.tickets.set_status, status=body.status)


class ResumeRoute(TicketChange):
    verb = "resume"

    def use_case(self, body: Empty) -> UseCase:
        return partial(self.api.tickets.set_status, status="open")


class ResolveRoute(TicketChange):
    verb = "resolve"

    def use_case(self, body: Resolve) -> UseCase:
        return partial(self.api.tickets.resolve, note=body.note)

    def said(self, body: Resolve) -> dict[str, Any]:
        return {"text": body.note}


CHANGES = {
    "updates": (
        PostUpdateRoute,
        PostUpdate,
        "Post an update to the customer: resets the update clock.",
    ),
    "acknowledge": (
        AcknowledgeRoute,
        Empty,
        "Acknowledge; the token owns the ticket if nobody does.",
    ),
    "pause": (PauseRoute, Pause, "Pause the clocks: waiting on the customer or a third party."),
    "resume": (ResumeRoute, Empty, "Resume the clocks: back to open."),
    "resolve": (ResolveRoute, Resolve, "Resolve the ticket."),
}
for _route, _model, _summary in CHANGES.values():
    _change_route(_route, _model, _summary)


class Guard:
    """Falcon middleware: bodies within `MAX_BODY`, and a live token with the scope the
    route needs, before anything is read or validated."""

    def __init__(self, store: Any):
        self.store = store

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        scopes = getattr(resource, "scopes", None)
        if scopes is None:
            return  # the OpenAPI document: public
        if (req.content_length or 0) > MAX_BODY:
            raise ApiError(413, f"the body is over {MAX_BODY // 1024} KiB: send less text")
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "send the token as Authorization: Bearer TOKEN (make one with "
                "`slabot tokens create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            caller = authenticate(self.store, token.strip())
        except TokenError as exc:
            raise ApiError(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
        needed = scopes.get(req.method)
        if needed is not None and needed not in caller.scopes:
            raise ApiError(
                403,
                f"the token {caller.name} may not do this: it needs the {needed} scope "
                f"(it has {', '.join(sorted(caller.scopes))}); create a token with it",
            )
        req.context.caller = caller


def _database_down(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
    """The database went away mid-request: a 503 to retry, not a 500."""
    log.warning("the database failed during %s %s: %s", req.method, req.path, exc)
    resp.status = falcon.HTTP_503
    resp.set_header("Retry-After", "5")
    resp.media = {
        "error": "unavailable",
        "message": "the database is not answering: try again shortly",
        "fields": [],
    }


def create_api(
    tickets: Tickets, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> falcon.App:
    api = Api(tickets, now)
    app = falcon.App(middleware=[Guard(tickets.store)])
    app.set_error_serializer(serialize)
    app.add_error_handler(OperationalError, _database_down)
    app.req_options.strip_url_path_trailing_slash = True
    app.add_route(f"{PREFIX}/tickets", TicketList(api))
    app.add_route(f"{PREFIX}/tickets/{{ref}}", TicketItem(api))
    for action, (route, _, _) in CHANGES.items():
        app.add_route(f"{PREFIX}/tickets/{{ref}}/{action}", route(api))
    spec.register(app)
    return app
