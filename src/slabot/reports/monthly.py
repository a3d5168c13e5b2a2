"""A month's report per policy: what ``slabot report`` prints and ``/sla report`` posts.

The use case between the store and the pure figures of `slabot.sla.figures`: it reads, per
policy, the month's ticket histories (`slabot.tickets.histories`, one query, the next
policy's running in the database while this one's figures are worked out, and a big
policy's figures worked out in a forked child beside the others', `forked`), the outages
recorded without a ticket (`slabot.outages.Outages`) and the planned maintenance
(`slabot.outages.Maintenances`), and hands them to
`compliance` and `uptime`. The month is the policy's own: November in Asia/Kolkata starts
5½ hours before November in UTC. Histories are read as they stood at ``now``.

What counts, in one place:

* **Compliance** covers the tickets *opened* in the month, each judged under the policy version
  it was opened under (``tickets.policy_digest``, whose text ``policy_versions`` keeps): a
  policy edited mid-month changes the rules of new tickets only, in the report as in the
  clocks. Tickets are grouped by version, so each version's clocks are looked up once.
* **Terms** of uptime (target, credit bands, claim window) are the policy's as it is now.
* **Uptime** counts every spell of downtime that overlaps the month, clipped to it: tickets of
  outage severities (also those opened in an earlier month and still down in this one),
  outages recorded with ``/sla outage start|end``, and planned maintenance whose notice rule
  was broken. Announced maintenance that met the rule and spells flagged force majeure are
  left out. Overlapping spells count once.
* **A customer's** figures (``customer``) are those of the tickets opened for that customer
  (``tickets.customer``), under the policies that may have them (`_chosen`). Interpretation:
  an outage recorded without a ticket, and maintenance, is of the service the policy covers,
  so it counts against every customer of the policy (LeadPro: "This uptime level applies to
  the LeadPro platform in its entirety").
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import NamedTuple

from sqlalchemy import select, union

from ..outages.maintenance import Maintenances, as_spell
from ..outages.service import Outages, as_outage
from ..policies import PolicyBook
from ..sla import Policy, PolicyError
from ..sla import figures as core
from ..sla.figures import (
    Compliance,
    Interruption,
    Period,
    UptimeReport,
    as_of,
    compliance_by_version,
    outages_from_tickets,
    uptime,
)
from ..sla.history import Event
from ..store import Store
from ..store.tables import MaintenanceRecord, OutageRecord, PolicyVersion, Ticket
from ..tickets.histories import Versions, histories, in_turn, still_down
from .forked import PARALLEL_FROM, Child, can_fork


@dataclass(frozen=True)
class PolicyReport:
    """One policy's figures for one month."""

    policy: Policy
    period: Period
    compliance: Compliance
    uptime: UptimeReport | None  # None when the policy has no uptime terms
    maintenance: tuple[MaintenanceRecord, ...]  # planned maintenance starting in the period
    # every spell of downtime or maintenance that went into ``uptime``, before merging: what
    # the customer statement names as each spell's cause
    outages: tuple[Interruption, ...] = ()
    customer: str | None = None  # the figures are this customer's alone


class ReportError(ValueError):
    """The request cannot be reported on (a bad month, an unknown policy); the message says
    what to type instead."""


class Reports:
    """The month's figures for the Slack side: the store and the policy book bound once, so a
    listener asks for a report without holding the store."""

    def __init__(self, store: Store, book: PolicyBook):
        self.store = store
        self.book = book

    def month(
        self,
        workspaces: list[str],
        month: str | None,
        *,
        policy: str | None,
        now: datetime,
        customer: str | None = None,
    ) -> list[PolicyReport]:
        """`monthly` on this deployment's store and policies."""
        return monthly(
            self.store, self.book, workspaces, month, policy=policy, now=now, customer=customer
        )


