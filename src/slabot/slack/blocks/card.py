"""The ticket's card: header, status, deadlines, next page, and the buttons its state allows.

Also the words every other surface uses for a ticket (its reference, its severity's label)
and for a deadline, so the card, the queue and the history say them the same way.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from ...sla.durations import format_duration
from ...sla.policy import ACTIVE, WAITING, Policy, Severity
from ...sla.schedule import Deadline, Progress
from .. import ids
from .kit import (
    FALLBACK_MAX,
    LINE_TITLE_MAX,
    OPTIONS_MAX,
    SECTION_MAX,
    Block,
    button,
    confirm_dialog,
    context,
    header,
    join_fitting,
    left,
    lower_first,
    md,
    mention,
    mrkdwn,
    one_line,
    option,
    plain,
    plain_section,
    section,
    slack_date,
    truncate,
)

if TYPE_CHECKING:
    from ...tickets.views import TicketView


LAST_UPDATE_MAX = 300  # the last update's text on the card: the gist; the thread has it whole
# How the card names the systems tickets come from; another source shows its own name.
SOURCE_NAMES = {
    "api": "the API",
    "alertmanager": "Alertmanager",
    "grafana": "Grafana",
    "email": "e-mail",
    "webhook": "a webhook",
    "slack-message": "a Slack message",
    "slack-workflow": "a workflow",
}


def ref(view: TicketView) -> str:
    return f"SLA-{view.ticket.number}"


def severity_of(policy: Policy, key: str) -> Severity | None:
    try:
        return policy.severity(key)
    except KeyError:
        return None  # a policy version that no longer has it: show the key


def severity_label(policy: Policy, key: str) -> str:
    severity = severity_of(policy, key)
    return severity.label if severity else key


def _stamp(view: TicketView) -> str:
    """What every action's value carries: which ticket, at which version (stale clicks)."""
    return f"{view.ticket.number}:{view.ticket.version}"


# -- deadlines ------------------------------------------------------------------------------------


DONE_WORDS = {"time_to_open": "opened", "first_response": "answered"}  # else "done"


def deadline_state(deadline: Deadline, now: datetime, tz: tzinfo) -> str:
    """What a deadline means, in words that stay true until the card is next drawn.

    A card is drawn when something happens, not as time passes, so it never says "4h left"
    (false a minute later): a running deadline says when it falls due, as a Slack date token
    each reader sees in their own zone and that Slack itself words relative to the reader's
    day ("Today at 14:00"). What happened (met, missed, breached) stays true for good.
    """
    due = deadline.due
    if deadline.state == "met" and deadline.met_at:
        return f"met ✓ {slack_date(deadline.met_at, tz)}"
    if deadline.state == "missed" and deadline.met_at:
        # "missed … (met 10:56)" read as a contradiction: say what happened, and when.
        late = f" by {left(deadline.met_at - due)}" if due else ""
        done = DONE_WORDS.get(deadline.target, "done")
        return f"missed{late} ({done} {slack_date(deadline.met_at, tz)})"
    if deadline.state == "paused":
        return f"paused: {md(lower_first(deadline.paused_by or 'on hold'), 200)}"
    if deadline.state == "stopped":
        return "stopped: the ticket is resolved"
    if due is None:
        return "no deadline while the clock is stopped"
    if deadline.state == "breached" or now > due:
        return f"*breached*: was due {slack_date(due, tz)}"
    text = f"due {slack_date(due, tz)}"
    if deadline.resumes_at is not None:
        text += " · clock stopped outside support hours — resumes " + slack_date(
            deadline.resumes_at, tz
        )
    return text


def _deadline_line(deadline: Deadline, now: datetime, tz: tzinfo) -> str:
    agreed = ""
    if deadline.due and deadline.release_agreed_by and deadline.state not in ("met", "stopped"):
        agreed = f" (the release agreed by {md(deadline.release_agreed_by, 200)})"
    return f"*{deadline.label}* — {deadline_state(deadline, now, tz)}{agreed}"


