"""Keeping a ticket's card and thread true in the channel, whoever changed the ticket.

The card is posted once when the ticket opens and updated in place (``chat.update``) after
every change; the thread under it carries the ticket's story, one reply per change.

Changes to one ticket can come in quick succession (two commands, a command and a click),
each published from its own listener thread after its acknowledgement. So a ticket's
publishing is serialized (a lock per ticket, striped), and ``changed`` draws the card from
the ticket as it stands when its turn comes, not as the change left it: whichever thread
publishes last, the card ends showing the latest state.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..tickets import Tickets, TicketView
from .blocks.card import ticket_card
from .workspaces import OneWorkspace, WorkspaceGone, Workspaces

log = logging.getLogger(__name__)
STRIPES = 64


class Publisher:
    def __init__(self, slack: WebClient | Workspaces, tickets: Tickets):
        """``slack``: each ticket's workspace's client, or the one client of a single-token
        deployment."""
        self.workspaces = OneWorkspace(slack) if isinstance(slack, WebClient) else slack
        self.tickets = tickets
        self._locks = [threading.Lock() for _ in range(STRIPES)]

    def _lock(self, view: TicketView) -> threading.Lock:
        return self._locks[hash((view.ticket.workspace, view.ticket.number)) % STRIPES]

    def opened(self, view: TicketView, now: datetime, note: str = "") -> None:
        """Post the card of a new ticket in its channel and remember where it is, drawn from
        the ticket as it stands when its turn comes: a command typed right after ``/sla open``
        can change the ticket before its card is posted."""
        if not view.ticket.channel:
            return
        with self._lock(view):
            view = self.tickets.view(view.ticket.workspace, view.ticket.number, now)
            ticket = view.ticket
            text, blocks = ticket_card(view, now)
            assert ticket.channel is not None  # checked above; a ticket's channel never changes
            try:
                posted = self.workspaces.client_for(ticket.workspace).chat_postMessage(
                    channel=ticket.channel, text=text, blocks=blocks
                )
            except (SlackApiError, WorkspaceGone) as exc:
                log.warning("could not post the card of %s: %s", ticket.ref, _why(exc))
                return
            self.tickets.set_message(
                ticket.workspace, ticket.number, posted["channel"], posted["ts"]
            )
            if note:
                self._reply(ticket.workspace, posted["channel"], posted["ts"], note)

    def changed(self, view: TicketView, now: datetime, note: str) -> None:
        """Update the card in place and tell the thread what happened; a change replayed (the
        same request delivered again) was told when it was first applied."""
        if view.replayed:
            return
        with self._lock(view):
            # The ticket as it stands now: a later change may have been published already.
            view = self.tickets.view(view.ticket.workspace, view.ticket.number, now)
            ticket = view.ticket
            if not (ticket.channel and ticket.message_ts):
                return
            text, blocks = ticket_card(view, now)
            try:
                self.workspaces.client_for(ticket.workspace).chat_update(
                    channel=ticket.channel, ts=ticket.message_ts, text=text, blocks=blocks
                )
            except (SlackApiError, WorkspaceGone) as exc:
                log.warning("could not update the card of %s: %s", ticket.ref, _why(exc))
            self._reply(ticket.workspace, ticket.channel, ticket.message_ts, note)

    def _reply(self, workspace: str, channel: str, thread_ts: str, text: str) -> None:
        try:
            self.workspaces.client_for(workspace).chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=text
            )
        except (SlackApiError, WorkspaceGone) as exc:
            log.warning("could not post to the thread %s: %s", thread_ts, _why(exc))


def _why(exc: SlackApiError | WorkspaceGone) -> str:
    return exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