def monthly(
    store: Store,
    book: PolicyBook,
    workspaces: list[str],
    month: str | None,
    *,
    policy: str | None = None,
    now: datetime,
    customer: str | None = None,
) -> list[PolicyReport]:
    """Each policy's (or only ``policy``'s) report for the month ``YYYY-MM`` in its zone, in
    ``workspaces``; ``month`` None is the month containing ``now`` in each policy's zone.
    With ``customer``, only that customer's tickets, under the policies that may have them.

    ``workspaces`` is required: the Slack side passes its own team only, so one workspace
    never sees another's tickets (an empty list reports nothing: zero tickets, full
    uptime). Database errors are not caught here.
    """
    chosen = _chosen(book, policy, customer)
    periods = [_period(p, month, now) for p in chosen]
    spans = [(period.start, period.end, p.name) for p, period in zip(chosen, periods, strict=True)]
    prefix = len(workspaces) > 1
    judging: list[tuple[Policy, Period, _Rows, Callable[[], _Judged]]] = []
    children: list[Child[_Judged]] = []
    # Each policy's month is read while the one before is worked out (`in_turn`), and a big
    # one's figures in a child process (`_judging`). Histories are dropped as soon as their
    # figures are out (or the child has them), not kept to the end: the collector walks what
    # is still alive once it is back on (bench/README.md).
    months = in_turn(store, workspaces, spans, customer=customer, prefix_workspace=prefix)
    with collector_paused(), closing(months):
        try:
            for p, period in zip(chosen, periods, strict=True):
                rows = _gather(store, book, workspaces, p, period, now, months, customer)
                bare = replace(rows, opened={})
                again = partial(_reread, store, workspaces, p, period, now, bare, customer)
                judged = _judging(p, period, now, rows, again, children)
                del rows  # the child, or the figures already worked out, have the histories
                judging.append((p, period, bare, judged))
            return [
                replace(_figures(p, period, now, rows, judged()), customer=customer)
                for p, period, rows, judged in judging
            ]
        finally:
            for child in children:
                child.stop()  # answered already, or the report is leaving with an error


def _judging(
    policy: Policy,
    period: Period,
    now: datetime,
    rows: _Rows,
    again: Callable[[], _Judged],
    children: list[Child[_Judged]],
) -> Callable[[], _Judged]:
    """The figures a policy's histories give, to be asked for once every month is read.

    A month of `forked.PARALLEL_FROM` tickets or more is judged in a forked child (while this
    process reads and judges the next policies), as long as a core is left for each child:
    a report is nearly all Python, so on two cores the biggest policy's figures come out
    beside the rest instead of before them (bench/README.md, "report", eighth round). The
    child inherits the histories; if it dies without answering, ``again`` reads them anew.
    """
    tickets = sum(len(found) for found in rows.opened.values())
    if tickets >= PARALLEL_FROM and len(children) < (os.cpu_count() or 1) - 1 and can_fork():
        child = Child(partial(_judged, policy, period, now, rows), again)
        children.append(child)
        return child.result
    judged = _judged(policy, period, now, rows)
    return lambda: judged


def _reread(
    store: Store,
    workspaces: list[str],
    policy: Policy,
    period: Period,
    now: datetime,
    rows: _Rows,
    customer: str | None,
) -> _Judged:
    """`_judged` on the month read again: a child that judged it died without answering."""
    found = histories(
        store,
        workspaces,
        period.start,
        period.end,
        policy=policy.name,
        customer=customer,
        prefix_workspace=len(workspaces) > 1,
    )
    return _judged(policy, period, now, replace(rows, opened=stood_at(found, now)))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a report runs.

    A report makes millions of small objects (events, histories, engine views) that
    reference counting frees; none form cycles. With the collector on, their sheer number sets
    off collections that walk the growing heap again and again: a quarter of the report's
    time at 100,000 tickets (bench/README.md, "report"). The collector is process-wide, so a
    report running beside another may see it turned back on early; that only costs time.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class _Rows:
    """What one policy's report reads from the store."""

    versions: dict[str, Policy]  # by digest
    opened: Versions  # tickets opened in the period
    earlier: Versions  # outage tickets opened before it and maybe still down in it
    outages: list[OutageRecord]  # outages recorded without a ticket overlapping it
    maintenance: list[MaintenanceRecord]  # maintenance overlapping it


def _gather(
    store: Store,
    book: PolicyBook,
    workspaces: list[str],
    policy: Policy,
    period: Period,
    now: datetime,
    months: Iterator[Versions],
    customer: str | None = None,
) -> _Rows:
    """What one policy's report reads. The histories of the tickets opened in ``period`` are
    the next of ``months`` (`monthly`'s `in_turn`), taken last: the first policy's month is
    still being read by the worker meanwhile."""
    prefix = len(workspaces) > 1
    versions = versions_of(store, book, policy)
    outage_keys = {s.key for v in versions.values() for s in v.severities if s.outage}
    start, name = period.start, policy.name
    earlier = still_down(
        store, workspaces, start, name, outage_keys, customer=customer, prefix_workspace=prefix
    )
    # Rows that start or end after ``now`` are clipped to it by `uptime`.
    outages = Outages(store, book).records(workspaces, name, start, period.end)
    maintenance = Maintenances(store, book).records(workspaces, name, start, period.end)
    opened = next(months)
    return _Rows(versions, stood_at(opened, now), stood_at(earlier, now), outages, maintenance)


