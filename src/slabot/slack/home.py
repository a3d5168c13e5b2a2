"""The App Home tab: my tickets, the queue at risk, counts per policy and severity, and this
month's figures per policy in use."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt import App

from ..reports import PolicyReport, ReportError
from .blocks.home import home_view
from .blocks.report import month_blocks
from .payloads import BadRequest, HomeOpened, read
from .people import time_zone

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")  # a reader whose zone Slack cannot say
AT_RISK = 10
MONTH_POLICIES_MAX = 10  # policies whose month is computed for one Home tab


def register(app: App, bot: Slabot) -> None:
    @app.event("app_home_opened")
    def home(body: dict[str, Any], client: Any) -> None:
        try:
            opened = read(HomeOpened, body, "app_home_opened")
        except BadRequest as exc:  # acknowledged already (an event): nobody to answer
            log.warning("%s", exc)
            return
        if opened.event.tab != "home":
            return
        workspace, user = opened.team_id, opened.event.user
        now = bot.now()
        tickets = bot.tickets
        mine = tickets.owned(workspace, user, now)
        at_risk = tickets.queue(workspace, now, limit=AT_RISK, paused=False)
        view = home_view(
            mine,
            at_risk,
            _in_policy_order(tickets.counts(workspace), bot),
            now,
            month=month_blocks(this_month(bot, workspace, now)),
            links=bot.links.cards(client, [v.ticket for v in [*mine, *at_risk]]),
            tz=time_zone(client, user, UTC_ZONE),
        )
        client.views_publish(user_id=user, view=view)


def _in_policy_order(found: dict[tuple[str, str], int], bot: Slabot) -> dict[tuple[str, str], int]:
    """Counts by policy name, then severity in the policy's own order (p1 before p2, urgent
    before low), not the alphabet's; a severity the policy no longer has goes last."""

    def rank(key: tuple[str, str]) -> tuple[str, int, str]:
        policy, severity = key
        try:
            order = [s.key for s in bot.policies.get(policy).severities]
        except KeyError:
            order = []
        return (policy, order.index(severity) if severity in order else len(order), severity)

    return {key: found[key] for key in sorted(found, key=rank)}


def this_month(bot: Slabot, workspace: str, now: datetime) -> list[PolicyReport]:
    """The month so far for each policy the workspace uses (bound to a channel, under a
    ticket open or opened lately, or the deployment's default), at most ten.

    What it costs, on every Home tab opening: per policy, one read of the month's ticket
    histories, one of its outages and one of its maintenance, then the pure figures (about
    50 µs a ticket, `bench/report.py`): some 50 ms for a policy with a thousand tickets this
    month. No chart is drawn. Worth caching per (workspace, minute) if Home tabs are opened
    often in a busy workspace; not done yet. A policy whose figures cannot be worked out (a
    ticket under a policy version that lost its severity) is left out and logged: the rest of
    the tab still shows.
    """
    names = set(bot.tickets.policies_in_use(workspace, now - timedelta(days=32)))
    if bot.tickets.bindings.default_policy:
        names.add(bot.tickets.bindings.default_policy)
    known = [n for n in sorted(names) if n in bot.policies.names()][:MONTH_POLICIES_MAX]
    found: list[PolicyReport] = []
    for name in known:
        try:
            found += bot.reports.month([workspace], None, policy=name, now=now)
        except ReportError as exc:
            log.warning("Home tab: no figures for %s this month: %s", name, exc)
    return found
