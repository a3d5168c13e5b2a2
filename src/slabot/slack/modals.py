"""Modal submissions: the "open a ticket" form and the "post an update" form.

A refusal is shown next to the field it concerns, and the form stays open.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from ..tickets import Invalid, SeverityUnclear, TicketError
from .notes import change_note

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)


def register(app: App, bot: Slabot) -> None:
    @app.view("sla_open")
    def submit_open(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        title = _text(values, "title")
        choice = _option(values, "severity")
        policy, _, severity = choice.partition(":") if choice else (None, "", None)
        policy = policy or _option(values, "policy")
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")
        workspace, user = body["team"]["id"], body["user"]["id"]
        now = bot.now()
        try:
            result = bot.tickets.open(
                workspace,
                title=title,
                reporter=user,
                now=now,
                severity=severity or None,
                policy=policy,
                channel=channel,
                description=_text(values, "description"),
                idempotency_key=f"modal:{view['id']}",
            )
        except SeverityUnclear as exc:
            ack(response_action="errors", errors={"severity": str(exc)[:150]})
            return
        except Invalid as exc:
            field = "title" if "title" in str(exc) else "severity"
            ack(response_action="errors", errors={field: str(exc)[:150]})
            return
        except TicketError as exc:
            ack(response_action="errors", errors={"title": str(exc)[:150]})
            return
        ack()
        if result.created:
            bot.publisher.opened(result.view, now, change_note("open", user, result.view))

    @app.view("sla_update")
    def submit_update(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        number = int(view["private_metadata"].split(":")[0])
        text = _text(values, "text")
        stamp = _field(values, "eta").get("selected_date_time")
        eta = datetime.fromtimestamp(stamp, UTC) if stamp else None
        workaround = bool(_field(values, "workaround").get("selected_options"))
        workspace, user = body["team"]["id"], body["user"]["id"]
        now = bot.now()
        try:
            updated = bot.tickets.post_update(
                workspace, number, text, actor=user, now=now, eta=eta, workaround=workaround
            )
        except TicketError as exc:
            field = "eta" if "ETA" in str(exc) else "text"
            ack(response_action="errors", errors={field: str(exc)[:150]})
            return
        ack()
        note = change_note("update", user, updated, text=text, eta=eta, workaround=workaround)
        bot.publisher.changed(updated, now, note)


def _field(values: dict[str, Any], block: str) -> dict[str, Any]:
    return next(iter(values.get(block, {}).values()), {})


def _text(values: dict[str, Any], block: str) -> str:
    return _field(values, block).get("value") or ""


def _option(values: dict[str, Any], block: str) -> str | None:
    selected = _field(values, block).get("selected_option")
    return selected["value"] if selected else None
