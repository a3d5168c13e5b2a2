"""The Slack app: ``create_app(settings, client)`` builds a Bolt `App` with every listener.

Listeners are thin: parse what Slack sent, call one use case, render. Answers that belong to
one person (errors, help, the queue) go back in the acknowledgement, inside Slack's three
seconds; what the channel should see (the card, its thread) is posted after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from ..outages import Outages
from ..policies import PolicyBook
from ..settings import Settings
from ..store import Store
from ..tickets import Tickets
from . import actions, command, home, modals, pages
from .client import make_client
from .publish import Publisher

log = logging.getLogger(__name__)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Slabot:
    """What every listener needs: the use cases (tickets, outages), the policies, the card
    publisher, the time."""

    tickets: Tickets
    policies: PolicyBook
    publisher: Publisher
    now: Callable[[], datetime]
    outages: Outages


def create_app(
    settings: Settings,
    client: WebClient | None = None,
    *,
    tickets: Tickets | None = None,
    now: Callable[[], datetime] = wall_clock,
) -> App:
    client = client or make_client(settings)
    if tickets is None:
        tickets = Tickets(
            Store(settings.database_url),
            PolicyBook.load(settings.slabot_policies),
            admins=settings.slabot_admins,
            default_policy=settings.slabot_default_policy,
        )
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        token_verification_enabled=False,  # `slabot serve` checks the token itself, clearly
        process_before_response=False,
    )
    outages = Outages(tickets.store, tickets.policies)
    bot = Slabot(tickets, tickets.policies, Publisher(client, tickets), now, outages)
    app.middleware(_skip_retries)
    app.error(_on_error)
    command.register(app, bot)
    actions.register(app, bot)
    modals.register(app, bot)
    home.register(app, bot)
    pages.register(app, bot)
    return app


def _skip_retries(request: Any, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Slack retries a delivery it thinks was lost; the first one was handled, so say OK."""
    if request.headers.get("x-slack-retry-num"):
        return BoltResponse(status=200, body="")
    return next()


def _on_error(error: Exception, body: dict[str, Any]) -> None:
    log.exception("listener failed on %s", body.get("type") or body.get("command"), exc_info=error)
