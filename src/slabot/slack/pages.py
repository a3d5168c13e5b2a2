"""The "I'm on it" button of a page (``sla_page_ack``, value ``"<number>:<level>"``).

Whoever clicks answers the page: that level's repeats stop, and the ticket is acknowledged
(and owned) by them if nobody had. The card and its thread say so; the clicked message keeps a
line saying who took it, in place of the button. A refusal (the ticket was resolved meanwhile,
a value that cannot be read) goes to the clicker alone (`guard.on_click`); the same click
delivered again changes nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from ..sla import Policy
from . import ids
from .blocks.kit import escape, mrkdwn
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
        label = escape(_label(view.policy, page.level))
        note = f"<@{user}> is on it: answered the page to {label}."
        bot.publisher.changed(view, now, note)
        _mark_taken(client, click, note)


def _label(policy: Policy, level: str) -> str:
    levels = policy.escalation.levels if policy.escalation else ()
    return next((lv.label for lv in levels if lv.key == level), level)


def _mark_taken(client: Any, click: Click, note: str) -> None:
    """Replace the clicked message's button with who took the page, so nobody clicks again."""
    message, channel = click.message, click.channel.id if click.channel else None
    if message is None or not channel:
        return
    blocks = [b for b in message.blocks if b.get("type") != "actions"]
    blocks.append({"type": "context", "elements": [mrkdwn(f":white_check_mark: {note}")]})
    try:
        client.chat_update(channel=channel, ts=message.ts, text=message.text or note, blocks=blocks)
    except Exception:
        log.exception("could not mark the page in %s as taken", channel)
