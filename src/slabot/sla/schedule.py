"""A ticket's schedule: every deadline, and every reminder, nudge and page it is owed.

Pure: it reads a policy, a history and ``now``. Rules the engine applies, in one place:

* Targets count from the opening (``time_to_open`` from the report). After a severity change
  the new severity's targets apply from the opening, and anything that would already be due
  falls due at the moment of the change (a ticket raised to P1 pages level 2 at once).
* First response is met by the first acknowledgement, update or resolution. Updates are owed
  every ``update_every`` from the first response and from each update after it; an update that
  gives an ETA later than that moves the next nudge to the ETA. No nudges once resolved.
* Time in a pausing state (per the policy) does not count, nor does time between a resolution
  and a reopen. While a pause lasts, deadlines after its start are unknown (None), so no
  reminder or page can come due.
* Pages repeat at the rule's interval until the level acknowledges the page, the target is
  met, or the ticket is resolved.
* Waiting on the customer brings follow-ups every ``follow_up_every``; after the policy's
  follow-ups or time without a reply the ticket is solved automatically; a solved ticket closes
  automatically after ``close_after`` and can be reopened within ``reopen_within``.

Every timer has a key ``(kind, stage, repeat)`` unique within its ticket, so a store can record
what fired and never send it twice, whatever recomputation happens afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from .calendar import ALL_HOURS, ONE_US, Clock, from_us, to_us
from .days import BusinessDays
from .history import Event, Facts, ReleaseAgreed, facts
from .pauses import deadline_us, pause_spans
from .policy import SUPPORT_LEVEL, TARGET_LABELS, Policy, Target

TimerKind = Literal["reminder", "update_nudge", "page", "follow_up", "auto_solve", "auto_close"]
# A page fires at the opening, at a share of a target, at its breach, or after a fixed time
# without an answer (an ETA or a workaround).
Trigger = Literal["open", "share", "breach", "after"]
DeadlineState = Literal["running", "paused", "met", "missed", "breached", "stopped"]
MAX_REPEATS = 1000  # a guard for timelines; a live ticket only ever needs the next one


@dataclass(frozen=True)
class Deadline:
    target: str
    started: datetime
    within: timedelta
    clock: str
    due: datetime | None  # None while an ongoing pause stops the clock
    met_at: datetime | None
    state: DeadlineState
    paused_by: str | None = None  # the state that stops the clock now
    resumes_at: datetime | None = None  # the clock is outside its hours now and resumes then
    clause: str | None = None
    release_agreed_by: str | None = None  # due is the release the customer agreed (who agreed)

    @property
    def label(self) -> str:
        return TARGET_LABELS[self.target]


@dataclass(frozen=True)
class Timer:
    """Something the ticket is owed at ``due_at`` (a reminder, a nudge, a page, …), unique in
    its ticket by `key`; stored and delivered as a `slabot.store.tables.TimerRow`."""

    kind: TimerKind
    stage: str
    due_at: datetime
    repeat: int = 0
    target: str | None = None
    level: str | None = None
    share: float | None = None
    trigger: Trigger | None = None  # why a page fires
    clause: str | None = None
    every: timedelta | None = None  # it repeats this often (on its clock) until answered
    every_clock: str = "24x7"  # the clock the repeats count on

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.stage, self.repeat)


@dataclass(frozen=True)
class Progress:
    """What a ticket's updates add up to, as its card shows it: when the last one came, the
    latest ETA given (an ETA holds until another replaces it), and since when a workaround is
    in place."""

    last_at: datetime
    eta: datetime | None
    workaround_since: datetime | None


def _progress(f: Facts) -> Progress | None:
    if not f.updates:
        return None
    eta = next((u.eta for u in reversed(f.updates) if u.eta is not None), None)
    workaround = next((u.at for u in f.updates if u.workaround), None)
    return Progress(f.updates[-1].at, eta, workaround)


@dataclass(frozen=True)
class Schedule:
    severity: str
    status: str
    deadlines: tuple[Deadline, ...]
    timers: tuple[Timer, ...]  # live ones: due (maybe overdue) or next to come
    reopen_until: datetime | None = None
    progress: Progress | None = None  # what the updates say; None before the first
    support_level: str | None = None  # the level the ticket was routed to (`sla.levels`)

    def deadline(self, target: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.target == target), None)

    @property
    def next_breach(self) -> Deadline | None:
        """The running deadline that falls first: what the queue sorts by."""
        running = [d for d in self.deadlines if d.state in ("running", "breached") and d.due]
        return min(running, key=lambda d: d.due, default=None)  # type: ignore[arg-type, return-value]


@dataclass(slots=True)
class _Obligation:
    """A timer and its repeats: first due, interval, and the instant it stops being owed.

    Not frozen: made several times a ticket whenever a schedule is computed (every ticket of
    a clock's tick), and a frozen dataclass sets each of its fifteen fields through
    ``object.__setattr__`` (1.4 µs a make, against 0.2). Nothing changes one once made."""

    kind: TimerKind
    stage: str
    first_due: int
    every: int | None = None
    clock: Clock | BusinessDays = ALL_HOURS  # the repeats count on it
    clock_name: str = "24x7"
    end: int | None = None  # no due at or after this instant
    limit: int = MAX_REPEATS
    target: str | None = None
    level: str | None = None
    share: float | None = None
    trigger: Trigger | None = None
    clause: str | None = None
    pausable: bool = True  # False: runs on real time whatever the ticket's state
    quiet: Clock | None = None  # each due outside its hours waits for them to start

    def dues(self, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        spans = spans if self.pausable else []
        due: int | None = self.first_due
        for repeat in range(self.limit):
            if due is not None and self.quiet is not None:
                due = self.quiet.next_open_us(due)  # the repeats then count from there
            if due is None or (self.end is not None and due >= self.end):
                return
            yield repeat, due
            if self.every is None:
                return
            due = deadline_us(self.clock, due, self.every, spans)

    def timer(self, repeat: int, due: int) -> Timer:
        return Timer(
            self.kind,
            self.stage,
            from_us(due),
            repeat,
            self.target,
            self.level,
            self.share,
            self.trigger,
            self.clause,
            None if self.every is None else timedelta(microseconds=self.every),
            self.clock_name,
        )


class TicketTimes:
    """One ticket's facts against its policy, in microseconds: what its schedule and the
    month's reports are computed from. ``history`` may be folded already (`Facts`): a report
    folds each history once, and asks about its update cycles on the way (`history.fold`)."""

    def __init__(self, policy: Policy, history: Iterable[Event] | Facts):
        self.policy = policy
        self.f: Facts = history if isinstance(history, Facts) else facts(history)
        self.severity = policy.severity(self.f.severity)
        self.spans = pause_spans(self.f.pauses(policy.pausing_states)) if self.f.spells else []
        self.resolved = self.f.resolved_at
        self.stop = None if self.resolved is None else to_us(self.resolved)
        self.since = to_us(self.f.severity_since)
        self.opened = to_us(self.f.opened_at)

    def target(self, name: str) -> Target | None:
        return getattr(self.severity.targets, name)

    def within(self, name: str) -> int:
        return self.policy.within_us(self.severity.key, name, self.opened)  # type: ignore[return-value]

    def start(self, name: str) -> int | None:
        """When a target's clock starts; for update_every, the current cycle's start."""
        if name == "time_to_open":
            return to_us(self.f.reported_at)
        if name == "update_every":
            if self.f.first_response_at is None or self.stop is not None:
                return None
            last = self.f.updates[-1].at if self.f.updates else self.f.first_response_at
            return to_us(max(last, self.f.first_response_at))
        return self.opened

    def met(self, name: str) -> int | None:
        if name == "first_response":
            at = self.f.first_response_at
        elif name == "resolution":
            at = self.resolved
            resolution = self.severity.targets.resolution
            if resolution is not None and resolution.mitigation:
                mitigated = next((u.at for u in self.f.updates if u.workaround), None)
                at = min((a for a in (at, mitigated) if a is not None), default=None)
        elif name == "time_to_open":
            at = self.f.opened_at
        elif name == "update_every":
            at = None
        else:
            raise KeyError(name)
        return None if at is None else to_us(at)

    def due(self, name: str, share: float = 1.0) -> int | None:
        start, target = self.start(name), self.target(name)
        if start is None or target is None:
            return None
        clock = self.policy.target_clock(target)
        due = deadline_us(clock, start, int(self.within(name) * share), self.spans)
        if name == "resolution":
            due = self.with_release(due, share)
        if due is not None and name == "update_every" and share == 1.0 and self.f.updates:
            eta = self.f.updates[-1].eta
            if eta is not None:
                due = max(due, to_us(eta))
        return due

    def release(self) -> ReleaseAgreed | None:
        """The agreed release, where the resolution target lets one stand for it."""
        target = self.severity.targets.resolution
        return self.f.release if target is not None and target.agreed_release else None

    def with_release(self, due: int | None, share: float = 1.0) -> int | None:
        """The resolution's ``due`` (at ``share`` of its time), moved to the agreed release.

        Interpretation of "10 business days, or specific release": meeting either meets the
        target, so an agreed release later than the target's own due date becomes the due
        date, and an earlier one changes nothing. Reminders and pages at a share of the
        target fall at that share of the real time from the opening to the release. While a
        pause stops the clock the due date stays unknown, as for any target.
        """
        release = self.release()
        if release is None or due is None:
            return due
        if share != 1.0:
            whole = self.policy.target_clock(self.severity.targets.resolution)  # type: ignore[arg-type]
            full = deadline_us(whole, self.opened, self.within("resolution"), self.spans)
        else:
            full = due
        release_us = to_us(release.release_at)
        if full is None or release_us <= full:
            return due
        return self.opened + int((release_us - self.opened) * share)

    def end(self, name: str | None) -> int | None:
        """When obligations about a target stop: it was met, or the ticket was resolved."""
        ends = [e for e in (self.stop, self.met(name) if name else None) if e is not None]
        return min(ends, default=None)

    def not_before_change(self, due: int | None) -> int | None:
        return None if due is None else max(due, self.since)


def schedule(policy: Policy, history: Iterable[Event], now: datetime) -> Schedule:
    """Deadlines as they stand at ``now``, and the timers still owed."""
    ticket = TicketTimes(policy, history)
    now_us = to_us(now)
    timers = []
    for obligation in _obligations(ticket):
        if obligation.end is not None and obligation.end <= now_us:
            continue  # answered, met or resolved: whatever it did not send is no longer owed
        latest = None
        for repeat, due in obligation.dues(ticket.spans):
            if due > now_us:
                timers.append(obligation.timer(repeat, due))
                break
            latest = (repeat, due)
        if latest is not None:
            timers.append(obligation.timer(*latest))
    timers.sort(key=lambda t: (t.due_at, t.key))
    f = ticket.f
    reopen = policy.lifecycle.reopen_within
    reopen_until = (
        f.resolved_at + reopen if reopen and f.status == "resolved" and f.resolved_at else None
    )
    return Schedule(
        ticket.severity.key,
        f.status,
        tuple(_deadlines(ticket, now_us)),
        tuple(timers),
        reopen_until,
        _progress(f),
        f.support_level,
    )


def timeline(policy: Policy, history: Iterable[Event], until: datetime) -> list[Timer]:
    """Every timer the history implies up to ``until``, repeats included: the simulator's view."""
    ticket = TicketTimes(policy, history)
    limit = to_us(until)
    timers = []
    for obligation in _obligations(ticket):
        for repeat, due in obligation.dues(ticket.spans):
            if due > limit:
                break
            timers.append(obligation.timer(repeat, due))
    return sorted(timers, key=lambda t: (t.due_at, t.key))


def pages_up_to(
    ticket: TicketTimes, until: datetime, counts: Counter[str] | None = None
) -> Counter[str]:
    """How many pages each escalation level gets up to ``until``, repeats included: what
    `timeline` would list as pages, counted without building the timers (a replay of a
    quarter counts them for every ticket twice, on the `TicketTimes` its compliance built).
    Added to ``counts`` when given (a replay's tally), else to a new counter."""
    limit = to_us(until)
    counts = Counter() if counts is None else counts
    for obligation in _pages(ticket):
        level = obligation.level or ""  # every page has its level
        for _, due in obligation.dues(ticket.spans):
            if due > limit:
                break
            counts[level] += 1
    return counts


def _deadlines(ticket: TicketTimes, now: int) -> Iterator[Deadline]:
    f, policy = ticket.f, ticket.policy
    paused_by = policy.state_label(f.status) if f.status in policy.pausing_states else None
    for name, target in ticket.severity.targets.items():
        start = ticket.start(name)
        if start is None or (name == "time_to_open" and f.reported_at >= f.opened_at):
            continue
        due, met = ticket.due(name), ticket.met(name)
        clock = policy.target_clock(target)
        resumes = None
        if met is not None:
            state: DeadlineState = "met" if due is None or met <= due else "missed"
        elif ticket.stop is not None:
            state = "stopped"
        elif due is None:
            state = "paused"
        else:
            state = "breached" if now > due else "running"
            opening = clock.next_open_us(now)
            if state == "running" and opening is not None and opening > now:
                resumes = from_us(opening)
        yield Deadline(
            name,
            from_us(start),
            timedelta(microseconds=ticket.within(name)),
            target.clock,
            None if due is None else from_us(due),
            None if met is None else from_us(met),
            state,
            paused_by if state == "paused" else None,
            resumes,
            target.clause,
            _agreed_by(ticket, name, due),
        )


def _agreed_by(ticket: TicketTimes, name: str, due: int | None) -> str | None:
    """Who agreed the release that a resolution's due date now is, if it is one."""
    release = ticket.release() if name == "resolution" else None
    if release is None or due is None or due != to_us(release.release_at):
        return None
    return release.agreed_by


def _obligations(ticket: TicketTimes) -> Iterator[_Obligation]:
    yield from _reminders(ticket)
    yield from _update_nudges(ticket)
    yield from _pages(ticket)
    yield from _lifecycle(ticket)


def _reminders(ticket: TicketTimes) -> Iterator[_Obligation]:
    for name, shares in ticket.policy.reminders.items():
        target = ticket.target(name)
        if target is None:
            continue
        # each update cycle has its own reminders; a new update starts the next cycle
        cycle = f"#{_cycle(ticket)}" if name == "update_every" else ""
        for share in shares:
            due = ticket.not_before_change(ticket.due(name, share))
            if due is not None:
                yield _Obligation(
                    "reminder",
                    f"{name}{cycle}@{share:.0%}",
                    due,
                    end=ticket.end(name),
                    target=name,
                    share=share,
                    clause=target.clause,
                )


def _cycle(ticket: TicketTimes) -> int:
    return len(ticket.f.updates)


def _update_nudges(ticket: TicketTimes) -> Iterator[_Obligation]:
    target = ticket.target("update_every")
    due = ticket.due("update_every")
    if target is None or due is None:
        return
    yield _Obligation(
        "update_nudge",
        f"update_every#{_cycle(ticket)}",
        due,
        ticket.within("update_every"),
        ticket.policy.target_clock(target),
        end=ticket.stop,
        target="update_every",
        clause=target.clause,
    )


def _pages(ticket: TicketTimes) -> Iterator[_Obligation]:
    escalation = ticket.policy.escalation
    if escalation is None:
        return
    for i, rule in enumerate(escalation.rules):
        if not rule.applies_to(ticket.severity.key):
            continue
        page = rule.page
        if page == SUPPORT_LEVEL:  # the level the ticket was routed to, else the front line
            page = ticket.f.support_level or escalation.support_levels[0]
        stage = f"rule{i}:{page}"
        name = rule.of
        trigger: Trigger
        if rule.at == "open":
            due: int | None = ticket.opened
            trigger = "open"
        elif rule.after is not None:
            trigger = "after"
            clock = ticket.policy.clock(rule.clock)
            due = deadline_us(clock, ticket.opened, rule.after // ONE_US, ticket.spans)
        else:
            if name is None or ticket.target(name) is None:
                continue
            trigger = "breach" if rule.at == "breach" else "share"
            due = ticket.due(name, rule.share or 1.0)
            if name == "update_every":
                stage += f"#{_cycle(ticket)}"
        due = ticket.not_before_change(due)
        if due is None:
            continue
        ends = [ticket.end(name)]
        if ticket.f.page_acks:
            acked = ticket.f.page_acknowledged(page, from_us(due))
            ends.append(None if acked is None else to_us(acked))
        if rule.unless:
            answered = next(
                (
                    u.at
                    for u in ticket.f.updates
                    if ("eta" in rule.unless and u.eta)
                    or ("workaround" in rule.unless and u.workaround)
                ),
                None,
            )
            ends.append(None if answered is None else to_us(answered))
        level = escalation.level(page)
        yield _Obligation(
            "page",
            stage,
            due,
            None if rule.repeat is None else rule.repeat // ONE_US,
            # Repeats count on the rule's clock: a page repeated "every 30m of support hours"
            # waits over a weekend instead of paging all night.
            ticket.policy.clock(rule.clock),
            rule.clock,
            end=min((e for e in ends if e is not None), default=None),
            target=name,
            level=page,
            share=rule.share,
            trigger=trigger,
            clause=rule.clause or level.clause,
            quiet=_quiet_hours(ticket, page),
        )


def _quiet_hours(ticket: TicketTimes, level: str) -> Clock | None:
    """The hours a page of this ticket to ``level`` waits for: the level's quiet hours
    (``quiet_outside``), unless the ticket's severity is critical (`Escalation.critical`,
    by default the policy's first severity), whose pages never wait."""
    escalation = ticket.policy.escalation
    assert escalation is not None
    calendar = escalation.level(level).quiet_outside
    if calendar is None or ticket.severity.key in ticket.policy.critical:
        return None
    return ticket.policy.clock(calendar)


def _lifecycle(ticket: TicketTimes) -> Iterator[_Obligation]:
    life, f = ticket.policy.lifecycle, ticket.f
    if f.status_since is None:
        return
    since = to_us(f.status_since)
    # A new wait (or resolution) is a new series: the keys carry the instant it began.
    stamp = f.status_since.isoformat()
    if f.status == "waiting_on_customer":
        every = life.follow_up_every
        solve = life.auto_solve
        solve_at = []
        if solve and solve.after:
            solve_at.append(since + solve.after // ONE_US)
        if solve and solve.follow_ups and every:
            solve_at.append(since + (solve.follow_ups + 1) * (every // ONE_US))
        solve_due = min(solve_at, default=None)
        if every:
            step = every // ONE_US
            yield _Obligation(
                "follow_up",
                f"follow_up@{stamp}",
                since + step,
                step,
                end=solve_due,
                limit=solve.follow_ups if solve and solve.follow_ups else MAX_REPEATS,
                clause=life.clause,
                pausable=False,
            )
        if solve_due is not None:
            yield _Obligation(
                "auto_solve", f"auto_solve@{stamp}", solve_due, clause=life.clause, pausable=False
            )
    if f.status == "resolved" and life.close_after:
        yield _Obligation(
            "auto_close",
            f"auto_close@{stamp}",
            since + life.close_after // ONE_US,
            clause=life.clause,
            pausable=False,
        )
