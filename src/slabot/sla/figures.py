"""Month-end figures: SLA compliance per severity, uptime, service credits, maintenance notice.

Pure, like the rest of ``slabot.sla``: a policy, ticket histories (or outages) and ``now`` in,
small frozen values out. Nothing here reads a counter kept elsewhere: every figure is worked
out again from the event history through the same engine that ran the clocks (`schedule`), so
a report can never disagree with what the ticket showed while it was open. Nothing steps
minute by minute either: business time is the calendar's B(t) arithmetic, and downtime is a
union of intervals.

Decisions taken here, in one place:

* A report covers the tickets *opened* in the period. Each is judged under its severity as it
  is at ``now`` (the engine applies a changed severity's targets from the opening), and under
  the policy version it was opened under (`compliance_by_version`: the caller groups tickets
  by version, so each group's clocks are looked up once; figures are summed by severity key).
* A target whose deadline was met in time is *met*; one met late, or still unmet at ``now``
  after its deadline, is *breached*. One still running (or paused) at ``now`` counts in
  neither, and is reported as *running*, so met + breached + running = tickets with the target.
* MTTA runs from the opening to the first response, MTTR from the opening to the (last)
  resolution. Each is given in wall time and in business time: on the clock of the target
  (first response, resolution), less the ticket's pauses, as its deadlines were counted. A
  severity with no resolution target uses its first target's clock for MTTR's business time.
* Uptime is counted to the nearest minute over the minutes of the period (LeadPro: "calculated
  to the nearest minute based on the number of minutes in each month").
* Each spell of downtime has its own claim date (LeadPro: "All claims must be made within 60
  days of the unavailability occurring"). Interpretation: a spell occurs on the day it begins
  (within the period: a spell carried over from last month begins, for this month's credit,
  at the month's start), so the last day to claim it is that day plus the window, whole days
  of the policy's calendar: downtime on 2 Nov can be claimed until 1 Jan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from functools import partial
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .calendar import ALL_HOURS, Clock, from_us, to_us
from .days import BusinessDays
from .durations import clock_words
from .history import (
    STOPPED,
    DowntimeCorrected,
    Event,
    Opened,
    SeverityChanged,
    StatusChanged,
    UpdatePosted,
    fold,
    opening,
)
from .pauses import deadline_us, elapsed_us
from .policy import Policy, Severity
from .schedule import DeadlineState, TicketTimes

MINUTE_US = 60_000_000
_MONTH = re.compile(r"(\d{4})-(\d{2})")
History = tuple[str, Sequence[Event]]  # (ticket ref such as "SLA-42", events oldest first)


# -- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A report's range of real time, [start, end), as aware instants."""

    start: datetime
    end: datetime
    label: str = ""  # "2026-11" for a month

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period's start and end must be aware instants")
        if self.end <= self.start:
            raise ValueError(f"a period must end after it starts ({self.start} – {self.end})")

    @property
    def minutes(self) -> int:
        """Whole minutes in the period: real minutes, so a DST month has 60 more or fewer."""
        return (to_us(self.end) - to_us(self.start)) // MINUTE_US

    def __contains__(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def month(tz: tzinfo | str, text: str) -> Period:
    """The calendar month ``YYYY-MM`` in the policy's zone, as UTC instants.

    A contract's month is the customer's month: November in Asia/Kolkata starts 5½ hours before
    November in UTC. Its length is real time, so Europe/London's March 2026 (clocks go forward)
    has 44,580 minutes, not 44,640.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    match = _MONTH.fullmatch(text.strip())
    year, number = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or not 1 <= number <= 12 or not 1971 <= year <= 2200:
        raise ValueError(f"{text!r} is not a month: write YYYY-MM, such as 2026-11")
    first = datetime(year, number, 1, tzinfo=zone)
    after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return Period(first.astimezone(UTC), after.astimezone(UTC), f"{year:04d}-{number:02d}")


def as_of(events: Sequence[Event], now: datetime) -> Sequence[Event]:
    """The history as it stood at ``now``: a report of a past instant ignores later events."""
    if not events or events[-1].at <= now:
        return events
    return [e for e in events if e.at <= now]


# -- compliance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetFigures:
    """How one target did over a severity's tickets. ``running``: neither met nor breached."""

    met: int = 0
    breached: int = 0
    running: int = 0

    @property
    def met_percent(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else 100 * self.met / decided

    @property
    def breached_percent(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else 100 * self.breached / decided


@dataclass(frozen=True)
class Breach:
    ref: str
    severity: str
    target: str
    due: datetime
    met_at: datetime | None  # None: still not met at the report's ``now``
    late: timedelta  # met_at (or now) − due


@dataclass(frozen=True)
class SeverityCompliance:
    severity: str
    label: str
    opened: int
    first_response: TargetFigures | None  # None: the severity has no such target
    resolution: TargetFigures | None
    updates_missed: int | None  # update cycles whose due passed before an update came
    mtta_business: timedelta | None  # None: no sample
    mtta_wall: timedelta | None
    mttr_business: timedelta | None
    mttr_wall: timedelta | None
    waiting_on_customer: timedelta  # total time these tickets spent waiting on the customer


@dataclass(frozen=True)
class Compliance:
    policy: str
    period: Period
    now: datetime
    severities: tuple[SeverityCompliance, ...]  # in the policy's order
    breaches: tuple[Breach, ...]  # by due time

    def severity(self, key: str) -> SeverityCompliance:
        return next(s for s in self.severities if s.severity == key)


class _Tally:
    """Running sums for one severity while the tickets go by.

    Tickets of one severity key may have been opened under several versions of the policy;
    the tally keeps a figure for every target any of those versions set (`adopt`).
    """

    def __init__(self, severity: Severity):
        self.key, self.label = severity.key, severity.label
        self.states: dict[str, list[int]] = {}
        self.has_updates = False
        self.adopt(severity)
        self.opened = 0
        self.updates_missed = 0
        self.mtta: list[int] = [0, 0, 0]  # count, business µs, wall µs
        self.mttr: list[int] = [0, 0, 0]
        self.waiting = 0

    def adopt(self, severity: Severity) -> None:
        for name in ("first_response", "resolution"):
            if getattr(severity.targets, name) is not None:
                self.states.setdefault(name, [0, 0, 0])
        self.has_updates = self.has_updates or severity.targets.update_every is not None

    def figures(self) -> SeverityCompliance:
        def figures(name: str) -> TargetFigures | None:
            counts = self.states.get(name)
            return None if counts is None else TargetFigures(*counts)

        def mean(sums: list[int], i: int) -> timedelta | None:
            return None if sums[0] == 0 else timedelta(microseconds=sums[i] // sums[0])

        return SeverityCompliance(
            self.key,
            self.label,
            self.opened,
            figures("first_response"),
            figures("resolution"),
            self.updates_missed if self.has_updates else None,
            mean(self.mtta, 1),
            mean(self.mtta, 2),
            mean(self.mttr, 1),
            mean(self.mttr, 2),
            timedelta(microseconds=self.waiting),
        )


def compliance(
    policy: Policy, tickets: Iterable[History], period: Period, now: datetime
) -> Compliance:
    """Per severity: tickets opened in ``period``, targets met and breached, update nudges
    missed, MTTA and MTTR, time waiting on customers, and every breach with how late it was.

    ``tickets`` are (ref, history) pairs; histories are read as they stood at ``now``, and
    tickets opened outside the period are left out. Every ticket is judged under ``policy``;
    `compliance_by_version` judges each under the version it was opened under.
    """
    return compliance_by_version(policy, [(policy, tickets)], period, now)


def compliance_by_version(
    policy: Policy,
    versions: Iterable[tuple[Policy, Iterable[History]]],
    period: Period,
    now: datetime,
    each: Callable[[TicketTimes], None] | None = None,
) -> Compliance:
    """`compliance` of tickets opened under several versions of ``policy``: each (version,
    tickets) group is judged under its version (its targets, calendars, severities), and the
    figures are summed by severity key. Severities come in ``policy``'s order (its labels),
    then any that only older versions have, in the order they were met. ``each`` is shown
    every judged ticket's `TicketTimes`, so a caller that needs more of them (a replay's
    pages) does not build them again."""
    tallies = {s.key: _Tally(s) for s in policy.severities}
    breaches: list[Breach] = []
    for version, tickets in versions:
        for s in version.severities:
            if s.key in tallies:
                tallies[s.key].adopt(s)
            else:
                tallies[s.key] = _Tally(s)
        _judge(version, tickets, period, now, tallies, breaches, each)
    breaches.sort(key=lambda b: (b.due, b.ref, b.target))
    return Compliance(
        policy.name,
        period,
        now,
        tuple(t.figures() for t in tallies.values()),
        tuple(breaches),
    )


def _judge(
    policy: Policy,
    tickets: Iterable[History],
    period: Period,
    now: datetime,
    tallies: dict[str, _Tally],
    breaches: list[Breach],
    each: Callable[[TicketTimes], None] | None = None,
) -> None:
    """Add the tickets opened in ``period`` to ``tallies`` and ``breaches``, under ``policy``."""
    now_us = to_us(now)
    start_us, end_us = to_us(period.start), to_us(period.end)
    clocks = {
        (s.key, name): _clock(policy, s, name)
        for s in policy.severities
        for name in ("first_response", "resolution")
    }
    # a target in business days falls due on its calendar's days; MTTA and MTTR stay in hours
    due_clocks = {
        (s.key, name): policy.target_clock(target)
        for s in policy.severities
        for name, target in s.targets.items()
    }
    nudged = any(s.targets.update_every is not None for s in policy.severities)
    for ref, history in tickets:
        events = as_of(history, now)
        if not events or not isinstance(events[0], Opened):
            continue
        if not start_us <= to_us(events[0].at) < end_us:
            continue
        ticket, missed = _judged(policy, events, now_us, nudged)
        if each is not None:
            each(ticket)
        key = ticket.severity.key
        tally = tallies[key]
        tally.opened += 1
        for name, counts in tally.states.items():
            if getattr(ticket.severity.targets, name) is None:
                continue  # another version of this severity sets the target; this one not
            state, due, met = _state(ticket, name, due_clocks[key, name], now_us)
            if state == "met":
                counts[0] += 1
            elif state in ("missed", "breached") and due is not None:
                counts[1] += 1
                late = (now_us if met is None else met) - due
                breaches.append(
                    Breach(
                        ref,
                        key,
                        name,
                        from_us(due),
                        None if met is None else from_us(met),
                        timedelta(microseconds=late),
                    )
                )
            else:
                counts[2] += 1
        _times(ticket, tally, clocks, now_us)
        tally.updates_missed += missed


def _clock(policy: Policy, severity: Severity, target: str) -> Clock:
    spec = getattr(severity.targets, target)
    if spec is None:
        # No such target: the severity's first target's clock is the one its work runs on.
        spec = next((t for _, t in severity.targets.items()), None)
    return ALL_HOURS if spec is None else policy.clock(spec.clock)


def _state(
    ticket: TicketTimes, name: str, clock: Clock | BusinessDays, now_us: int
) -> tuple[DeadlineState, int | None, int | None]:
    """A deadline's state, due and met instants, decided as `schedule` decides them.

    First response and resolution count from the opening, so the engine's due
    (`TicketTimes.due`) is the target's time on its clock from the opening, less the ticket's
    pauses; here the clock is looked up once per report, not twice per ticket, and nothing
    else of a `Deadline` is built: at 100,000 tickets that is a third of the time. A test
    checks these states against `schedule`'s.
    """
    due = deadline_us(clock, ticket.opened, ticket.within(name), ticket.spans)
    if name == "resolution":
        due = ticket.with_release(due)
        met = ticket.met(name)  # the resolution, or a workaround where it counts as mitigation
    else:
        acked = ticket.f.first_response_at
        met = None if acked is None else to_us(acked)
    if met is not None:
        return ("met" if due is None or met <= due else "missed"), due, met
    if ticket.stop is not None:
        return "stopped", due, met
    if due is None:
        return "paused", due, met
    return ("breached" if now_us > due else "running"), due, met


def _times(
    ticket: TicketTimes, tally: _Tally, clocks: dict[tuple[str, str], Clock], now_us: int
) -> None:
    f, key = ticket.f, ticket.severity.key
    opened = ticket.opened
    if f.first_response_at is not None:
        acked = to_us(f.first_response_at)
        clock = clocks[key, "first_response"]
        tally.mtta[0] += 1
        tally.mtta[1] += elapsed_us(clock, opened, acked, ticket.spans)
        tally.mtta[2] += acked - opened
    if ticket.stop is not None:
        clock = clocks[key, "resolution"]
        tally.mttr[0] += 1
        tally.mttr[1] += elapsed_us(clock, opened, ticket.stop, ticket.spans)
        tally.mttr[2] += ticket.stop - opened
    for start, end, status in f.spells:
        if status == "waiting_on_customer":
            tally.waiting += (now_us if end is None else to_us(end)) - to_us(start)


def _judged(
    policy: Policy, events: Sequence[Event], now_us: int, nudged: bool
) -> tuple[TicketTimes, int]:
    """The ticket's `TicketTimes`, and its update cycles whose due passed before the update
    (or resolution, or ``now``) came (none asked when no severity is ``nudged``).

    Each cycle is judged by the engine on the history as it stood when the cycle ended, so a
    severity change, a pause or an ETA counts exactly as it did for the live nudges. A late
    update is one missed cycle however many nudges repeated meanwhile. The history is folded
    once (`history.fold`): each cycle is asked on the facts of the fold so far, and the whole
    ticket on where it ends, rather than folding every cycle's prefix again (bench/README.md,
    "replay", third round). A cycle runs from the first response until the ticket is
    resolved or closed; the engine is asked only where one ends while running.
    """
    f = opening(events[0])
    done, missed, count = 1, 0, len(events)
    ticket, built = None, 0
    for i in range(1, count + 1) if nudged else ():
        if i < count:
            event = events[i]
            kind = type(event)
            if kind is not UpdatePosted and not (
                kind is StatusChanged and event.status in STOPPED  # type: ignore[union-attr]
            ):
                continue
            end = to_us(event.at)
        else:
            end = now_us
        fold(f, events[done:i])
        done = i
        if f.first_response_at is None or f.status in STOPPED:
            continue
        ticket, built = TicketTimes(policy, f), i
        if ticket.target("update_every") is None:
            continue
        due = ticket.not_before_change(ticket.due("update_every"))
        if due is not None and due < end:
            missed += 1
    if ticket is None or built != count:
        fold(f, events[done:])
        ticket = TicketTimes(policy, f)
    return ticket, missed


# -- uptime -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interruption:
    """A spell the service was interrupted, as uptime counts it: an outage, or planned
    maintenance (``planned``); one name for both, so `Outage` and `Maintenance` each keep
    their own.

    ``end`` None: still going on. Planned maintenance is left out of the downtime only when its
    notice rule was met (``notice_met`` True; None means nobody checked, and it counts).
    Periods flagged ``force_majeure`` are left out too (LeadPro: "Service Credits will not be
    applicable for unavailability caused by Force Majeure").
    """

    start: datetime
    end: datetime | None
    note: str = ""
    planned: bool = False
    notice_met: bool | None = None
    force_majeure: bool = False
    cause: str | None = None  # the policy's key for why it was down (`uptime.causes`)
    counts: bool = True  # False: a lead said it was not an outage (kept in the audit trail)

    @property
    def excluded(self) -> bool:
        return self.force_majeure or (self.planned and self.notice_met is True)


class Excluded(NamedTuple):
    """Downtime left out (clipped to the period), and why: ``scope`` ``uptime`` (not
    downtime at all) or ``credits`` (downtime, but it earns no credit)."""

    start: datetime
    end: datetime
    why: str
    scope: str
    note: str


def exclusion(policy: Policy, outage: Interruption) -> tuple[str, str] | None:
    """Why an outage is left out and of what (``uptime`` or ``credits``); None: it counts."""
    if not outage.counts:
        return "not an outage (a lead's correction)", "uptime"
    if outage.planned and outage.notice_met is True:
        return "announced maintenance", "uptime"
    causes = policy.uptime.causes if policy.uptime else {}
    key = outage.cause or ("force_majeure" if outage.force_majeure else None)
    cause = causes.get(key) if key else None
    if cause is None:
        return ("force majeure", "uptime") if outage.force_majeure else None
    return None if cause.excluded_from == "none" else (cause.label, cause.excluded_from)


class Spell(NamedTuple):
    """A spell of counted downtime (merged with those it overlaps, clipped to the period) and
    the instant before which a credit claim for it must be made (None: the policy sets no
    claim window)."""

    start: datetime
    end: datetime
    claim_by: datetime | None

    def last_claim_day(self, tz: tzinfo) -> date | None:
        return _last_day(self.claim_by, tz)


@dataclass(frozen=True)
class UptimeReport:
    period: Period
    minutes: int  # in the period
    downtime_minutes: int  # counted, to the nearest minute
    excluded_minutes: int  # left out of uptime (maintenance, excluded causes), nearest minute
    unplanned_minutes: int  # unplanned downtime (not maintenance, not force majeure)
    uptime: float  # share of the period's minutes, 0.0 – 1.0
    target: float | None
    credit: float  # the share of the month's charges owed (0.0 when none)
    claim_by: datetime | None  # the earliest spell's: a claim for every spell before this
    allowance: timedelta | None  # unplanned downtime a month may have (LeadSquared: 1 h)
    allowance_exceeded: bool | None  # None: the policy sets no allowance
    downtime: tuple[Spell, ...]  # counted spells, merged and clipped, each with its claim date
    # uptime without the downtime of causes that earn no credit: what the credit is read from
    credit_uptime: float = 1.0
    excluded: tuple[Excluded, ...] = ()  # what was left out and why, by start

    @property
    def uptime_percent(self) -> float:
        return 100 * self.uptime

    @property
    def target_met(self) -> bool | None:
        return None if self.target is None else self.uptime >= self.target

    def last_claim_day(self, tz: tzinfo) -> date | None:
        """The last calendar day (in ``tz``) on which a claim can still cover every spell."""
        return _last_day(self.claim_by, tz)


def _last_day(claim_by: datetime | None, tz: tzinfo) -> date | None:
    return (
        None if claim_by is None else (claim_by - timedelta(microseconds=1)).astimezone(tz).date()
    )


def uptime(
    policy: Policy, outages: Iterable[Interruption], period: Period, now: datetime | None = None
) -> UptimeReport:
    """Uptime over ``period``, the credit it earns, and the claim deadline.

    Outages are clipped to the period and merged where they overlap, so two tickets about the
    same outage count once. An excluded spell (announced maintenance, force majeure) removes its
    minutes even from a counted outage that overlaps it. An outage still going on counts to
    ``now`` when given (a report of the month so far), else to the period's end.
    """
    lo, hi = to_us(period.start), to_us(period.end)
    cap = hi if now is None else max(lo, min(hi, to_us(now)))
    counted, excluded, no_credit, unplanned = [], [], [], []
    left_out = []
    for outage in outages:
        s = max(lo, to_us(outage.start))
        e = min(cap, cap if outage.end is None else to_us(outage.end))
        if e <= s:
            continue
        reason = exclusion(policy, outage)
        if reason is not None:
            left_out.append(Excluded(from_us(s), from_us(e), *reason, outage.note))
        if reason is not None and reason[1] == "uptime":
            excluded.append((s, e))
            continue
        if reason is not None:
            no_credit.append((s, e))
        counted.append((s, e))
        if not outage.planned:
            unplanned.append((s, e))
    gaps = _merge(excluded)
    down = _subtract(_merge(counted), gaps)
    unplanned_down = _subtract(_merge(unplanned), gaps)
    total = period.minutes
    down_min = _nearest_minute(sum(e - s for s, e in down))
    unplanned_min = _nearest_minute(sum(e - s for s, e in unplanned_down))
    share = float(Fraction(max(0, total - down_min), total))
    credited = _subtract(down, _merge(no_credit))
    credit_min = _nearest_minute(sum(e - s for s, e in credited))
    credit_share = float(Fraction(max(0, total - credit_min), total))
    terms = policy.uptime
    allowance = terms.unplanned_downtime_max if terms else None
    window = terms.claim_within if terms else None
    spells = tuple(
        Spell(from_us(s), from_us(e), None if window is None else _claim_by(policy, from_us(s)))
        for s, e in down
    )
    return UptimeReport(
        period,
        total,
        down_min,
        _nearest_minute(sum(e - s for s, e in gaps)),
        unplanned_min,
        share,
        terms.target if terms else None,
        terms.credit_for(credit_share) if terms else 0.0,
        min((spell.claim_by for spell in spells if spell.claim_by), default=None),
        allowance,
        None if allowance is None else timedelta(minutes=unplanned_min) > allowance,
        spells,
        credit_share,
        tuple(sorted(left_out)),
    )


def _claim_by(policy: Policy, start: datetime) -> datetime:
    """The end of the last day a spell that began at ``start`` can be claimed: its day plus
    the claim window, in wall time of the policy's zone (60 days from 2 Nov is 1 Jan, through
    a change of the clocks), and the whole of that day."""
    window = policy.uptime.claim_within  # type: ignore[union-attr]
    last = (start.astimezone(policy.tz) + window).date()  # type: ignore[operator]
    after = datetime.combine(last + timedelta(days=1), time(), policy.tz)
    return after.astimezone(UTC)


def _nearest_minute(us: int) -> int:
    return (us + MINUTE_US // 2) // MINUTE_US


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _subtract(spans: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, merged ``spans`` less sorted, merged ``holes``: one pass over both."""
    out: list[tuple[int, int]] = []
    j = 0
    for s, e in spans:
        while j < len(holes) and holes[j][1] <= s:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < e:
            hs, he = holes[k]
            if hs > s:
                out.append((s, hs))
            s = max(s, he)
            k += 1
        if s < e:
            out.append((s, e))
    return out


def outages_from_tickets(
    policy: Policy, tickets: Iterable[History], period: Period
) -> list[Interruption]:
    """Downtime from tickets while their severity is one the policy marks ``outage: true``.

    A spell starts when the problem was reported (or the ticket opened, or was raised to such
    a severity, or reopened) and ends when the ticket is resolved or lowered to another
    severity; one still unresolved has no end (`uptime` counts it to the period's end or
    ``now``). Spells outside ``period`` are dropped; `uptime` clips the rest.
    """
    keys = {s.key for s in policy.severities if s.outage}
    all_keys = {s.key for s in policy.severities}
    outages: list[Interruption] = []
    down_names: dict[str, bool] = {}  # severity as written → an outage severity
    for ref, events in tickets:
        if not events or not isinstance(events[0], Opened):
            continue
        opened = events[0]
        # One pass first: most tickets never had an outage severity and no lead said they
        # were down, so they have no spell (a month's report looks at every ticket).
        correction: DowntimeCorrected | None = None  # the latest counts
        ever_down = False
        for event in events:
            kind = type(event)  # final classes, compared by identity (`history.fold`)
            if kind is Opened or kind is SeverityChanged:
                down = down_names.get(event.severity)  # type: ignore[union-attr]
                if down is None:
                    down = policy.severity(event.severity).key in keys  # type: ignore[union-attr]
                    down_names[event.severity] = down  # type: ignore[union-attr]
                ever_down = ever_down or down
            elif kind is DowntimeCorrected:
                correction = event  # type: ignore[assignment]
        if not ever_down and not (correction and correction.counts):
            continue
        outage = partial(
            Interruption,
            note=ref,
            cause=correction.cause if correction else None,
            counts=not (correction and correction.counts is False),
        )
        # A lead's "it was an outage" makes every severity of this ticket one.
        down_keys = all_keys if correction and correction.counts else keys
        start: datetime | None = None
        severity, resolved = policy.severity(opened.severity).key, False
        if severity in down_keys:
            reported = opened.reported_at
            start = reported if reported and reported < opened.at else opened.at
        for event in events[1:]:
            if isinstance(event, SeverityChanged):
                severity = policy.severity(event.severity).key
            elif isinstance(event, StatusChanged):
                resolved = event.status in ("resolved", "closed")
            else:
                continue
            down = severity in down_keys and not resolved
            if start is not None and not down:
                outages.append(outage(start, event.at))
                start = None
            elif start is None and down:
                start = event.at
        if start is not None:
            outages.append(outage(start, None))
    return [o for o in outages if o.start < period.end and (o.end is None or o.end > period.start)]


# -- planned maintenance ------------------------------------------------------------------------


def maintenance_problems(
    policy: Policy, start: datetime, duration: timedelta, announced_at: datetime
) -> list[str]:
    """Why planned maintenance breaks the policy's notice rule; an empty list when it does not.

    LeadSquared: "Any Scheduled / Planned downtimes will be informed/notified 48hrs prior" and
    "will be in Non Business Hours": at least ``notice`` ahead, and no minute of it inside the
    ``outside`` calendar's open hours (each overlap is named, in the policy's time zone).
    """
    if duration <= timedelta(0):
        raise ValueError("maintenance must last longer than zero")
    rule = policy.uptime.maintenance if policy.uptime else None
    if rule is None:
        return []
    problems = []
    ahead = start - announced_at
    if ahead < rule.notice:
        given = "after it starts" if ahead < timedelta(0) else f"{_span(ahead)} ahead"
        problems.append(
            f"announced {given}, but the policy asks for at least {_span(rule.notice)} notice"
            + (f" ({rule.clause})" if rule.clause else "")
        )
    if rule.outside:
        overlaps = policy.clock(rule.outside).open_intervals(start, start + duration)
        if overlaps:
            tz = policy.tz
            spells = ", ".join(
                f"{s.astimezone(tz):%a %d %b %H:%M}–{e.astimezone(tz):%H:%M %Z}"
                for s, e in overlaps
            )
            problems.append(
                f"it falls inside {clock_words(rule.outside)} ({spells}); planned downtime must be "
                f"held outside them"
            )
    return problems


def maintenance(
    policy: Policy, start: datetime, duration: timedelta, announced_at: datetime, note: str = ""
) -> Interruption:
    """Planned maintenance as an `Interruption`, ``notice_met`` decided by the policy's rule."""
    problems = maintenance_problems(policy, start, duration, announced_at)
    return Interruption(start, start + duration, note, planned=True, notice_met=not problems)


def _span(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