class _Judged(NamedTuple):
    """What a policy's histories give: compliance, and the spells of downtime of its tickets."""

    compliance: Compliance
    spells: list[Interruption]


def _judged(policy: Policy, period: Period, now: datetime, rows: _Rows) -> _Judged:
    versions = rows.versions
    try:
        figures = compliance_by_version(
            policy, [(versions[d], found) for d, found in rows.opened.items()], period, now
        )
        spells = [
            spell
            for group in (rows.opened, rows.earlier)
            for d, found in group.items()
            for spell in outages_from_tickets(versions[d], found, period)
        ]
    except KeyError as exc:
        raise ReportError(f"policy {policy.name}: {exc.args[0]}") from None
    return _Judged(figures, spells)


def _figures(
    policy: Policy, period: Period, now: datetime, rows: _Rows, judged: _Judged
) -> PolicyReport:
    spells = judged.spells + recorded_spells(rows.outages, rows.maintenance)
    up = uptime(policy, spells, period, now) if policy.uptime else None
    planned = tuple(r for r in rows.maintenance if r.started_at in period)
    return PolicyReport(policy, period, judged.compliance, up, planned, tuple(spells))


def recorded_spells(
    outages: list[OutageRecord], maintenance: list[MaintenanceRecord]
) -> list[Interruption]:
    """The spells recorded without a ticket, outages and maintenance together in the order
    they started (an outage first when both start at once), as `uptime` and the statement
    read them."""
    spells = [(as_outage(r), r.started_at) for r in outages]
    spells += [(as_spell(r), r.started_at) for r in maintenance]
    return [spell for spell, _ in sorted(spells, key=lambda pair: pair[1])]


def stood_at(found: Versions, now: datetime) -> Versions:
    """The histories as they stood at ``now`` (a report of a past instant)."""
    return {d: [(ref, _as_of(events, now)) for ref, events in h] for d, h in found.items()}


def _as_of(events: list[Event], now: datetime) -> list[Event]:
    """`as_of`, keeping the list itself when nothing happened after ``now`` (nearly always:
    a copy of every history was a few percent of a report)."""
    kept = as_of(events, now)
    return events if kept is events else list(kept)


def versions_of(store: Store, book: PolicyBook, policy: Policy) -> dict[str, Policy]:
    """Every stored version of ``policy`` (tickets keep the one they were opened under), and
    the current one, by digest. Parsed once per process: `PolicyBook.version` caches them."""
    query = select(PolicyVersion.c.digest, PolicyVersion.c.text).where(
        PolicyVersion.c.name == policy.name
    )
    with store.reader.connect() as connection:
        rows = connection.execute(query).all()
    versions = {policy.digest: policy}
    for digest, text in rows:
        try:
            versions[digest] = book.version(digest, text)
        except PolicyError as exc:
            raise ReportError(
                f"policy {policy.name}: a stored version ({digest[:12]}) no longer parses: {exc}"
            ) from None
    return versions


def workspaces(store: Store) -> list[str]:
    """Every workspace with a ticket, a recorded outage or maintenance: ``slabot report``'s
    default."""
    query = union(
        select(Ticket.c.workspace),
        select(OutageRecord.c.workspace),
        select(MaintenanceRecord.c.workspace),
    )
    with store.reader.connect() as connection:
        return sorted(connection.execute(query).scalars())


def _chosen(book: PolicyBook, name: str | None, customer: str | None = None) -> list[Policy]:
    """The policies to report on: ``name``'s, else every one; for a ``customer``, those that
    may have their tickets (a policy that lists its customers and not them has none)."""
    try:
        chosen = [book.get(name)] if name else [book.get(n) for n in book.names()]
    except KeyError as exc:
        raise ReportError(str(exc.args[0])) from None
    if customer is None:
        return chosen
    mine = [p for p in chosen if _may_have(p, customer)]
    if not mine:
        raise ReportError(f"{customer!r} is not a customer of {_names(chosen)}: {_whose(chosen)}")
    return mine


def _may_have(policy: Policy, customer: str) -> bool:
    try:
        policy.customer_for(customer)
    except ValueError:
        return False
    return True


def _names(policies: list[Policy]) -> str:
    return ", ".join(p.name for p in policies)


def _whose(policies: list[Policy]) -> str:
    listed = [f"{p.name}: {', '.join(p.customers)}" for p in policies if p.customers]
    return "; ".join(listed)


def _period(policy: Policy, text: str | None, now: datetime) -> Period:
    if text is None:
        text = f"{now.astimezone(policy.tz):%Y-%m}"
    try:
        return core.month(policy.tz, text)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
