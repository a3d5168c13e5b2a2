"""The ``/sla`` slash command: parse, call one use case, answer.

A refusal (bad syntax, unknown ticket, no permission, a command whose fields cannot be read)
is answered in the acknowledgement, so only the person who typed sees it. A change updates the
ticket's card and thread for all; it carries the command's trigger as its idempotency key, so
the same command delivered twice changes the ticket once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond

from ..sla.classify import classify
from ..tickets import ChangeRequest, Postpones, SeverityUnclear, TicketError
from . import leads, oncall
from .blocks.card import ticket_text
from .blocks.help import help_blocks
from .blocks.history import detail_blocks
from .blocks.kit import context, md
from .blocks.modals import open_modal, severity_question
from .blocks.notes import downtime_note, opened_answer, saying
from .blocks.policy import matrix_blocks, policy_blocks
from .blocks.postpone import postpone_question
from .blocks.queue import queue_blocks
from .client import TIMEOUT
from .grammar import HELP, USAGE, Command, Usage, parse, read_day_end, read_past_time, read_time
from .guard import said, sorry
from .keepalive import Connections, KeepAliveWebhookClient
from .payloads import BadRequest, PendingUpdate, SlashCommand, read
from .people import in_zone, time_zone
from .shortcuts import form_defaults

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)


class Reply:
    """Answers the person who typed, and only them: inside the acknowledgement while it is
    still open, through the command's response URL once it has gone.

    Opening a ticket acknowledges first (`early`) and works after, so Slack hears back at
    once however long classification and the database take; a refusal then arrives through
    the response URL. Everything else answers in the acknowledgement itself.
    """

    def __init__(self, ack: Ack, respond: Respond, answers: Connections):
        self._ack, self._respond, self._answers = ack, respond, answers
        self.acked = False

    def early(self) -> None:
        if not self.acked:
            self.acked = True
            self._ack()

    def __call__(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        if self.acked:
            try:
                self._answer(text, blocks)
            except Exception:  # the answer is lost, but the request was handled: log it
                log.exception("could not answer through the response URL: %s", text[:80])
        else:
            self.acked = True
            self._ack(response_type="ephemeral", text=text, blocks=blocks)

    def _answer(self, text: str, blocks: list[dict[str, Any]] | None) -> None:
        """Post to the response URL, as Bolt's ``respond`` does, on a kept connection."""
        url = self._respond.response_url
        if url is None:
            raise ValueError("this command came without a response URL")
        message: dict[str, Any] = {
            "text": text,
            "response_type": "ephemeral",
            "replace_original": False,
        }
        if blocks is not None:
            message["blocks"] = blocks
        proxy = self._respond.proxy
        KeepAliveWebhookClient(url, self._answers, timeout=TIMEOUT, proxy=proxy).send_dict(message)


def register(app: App, bot: Slabot) -> None:
    @app.command("/sla")
    def sla(ack: Ack, respond: Respond, command: dict[str, Any], client: Any) -> None:
        reply = Reply(ack, respond, bot.answers)
        answer(reply, command, lambda: handle(bot, reply, command, client))


def answer(reply: Reply, body: dict[str, Any], work: Callable[[], None]) -> None:
    """Do ``work`` for a command, telling its typer what was refused or went wrong."""
    try:
        work()
    except (Usage, TicketError, BadRequest) as exc:
        reply(said(exc))
    except Exception as exc:
        reply(sorry(exc, f"/sla {body.get('text', '')[:40]}"))


def handle(bot: Slabot, reply: Reply, body: dict[str, Any], client: Any) -> None:
    request = read(SlashCommand, body, "this command")
    cmd = parse(request.text)
    workspace, user, channel = request.team_id, request.user_id, request.channel_id
    now = bot.now()
    tickets = bot.tickets
    if cmd.verb == "help":
        reply(HELP, help_blocks())
    elif cmd.verb == "open":
        _open(bot, reply, cmd, body, client)
    elif cmd.verb == "list":
        views = tickets.queue(workspace, now, policy=cmd.policy, limit=40)
        count = len(views)
        text = f"{count} open ticket{'' if count == 1 else 's'}" if views else "No open tickets."
        reply(text, queue_blocks(views, now, bot.links.cards(client, [v.ticket for v in views])))
    elif cmd.verb == "show":
        view = tickets.view(workspace, _ref(cmd), now)
        found = tickets.story(workspace, view.ticket.number)
        events = found.events if found else []
        reply(ticket_text(view), detail_blocks(view, events, now))
    elif cmd.verb == "policy":
        _policy(bot, reply, cmd, workspace, channel, user, client)
    elif cmd.verb == "matrix":
        policy = bot.tickets.policy_for(workspace, channel, cmd.policy)
        watches = bot.oncall.watch(workspace, now)
        reply(f"Escalation matrix of {policy.name}", matrix_blocks(policy, watches))
    elif cmd.verb == "report":
        leads.report(bot, reply, cmd, body, client)
    elif cmd.verb == "outage":
        leads.outage(bot, reply, cmd, body, client)
    elif cmd.verb == "maintenance":
        leads.maintenance(bot, reply, cmd, body, client)
    elif cmd.verb == "oncall":
        oncall.answer(bot, reply, cmd, workspace, user, client)
    else:
        # A change is quick (one row lock) and answers before the acknowledgement, so
        # commands typed in a row apply in the order they were typed.
        try:
            understood = _change(bot, cmd, workspace, user, now, request.key, client)
        except Postponing as asked:
            reply(*asked.question)
            return
        reply.early()
        if understood:
            reply(understood)


