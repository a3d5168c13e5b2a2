"""The App Home tab: my tickets, the queue at risk, and counts per policy and severity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App

from ..tickets.queries import counts, owned, queue
from . import blocks

if TYPE_CHECKING:
    from .app import Slabot

AT_RISK = 10


def register(app: App, bot: Slabot) -> None:
    @app.event("app_home_opened")
    def home(event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        workspace, user = body["team_id"], event["user"]
        now = bot.now()
        store, tickets = bot.tickets.store, bot.tickets
        view = blocks.home_view(
            tickets.views(owned(store, workspace, user), now),
            tickets.views(queue(store, workspace, limit=AT_RISK), now),
            counts(store, workspace),
            now,
        )
        client.views_publish(user_id=user, view=view)
