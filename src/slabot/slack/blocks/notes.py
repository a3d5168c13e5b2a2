"""The thread's story: one line per change to a ticket, in the channel's words."""

from __future__ import annotations

from datetime import datetime

from ...tickets import TicketView
from .kit import md, mention, slack_date

# Slack refuses a message over 40,000 characters; an update may be that long itself.
NOTE_TEXT_MAX = 38_000


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
    who = mention(user)  # a Slack user as a mention; an e-mail sender as plain text
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
