"""What each timer says in Slack, as text and Block Kit: pure, from a ticket view, a timer and
``now``; the clock hands the timer to the Slack notifier (`slabot.notify.slack`), which draws it
here.

Every reminder and page names the ticket (its number and title), the target it is about, the
time left or overdue, and the contract clause behind it, so whoever reads only the notification
knows what is at stake and why. A message that goes out well after its due time says so.
User text (the title) is escaped by the Block Kit helpers; the policy's words are escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ...clock.words import solve_reason, waiting_since, what
from ...sla import format_duration
from ...store.tables import TimerRow
from ...tickets import TicketView
from .. import ids
from .card import ticket_text
from .kit import FALLBACK_MAX, Block, button, escape, left, mention, mrkdwn, slack_date, truncate


@dataclass(frozen=True)
class Message:
    text: str  # the fallback: what notifications and screen readers show
    blocks: list[Block]


def reminder(view: TicketView, timer: TimerRow, now: datetime, late: str | None) -> Message:
    return _message(
        [
            f":alarm_clock: {_to(view, 'reminder')}: {ticket_text(view)}{_late(late)}",
            target(view, timer, now),
        ],
        timer,
    )


def nudge(view: TicketView, timer: TimerRow, now: datetime, late: str | None) -> Message:
    stamp = f"{view.ticket.number}:{view.ticket.version}"
    return _message(
        [
            f":memo: {_to(view, 'an update is owed')} on {ticket_text(view)}{_late(late)}",
            target(view, timer, now),
        ],
        timer,
        [button("Post update", ids.POST_UPDATE, stamp, style="primary")],
    )


def page(
    view: TicketView,
    timer: TimerRow,
    now: datetime,
    late: str | None,
    whom: str | None,
    link: str | None = None,
) -> Message:
    """A page to the timer's level. ``whom``: the mentions for the ticket's thread (None in
    a direct message, which already reaches its one reader). ``link``: the link to the card,
    for a copy read away from the card (a DM, another channel)."""
    level = view.policy.level_label(timer.level)
    lines = [
        f":rotating_light: Page to *{escape(level)}*: {ticket_text(view)}{_late(late)}",
        f"Why: {_trigger(view, timer)}",
        target(view, timer, now),
    ]
    if whom:
        lines.append(whom)
    if link:
        lines.append(f"<{escape(link)}|Open {view.ticket.ref} and its thread>")
    value = f"{view.ticket.number}:{timer.level}"
    return _message(lines, timer, [button("I'm on it", ids.PAGE_ACK, value, style="primary")])


def pages_together(pages: list[Message]) -> Message:
    """Several pages for one person in one message: each page's own blocks, one after the
    other (each button keeps its value, so it answers its own page; block ids are numbered,
    as Slack wants them unique in a message). At most 12 pages fit Slack's 50 blocks."""
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(f":rotating_light: {len(pages)} pages for you:")}
    ]
    for i, message in enumerate(pages):
        if i:
            blocks.append({"type": "divider"})
        for block in message.blocks:
            if block.get("block_id"):
                block = {**block, "block_id": f"{block['block_id']}_{i}"}
            blocks.append(block)
    text = "\n\n".join(message.text for message in pages)
    return Message(truncate(f"{len(pages)} pages for you:\n{text}", FALLBACK_MAX), blocks)


def follow_up(view: TicketView, timer: TimerRow, now: datetime, late: str | None) -> Message:
    tz = view.policy.tz
    solve = view.policy.lifecycle.auto_solve
    count = f" ({timer.repeat + 1} of {solve.follow_ups})" if solve and solve.follow_ups else ""
    since = waiting_since(timer)
    lines = [
        f":envelope: {_to(view, 'a follow-up with the customer is due')}{count} on "
        f"{ticket_text(view)}{_late(late)}",
        f"Waiting on the customer since {slack_date(since, tz)} ({left(now - since)})."
        if since
        else "Waiting on the customer.",
    ]
    if solve:
        lines.append("Without a reply it will be solved automatically.")
    return _message(lines, timer)


def auto_solved(view: TicketView, timer: TimerRow, late: str | None) -> Message:
    return _message(
        [
            f":white_check_mark: {ticket_text(view)} was solved automatically: "
            f"{solve_reason(view, timer)}.{_late(late)}"
        ],
        timer,
    )


