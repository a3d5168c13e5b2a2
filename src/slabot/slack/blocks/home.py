"""The App Home tab: a user's tickets, the queue at risk, counts and this month's figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from .kit import (
    SECTION_MAX,
    VIEW_BLOCKS_MAX,
    Block,
    context,
    divider,
    header,
    md,
    pack,
    section,
    slack_date,
    truncate,
)
from .queue import Links, ticket_sections

if TYPE_CHECKING:
    from ...tickets.views import TicketView


HOME_TICKETS_MAX = 40  # blocks per ticket list on the Home tab
HOME_COUNTS_MAX = 10
HOME_MONTH_BLOCKS_MAX = 2  # 1 + 1 + 40 + 2 + 40 + 2 + 10 + 2 + 2 = 100


def home_view(
    owned: Sequence[TicketView],
    at_risk: Sequence[TicketView],
    counts: dict[tuple[str, str], int],
    now: datetime,
    *,
    month: Sequence[Block] = (),
    links: Links | None = None,
    tz: tzinfo = UTC,
) -> Block:
    """A user's Home tab: their tickets, the queue at risk, counts per policy and severity,
    and ``month``, this month's figures (`report_blocks.month_blocks`: two blocks at most);
    each ticket links to its card (``links``). ``tz``: the reader's zone, for the date
    token's fallback text (what a client that cannot render the token shows).

    A snapshot at ``now`` (the context line says when). Each list is capped so the whole
    view stays under Slack's 100 blocks however many tickets there are.
    """
    blocks: list[Block] = [
        context(f"Updated {slack_date(now, tz)} · `/sla help` for commands"),
        header("Your tickets"),
    ]
    if owned:
        blocks += ticket_sections(owned, now, HOME_TICKETS_MAX, links)
    else:
        blocks.append(
            section("_You own no open tickets._ Acknowledge one to take it, or `/sla list`.")
        )
    blocks += [divider(), header("At risk (closest to breach)")]
    if at_risk:
        blocks += ticket_sections(at_risk, now, HOME_TICKETS_MAX, links)
    else:
        blocks.append(section("_Nothing at risk: no open ticket is near a deadline._"))
    blocks += [divider(), header("Open tickets by policy and severity")]
    blocks += _count_sections(counts)
    if month:
        blocks += [divider(), header("This month"), *month[:HOME_MONTH_BLOCKS_MAX]]
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}


def _count_sections(counts: dict[tuple[str, str], int]) -> list[Block]:
    """One line per policy (``*liveops* · p1: 3 · p2: 5``), packed into a few sections."""
    by_policy: dict[str, list[tuple[str, int]]] = {}
    for (policy, severity), n in counts.items():
        if n:
            by_policy.setdefault(policy, []).append((severity, n))
    if not by_policy:
        return [section("_No open tickets._")]
    lines = []
    for policy, rows in by_policy.items():
        total = sum(n for _, n in rows)
        parts = " · ".join(f"{md(sev, 64)}: {n}" for sev, n in rows)
        lines.append(truncate(f"*{md(policy, 64)}* ({total}) — {parts}", SECTION_MAX))
    sections = pack(lines, HOME_COUNTS_MAX)
    if sum(len(s) for s in sections) < len(lines):
        sections = pack(lines, HOME_COUNTS_MAX - 1)  # room for the note
    blocks = [section("\n".join(s)) for s in sections]
    shown = sum(len(s) for s in sections)
    if shown < len(lines):
        blocks.append(context(f"… and {len(lines) - shown} more policies"))
    return blocks
