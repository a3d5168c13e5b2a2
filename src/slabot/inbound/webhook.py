"""The generic inbound webhook (``/hooks/inbound``): other helpdesks open and change tickets.

The body is one JSON object (`Message`), signed in the Standard Webhooks scheme
(`slabot.signatures`, checked by `slabot.inbound.http` before this module sees it)::

    {"action": "open", "source": "zendesk", "ref": "48213",
     "title": "Checkout fails for EU customers", "description": "…",
     "severity": "P1", "policy": "liveops", "channel": "C0123ABCD",
     "reported_at": "2026-11-30T09:12:00Z"}
    {"action": "update", "source": "zendesk", "ref": "48213", "text": "Customer sent logs"}
    {"action": "resolve", "source": "zendesk", "ref": "48213", "text": "Solved in Zendesk"}

``source`` and ``ref`` name the item in the other system (kept on the ticket, shown on the
card, and what ``update`` and ``resolve`` find the ticket by). A message's ``webhook-id`` is
the change's idempotency key, so a message delivered twice (a retry, a replay inside the
signature's five minutes) changes the ticket once; older replays fail the timestamp check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from ..actors import OWN_DOORS, WEBHOOK
from ..sla.policy import CUSTOMER_MAX
from ..tickets import ChangeRequest, NotFound, Tickets, TicketView
from ..tickets.opening import MAX_SOURCE_REF
from .alerts import Outcome
from .cards import note
from .hookroutes import Hooks

ACTOR = WEBHOOK  # who changes a ticket for a helpdesk (its reporter is the helpdesk's name)
Source = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["open", "update", "resolve"] = "open"
    source: Source = "webhook"
    ref: str = Field(min_length=1, max_length=MAX_SOURCE_REF)
    title: str | None = None
    description: str = ""
    text: str = ""
    severity: str | None = None
    policy: str | None = None
    channel: Annotated[str, StringConstraints(pattern=r"^[CG][A-Z0-9]{2,}$")] | None = None
    reported_at: AwareDatetime | None = None
    customer: str | None = Field(default=None, min_length=1, max_length=CUSTOMER_MAX)


class Refused(Exception):
    """The message cannot be taken as it is; says what to change."""


class WebhookIntake:
    def __init__(self, tickets: Tickets, hooks: Hooks, workspace: str):
        self.tickets = tickets
        self.hooks = hooks
        self.workspace = workspace

    def receive(self, message_id: str | None, message: Message, now: datetime) -> Outcome:
        if message.source in OWN_DOORS:  # a signed webhook may not speak for them
            raise Refused(
                f"source {message.source!r} has its own door into slabot: name the system "
                "the webhook comes from, such as zendesk or jira"
            )
        key = f"webhook:{message_id}"[:128] if message_id else None
        if message.action == "open":
            return self._open(key, message, now)
        view = self._ticket(message, now)
        text = message.text.strip() or message.description.strip()
        name = "updated" if message.action == "update" else "resolved"
        if message.action == "update" and not text:
            raise Refused("an update needs text: say what changed")
        say = note(f"{message.source} {message.ref}: {text or name}")
        request = ChangeRequest(
            self.workspace, view.ticket.number, actor=ACTOR, now=now, idempotency_key=key, say=say
        )
        if message.action == "update":
            changed = self.tickets.post_update(request, text)
        else:
            changed = self.tickets.resolve(request, note=text)
        if changed.replayed:
            return Outcome("repeat", changed.ticket.ref)
        return Outcome(name, changed.ticket.ref)

    def _open(self, key: str | None, message: Message, now: datetime) -> Outcome:
        if not (message.title and message.title.strip()):
            raise Refused("opening a ticket needs a title: say in a few words what is wrong")
        channel = message.channel or self.hooks.channel
        if channel is None:
            raise Refused(
                "no channel for the ticket: name one in the message (channel) or set channel "
                "in the hooks file"
            )
        result = self.tickets.open(
            self.workspace,
            title=message.title,
            description=message.description,
            reporter=message.source,
            now=now,
            severity=message.severity,
            policy=message.policy,
            channel=channel,
            reported_at=message.reported_at,
            idempotency_key=key,
            source=message.source,
            source_ref=message.ref,
            customer=message.customer,
        )
        if not result.created:
            return Outcome("repeat", result.view.ticket.ref)
        return Outcome("opened", result.view.ticket.ref)

    def _ticket(self, message: Message, now: datetime) -> TicketView:
        view = self.tickets.by_source(self.workspace, message.source, message.ref, now)
        if view is None:
            raise NotFound(
                f'no ticket came from {message.source} {message.ref}: open it first (action "open")'
            )
        return view