def _change(
    bot: Slabot, cmd: Command, workspace: str, user: str, now: datetime, key: str, client: Any
) -> str | None:
    """Make the change a command asks for, with the thread's note owed in its transaction;
    what a typed time was understood as (said back to the typer), if one was typed."""
    tickets = bot.tickets
    ref = _ref(cmd)
    say = saying(cmd.verb, user, text=cmd.text)
    request = ChangeRequest(workspace, ref, actor=user, now=now, idempotency_key=key, say=say)
    if cmd.verb == "ack":
        tickets.acknowledge(request)
    elif cmd.verb == "sev":
        tickets.change_severity(request, cmd.severity or "", reason=cmd.text)
    elif cmd.verb == "update":
        eta, understood = None, None
        if cmd.eta:
            policy = tickets.view(workspace, ref, now).policy
            tz = time_zone(client, user, policy.tz)
            eta = read_eta(cmd.eta, tz, now)
            understood = f"ETA {cmd.eta.strip()[:40]!r} read as {in_zone(eta, tz)}."
        request = replace(
            request, say=saying("update", user, text=cmd.text, eta=eta, workaround=cmd.workaround)
        )
        try:
            tickets.post_update(request, cmd.text, eta=eta, workaround=cmd.workaround)
        except Postpones as exc:
            question = _postpone_question(bot, workspace, ref, cmd, eta, exc, understood, now)
            raise Postponing(question) from None
        return understood
    elif cmd.verb == "release":
        policy = tickets.view(workspace, ref, now).policy
        tz = time_zone(client, user, policy.tz)
        try:
            release = read_day_end(cmd.start or "", tz, now)
        except ValueError:
            raise Usage(
                f"I can't read the release date {str(cmd.start)[:40]!r}: write 2027-01-15 "
                "(by the end of that day) or 2027-01-15T12:00"
            ) from None
        tickets.agree_release(request, release, agreed_by=cmd.text)
        return f"Release read as {in_zone(release, tz)}."
    elif cmd.verb == "correct":
        counts, cause = cmd.counts, cmd.cause
        request = replace(
            request,
            say=lambda view, before: downtime_note(user, view, counts, cause, cmd.text),
        )
        tickets.correct_downtime(request, counts=counts, cause=cause, reason=cmd.text)
    elif cmd.verb == "wait":
        tickets.set_status(request, cmd.status or "")
    elif cmd.verb == "resume":
        tickets.set_status(request, "open")
    elif cmd.verb == "resolve":
        tickets.resolve(request, note=cmd.text)
    elif cmd.verb == "reopen":
        tickets.reopen(request, reason=cmd.text)
    elif cmd.verb == "close":
        tickets.close(request)
    else:  # assign
        tickets.assign(request, cmd.user or "")
    return None


def _ref(cmd: Command) -> str:
    """The ticket ID a command names (the grammar requires one wherever it is read)."""
    if cmd.ref is None:
        raise Usage(f"Which ticket? `{USAGE[cmd.verb]}`")
    return cmd.ref


class Postponing(Exception):
    """The typed update postpones a duty: ``question`` (text, blocks) asks its author first."""

    def __init__(self, question: tuple[str, list[Any]]):
        super().__init__(question[0])
        self.question = question


def _postpone_question(
    bot: Slabot,
    workspace: str,
    ref: str,
    cmd: Command,
    eta: datetime | None,
    refused: Postpones,
    understood: str | None,
    now: datetime,
) -> tuple[str, list[Any]]:
    """What the ETA puts off, and *Post it* / *Cancel*, for the one who typed it."""
    assert eta is not None  # only an ETA postpones
    view = bot.tickets.view(workspace, ref, now)
    pending = PendingUpdate(
        number=view.ticket.number,
        text=cmd.text,
        eta=int(eta.timestamp()),
        workaround=cmd.workaround,
    ).model_dump_json()
    text, blocks = postpone_question(view.ticket.ref, refused.postponed, view.policy.tz, pending)
    if understood:
        blocks.insert(0, context(understood))
    return text, blocks


