"""A month's report per policy: what ``slabot report`` prints and ``/sla report`` posts.

The use case between the store and the pure figures of `slabot.sla.figures`: it reads, per
policy, the month's ticket histories (`slabot.tickets.histories`, one query; in a big
report the months are shared out between this process and a forked child, each reading and
judging the months it takes, `forked`), the outages recorded without a ticket
(`slabot.outages.Outages`) and the planned maintenance (`slabot.outages.Maintenances`), and
hands them to `compliance` and `uptime`. The month is the policy's own: November in
Asia/Kolkata starts 5½ hours before November in UTC. Histories are read as they stood at
``now``.

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
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import NamedTuple, TypeVar

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
from ..tickets.histories import Versions, in_turn, sizes, still_down
from .forked import PARALLEL_FROM, Child, Turns, can_fork

_T = TypeVar("_T")


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
    months = [(p, _period(p, month, now)) for p in chosen]
    with collector_paused():
        judged = _judged_months(store, book, workspaces, months, now=now, customer=customer)
    return [
        replace(
            _figures(store, book, workspaces, p, period, now, judged[p.name]), customer=customer
        )
        for p, period in months
    ]


_Month = tuple[Policy, Period]
# Seconds a report waits at least for a child's last answer once its own share is done.
PATIENCE = 60.0


def _judged_months(
    store: Store,
    book: PolicyBook,
    workspaces: list[str],
    months: list[_Month],
    *,
    now: datetime,
    customer: str | None,
) -> _Answers:
    """Each policy's month judged, by policy name: split between this process and a forked
    child per spare core once the months hold `forked.PARALLEL_FROM` tickets.

    A report is nearly all Python, reading (the rows, the events) as much as judging, so
    only a second process uses a second core (bench/README.md, "report", eighth and ninth
    rounds). The months go biggest first (`sizes`) to whichever process is free (`Turns`):
    each reads the months it takes, on connections of its own, and judges them, so a cheap
    month's process takes the next sooner. What a child took and never answered (it died, or
    was given up on as stuck) is read and judged here at the end. Everything stays here
    for one policy's month (nothing to share out: the App Home asks for one at a time),
    without ``fork``, on one core, on an in-memory SQLite database (which a new connection
    would find empty: its pool lends one connection, `Store.reading_connections`), or for
    more policies than `Turns` holds.
    """
    judge = partial(_judged_share, store, book, workspaces, now=now, customer=customer)
    cores = os.cpu_count() or 1
    alone = len(months) < 2 or not Turns.fits(len(months))
    if alone or not can_fork() or store.reading_connections() == 1:
        return _named(months, judge(months))
    spans = [(period.start, period.end, p.name) for p, period in months]
    counted = sizes(store, workspaces, spans, customer=customer)
    if sum(counted.get(p.name, 0) for p, _ in months) < PARALLEL_FROM:
        return _named(months, judge(months))
    order = sorted(months, key=lambda m: -counted.get(m[0].name, 0))
    turns = Turns(len(order))
    taken = partial(_judged_taken, judge, order, turns)
    # A child that dies, or is given up on, answers nothing; what it took is left for the end.
    children = [Child(partial(_afresh, store, taken), _Answers) for _ in range(cores - 1)]
    began = time.monotonic()
    try:
        judged = taken()
        # A child still at work now is on its last month; one far slower than this process's
        # whole share is stuck (`Child.result`), and its months are done here instead.
        until = time.monotonic() + max(PATIENCE, 4 * (time.monotonic() - began))
        for child in children:
            judged |= child.result(within=max(0.0, until - time.monotonic()))
    finally:
        turns.close()
        for child in children:
            child.stop()  # answered already, or the report is leaving with an error
    left = [m for m in months if m[0].name not in judged]
    return judged | _named(left, judge(left))


def _named(months: list[_Month], judged: list[_Judged]) -> _Answers:
    return {p.name: found for (p, _), found in zip(months, judged, strict=True)}


def _judged_taken(
    judge: Callable[[list[_Month]], list[_Judged]], order: list[_Month], turns: Turns
) -> _Answers:
    """The months this process takes from ``turns`` (numbers into ``order``), each judged as
    soon as it is taken. One month read at a time: the other processes keep the cores busy,
    so reading ahead on a thread (`in_turn`) would only take turns with them."""
    judged: _Answers = {}
    for k in turns:
        judged |= _named([order[k]], judge([order[k]]))
    return judged


def _afresh(store: Store, work: Callable[[], _T]) -> _T:
    """``work`` in a forked child, on connections of its own: the parent's stay the parent's
    (`Store.forked`)."""
    store.forked()
    try:
        return work()
    finally:
        store.dispose()


def _judged_share(
    store: Store,
    book: PolicyBook,
    workspaces: list[str],
    months: list[_Month],
    *,
    now: datetime,
    customer: str | None,
) -> list[_Judged]:
    """Each month's figures from its histories, the next month read while this one is judged
    (`in_turn`). Histories are dropped as soon as their figures are out, not kept to the
    end: the collector walks what is still alive once it is back on (bench/README.md)."""
    prefix = len(workspaces) > 1
    spans = [(period.start, period.end, p.name) for p, period in months]
    read = in_turn(store, workspaces, spans, customer=customer, prefix_workspace=prefix)
    judged = []
    with closing(read):
        for p, period in months:
            versions = versions_of(store, book, p)
            outage_keys = {s.key for v in versions.values() for s in v.severities if s.outage}
            earlier = still_down(
                store,
                workspaces,
                period.start,
                p.name,
                outage_keys,
                customer=customer,
                prefix_workspace=prefix,
            )
            # The month last: the first one's is still being read by the worker meanwhile.
            opened = next(read)
            judged.append(
                _judged(p, period, now, versions, stood_at(opened, now), stood_at(earlier, now))
            )
            del opened, earlier
    return judged


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


class _Judged(NamedTuple):
    """What a policy's histories give: compliance, and the spells of downtime of its tickets."""

    compliance: Compliance
    spells: list[Interruption]


_Answers = dict[str, _Judged]  # by policy name


def _judged(
    policy: Policy,
    period: Period,
    now: datetime,
    versions: dict[str, Policy],
    opened: Versions,
    earlier: Versions,
) -> _Judged:
    """Compliance of the tickets ``opened`` in ``period``, and the downtime of those and of
    the outage tickets opened ``earlier`` and maybe still down in it, each under its
    version (``versions``, by digest)."""
    try:
        figures = compliance_by_version(
            policy, [(versions[d], found) for d, found in opened.items()], period, now
        )
        spells = [
            spell
            for group in (opened, earlier)
            for d, found in group.items()
            for spell in outages_from_tickets(versions[d], found, period)
        ]
    except KeyError as exc:
        raise ReportError(f"policy {policy.name}: {exc.args[0]}") from None
    return _Judged(figures, spells)


def _figures(
    store: Store,
    book: PolicyBook,
    workspaces: list[str],
    policy: Policy,
    period: Period,
    now: datetime,
    judged: _Judged,
) -> PolicyReport:
    """The report, from the judged histories and the spells recorded without a ticket.
    Those that start or end after ``now`` are clipped to it by `uptime`."""
    start, end, name = period.start, period.end, policy.name
    outages = Outages(store, book).records(workspaces, name, start, end)
    maintenance = Maintenances(store, book).records(workspaces, name, start, end)
    spells = judged.spells + recorded_spells(outages, maintenance)
    up = uptime(policy, spells, period, now) if policy.uptime else None
    planned = tuple(r for r in maintenance if r.started_at in period)
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
