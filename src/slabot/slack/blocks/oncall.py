"""Block Kit for on-call: ``/sla oncall``, a hand-off's announcement and a page once it is
taken. Pure functions.

Rotation labels come from the team file (the deployment's own text) and are escaped all the
same; people are mentions, times ``<!date>`` tokens so each reader sees their own zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...oncall import Watch
from ...sla.oncall import HandOff, Override, Rotation, Shift
from .card import ticket_text
from .kit import Block, escape, mention, mrkdwn, section, slack_date, truncate

if TYPE_CHECKING:
    from ...tickets import TicketView

TEXT_MAX = 3000


def _shift_line(shift: Shift, tz: Any) -> str:
    line = f"{mention(shift.person)} until {slack_date(shift.ends_at, tz)}"
    if shift.override is not None:
        covering = f"covering for {mention(shift.scheduled)}, " if shift.scheduled else ""
        line += f" ({covering}set by {mention(shift.override.by)})"
    return line


def oncall_blocks(watches: Sequence[Watch]) -> tuple[str, list[Block]]:
    """Each rotation: who is on call now and until when, and the next shifts."""
    if not watches:
        text = (
            "No rotations are configured: list them in the team file (SLABOT_TEAM), and name "
            "one in an escalation level with `rotation:`."
        )
        return text, [section(text)]
    blocks: list[Block] = []
    lines = []
    for watch in watches[:45]:
        rotation, tz = watch.rotation, watch.rotation.tz
        title = escape(truncate(rotation.title, 150))
        now = f"*{title}* (`{escape(rotation.key)}`): on call {_shift_line(watch.now, tz)}"
        later = "\n".join(f"then {_shift_line(s, tz)}" for s in watch.next)
        blocks.append(section(f"{now}\n{later}" if later else now))
        lines.append(f"{rotation.title}: {watch.now.person or 'nobody'}")
    return truncate("On call: " + "; ".join(lines), TEXT_MAX), blocks


def handoff_text(rotation: Rotation, handoff: HandOff, *, late: bool) -> str:
    """A hand-off as the rotation's channel reads it: who is on call now and until when, who
    is next; found late (the clock was down), it says when it happened."""
    tz, title = rotation.tz, escape(truncate(rotation.title, 150))
    who = mention(handoff.person) if handoff.person else "Nobody"
    after = mention(handoff.next) if handoff.next else "nobody"
    text = (
        f":arrows_counterclockwise: {who} is on call for *{title}* until "
        f"{slack_date(handoff.until, tz)}; next: {after}."
    )
    if late:
        text += f"\n_Announced late: the hand-off was at {slack_date(handoff.since, tz)}._"
    return text


def covered(override: Override, tz: Any) -> str:
    """The answer to ``/sla oncall cover``: who covers which rotation, from when to when."""
    return (
        f"{mention(override.person)} is on call in `{escape(override.rotation)}` from "
        f"{slack_date(override.starts_at, tz)} until {slack_date(override.ends_at, tz)} "
        f"(set by {mention(override.by)})."
    )


def taken_page(view: TicketView, level: str, by: str, at: datetime) -> tuple[str, list[Block]]:
    """A copy of a page once someone took it: which page, who took it and when, and no button.
    Every copy (the DMs, the channel posts, the thread reply) is redrawn with this."""
    tz = view.policy.tz
    head = f":rotating_light: Page to *{escape(truncate(level, 150))}*: {ticket_text(view)}"
    note = f":white_check_mark: Taken by {mention(by)} at {slack_date(at, tz)}"
    text = f"Page to {level}: {view.ticket.ref} taken by {by}"
    return truncate(text, TEXT_MAX), [
        section(head),
        {"type": "context", "elements": [mrkdwn(note)]},
    ]


def taken_in_place(
    blocks: Sequence[Block], value: str, by: str, at: datetime, tz: Any
) -> list[Block]:
    """The clicked message with this page's button (``value``) replaced by who took it and
    when; any other page listed in the same message keeps its own button."""
    note = {
        "type": "context",
        "elements": [mrkdwn(f":white_check_mark: Taken by {mention(by)} at {slack_date(at, tz)}")],
    }
    kept: list[Block] = []
    for block in blocks:
        values = [e.get("value") for e in block.get("elements") or [] if isinstance(e, dict)]
        if block.get("type") == "actions" and value in values:
            kept.append(note)
        else:
            kept.append(block)
    return kept if note in kept else [*kept, note]
