"""What a span of real tickets would have looked like under a draft policy, beside the terms
they ran under: the use case behind ``slabot simulate --replay``.

It reads the histories of the tickets opened in the span under the current policy's name
(`slabot.tickets.histories`, one query, as the month's report does) and the outages recorded
without a ticket, then judges them twice with the same pure figures as ``slabot report``:

* **current**: each ticket under the policy version it was opened under, as the clocks ran;
* **draft**: every ticket under the draft, its severity looked up by key or alias
  (`slabot.sla.replay`); tickets of severities the draft lacks are counted, not guessed at.

For each: breaches per severity, pages per escalation level (repeats included, up to ``now``),
and, where the policy has uptime terms, each calendar month's uptime and service credit (a
contract's uptime is monthly; a month the span covers in part is clipped to the span). Outage
records count the same under both; ticket downtime follows each policy's outage severities.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from ..outages.service import Outages, as_outage
from ..policies import PolicyBook
from ..sla import Policy
from ..sla.figures import (
    Compliance,
    Period,
    UptimeReport,
    compliance_by_version,
    outages_from_tickets,
    uptime,
)
from ..sla.replay import History, page_counter, under
from ..store import Store
from ..store.tables import OutageRecord
from ..tickets.histories import histories
from .monthly import ReportError, stood_at, versions_of


@dataclass(frozen=True)
class Terms:
    """One policy's figures over the replayed span."""

    policy: Policy
    compliance: Compliance
    pages: Counter[str]  # by escalation level key
    months: tuple[UptimeReport, ...]  # per calendar month; empty without uptime terms
    left_out: Counter[str]  # tickets whose severity the policy lacks, by that severity


@dataclass(frozen=True)
class Replay:
    period: Period
    tickets: int
    current: Terms
    draft: Terms


def replay(
    store: Store,
    book: PolicyBook,
    workspaces: list[str],
    first: date,
    last: date,
    draft: Policy,
    *,
    against: Policy,
    now: datetime,
) -> Replay:
    """The tickets of ``against`` opened from ``first`` to ``last`` (whole days in its zone),
    judged as they ran and under ``draft``."""
    period = _span(against, first, last)
    found = histories(
        store,
        workspaces,
        period.start,
        period.end,
        policy=against.name,
        prefix_workspace=len(workspaces) > 1,
    )
    by_version = stood_at(found, now)
    versions = versions_of(store, book, against)
    records = Outages(store, book).records(workspaces, against.name, period.start, period.end)
    try:
        ran = [(versions[d], tickets) for d, tickets in by_version.items()]
    except KeyError as exc:
        raise ReportError(f"policy {against.name}: {exc.args[0]}") from None
    everything = [ticket for _, tickets in ran for ticket in tickets]
    judged, left_out = under(draft, everything)
    return Replay(
        period,
        len(everything),
        _terms(against, ran, period, records, now, Counter()),
        _terms(draft, [(draft, judged)], period, records, now, left_out),
    )


def _terms(
    policy: Policy,
    groups: list[tuple[Policy, list[History]]],
    period: Period,
    records: list[OutageRecord],
    now: datetime,
    left_out: Counter[str],
) -> Terms:
    pages, count = page_counter(now)
    figures = compliance_by_version(policy, groups, period, now, count)
    months: list[UptimeReport] = []
    if policy.uptime:
        spells = [s for v, tickets in groups for s in outages_from_tickets(v, tickets, period)]
        spells += [as_outage(r) for r in records]
        months = [uptime(policy, spells, month, now) for month in _months(policy, period)]
    return Terms(policy, figures, pages, tuple(months), left_out)


def _span(policy: Policy, first: date, last: date) -> Period:
    if last < first:
        raise ReportError(f"the span {first}..{last} ends before it starts")
    tz = policy.tz
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    after = date.fromordinal(last.toordinal() + 1)
    end = datetime(after.year, after.month, after.day, tzinfo=tz)
    return Period(start, end, f"{first}..{last}")


def _months(policy: Policy, period: Period) -> list[Period]:
    """The calendar months (in the policy's zone) the period covers, each clipped to it."""
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
