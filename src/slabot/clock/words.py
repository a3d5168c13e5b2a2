"""What the clock says of a timer in plain words, for every notifier alike: the name of its
kind, why an automatic solve fires, and the one line a pager shows.

No markup here: the chat adapter draws each timer with these words too, so a page reads the
same in PagerDuty, a webhook and a Slack thread, and the note an automatic solve leaves in the
ticket's trail says why in the same words.
"""

from __future__ import annotations

from datetime import datetime

from ..sla import format_duration
from ..store.tables import TimerRow
from ..tickets import TicketView

KIND_WORDS = {
    "reminder": "reminder",
    "update_nudge": "update reminder",
    "page": "page",
    "follow_up": "follow-up",
    "auto_solve": "automatic solve",
    "auto_close": "automatic close",
    "card": "card",
    "note": "thread note",
    "page_copy": "redraw of a taken page",
}


def what(view: TicketView, timer: TimerRow) -> str:
    """The timer's kind in words; a page names the level it is for."""
    words = KIND_WORDS.get(timer.kind, timer.kind)
    if timer.kind == "page":
        words += f" to {view.policy.level_label(timer.level)}"
    return words


def summary(view: TicketView, timer: TimerRow) -> str:
    """One plain line for pagers outside Slack (PagerDuty's summary, a webhook's text)."""
    ticket = view.ticket
    return f"SLA-{ticket.number} {what(view, timer)}: {' '.join(ticket.title.split())}"[:1024]


def solve_reason(view: TicketView, timer: TimerRow) -> str:
    """Why an auto-solve fires: the policy's follow-ups ran out, or the wait ran too long."""
    since = waiting_since(timer)
    life = view.policy.lifecycle
    solve, every = life.auto_solve, life.follow_up_every
    if since is None:
        return "no reply from the customer"
    waited = timer.due_at - since
    if solve and solve.follow_ups and every and waited == every * (solve.follow_ups + 1):
        return f"no reply from the customer after {solve.follow_ups} follow-ups"
    return f"no reply from the customer for {format_duration(waited)}"


def waiting_since(timer: TimerRow) -> datetime | None:
    """The stage of a follow-up or auto-solve carries the instant the wait began."""
    _, _, stamp = timer.stage.partition("@")
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None
