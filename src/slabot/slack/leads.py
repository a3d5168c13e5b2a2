"""``/sla report``, ``/sla outage`` and ``/sla maintenance``: parse, one use case, render.

* **report** acknowledges at once (the figures read a month of histories and the chart takes a
  few hundred milliseconds to draw), then posts the summary to the channel and uploads the
  chart under it with ``files_upload_v2`` (when matplotlib is installed: the ``chart`` extra;
  the summary alone has every figure). A refusal after the acknowledgement (bad month,
  unknown policy, nothing to report, a channel the bot is not in) goes back through the
  command's response URL, to the person who typed only.
* **outage** and **maintenance** are one short transaction each, so they answer in the
  acknowledgement like the ticket changes do. ``outage list`` and ``show``, ``maintenance
  list`` and ``preview`` only answer the person who typed. A time typed with ``at:`` (or
  ``start:``, ``end:``) is read in the policy's zone, as maintenance's start is, and said
  back to the typer.
* Nothing is posted here: an outage's start and end (in the channel typed in), a lead's
  ``edit`` and ``delete`` (where the outage was), planned maintenance and its calling off
  each owe the channel an announcement in the change's own transaction, and the clock posts
  it (`slabot.outages.notices`), once, whatever Slack does meanwhile. The lead is told at
  once what was recorded and that the channel will hear of it as soon as Slack answers. A
  maintenance that breaks the policy's notice rule is still recorded and announced (it
  happens anyway); the lead is warned, and the announcement says why.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackRequestError

from ..reports import ReportError
from ..reports.chart import available as chart_available
from ..reports.chart import report_chart  # imports matplotlib only when it draws
from .blocks.outage import (
    maintenance_called_off,
    maintenance_list,
    maintenance_preview,
    maintenance_recorded,
    outage_history,
    outage_list,
    recorded,
)
from .blocks.report import chart_alt_text, is_empty, report_blocks, report_title
from .grammar import TIME_FORMS, USAGE, Command, Usage, read_past_time, read_time
from .people import in_zone

if TYPE_CHECKING:
    from ..sla import Policy
    from .app import Slabot
    from .command import Reply

log = logging.getLogger(__name__)


def report(bot: Slabot, reply: Reply, cmd: Command, body: dict[str, Any], client: Any) -> None:
    workspace, channel = body["team_id"], body.get("channel_id")
    reply.early()
    if not channel:
        raise Usage("Ask for a report inside the channel it should be posted in.")
    policy = bot.tickets.policy_for(workspace, channel, cmd.policy)
    customer = cmd.customer or _channel_customer(bot, workspace, channel, policy)
    now = bot.now()
    try:
        [found] = bot.reports.month(
            [workspace], cmd.month, policy=policy.name, now=now, customer=customer
        )
    except ReportError as exc:
        raise Usage(f"{exc} `{USAGE['report']}`") from None
    if is_empty(found):
        reply(
            f"Nothing to report for {policy.name}{f' ({customer})' if customer else ''} in "
            f"{found.period.label}: no ticket was "
            "opened and no downtime or maintenance was recorded. Another month? "
            f"`{USAGE['report']}`"
        )
        return
    drawn = chart_available()
    text, blocks = report_blocks(found, now, chart=drawn)
    posted = _post(reply, client.chat_postMessage, channel=channel, text=text, blocks=blocks)
    if not (posted and drawn):
        return
    png = report_chart(found.compliance, policy.tz, report_title(found))
    name = f"sla-{policy.name}-{found.period.label}.png"
    try:
        client.files_upload_v2(
            channel=channel,
            content=png,
            filename=name,
            title=report_title(found),
            alt_txt=chart_alt_text(found),
        )
    except SlackApiError as exc:
        error = exc.response.get("error", "an error")
        log.warning("could not upload the report chart to %s: %s", channel, error)
        reply(f"The summary is posted, but Slack refused the chart ({error}). {_fix(error)}")
    except (SlackRequestError, OSError) as exc:  # step 2 posts to Slack's upload URL directly
        log.warning("could not upload the report chart to %s: %s", channel, exc)
        reply("The summary is posted, but the chart's upload failed. Try again in a moment.")


def _channel_customer(bot: Slabot, workspace: str, channel: str, policy: Policy) -> str | None:
    """The customer a channel is bound to, when the report is of the channel's own policy: in
    a customer's channel (often shared with them through Slack Connect) the report is theirs
    alone, never the other customers' figures; `customer:` asks for another explicitly."""
    bound = bot.tickets.binding(workspace, channel)
    return bound.customer if bound is not None and bound.policy.name == policy.name else None


