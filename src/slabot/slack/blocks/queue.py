"""``/sla list``: the queue, one compact line per ticket, cut to a message's blocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from .card import next_up, ref, severity_label
from .kit import LINE_TITLE_MAX, Block, context, md, mention, one_line, section

if TYPE_CHECKING:
    from ...tickets.views import TicketView


QUEUE_BLOCKS_MAX = 45  # /sla list: leaves room under 50 for whatever the listener adds


def queue_line(view: TicketView, now: datetime) -> str:
    """ "*SLA-42* · High · title — First response in 1h 20m · <@owner>": one ticket."""
    label = severity_label(view.policy, view.ticket.severity)
    title = md(one_line(view.ticket.title), LINE_TITLE_MAX)
    owner = mention(view.ticket.owner)
    return f"*{ref(view)}* · {md(label, 80)} · {title} — {next_up(view, now)} · {owner}"


def ticket_sections(items: Sequence[TicketView], now: datetime, room: int) -> list[Block]:
    """One section per ticket, at most ``room`` blocks, the last a "… and N more" if cut."""
    if len(items) <= room:
        return [section(queue_line(v, now)) for v in items]
    shown = max(room - 1, 0)
    blocks = [section(queue_line(v, now)) for v in items[:shown]]
    return [*blocks, context(f"… and {len(items) - shown} more")]


def queue_blocks(items: Sequence[TicketView], now: datetime) -> list[Block]:
    """``/sla list``: the queue as given (most urgent first), one compact line per ticket."""
    if not items:
        return [section("No open tickets: the queue is empty. :tada:")]
    return ticket_sections(items, now, QUEUE_BLOCKS_MAX)