def next_up(view: TicketView, now: datetime) -> str:
    """The queue's "what happens next" for one ticket: its nearest deadline, or why none."""
    tz = view.policy.tz
    nearest = view.schedule.next_breach
    if nearest is not None and nearest.due is not None:
        if now > nearest.due:
            return f"{nearest.label} *breached*: was due {slack_date(nearest.due, tz)}"
        text = f"{nearest.label} due {slack_date(nearest.due, tz)}"
        if nearest.resumes_at is not None:
            text += f" (clock stopped — resumes {slack_date(nearest.resumes_at, tz)})"
        return text
    paused = next((d for d in view.schedule.deadlines if d.state == "paused"), None)
    if paused is not None:
        return f"paused: {md(lower_first(paused.paused_by or 'on hold'), 200)}"
    return md(view.policy.state_label(view.ticket.status), 200)


def _next_page(view: TicketView, now: datetime) -> str | None:
    """ "Next page: Level 2 <date>": the earliest page still to come, if any."""
    escalation = view.policy.escalation
    pages = [t for t in view.schedule.timers if t.kind == "page" and t.due_at >= now]
    if escalation is None or not pages:
        return None
    page = min(pages, key=lambda t: t.due_at)
    label = view.policy.level_label(page.level)
    # The level's contacts are named in /sla matrix, not here: the card is posted to the
    # channel, and a mention would ping them before the page is due.
    return f"Next page: {md(label, 150)} {slack_date(page.due_at, view.policy.tz)}"


# -- the ticket card ------------------------------------------------------------------------------


def ticket_text(view: TicketView) -> str:
    """One line for threads and notifications: ``SLA-42 (High): title``.

    Escaped and cut, because a message's top-level text is parsed like ``mrkdwn``: a title
    typed as ``<!channel>`` must not ping the channel from a notification.
    """
    label = severity_label(view.policy, view.ticket.severity)
    title = md(one_line(view.ticket.title), LINE_TITLE_MAX)
    return f"{ref(view)} ({md(label, 80)}): {title}"


def card_body(view: TicketView, now: datetime) -> list[Block]:
    """Everything the card shows but its buttons: shared by the card and ``/sla show``."""
    ticket, policy, plan = view.ticket, view.policy, view.schedule
    tz = policy.tz
    label = severity_label(policy, ticket.severity)
    blocks: list[Block] = [
        header(f"{ref(view)} · {one_line(label)} · {one_line(ticket.title)}"),
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Status*\n{md(policy.state_label(ticket.status), 200)}"),
                mrkdwn(f"*Owner*\n{mention(ticket.owner)}"),
                mrkdwn(f"*Reporter*\n{mention(ticket.reporter)}"),
                mrkdwn(f"*Policy*\n{md(policy.title or policy.name, 200)}"),
            ],
        },
    ]
    if ticket.customer:
        blocks[1]["fields"].append(mrkdwn(f"*Customer*\n{md(one_line(ticket.customer), 200)}"))
    if plan.deadlines:
        lines = [_deadline_line(d, now, tz) for d in plan.deadlines]
        blocks.append(section(join_fitting(lines, SECTION_MAX)))
    else:
        blocks.append(section("_No timed targets for this severity._"))
    page = _next_page(view, now)
    if page:
        blocks.append(context(f":rotating_light: {page}"))
    if plan.progress is not None:
        blocks.append(context(*_progress(plan.progress, view.last_update, tz)))
    if ticket.description and ticket.description.strip():
        blocks.append(plain_section(ticket.description.strip()))
    opened = f"Opened {slack_date(ticket.opened_at, tz)}"
    if ticket.reported_at and ticket.reported_at < ticket.opened_at:
        opened += f" · reported {slack_date(ticket.reported_at, tz)}"
    if ticket.source != "slack":
        opened += f" · from {source_words(ticket.source, ticket.source_ref)}"
    if plan.status == "resolved" and plan.reopen_until is not None:
        opened += f" · can be reopened until {slack_date(plan.reopen_until, tz)}"
    blocks.append(context(opened))
    return blocks


def source_words(source: str, source_ref: str | None) -> str:
    """ "Alertmanager (group …)": where a ticket came from, so whoever reads the card can go
    back to the alert, the e-mail or the other helpdesk's ticket."""
    words = SOURCE_NAMES.get(source, source)
    return f"{words} ({md(one_line(source_ref), 120)})" if source_ref else words


