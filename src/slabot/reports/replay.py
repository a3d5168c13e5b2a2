"""What a span of real tickets would have looked like under a draft policy, beside the terms
they ran under: the use case behind ``slabot simulate --replay``.

It reads the histories of the tickets opened in the span under the current policy's name
(`slabot.tickets.histories`, one query, as the month's report does), the outages recorded
without a ticket and the planned maintenance, then judges them twice with the same pure
figures as ``slabot report``:

* **current**: each ticket under the policy version it was opened under, as the clocks ran;
* **draft**: every ticket under the draft, its severity looked up by key or alias
  (`slabot.sla.replay`); tickets of severities the draft lacks are counted, not guessed at.

For each: breaches per severity, pages per escalation level (repeats included, up to ``now``),
and, where the policy has uptime terms, each calendar month's uptime and service credit (a
contract's uptime is monthly; a month the span covers in part is clipped to the span). Interruption
records count the same under both; ticket downtime follows each policy's outage severities.

Speed (a quarter of 100,000 tickets has to come back while a lead is still editing the draft,
bench/README.md, "replay"): the histories are read once and both sides judge the same event
objects; the cyclic garbage collector is paused, as for the month's report; and a large
replay judges the draft in a forked process while this one judges the terms they ran under.
Forking hands the child the histories without pickling them; only its figures come back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from ..outages.maintenance import Maintenances
from ..outages.service import Outages
from ..policies import PolicyBook
from ..sla import Policy
from ..sla.figures import Compliance, Period, UptimeReport
from ..sla.replay import Judged, judge, under
from ..store import Store
from ..tickets.histories import histories
from .forked import PARALLEL_FROM, Child, can_fork
from .monthly import ReportError, collector_paused, recorded_spells, stood_at, versions_of


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
    with collector_paused():
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
        span = (workspaces, against.name, period.start, period.end)
        outages = recorded_spells(
            Outages(store, book).records(*span), Maintenances(store, book).records(*span)
        )
        try:
            ran = [(versions[d], tickets) for d, tickets in by_version.items()]
        except KeyError as exc:
            raise ReportError(f"policy {against.name}: {exc.args[0]}") from None
        everything = [ticket for _, tickets in ran for ticket in tickets]
        judged, left_out = under(draft, everything)
        current, drafted = _both(
            lambda: judge(against, ran, period, outages, now),
            lambda: judge(draft, [(draft, judged)], period, outages, now),
            parallel=len(everything) >= PARALLEL_FROM,
        )
    return Replay(
        period,
        len(everything),
        Terms(against, *current, Counter()),
        Terms(draft, *drafted, left_out),
    )


def _both(
    current: Callable[[], Judged], draft: Callable[[], Judged], *, parallel: bool
) -> tuple[Judged, Judged]:
    """Both sides' figures: for a large replay on a machine with a second core, the draft's
    in a forked child (`forked.Child`, which inherits the histories) while this process
    works out the current terms' (the two take about as long)."""
    if not parallel or not can_fork():
        return current(), draft()
    child = Child(draft)
    try:
        mine = current()
    except BaseException:
        child.stop()
        raise
    return mine, child.result()


def _span(policy: Policy, first: date, last: date) -> Period:
    if last < first:
        raise ReportError(f"the span {first}..{last} ends before it starts")
    tz = policy.tz
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    after = date.fromordinal(last.toordinal() + 1)
    end = datetime(after.year, after.month, after.day, tzinfo=tz)
    return Period(start, end, f"{first}..{last}")