def auto_closed(view: TicketView, timer: TimerRow, late: str | None) -> Message:
    after = view.policy.lifecycle.close_after
    solved = view.policy.state_label("resolved").lower()
    why = f", {format_duration(after)} after it was {escape(solved)}" if after else ""
    return _message(
        [f":lock: {ticket_text(view)} was closed automatically{why}.{_late(late)}"], timer
    )


def gave_up(view: TicketView, timer: TimerRow, reason: str) -> Message:
    """The ticket's channel is told that a timer is dead, and how an operator resends it."""
    text = (
        f":warning: slabot could not deliver the {escape(what(view, timer))} for "
        f"{ticket_text(view)} "
        f"({escape(truncate(reason, 300))}). An operator can resend it with "
        f"`slabot timers --retry {timer.id}`."
    )
    return Message(truncate(text, FALLBACK_MAX), [{"type": "section", "text": mrkdwn(text)}])


def target(view: TicketView, timer: TimerRow, now: datetime) -> str:
    """The deadline a timer is about, with the time left or overdue. Pages fired at the
    opening or after a fixed time have no target of their own: the nearest deadline is shown."""
    plan, tz = view.schedule, view.policy.tz
    deadline = plan.deadline(timer.target) if timer.target else plan.next_breach
    if deadline is None:
        return "No deadline is running."
    label = f"*{deadline.label}*"
    if deadline.met_at is not None:
        return f"{label} was met {slack_date(deadline.met_at, tz)}."
    if deadline.due is None:
        return f"{label}: the clock is stopped."
    if now <= deadline.due:
        return f"{label} due {slack_date(deadline.due, tz)}: {left(deadline.due - now)} left."
    return (
        f"{label} was due {slack_date(deadline.due, tz)}: *overdue* by {left(now - deadline.due)}."
    )


def _trigger(view: TicketView, timer: TimerRow) -> str:
    trigger = timer.detail.get("trigger")
    label = _target_label(view, timer)
    if trigger == "open":
        severity = view.policy.severity(view.ticket.severity).label
        why = f"a {escape(severity)} ticket was opened"
    elif trigger == "breach":
        why = f"{label} is breached"
    elif trigger == "share":
        why = f"{float(timer.detail.get('share') or 0):.0%} of {label} is used"
    else:
        waited = timer.due_at - view.ticket.opened_at
        why = f"{format_duration(max(waited, timedelta(0)))} since it opened without an answer"
    if timer.repeat:
        why += f" (page {timer.repeat + 1}: it repeats until someone answers)"
    return why


def _target_label(view: TicketView, timer: TimerRow) -> str:
    deadline = view.schedule.deadline(timer.target) if timer.target else None
    return deadline.label.lower() if deadline else (timer.target or "the target")


def _to(view: TicketView, words: str) -> str:
    """``words`` addressed to whose turn it is: the owner; while nobody owns the ticket, the
    people and groups of the support level it was routed to, or else of the first escalation
    level (the matrix's support team), saying so; never
    the whole channel (``@channel`` on every reminder teaches a channel to mute the bot)."""
    if view.ticket.owner:
        return f"{mention(view.ticket.owner)} {words}"
    escalation = view.policy.escalation
    contacts: tuple[str, ...] = ()
    if escalation and escalation.levels:
        # the level the ticket was routed to (LeadPro's Level 1, 2, 3), else the front line
        routed = view.schedule.support_level
        known = routed is not None and routed in {level.key for level in escalation.levels}
        contacts = (escalation.level(routed) if known else escalation.levels[0]).contacts  # type: ignore[arg-type]
    people = " ".join(mention(c) for c in contacts if not c.startswith(("C", "#")))
    unowned = f"{words} (nobody owns it yet)"
    return f"{people} {unowned}" if people else unowned[0].upper() + unowned[1:]


def _late(late: str | None) -> str:
    return f" _(late: {escape(late)})_" if late else ""


def _message(lines: list[str], timer: TimerRow, buttons: list[Block] | None = None) -> Message:
    clause = timer.detail.get("clause")
    body = "\n".join(lines)
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(body)}]
    text = body
    if clause:
        quoted = f"Contract: “{escape(clause)}”"
        blocks.append({"type": "context", "elements": [mrkdwn(quoted)]})
        text += f"\n{quoted}"
    if buttons:
        blocks.append({"type": "actions", "block_id": ids.TIMER_BLOCK, "elements": buttons})
    return Message(truncate(text, FALLBACK_MAX), blocks)
