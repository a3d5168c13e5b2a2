"""Real ticket histories judged under other terms: the pure half of ``slabot simulate --replay``.

Before a lead signs or renegotiates a contract they ask what last quarter would have looked
like under the draft. The histories are the audit trail as it is; only the policy changes. A
ticket's severity is looked up in the draft by key or alias (a draft that renames ``p1`` to
``critical`` with the alias ``p1`` still takes its tickets), as the engine looks up every
severity (`Policy.severity`), so the draft judges the very events the current policy judged:
nothing is copied or renamed. A ticket whose severity the draft does not know is left out,
and counted, rather than guessed at.

Each side (the terms the tickets ran under, or the draft) is judged by `judge`, from the same
month-end arithmetic as ``slabot report`` (`figures`): breaches per severity, pages per
escalation level, and each calendar month's uptime and credit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from .figures import (
    Compliance,
    History,
    Interruption,
    Period,
    UptimeReport,
    compliance_by_version,
    outages_from_tickets,
    uptime,
)
from .history import Opened, SeverityChanged
from .policy import Policy
from .schedule import TicketTimes, pages_up_to


class Judged(NamedTuple):
    """One side's figures over the replayed span."""

    compliance: Compliance
    pages: Counter[str]  # by escalation level key, repeats included, up to ``now``
    months: tuple[UptimeReport, ...]  # per calendar month; empty without uptime terms


def under(policy: Policy, tickets: Iterable[History]) -> tuple[list[History], Counter[str]]:
    """The tickets ``policy`` can judge (every severity they ever had is one of its keys or
    aliases), and how many were left out, by the severity they were opened with."""
    kept: list[History] = []
    left_out: Counter[str] = Counter()
    known: dict[str, bool] = {}  # severity as written → the policy has it
    for ticket in tickets:
        events = ticket[1]
        if all(
            _known(policy, e.severity, known)
            for e in events
            if isinstance(e, Opened | SeverityChanged)
        ):
            kept.append(ticket)
        else:
            left_out[next((e.severity for e in events if isinstance(e, Opened)), "?")] += 1
    return kept, left_out


def judge(
    policy: Policy,
    groups: Sequence[tuple[Policy, Sequence[History]]],
    period: Period,
    outages: Sequence[Interruption],
    now: datetime,
) -> Judged:
    """``policy``'s figures for the tickets of ``groups`` (each judged under the version it
    names, as `compliance_by_version` does), with ``outages`` recorded without a ticket.

    Pages are counted on the `TicketTimes` the compliance builds for each ticket (a replay
    counts them for every ticket, twice). Uptime is monthly, as contracts state it: each
    calendar month the period covers, clipped to it."""
    pages: Counter[str] = Counter()

    def count(ticket: TicketTimes) -> None:
        pages_up_to(ticket, now, pages)

    figures = compliance_by_version(policy, groups, period, now, count)
    months: list[UptimeReport] = []
    if policy.uptime:
        spells = [s for v, tickets in groups for s in outages_from_tickets(v, tickets, period)]
        spells += outages
        months = [uptime(policy, spells, month, now) for month in months_of(policy, period)]
    return Judged(figures, pages, tuple(months))


def months_of(policy: Policy, period: Period) -> list[Period]:
    """The calendar months (in the policy's zone) the period covers, each clipped to it; a
    month covered in part is labelled with a ``*``."""
    tz = policy.tz
    local = period.start.astimezone(tz)
    year, month = local.year, local.month
    months: list[Period] = []
    while True:
        start = datetime(year, month, 1, tzinfo=tz)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = datetime(year, month, 1, tzinfo=tz)
        if start >= period.end:
            return months
        label = f"{start:%Y-%m}" + ("" if period.start <= start and end <= period.end else "*")
        months.append(Period(max(start, period.start), min(end, period.end), label))


def _known(policy: Policy, name: str, known: dict[str, bool]) -> bool:
    found = known.get(name)
    if found is None:
        try:
            policy.severity(name)
            found = True
        except KeyError:
            found = False
        known[name] = found
    return found
