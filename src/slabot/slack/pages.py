"""The "I'm on it" button of a page (``sla_page_ack``, value ``"<number>:<level>"``).

Whoever clicks answers the page: that level's repeats stop, and the ticket is acknowledged
(and owned) by them if nobody had. The card and its thread say so; the clicked message keeps a
line saying who took it, in place of the button. A refusal (the ticket was resolved meanwhile)
goes to the clicker alone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from ..sla import Policy
from ..tickets import TicketError
from .actions import tell
from .blocks import escape, mrkdwn

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)
ACTION = "sla_page_ack"


def register(app: App, bot: Slabot) -> None:
    @app.action(ACTION)
    def on_it(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        number, _, level = action["value"].partition(":")
        workspace, user = body["team"]["id"], body["user"]["id"]
        now = bot.now()
        try:
            view = bot.tickets.acknowledge_page(workspace, number, level, actor=user, now=now)
        except TicketError as exc:
            tell(client, body, str(exc))
            return
        note = f"<@{user}> is on it: answered the page to {escape(_label(view.policy, level))}."
        bot.publisher.changed(view, now, note)
        _mark_taken(client, body, note)


def _label(policy: Policy, level: str) -> str:
    levels = policy.escalation.levels if policy.escalation else ()
    return next((lv.label for lv in levels if lv.key == level), level)


def _mark_taken(client: Any, body: dict[str, Any], note: str) -> None:
    """Replace the clicked message's button with who took the page, so nobody clicks again."""
    message, channel = body.get("message"), (body.get("channel") or {}).get("id")
    if not message or not channel:
        return
    blocks = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    blocks.append({"type": "context", "elements": [mrkdwn(f":white_check_mark: {note}")]})
    try:
        client.chat_update(
            channel=channel, ts=message["ts"], text=message.get("text") or note, blocks=blocks
        )
    except Exception:
        log.exception("could not mark the page in %s as taken", channel)
