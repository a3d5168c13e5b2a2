"""The "I'm on it" button of a page (``sla_page_ack``, value ``"<number>:<level>"``).

Only those the page reached may answer it (the level's people, the members of its user
groups, whoever was on call in its rotation, the ticket's owner, admins: the use case
checks); anyone else is told who may, and nothing changes. An answer stops that level's
repeats and acknowledges the ticket (and makes the answerer its owner if nobody was). The card
and its thread say so, and every copy of the level's pages (each DM, each channel post, the
thread reply) is redrawn to say who took it, without the button: all owed in the answer's own
transaction and drawn by the clock; only the clicked message is edited here, at once. A
refusal goes to the clicker alone (`guard.on_click`); the same click delivered again changes
nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from ..tickets import TicketView
from . import ids
from .blocks.kit import escape
from .blocks.oncall import taken_in_place
from .guard import on_click
from .payloads import Click, PageControl

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)


def register(app: App, bot: Slabot) -> None:
    @app.action(ids.PAGE_ACK)
    @on_click
    def on_it(click: Click, client: Any) -> None:
        page = PageControl.parse(click.action.chosen)
        user, now = click.user.id, bot.now()

        def note(view: TicketView, before: TicketView | None) -> str:
            label = view.policy.level_label(page.level)
            return f"<@{user}> is on it: answered the page to {escape(label)}."

        # The note, the card and every recorded copy of the level's pages are owed with the
        # answer, and drawn by the clock; the clicked message is edited here, at once.
        view = bot.tickets.acknowledge_page(click.asks(page.number, now, note), page.level)
        if not view.replayed:
            _mark_taken(client, click, view, user, now)


def _mark_taken(
    client: Any, click: Click, view: TicketView, by: str, at: datetime
) -> tuple[str, str] | None:
    """The clicked message, edited in place: this page's button becomes who took it (another
    page listed in the same message keeps its own). Also reaches a copy with no ts on record.
    Returns where it is, or None when the click carried no message to edit."""
    message, channel = click.message, click.channel.id if click.channel else None
    if message is None or not channel:
        return None
    blocks = taken_in_place(message.blocks, click.action.chosen, by, at, view.policy.tz)
    text = message.text or f"Page for {view.ticket.ref}"
    try:
        client.chat_update(channel=channel, ts=message.ts, text=text, blocks=blocks)
    except Exception:
        log.exception("could not mark the page in %s as taken", channel)
    return channel, message.ts
