"""Deadline arithmetic: slabot's business-time engine against businesstimedelta and pandas.

Every ticket card, list and clock tick computes deadlines, so this is slabot's hot path (see
docs/architecture.md, "Time"). The benchmark draws random ticket openings (fixed seed,
uniformly random minutes of 2026-2027, as aware UTC datetimes) and adds 4 business hours to
each on LeadPro's
business calendar: Europe/London, Monday to Friday 09:00-17:30, closed on the bank holidays of
England and Wales. It times these engines on the same openings:

* slabot, the public API every caller uses: ``policy.deadline("low", "first_response", start)``
  with ``policy = load_policy("policies/leadpro.yaml")`` (low's first response is 4 business
  hours);
* slabot's calendar alone: ``policy.clock("business").add(start, 4h)``, and its ``add_us``
  on epoch microseconds, one by one (the single path the batch replaces, without datetimes);
* slabot's batch API on all the openings at once: ``policy.deadlines("low", "first_response",
  openings)`` (datetimes in and out), and ``policy.deadlines_us(...)`` on epoch microseconds
  (the conversion to microseconds is done before the clock starts);
* businesstimedelta: ``WorkDayRule`` + ``HolidayRule`` in ``Rules``, both in the pytz
  Europe/London zone, and ``start + BusinessTimeDelta(rules, hours=4)``;
* pandas: ``4 * CustomBusinessHour(...)`` added to the London wall-clock time, the result
  localised back to Europe/London and converted to UTC (how it is commonly used).

Each engine is warmed up with one untimed pass, then timed over all openings in CPU time
(``time.process_time``: on a shared machine, wall time also counts the time other processes
hold the CPU), best of five passes (``--runs``); the script prints µs per deadline,
each peer's time over the public API's, and the batch API's speed-up over the public API per
deadline. Each engine is also checked against the minute-stepping reference in
tests/support/reference.py on a sample of the openings plus chosen hard cases (the London DST
weekends,
openings at 08:59, 13:30, 17:29 and 17:30, bank holidays and the days before them, late on
Christmas Eve), and the mismatch count of each is printed with examples; the batch API is
also compared with the public API on every opening.

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/deadlines.py [--n 10000] [--sample 300]``.
slabot's passes over 10,000 openings take only about 10 ms each, so on a busy machine a burst
of load can slow all of them; ``--runs 10`` gives it more chances.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pandas as pd
import pytz
from businesstimedelta import BusinessTimeDelta, HolidayRule, Rules, WorkDayRule
from pandas.tseries.offsets import CustomBusinessHour

from slabot.sla import Calendar, Policy, load_policy
from slabot.sla.calendar import from_us, to_us

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "policies" / "leadpro.yaml"
TESTS = REPO / "tests"

SEED = 20261122
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
AFTER_LAST = datetime(2028, 1, 1, tzinfo=UTC)  # openings fall in 2026-01-01 .. 2027-12-31
DURATION = timedelta(hours=4)
SEVERITY, TARGET = "low", "first_response"  # LeadPro: 4 hours on the business calendar
ZONE = "Europe/London"
LONDON = ZoneInfo(ZONE)
OPEN, CLOSE = clock_time(9, 0), clock_time(17, 30)
HOLIDAY_YEARS = [2026, 2027, 2028]
RUNS = 5
GOAL_BTD, GOAL_PANDAS, GOAL_BATCH = 100.0, 60.0, 10.0
PUBLIC, BATCH, BATCH_US = "slabot public API", "slabot batch", "slabot batch, epoch µs"
ADD_US = "slabot add_us, epoch µs"

Reference = Callable[..., datetime | None]


def _same(values: Sequence[Any]) -> Sequence[Any]:
    return values


def _instant(value: Any) -> datetime | None:
    return value


@dataclass(frozen=True)
class Engine:
    """One way to compute the deadlines of many openings; only ``many`` is timed."""

    name: str
    many: Callable[[Sequence[Any]], list[Any]]
    # The openings as ``many`` takes them, and one of its answers as a datetime.
    prepare: Callable[[Sequence[datetime]], Sequence[Any]] = _same
    answer: Callable[[Any], datetime | None] = _instant

    def deadlines(self, openings: Sequence[datetime]) -> list[datetime | None]:
        return [self.answer(due) for due in self.many(self.prepare(openings))]


@dataclass(frozen=True)
class Mismatch:
    start: datetime
    expected: datetime | None
    got: datetime | None
    # The engine answered the next opening where the reference answered the moment the last
    # minute ran out (the close): the same point in business time, a different instant.
    next_opening: bool


# -- the engines ------------------------------------------------------------------------------


def bank_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=HOLIDAY_YEARS)


def one_by_one(name: str, add: Callable[[datetime], datetime | None]) -> Engine:
    return Engine(name, lambda openings: [add(start) for start in openings])


def slabot_engines(policy: Policy) -> list[Engine]:
    calendar = policy.clock("business")

    def public(start: datetime) -> datetime | None:
        return policy.deadline(SEVERITY, TARGET, start)

    def calendar_add(start: datetime) -> datetime | None:
        return calendar.add(start, DURATION)

    def batch(openings: Sequence[datetime]) -> list[datetime | None]:
        return policy.deadlines(SEVERITY, TARGET, openings)

    def batch_us(openings: Sequence[int]) -> list[int | None]:
        return policy.deadlines_us(SEVERITY, TARGET, openings)

    def add_us_each(openings: Sequence[int]) -> list[int | None]:
        return [calendar.add_us(start, duration) for start in openings]

    def to_instants(openings: Sequence[datetime]) -> list[int]:
        return [to_us(start) for start in openings]

    def from_instant(due: int | None) -> datetime | None:
        return None if due is None else from_us(due)

    duration = DURATION // timedelta(microseconds=1)
    return [
        one_by_one(PUBLIC, public),
        one_by_one("slabot calendar add", calendar_add),
        Engine(ADD_US, add_us_each, to_instants, from_instant),
        Engine(BATCH, batch),
        Engine(BATCH_US, batch_us, to_instants, from_instant),
    ]


def businesstimedelta_engine() -> Engine:
    tz = pytz.timezone(ZONE)  # businesstimedelta localises with pytz: a zoneinfo zone fails
    workday = WorkDayRule(start_time=OPEN, end_time=CLOSE, working_days=[0, 1, 2, 3, 4], tz=tz)
    closed = HolidayRule(bank_holidays(), tz=tz)
    delta = BusinessTimeDelta(Rules([workday, closed]), hours=4)

    def add(start: datetime) -> datetime:
        return start + delta

    return one_by_one("businesstimedelta", add)


def pandas_engine() -> Engine:
    offset = 4 * CustomBusinessHour(
        start="09:00",
        end="17:30",
        holidays=sorted(bank_holidays()),
        weekmask="Mon Tue Wed Thu Fri",
    )

    def add(start: datetime) -> datetime:
        wall = pd.Timestamp(start).tz_convert(ZONE).tz_localize(None)
        due = (wall + offset).tz_localize(ZONE, nonexistent="shift_forward", ambiguous=True)
        return due.tz_convert("UTC")

    return one_by_one("pandas", add)


# -- the openings -----------------------------------------------------------------------------


def random_openings(n: int, seed: int = SEED) -> list[datetime]:
    """``n`` instants drawn uniformly, to the minute, from 2026 and 2027, in UTC."""
    rng = random.Random(seed)
    minutes = (AFTER_LAST - FIRST) // timedelta(minutes=1)
    return [FIRST + timedelta(minutes=rng.randrange(minutes)) for _ in range(n)]


def hard_openings() -> list[datetime]:
    """Openings where business-time engines usually go wrong, in UTC, earliest first.

    The days around the London clock changes (01:xx does not exist on 2026-03-29 and happens
    twice on 2026-10-25; both folds are taken), every bank holiday and the day before it, at the
    edges of the working day (13:30 + 4h lands exactly on the close), and late on Christmas Eve.
    """
    days: set[date] = {date(2026, 3, d) for d in (27, 28, 29)}
    days |= {date(2026, 10, d) for d in (23, 24, 25)}
    days |= {date(2027, 3, d) for d in (26, 27, 28)}
    days |= {date(2027, 10, d) for d in (29, 30, 31)}
    for day in bank_holidays():
        days |= {day, day - timedelta(days=1)}
    days = {day for day in days if FIRST.date() <= day < AFTER_LAST.date()}
    hhmm = ["00:30", "01:30", "08:59", "09:00", "13:30", "17:29", "17:30", "23:59"]
    walls = [(day, clock_time.fromisoformat(t)) for day in days for t in hhmm]
    for year in (2026, 2027):
        eve = date(year, 12, 24)
        walls += [(eve, clock_time(h, m)) for h, m in ((14, 0), (15, 45), (16, 30), (17, 15))]
    instants = {
        datetime.combine(day, wall, tzinfo=LONDON).replace(fold=fold).astimezone(UTC)
        for day, wall in walls
        for fold in (0, 1)
    }
    return sorted(instants)


# -- measuring --------------------------------------------------------------------------------


def best_time(engine: Engine, openings: Sequence[datetime], runs: int = RUNS) -> float:
    """CPU seconds of the fastest of ``runs`` passes over ``openings``, after one warm-up."""
    prepared = engine.prepare(openings)
    engine.many(prepared)
    best = float("inf")
    for _ in range(runs):
        began = time.process_time()
        engine.many(prepared)
        best = min(best, time.process_time() - began)
    return best


def mismatches(
    got: Sequence[datetime | None],
    cases: Sequence[datetime],
    expected: Sequence[datetime | None],
    next_open: Callable[[datetime], datetime | None],
) -> list[Mismatch]:
    """Where an engine's answers ``got`` disagree with the reference's ``expected`` ones.

    ``next_open(t)`` is, per the reference, ``t`` when the calendar is open at ``t``, else its
    next opening: a wrong answer equal to ``next_open(expected)`` is the same business time.
    """
    found = []
    for start, want, answer in zip(cases, expected, got, strict=True):
        if answer != want:
            opening = answer is not None and want is not None and next_open(want) == answer
            found.append(Mismatch(start, want, answer, opening))
    return found


def load_reference(wait: float = 600.0) -> Reference:
    """``reference_add`` from tests/support/reference.py, waiting up to ``wait`` seconds for it."""
    module = TESTS / "support" / "reference.py"
    deadline = time.monotonic() + wait
    while not module.exists():
        if time.monotonic() > deadline:
            sys.exit(f"{module} does not exist: the reference is needed to check the engines")
        print(f"waiting for {module} ...", file=sys.stderr)
        time.sleep(10)
    from support.reference import reference_add  # type: ignore[import-not-found]

    return reference_add


def london(instant: datetime | None) -> str:
    if instant is None:
        return "never"
    return instant.astimezone(LONDON).strftime("%a %Y-%m-%d %H:%M %Z")


# -- the report -------------------------------------------------------------------------------


def run(policy: Policy, reference: Reference, n: int, sample: int, runs: int = RUNS) -> bool:
    """Time and check every engine, print the figures; True when every goal is met."""
    calendar = policy.clock("business")
    engines = [*slabot_engines(policy), businesstimedelta_engine(), pandas_engine()]
    openings = random_openings(n)
    hard = hard_openings()
    cases = openings[:sample] + hard
    print(f"{n} openings, uniformly random minutes of 2026-2027 (seed {SEED}), + 4 business hours")
    print(f"calendar: {ZONE}, Mon-Fri 09:00-17:30, England & Wales bank holidays")
    peers = ", ".join(f"{name} {version(name)}" for name in ("businesstimedelta", "pandas"))
    print(f"python {sys.version.split()[0]}, {peers}, holidays {version('holidays')}")
    print(f"each engine: one warm-up pass, then the best of {runs} timed passes")
    print()

    print(
        f"checking against tests/support/reference.py: {sample} random + {len(hard)} hard openings"
    )
    expected = [reference(calendar, start, DURATION) for start in cases]

    def next_open(instant: datetime) -> datetime | None:
        return reference(calendar, instant, timedelta(0))

    wrong = {e.name: mismatches(e.deadlines(cases), cases, expected, next_open) for e in engines}
    public = {e.name: e for e in engines}[PUBLIC].deadlines(openings)
    batch_differs = {
        e.name: sum(1 for a, b in zip(e.deadlines(openings), public, strict=True) if a != b)
        for e in engines
        if e.name in (BATCH, BATCH_US)
    }
    for name, differ in batch_differs.items():
        print(f"{name} differs from the public API on {differ} of all {n} openings")

    per_deadline = {e.name: best_time(e, openings, runs) / n * 1e6 for e in engines}

    base = per_deadline[PUBLIC]
    print()
    print(f"{'engine':<24} {'µs/deadline':>12} {'× public API':>13} {'mismatches':>16}")
    for engine in engines:
        us = per_deadline[engine.name]
        bad = wrong[engine.name]
        in_hard = sum(1 for m in bad if m.start in hard)
        counts = f"{len(bad)}/{len(cases)} ({in_hard} hard)"
        print(f"{engine.name:<24} {us:12.3f} {us / base:12.2f}× {counts:>16}")

    for engine in engines:
        bad = wrong[engine.name]
        if bad:
            opening = sum(1 for m in bad if m.next_opening)
            print()
            print(
                f"{engine.name}: {len(bad)} mismatches; in {opening} of them it answers the next "
                "opening\nwhere the reference answers the close (the same business time, a later "
                "instant). For example:"
            )
            for m in _examples(bad):
                print(f"  opened {london(m.start)}")
                print(f"    reference {london(m.expected)}, {engine.name} {london(m.got)}")

    btd = per_deadline["businesstimedelta"] / base
    pdx = per_deadline["pandas"] / base
    batch, batch_us = base / per_deadline[BATCH], base / per_deadline[BATCH_US]
    slabot = [e.name for e in engines if e.name.startswith("slabot")]
    slabot_wrong = sum(len(wrong[name]) for name in slabot) + sum(batch_differs.values())
    met = btd >= GOAL_BTD and pdx >= GOAL_PANDAS and batch_us >= GOAL_BATCH and not slabot_wrong
    print()
    print(
        f"goal: public API ≥{GOAL_BTD:.0f}× faster than businesstimedelta and ≥{GOAL_PANDAS:.0f}× "
        f"than pandas, batch ≥{GOAL_BATCH:.0f}× faster per deadline, zero mismatches"
    )
    print(
        f"{'met' if met else 'NOT met'}: {btd:.1f}× businesstimedelta, {pdx:.1f}× pandas, "
        f"batch {batch_us:.1f}× on epoch µs ({batch:.1f}× on datetimes; "
        f"{per_deadline[ADD_US] / per_deadline[BATCH_US]:.1f}× add_us one by one), "
        f"{slabot_wrong} slabot mismatches"
    )
    return met


def _examples(bad: Sequence[Mismatch], limit: int = 2) -> list[Mismatch]:
    """Up to ``limit`` mismatches, of different kinds first, then in order."""
    picked: list[Mismatch] = []
    kinds: set[tuple[bool, bool]] = set()
    for m in bad:
        kind = (m.next_opening, m.got is None or m.expected is None or m.got > m.expected)
        if kind not in kinds:
            kinds.add(kind)
            picked.append(m)
    picked += [m for m in bad if m not in picked]
    return picked[:limit]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="random openings to time")
    parser.add_argument(
        "--sample", type=int, default=300, help="random openings to check against the reference"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="timed passes (the best counts)")
    args = parser.parse_args(argv)
    policy = load_policy(POLICY)
    if not isinstance(policy.clock("business"), Calendar):
        sys.exit(f"{POLICY}: the 'business' clock is not a business-hours calendar")
    run(policy, load_reference(), args.n, min(args.sample, args.n), max(args.runs, 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
