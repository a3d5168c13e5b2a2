"""``/sla list``: the queue, one compact line per ticket, cut to a message's blocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from .card import next_up, ref, severity_label
from .kit import LINE_TITLE_MAX, Block, context, md, mention, one_line, section

if TYPE_CHECKING:
    from ...tickets.views import TicketView


QUEUE_BLOCKS_MAX = 45  # /sla list: leaves room under 50 for whatever the listener adds


Links = Mapping[int, str]  # a ticket's number → its card's URL (`slabot.slack.links`)


def queue_line(view: TicketView, now: datetime, link: str | None = None) -> str:
    """ "*SLA-42* · High · Acme · title — First response due <date> · <@owner>": one
    ticket (its customer when it has one), its reference a link to its card when ``link`` is
    given."""
    label = severity_label(view.policy, view.ticket.severity)
    title = md(one_line(view.ticket.title), LINE_TITLE_MAX)
    if view.ticket.customer:
        title = f"{md(one_line(view.ticket.customer), 80)} · {title}"
    owner = mention(view.ticket.owner)
    name = f"<{link}|{ref(view)}>" if link else ref(view)
    return f"*{name}* · {md(label, 80)} · {title} — {next_up(view, now)} · {owner}"


def ticket_sections(
    items: Sequence[TicketView], now: datetime, room: int, links: Links | None = None
) -> list[Block]:
    """One section per ticket, at most ``room`` blocks, the last a "… and N more" if cut."""
    links = links or {}

    def line(view: TicketView) -> Block:
        return section(queue_line(view, now, links.get(view.ticket.number)))

    if len(items) <= room:
        return [line(v) for v in items]
    shown = max(room - 1, 0)
    return [*(line(v) for v in items[:shown]), context(f"… and {len(items) - shown} more")]


def queue_blocks(
    items: Sequence[TicketView], now: datetime, links: Links | None = None
) -> list[Block]:
    """``/sla list``: the queue as given (most urgent first), one compact line per ticket,
    each linking to its card."""
    if not items:
        return [section("No open tickets: the queue is empty. :tada:")]
    return ticket_sections(items, now, QUEUE_BLOCKS_MAX, links)