def _open(bot: Slabot, reply: Reply, cmd: Command, body: dict[str, Any], client: Any) -> None:
    """Acknowledge at once; the form or the ticket follows on the answering threads."""
    reply.early()
    bot.answering.submit(answer, reply, body, lambda: _opening(bot, reply, cmd, body, client))


def _opening(bot: Slabot, reply: Reply, cmd: Command, body: dict[str, Any], client: Any) -> None:
    workspace, user, channel = body["team_id"], body["user_id"], body.get("channel_id")
    named = _severity_alone(bot, workspace, channel, cmd)
    if not cmd.text or named:
        # No summary (`/sla open`, `/sla open p1`): the form, with what was typed chosen.
        chosen, customer = form_defaults(bot, workspace, channel, cmd.policy)
        client.views_open(
            trigger_id=body["trigger_id"],
            view=open_modal(
                [bot.policies.get(n) for n in bot.policies.names()],
                policy=chosen or cmd.policy,
                summary="",
                channel=channel,
                severity=named,
                customer=cmd.customer or customer,
            ),
        )
        return
    now = bot.now()
    policy = bot.tickets.policy_for(workspace, channel, cmd.policy)
    reported = None
    if cmd.reported:
        reported = read_reported(cmd.reported, time_zone(client, user, policy.tz), now)
    try:
        result = bot.tickets.open(
            workspace,
            title=cmd.text,
            reporter=user,
            now=now,
            policy=policy.name,
            channel=channel,
            reported_at=reported,
            customer=cmd.customer,
            idempotency_key=f"cmd:{body.get('trigger_id')}",
            say=saying("open", user),
        )
    except SeverityUnclear as exc:
        reply(str(exc), severity_question(policy, exc.classification, cmd.text))
        return
    reply(opened_answer(result.view))


def _severity_alone(bot: Slabot, workspace: str, channel: str | None, cmd: Command) -> str | None:
    """The severity key when the text names one and nothing else (``/sla open p1``): a ticket
    titled "p1" says nothing, so the form opens instead."""
    if not cmd.text or len(cmd.text.split()) > 1:
        return None
    try:
        policy = bot.tickets.policy_for(workspace, channel, cmd.policy)
    except TicketError:
        return None  # no policy to read it in: the form asks for one
    found = classify(policy, cmd.text)
    return found.severity if found.explicit and not found.summary.strip() else None


def _policy(
    bot: Slabot,
    reply: Reply,
    cmd: Command,
    workspace: str,
    channel: str | None,
    user: str,
    client: Any,
) -> None:
    if cmd.policy is None:
        binding = bot.tickets.binding(workspace, channel)
        if binding is None:
            policy = _channel_policy(bot, workspace, channel)
            reply(f"Policy {policy.name}", policy_blocks(policy))
            return
        whose = f", for {md(binding.customer, 200)}" if binding.customer else ""
        reply(f"Policy {binding.policy.name}{whose}", policy_blocks(binding.policy, binding))
        return
    if channel is None:
        raise Usage("Bind a policy from inside the channel its tickets are opened in.")
    bound = bot.tickets.bind_channel(
        workspace, channel, cmd.policy, actor=user, now=bot.now(), customer=cmd.customer
    )
    policy = bound.policy
    reply.early()
    whose = f" for *{md(bound.customer, 200)}*" if bound.customer else ""
    client.chat_postMessage(
        channel=channel,
        text=f"<@{user}> bound this channel to the *{policy.title or policy.name}* policy"
        f"{whose}: new tickets opened here run on its clocks"
        + (" and count for that customer." if bound.customer else "."),
    )


def _channel_policy(bot: Slabot, workspace: str, channel: str | None):
    return bot.tickets.policy_for(workspace, channel, None)


def read_reported(text: str, tz: Any, now: datetime) -> datetime:
    """When the customer reported the problem: the contract's clocks (time to open) start
    there. ``-2h``, ``09:30`` (the last time the policy's clock showed it) or an ISO time."""
    try:
        return read_past_time(text, tz, now)
    except ValueError:
        raise Usage(
            f"I can't read when it was reported, {text.strip()[:40]!r}: write reported:-2h, "
            "reported:09:30 or reported:2026-11-23T09:30"
        ) from None


def read_eta(text: str, tz: Any, now: datetime) -> datetime:
    """``+2h``, ``16:30`` (the next time the policy's clock shows it) or an ISO time."""
    try:
        return read_time(text, tz, now)
    except ValueError:
        raise Usage(
            f"I can't read the ETA {text.strip()[:40]!r}: write eta:+2h, eta:16:30 or "
            "eta:2026-11-23T16:30"
        ) from None
