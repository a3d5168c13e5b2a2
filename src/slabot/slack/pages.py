"""The "I'm on it" button of a page (``sla_page_ack``, value ``"<number>:<level>"``).

Only those the page reached may answer it (the level's people, whoever was on call in its
rotation, the ticket's owner, admins: the use case checks); anyone else is told who may, and
nothing changes. An answer stops that level's repeats and acknowledges the ticket (and makes
the answerer its owner if nobody was). The card and its thread say so, and every copy of the
level's pages (each DM, each channel post, the thread reply) is redrawn at once to say who
took it, without the button. A refusal goes to the clicker alone (`guard.on_click`); the same
click delivered again changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from ..tickets import TicketView
from ..tickets.page_copies import PageCopy
from . import ids
from .blocks.kit import escape
from .blocks.oncall import taken_in_place, taken_page
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
        view = bot.tickets.acknowledge_page(
            click.team.id, page.number, page.level, actor=user, now=now, idempotency_key=click.key
        )
        if view.replayed:
            return
        label = view.policy.level_label(page.level)
        note = f"<@{user}> is on it: answered the page to {escape(label)}."
        bot.publisher.changed(view, now, note)
        copies = bot.tickets.page_copies(click.team.id, page.number, page.level)
        clicked = _mark_taken(client, click, view, user, now)
        redraw_taken(client, view, copies, label, user, now, skip=clicked)


def redraw_taken(
    client: Any,
    view: TicketView,
    copies: list[PageCopy],
    label: str,
    by: str,
    at: datetime,
    skip: tuple[str, str] | None = None,
) -> None:
    """Every copy of a taken page drawn again: who took it, no button (but ``skip``, the
    clicked message, edited in place). A copy that cannot be redrawn is logged: the answer
    itself is recorded."""
    text, blocks = taken_page(view, label, by, at)
    places = []
    for copy in copies:
        if copy.person is not None:
            try:
                place = client.conversations_open(users=copy.person)["channel"]["id"]
            except Exception:
                log.exception("could not open the DM of %s to redraw a page", copy.person)
                continue
        else:
            place = copy.channel or view.ticket.channel
        if place and (place, copy.ts) != skip:
            places.append((place, copy.ts))
    for channel, ts in places:
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except Exception:
            log.exception("could not redraw the page in %s as taken", channel)


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
