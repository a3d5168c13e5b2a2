"""The thread's story: one line per change to a ticket, in the channel's words."""

from __future__ import annotations

from datetime import datetime

from ...tickets import TicketView
from ...tickets.timers import Say
from .kit import md, mention, slack_date

# Slack refuses a message over 40,000 characters; an update may be that long itself.
NOTE_TEXT_MAX = 38_000


def saying(
    verb: str, user: str, *, text: str = "", eta: datetime | None = None, workaround: bool = False
) -> Say:
    """The thread's note for a change, handed to its use case, which owes it in the change's
    own transaction (worded from the ticket just before and just after the change)."""
    return lambda view, before: change_note(
        verb, user, view, before=before, text=text, eta=eta, workaround=workaround
    )


def opened_answer(view: TicketView) -> str:
    """What the one who opened a ticket is told at once: true whatever Slack does next, since
    the card is owed, not yet posted (the clock posts it, and retries while Slack fails)."""
    ticket = view.ticket
    if not ticket.channel:
        return f"{ticket.ref} opened."
    if ticket.message_ts:
        return f"{ticket.ref} opened: its card is in <#{ticket.channel}>."
    return (
        f"{ticket.ref} opened; its card will appear in <#{ticket.channel}> as soon as Slack "
        "answers."
    )


def change_note(
    verb: str,
    user: str,
    view: TicketView,
    *,
    before: TicketView | None = None,
    text: str = "",
    eta: datetime | None = None,
    workaround: bool = False,
) -> str:
    policy, ticket = view.policy, view.ticket
    # A Slack user as a mention; an e-mail sender or an API token (api:zendesk) as plain text.
    who = mention(user)
    said = f": {md(text, NOTE_TEXT_MAX)}" if text else ""
    if verb == "open":
        label = policy.severity(ticket.severity).label
        return f"{who} opened {ticket.ref} as *{label}* under the {policy.name} policy."
    if verb == "mail":  # ``text``: the customer the sender's route names
        label = policy.severity(ticket.severity).label
        return (
            f"E-mail from {who} ({md(text, 200)}): opened {ticket.ref} as *{label}* under the "
            f"{policy.name} policy."
        )
    if verb == "reply":  # the customer wrote again (`Tickets.customer_replied`)
        waited = before is not None and before.ticket.status == "waiting_on_customer"
        again = " The customer answered: the clock runs again." if waited else ""
        return f"{who} wrote by e-mail: {md(text, NOTE_TEXT_MAX)}{again}"
    if verb in ("ack", "acknowledge"):
        return f"{who} acknowledged {ticket.ref} and owns it."
    if verb == "sev":
        old = policy.severity(before.ticket.severity).label if before else "?"
        new = policy.severity(ticket.severity).label
        # Say what the change did to the clocks: the next deadline as it now stands.
        nearest = view.schedule.next_breach
        when = (
            f" {nearest.label} now due {slack_date(nearest.due, policy.tz)}."
            if nearest is not None and nearest.due is not None
            else ""
        )
        return (
            f"{who} changed the severity from *{old}* to *{new}*{said}. Deadlines recomputed.{when}"
        )
    if verb == "update":
        extra = [f"ETA {slack_date(eta, policy.tz)}"] if eta else []
        if workaround:
            extra.append("workaround available")
        suffix = f" ({', '.join(extra)})" if extra else ""
        return f"Update from {who}{suffix}: {md(text, NOTE_TEXT_MAX)}"
    if verb == "release":
        resolution = view.schedule.deadline("resolution")
        due = resolution.due if resolution else None
        when = f" Resolution now due {slack_date(due, policy.tz)}." if due else ""
        return f"{who} recorded a release agreed by {md(text, 200)}.{when}"
    if verb in ("wait", "resume", "status"):
        label = policy.state_label(ticket.status)
        paused = " The clock is paused." if ticket.status in policy.pausing_states else ""
        return f"{who} set {ticket.ref} to *{label}*.{paused}"
    if verb == "resolve":
        return f"{who} resolved {ticket.ref}{said}."
    if verb == "reopen":
        why = f" Why: {md(text, NOTE_TEXT_MAX)}" if text else ""
        return f"{who} reopened {ticket.ref}: its clocks run again.{why}"
    if verb == "close":
        return f"{who} closed {ticket.ref}."
    if verb == "assign":
        return f"{who} assigned {ticket.ref} to <@{ticket.owner}>."
    return f"{who} changed {ticket.ref}."


def downtime_note(
    user: str, view: TicketView, counts: bool | None, cause: str | None, why: str
) -> str:
    """A lead's downtime correction, as the thread tells it (the reason is the audit's)."""
    policy, ticket = view.policy, view.ticket
    said = []
    if counts is not None:
        said.append("counts as downtime" if counts else "was not an outage")
    if cause is not None and policy.uptime and cause in policy.uptime.causes:
        label = policy.uptime.causes[cause].label
        said.append(f"was caused by {md(label, 200)}")
    return (
        f"<@{user}> corrected the downtime of {ticket.ref}: it {' and '.join(said)}. "
        f"Why: {md(why, NOTE_TEXT_MAX)}"
    )