def outage(bot: Slabot, reply: Reply, cmd: Command, body: dict[str, Any], client: Any) -> None:
    if cmd.action in ("list", "show", "edit", "delete"):
        _outage_records(bot, reply, cmd, body)
        return
    workspace, user, channel = body["team_id"], body["user_id"], body.get("channel_id")
    policy = bot.tickets.policy_for(workspace, channel, cmd.policy)
    now = bot.now()
    at = None if cmd.at is None else _past(cmd.at, "at", policy, now)
    if cmd.action == "start":
        record = bot.outages.start(
            workspace,
            policy.name,
            channel=channel,
            actor=user,
            now=now,
            note=cmd.text,
            force_majeure=cmd.force_majeure,
            cause=cmd.cause,
            at=at,
            announce_in=channel,
        )
        done = f"Outage #{record.id} is recorded"
    else:
        record = bot.outages.end(
            workspace, policy.name, actor=user, now=now, note=cmd.text, at=at, announce_in=channel
        )
        done = f"Outage #{record.id} is ended"
    read = ""
    if at is not None:
        read = f"{'Start' if cmd.action == 'start' else 'End'} read as {in_zone(at, policy.tz)}. "
    reply(read + recorded(done, channel))


def _outage_records(bot: Slabot, reply: Reply, cmd: Command, body: dict[str, Any]) -> None:
    """``/sla outage list`` and ``show ID`` answer the person who typed; a lead's ``edit``
    and ``delete`` are announced where the outage was (its figures move for everyone)."""
    workspace, user, channel = body["team_id"], body["user_id"], body.get("channel_id")
    policy = bot.tickets.policy_for(workspace, channel, cmd.policy)
    now = bot.now()
    if cmd.action == "list":
        reply(*outage_list(bot.outages.recent(workspace, policy.name), policy))
        return
    assert cmd.ref is not None  # the grammar sees to it
    ident = int(cmd.ref)
    if cmd.action == "show":
        reply(*outage_history(*bot.outages.history(workspace, policy.name, ident), policy))
        return
    if cmd.action == "delete":
        record, _ = bot.outages.delete(
            workspace, policy.name, ident, reason=cmd.text, actor=user, now=now, announce_in=channel
        )
    else:
        given = dict(cmd.changes)
        record, _ = bot.outages.edit(
            workspace,
            policy.name,
            ident,
            actor=user,
            now=now,
            start=_past(given["start"], "start", policy, now) if "start" in given else None,
            end=_past(given["end"], "end", policy, now) if "end" in given else None,
            cause=given["cause"].lower() if "cause" in given else None,
            note=given.get("note"),
            reason=cmd.text,
            announce_in=channel,
        )
    done = "deleted" if cmd.action == "delete" else "corrected"
    reply(recorded(f"Outage #{ident} is {done}", record.channel or channel, "that"))


def _past(typed: str, field: str, policy: Policy, now: datetime) -> datetime:
    """An instant an outage began or ended, typed by a lead, read in the policy's zone."""
    try:
        return read_past_time(typed, policy.tz, now)
    except ValueError:
        raise Usage(
            f"I can't read {field}:{typed.strip()[:40]}: write {field}:-20m, {field}:14:05 (the "
            f"last time the clock showed it) or {field}:2026-11-30 14:05, in {policy.timezone}."
        ) from None


def maintenance(bot: Slabot, reply: Reply, cmd: Command, body: dict[str, Any], client: Any) -> None:
    workspace, user, channel = body["team_id"], body["user_id"], body.get("channel_id")
    policy = bot.tickets.policy_for(workspace, channel, cmd.policy)
    now = bot.now()
    if cmd.action == "list":
        reply(*maintenance_list(bot.maintenance.upcoming(workspace, policy.name, now), policy))
        return
    if cmd.action == "cancel":
        assert cmd.ref is not None  # the grammar sees to it
        record = bot.maintenance.cancel(workspace, policy.name, int(cmd.ref), actor=user, now=now)
        reply(maintenance_called_off(record))
        return
    assert cmd.start is not None and cmd.duration is not None  # the grammar sees to both
    try:
        start = read_time(cmd.start, policy.tz, now)
    except ValueError:
        raise Usage(
            f"I can't read the start {cmd.start[:40]!r}: write {TIME_FORMS} "
            f"(in {policy.timezone}). `{USAGE['maintenance']}`"
        ) from None
    if cmd.action == "preview":
        problems = bot.maintenance.preview(policy.name, start, cmd.duration, now=now)
        reply(maintenance_preview(policy, start, start + cmd.duration, problems))
        return
    record, problems = bot.maintenance.plan(
        workspace,
        policy.name,
        start,
        cmd.duration,
        channel=channel,
        actor=user,
        now=now,
        note=cmd.text,
    )
    reply(maintenance_recorded(record, policy, problems))


def _post(reply: Reply, send: Any, **kw: Any) -> bool:
    """Post to the channel; when Slack refuses, tell the person who typed why and what to do."""
    try:
        send(**kw)
    except SlackApiError as exc:
        error = exc.response.get("error", "an error")
        log.warning("could not post to %s: %s", kw.get("channel"), error)
        reply(f"I couldn't post in this channel ({error}). {_fix(error)}")
        return False
    return True


def _fix(error: str) -> str:
    if error in ("not_in_channel", "channel_not_found"):
        return "Invite me first: `/invite @slabot`, then try again."
    if error == "missing_scope":
        return "The app needs the `files:write` and `chat:write` scopes: reinstall it."
    return "Try again in a moment."
