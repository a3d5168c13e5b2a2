"""The shortcuts: "Open SLA ticket" on any message, and from the shortcuts menu.

Both open the same form as ``/sla open``, so a ticket opened this way is checked, classified
and published exactly like one typed. From a message, the form comes filled in: the message's
first line as the title, its text and a link back to it as the description, its time as when
the problem was reported, and its channel as where the card goes. The ticket keeps the message
as its source (``slack-message``, ref ``<channel>:<ts>``), so a second click on the same
message finds that ticket instead of opening the form again, and two forms submitted from one
message open one ticket.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from .blocks.card import ticket_text
from .blocks.kit import truncate
from .blocks.modals import open_modal
from .guard import REFUSALS, sorry, tell
from .payloads import Interaction, Ref, SlackId, Trigger, _Part, read

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)
FROM_MESSAGE = "sla_open_message"  # the callback ids both manifests declare
FROM_ANYWHERE = "sla_open_global"
SOURCE = "slack-message"
TITLE_FROM_TEXT = 150  # the title taken from a message's first line, at most


class _ShortcutMessage(_Part):
    ts: SlackId
    text: str = ""


class MessageShortcut(Interaction):
    """A ``message_action`` payload: who asked, on which message, in which channel."""

    channel: Ref
    trigger_id: Trigger
    message: _ShortcutMessage


class GlobalShortcut(Interaction):
    """A ``shortcut`` payload: who asked, where to open the form."""

    trigger_id: Trigger


def register(app: App, bot: Slabot) -> None:
    @app.shortcut(FROM_MESSAGE)
    def from_message(ack: Ack, body: dict[str, Any], client: Any, respond: Any = None) -> None:
        ack()
        try:
            _from_message(bot, read(MessageShortcut, body, "this shortcut"), client)
        except REFUSALS as exc:
            tell(client, body, str(exc), respond)
        except Exception as exc:
            tell(client, body, sorry(exc, "the message shortcut"), respond)

    @app.shortcut(FROM_ANYWHERE)
    def from_anywhere(ack: Ack, body: dict[str, Any], client: Any) -> None:
        ack()
        try:
            asked = read(GlobalShortcut, body, "this shortcut")
            policy, customer = form_defaults(bot, asked.workspace, None)
            form = open_modal(
                _policies(bot), policy=policy, summary="", channel=None, customer=customer
            )
            client.views_open(trigger_id=asked.trigger_id, view=form)
        except Exception:  # nowhere to answer a global shortcut but the log
            log.exception("the global shortcut failed")


def _from_message(bot: Slabot, asked: MessageShortcut, client: Any) -> None:
    channel, ts = asked.channel.id, asked.message.ts
    ref = f"{channel}:{ts}"
    now = bot.now()
    existing = bot.tickets.by_source(asked.workspace, SOURCE, ref, now)
    if existing is not None:
        ticket = existing.ticket
        tell(
            client,
            {"channel": {"id": channel}, "user": {"id": asked.user.id}},
            f"This message already opened {ticket.ref}: {ticket_text(existing)}",
        )
        return
    text = asked.message.text.strip()
    first = text.split("\n", 1)[0].strip()
    description = text
    link = _permalink(client, channel, ts)
    if link:
        description = f"{text}\n\nFrom {link}" if text else f"From {link}"
    policy, customer = form_defaults(bot, asked.workspace, channel)
    form = open_modal(
        _policies(bot),
        policy=policy,
        customer=customer,
        summary=truncate(first, TITLE_FROM_TEXT),
        description=description,
        channel=channel,
        reported=_instant(ts, now),
        origin=(SOURCE, ref),
    )
    client.views_open(trigger_id=asked.trigger_id, view=form)


def _policies(bot: Slabot) -> list[Any]:
    return [bot.policies.get(n) for n in bot.policies.names()]


def form_defaults(
    bot: Slabot, workspace: str, channel: str | None, policy: str | None = None
) -> tuple[str | None, str]:
    """The policy and customer the open form comes filled in with: those a ticket opened in
    ``channel`` naming ``policy`` (None: none) and no customer gets (the channel's binding,
    the deployment's default, the policy's own customer); (None, "") when none is chosen."""
    try:
        chosen, customer = bot.tickets.ticket_terms(workspace, channel, policy, None)
    except REFUSALS:
        return None, ""
    return chosen.name, customer or ""


def _permalink(client: Any, channel: str, ts: str) -> str | None:
    """A link back to the message; the form opens without one when Slack will not say."""
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.warning("no permalink for %s:%s: %s", channel, ts, exc.response.get("error"))
        return None


def _instant(ts: str, now: datetime) -> datetime:
    """A message's time; ``now`` for one Slack stamped later than our clock reads."""
    try:
        return min(datetime.fromtimestamp(float(ts), UTC), now)
    except (ValueError, OverflowError, OSError):
        return now