def _progress(progress: Progress, said: str | None, tz: tzinfo) -> list[str]:
    """ "Last update <date> · ETA <date> · workaround in place since <date>", then what the
    last update said (cut, on one line): what the updates promised, on the card, so nobody
    has to scroll the thread for it."""
    parts = [f":memo: Last update {slack_date(progress.last_at, tz)}"]
    if progress.eta is not None:
        parts.append(f"ETA {slack_date(progress.eta, tz)}")
    if progress.workaround_since is not None:
        parts.append(f"workaround in place since {slack_date(progress.workaround_since, tz)}")
    elements = [" · ".join(parts)]
    if said and said.strip():
        elements.append(f"“{md(one_line(said), LAST_UPDATE_MAX)}”")
    return elements


def ticket_actions(view: TicketView, now: datetime) -> Block | None:
    """The card's buttons (block ``sla_ticket``); None when nothing can be done any more.

    Every value is ``"<number>:<version>"`` (the select's options add ``:<severity key>``),
    so a click on a card that changed since it was drawn is refused by the handler instead
    of acting on a ticket the clicker has not seen.
    """
    ticket, plan = view.ticket, view.schedule
    stamp = _stamp(view)
    elements: list[Block] = []
    if ticket.status in ACTIVE:
        if ticket.acknowledged_at is None:
            elements.append(button("Acknowledge", ids.ACK, stamp, style="primary"))
        elements.append(_severity_select(view))
        elements.append(button("Post update", ids.POST_UPDATE, stamp))
        if ticket.status in WAITING:
            elements.append(button("Resume", ids.RESUME, stamp))
        else:
            elements.append(button("Waiting on customer", ids.WAIT, stamp))
        elements.append(
            button("Resolve", ids.RESOLVE, stamp, style="danger", confirm=_resolve_confirm(view))
        )
    elif ticket.status == "resolved":
        if plan.reopen_until is None or plan.reopen_until >= now:
            elements.append(button("Reopen", ids.REOPEN, stamp))
        # Closing is for good (a closed ticket cannot be reopened): ask first.
        elements.append(button("Close", ids.CLOSE, stamp, confirm=_close_confirm(view)))
    if not elements:
        return None
    return {"type": "actions", "block_id": ids.TICKET_BLOCK, "elements": elements}


def _severity_select(view: TicketView) -> Block:
    stamp = _stamp(view)
    options = [
        option(s.label, f"{stamp}:{s.key}", s.definition)
        for s in view.policy.severities[:OPTIONS_MAX]
    ]
    select: Block = {
        "type": "static_select",
        "action_id": ids.SEVERITY,
        "placeholder": plain("Severity", 150),
        "options": options,
    }
    current = next((o for o in options if o["value"] == f"{stamp}:{view.ticket.severity}"), None)
    if current is not None:
        select["initial_option"] = current
    return select


def _resolve_confirm(view: TicketView) -> Block:
    window = view.policy.lifecycle.reopen_within
    text = "Resolving stops its clocks."
    if window:
        text += f" It can be reopened within {format_duration(window)}."
    return confirm_dialog(f"Resolve {ref(view)}?", text, "Resolve")


def _close_confirm(view: TicketView) -> Block:
    return confirm_dialog(
        f"Close {ref(view)}?", "A closed ticket is archived and cannot be reopened.", "Close"
    )


def ticket_card(view: TicketView, now: datetime) -> tuple[str, list[Block]]:
    """The ticket's card: ``(fallback text, blocks)`` for ``chat.postMessage``/``update``.

    Header (number, severity, title), status, owner, reporter, policy; each deadline with
    what remains; the next page; the description; and the buttons that fit its state.
    """
    blocks = card_body(view, now)
    actions = ticket_actions(view, now)
    if actions is not None:
        blocks.append(actions)
    status = view.policy.state_label(view.ticket.status)
    fallback = f"{ticket_text(view)} · {md(status, 100)}"
    return truncate(fallback, FALLBACK_MAX), blocks
