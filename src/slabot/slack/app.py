"""The Slack app: ``create_app(settings, client)`` builds a Bolt `App` with every listener
(`listeners`, by kind).

Listeners are thin: parse what Slack sent, call one use case, render. Answers that belong to
one person (errors, help, the queue) go back in the acknowledgement, inside Slack's three
seconds; what the channel should see (the card, its thread) is posted after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from ..oncall import OnCall, team_from
from ..outages import Maintenances, Outages
from ..policies import PolicyBook
from ..reports import Reports
from ..settings import Settings
from ..store import Store
from ..store.deliveries import first_delivery
from ..tickets import Tickets
from . import listeners
from .client import make_client
from .keepalive import Connections
from .links import Links
from .workspaces import NOT_INSTALLED, oauth_settings

log = logging.getLogger(__name__)
ANSWERING = 8  # threads working after the acknowledgement (`Slabot.answering`)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Slabot:
    """What every listener needs: the use cases (tickets, outages, maintenance, reports,
    on-call), the policies, the time, and the links to cards. Listeners reach the store only
    through the use cases; a ticket's card and thread notes are owed by them and posted by the
    clock."""

    tickets: Tickets
    policies: PolicyBook
    now: Callable[[], datetime]
    outages: Outages
    maintenance: Maintenances
    reports: Reports
    oncall: OnCall
    links: Links = field(default_factory=Links)
    # The answers' connections to the response URLs, kept open (`command.Reply`).
    answers: Connections = field(default_factory=Connections)
    # What a listener does after acknowledging (`/sla open`: the ticket stored, then the answer
    # through the response URL) runs on these threads, not on Bolt's. Bolt's pool is small
    # (five threads) and an acknowledgement needs one of them: when each open held its thread
    # while it waited for the database, a few in a row left the next command unacknowledged
    # until one was written (bench/README.md, "slash latency").
    answering: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(ANSWERING, thread_name_prefix="slabot-answer")
    )


def create_app(
    settings: Settings,
    client: WebClient | None = None,
    *,
    tickets: Tickets | None = None,
    now: Callable[[], datetime] = wall_clock,
) -> App:
    """The Bolt app. It never posts a card or a note itself: each change owes them in its
    own transaction and the clock delivers them (`slabot.tickets.timers`).

    Set up for OAuth (`Settings.oauth`), it also serves Bolt's install flow
    (``/slack/install``, ``/slack/oauth_redirect``), finds each request's token in the
    workspace's installation, and forgets a workspace that uninstalls it or revokes its
    tokens; ``client`` then carries no token, only the API URL and retries."""
    client = client or make_client(settings)
    if tickets is None:
        tickets = Tickets(
            Store(settings.database_url),
            PolicyBook.load(settings.slabot_policies),
            admins=settings.slabot_admins,
            default_policy=settings.slabot_default_policy,
            team=team_from(settings.slabot_team, strict=False),
        )
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        token_verification_enabled=False,  # `slabot serve` checks the token itself, clearly
        process_before_response=False,
        oauth_settings=oauth_settings(settings, tickets.store) if settings.oauth else None,
        user_facing_authorize_error_message=NOT_INSTALLED,
    )
    if settings.oauth:
        app.enable_token_revocation_listeners()
    oncall = tickets.roles  # the on-call use cases, with the same team and admins
    outages = Outages(tickets.store, tickets.policies, roles=oncall, owed=tickets.owed)
    maintenance = Maintenances(tickets.store, tickets.policies, roles=oncall, owed=tickets.owed)
    reports = Reports(tickets.store, tickets.policies)
    bot = Slabot(tickets, tickets.policies, now, outages, maintenance, reports, oncall)
    app.middleware(_once_per_event(tickets.store, now))
    app.error(_on_error)
    listeners.register(app, bot)
    return app


def _once_per_event(store: Store, now: Callable[[], datetime]) -> Callable[..., BoltResponse]:
    """Each Events API event is handled once, by its ``event_id``: a redelivery of one taken
    in already is answered OK and dropped; one whose first delivery never arrived is handled.
    Commands and clicks pass: their changes carry their own idempotency keys."""

    def middleware(request: Any, next: Callable[[], BoltResponse]) -> BoltResponse:
        body = request.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not first_delivery(store, event_id, now()):
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def _on_error(error: Exception, body: dict[str, Any]) -> None:
    log.exception("listener failed on %s", body.get("type") or body.get("command"), exc_info=error)
