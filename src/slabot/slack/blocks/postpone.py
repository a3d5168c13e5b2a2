"""Asking before a change puts off a contract duty: the words for what it postpones, and the
ephemeral question with *Post it* / *Cancel* that a typed ``/sla update … eta:…`` gets.

The use case says what would be put off (`slabot.sla.postponements.Postponement`: target,
due, until, period); these builders word it for the one person who typed it. The update form
shows the same words above its fields when it is drawn again to be confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from ...sla import format_duration
from ...sla.postponements import Postponement
from .. import ids
from .kit import VALUE_MAX, Block, button, section, slack_date


def postponed_words(ref: str, postponed: Sequence[Postponement], tz: tzinfo) -> str:
    """ "This ETA puts off SLA-6's *Next update* by 15h: due <date>, it would be due <date>
    (owed every 4h)." — each duty it postpones, with both instants in the reader's zone."""
    parts = [
        f"*{p.label}* by {format_duration(p.by)}: due {slack_date(p.due, tz)}, it would be due "
        f"{slack_date(p.until, tz)} (owed every {format_duration(p.every)})"
        for p in postponed
    ]
    return f"This ETA puts off {ref}'s " + "; ".join(parts) + "."


def postpone_question(
    ref: str, postponed: Sequence[Postponement], tz: tzinfo, pending: str
) -> tuple[str, list[Block]]:
    """The ephemeral question: what it postpones, then *Post it* (carrying the update,
    ``pending``) and *Cancel*. An update too long for a button's value is not offered the
    button: the person is told to post it from the card's form, which asks the same."""
    words = postponed_words(ref, postponed, tz)
    if len(pending) > VALUE_MAX:
        words += (
            " The update is too long to confirm from here: post it with *Post update* on the card."
        )
        return words, [section(words)]
    actions = {
        "type": "actions",
        "elements": [
            button("Post it", ids.CONFIRM_UPDATE, pending, style="primary"),
            button("Cancel", ids.CANCEL_UPDATE, "cancel"),
        ],
    }
    return words, [section(words + " Post the update anyway?"), actions]
