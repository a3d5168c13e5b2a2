"""Buttons and menus on ticket cards and questions.

Each control carries the ticket's number and the version the card showed, so a second click
on a stale card is refused ("already acknowledged") rather than applied twice. Refusals go to
the person who clicked, as an ephemeral message; changes update the card and its thread.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from ..tickets import SeverityUnclear, TicketError, TicketView
from . import blocks
from .notes import change_note

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)
PICK = re.compile(r"sla_pick_severity_.+")


def register(app: App, bot: Slabot) -> None:
    def change(verb: str, use_case: Callable[..., TicketView]) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
            ack()
            number, version = _ticket_of(action)
            workspace, user = body["team"]["id"], body["user"]["id"]
            now = bot.now()
            try:
                before = bot.tickets.view(workspace, number, now) if verb == "sev" else None
                view = use_case(workspace, number, action, user, now, version)
            except TicketError as exc:
                tell(client, body, str(exc))
                return
            bot.publisher.changed(view, now, change_note(verb, user, view, before=before))

        return listener

    t = bot.tickets
    app.action("sla_ack")(
        change(
            "ack",
            lambda ws, n, a, u, now, v: t.acknowledge(ws, n, actor=u, now=now, expected_version=v),
        )
    )
    app.action("sla_severity")(
        change(
            "sev",
            lambda ws, n, a, u, now, v: t.change_severity(
                ws,
                n,
                a["selected_option"]["value"].split(":")[2],
                actor=u,
                now=now,
                reason="changed on the card",
                expected_version=v,
            ),
        )
    )
    app.action("sla_wait")(
        change(
            "wait",
            lambda ws, n, a, u, now, v: t.set_status(
                ws, n, "waiting_on_customer", actor=u, now=now, expected_version=v
            ),
        )
    )
    app.action("sla_resume")(
        change(
            "resume",
            lambda ws, n, a, u, now, v: t.set_status(
                ws, n, "open", actor=u, now=now, expected_version=v
            ),
        )
    )
    app.action("sla_resolve")(
        change(
            "resolve",
            lambda ws, n, a, u, now, v: t.resolve(ws, n, actor=u, now=now, expected_version=v),
        )
    )
    app.action("sla_reopen")(
        change(
            "reopen",
            lambda ws, n, a, u, now, v: t.reopen(ws, n, actor=u, now=now, expected_version=v),
        )
    )

    @app.action("sla_update")
    def open_update(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        number, version = _ticket_of(action)
        try:
            view = bot.tickets.view(body["team"]["id"], number, bot.now())
        except TicketError as exc:
            tell(client, body, str(exc))
            return
        client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.update_modal(number, version, view.policy),
        )

    @app.action(PICK)
    def pick(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        choice = json.loads(action["value"])
        workspace, user = body["team"]["id"], body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        asked = (body.get("container") or {}).get("message_ts") or body.get("trigger_id")
        now = bot.now()
        try:
            result = bot.tickets.open(
                workspace,
                title=choice["summary"],
                reporter=user,
                now=now,
                severity=choice["severity"],
                policy=choice["policy"],
                channel=channel,
                idempotency_key=f"pick:{channel}:{asked}",
            )
        except (TicketError, SeverityUnclear) as exc:
            tell(client, body, str(exc))
            return
        if result.created:
            bot.publisher.opened(result.view, now, change_note("open", user, result.view))


def _ticket_of(action: dict[str, Any]) -> tuple[int, int | None]:
    value = action.get("value") or action.get("selected_option", {}).get("value", "")
    number, _, rest = value.partition(":")
    version = rest.split(":")[0]
    return int(number), int(version) if version.isdigit() else None


def tell(client: Any, body: dict[str, Any], text: str) -> None:
    """An ephemeral note to the person who clicked, in the channel where they clicked."""
    channel = (body.get("channel") or {}).get("id")
    if channel is None:
        return
    try:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)
    except Exception:
        log.exception("could not tell %s: %s", body["user"]["id"], text)
