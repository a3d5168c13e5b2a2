"""Business time: how much of the contract's clock has run between two real instants.

A `Calendar` is weekly opening windows in local wall-clock time, minus closed dates. Deadline
arithmetic runs on every card, list and clock tick, so it never steps minute by minute. Instead
business time is a monotone function B(t) = business microseconds since the start of a chunk of
real time. Each chunk (2**45 µs of UTC, about 407 days, built on first use and cached) holds its
open windows as sorted UTC intervals with running totals, so

* a deadline is B⁻¹(B(start) + D): two searches, whatever D is;
* elapsed business time is B(t2) − B(t1).

A chunk is a power of two of microseconds so that finding an instant's chunk, and its slot of
2**32 µs (about 72 minutes) inside the chunk, is a shift (about 25 ns, where dividing an
instant by 365 days took 80). Each slot remembers the last interval that starts before it, so
the search for an instant's interval is one lookup and one comparison, not a bisect, unless
another interval also starts inside its slot.

Windows are converted to UTC one by one, so every DST change is exact. Instants inside the
calendar are integer microseconds since the Unix epoch, which keeps the arithmetic exact.

Wall-clock rules, decided once here:

* A window ``"HH:MM-HH:MM"`` whose end is at or before its start runs past midnight; it belongs
  to the day it starts on, and a holiday closes the windows that start on it.
* A window opens at the first instant the local clock shows its start and closes at the first
  instant after that the clock shows its end. So on a spring-forward day a time that does not
  exist is the moment of the jump, and in the repeated hour of a fall-back day the first
  occurrence counts.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
SECOND = 1_000_000
CHUNK_BITS = 45
CHUNK = 1 << CHUNK_BITS
SLOT_BITS = 32
SLOT_MASK = (1 << (CHUNK_BITS - SLOT_BITS)) - 1
_NEVER = 1 << 62  # after every instant a datetime can hold
# A calendar that stays shut this many chunks (about 22 years) in a row never opens.
MAX_EMPTY_CHUNKS = 20
# From this many starts on, `Calendar.add_many_us` goes through numpy (bench/README.md).
BATCH_MIN = 128


def to_us(instant: datetime) -> int:
    """Microseconds since the epoch of an aware datetime.

    The subtraction is tried first (it refuses a naive datetime itself), so the check costs
    nothing on the hot path.
    """
    try:
        return (instant - EPOCH) // ONE_US
    except TypeError:
        if isinstance(instant, datetime) and instant.tzinfo is None:
            raise ValueError(
                f"{instant.isoformat()} has no time zone: instants must be aware"
            ) from None
        raise


def from_us(us: int) -> datetime:
    """The aware UTC datetime ``us`` microseconds after the epoch.

    ``ONE_US * us`` rather than ``timedelta(microseconds=us)``: the same exact integer
    arithmetic, without parsing a keyword argument, and about three times as fast.
    """
    return EPOCH + ONE_US * us


@dataclass(frozen=True, slots=True)
class Window:
    """Open from ``start`` to ``end`` minutes after local midnight of the day it belongs to.

    ``end`` is greater than ``start``; a window that runs past midnight has ``end`` above 1440.
    """

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Window:
        """Read ``"09:00-17:30"``; ``"22:00-02:00"`` runs past midnight; ``24:00`` may end one."""
        try:
            first, last = (part.strip() for part in text.split("-"))
            start, end = _minutes(first), _minutes(last)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a window: write 'HH:MM-HH:MM', such as '09:00-17:30'"
            ) from None
        if start >= 24 * 60:
            raise ValueError(f"{text!r}: a window cannot start at 24:00")
        if end <= start:
            end += 24 * 60
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end % (24 * 60) or 24 * 60)}"


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    if len(hours) not in (1, 2) or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(hhmm)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ValueError(hhmm)
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Chunk:
    """The open intervals of one span of real time, with running business totals.

    ``shift[i]`` is business time minus real time inside interval ``i`` (its running total at
    its end, less its end), so within the interval the one is the other plus ``shift[i]``:
    converting either way is one addition. ``slots[n]`` is the last interval starting at or
    before the start of slot ``n`` (-1: none), and ``probe`` is ``starts`` with one start
    after every instant, so looking one interval ahead never runs off the end.
    """

    __slots__ = ("arrays", "cum_end", "ends", "probe", "shift", "slots", "starts", "total")

    def __init__(self, lo: int, intervals: Sequence[tuple[int, int]]):
        self.starts = [s for s, _ in intervals]
        self.probe = [*self.starts, _NEVER]
        # An interval is the last to start before every slot from the first one starting at or
        # after it, until a later interval takes over.
        marks = [-1] * (SLOT_MASK + 1)
        for i, start in enumerate(self.starts):
            first = (start - lo + (1 << SLOT_BITS) - 1) >> SLOT_BITS
            if first <= SLOT_MASK:
                marks[first] = i
        self.slots = list(accumulate(marks, max))
        self.ends = [e for _, e in intervals]
        running, self.cum_end = 0, []
        for s, e in intervals:
            running += e - s
            self.cum_end.append(running)
        self.shift = [c - e for c, e in zip(self.cum_end, self.ends, strict=True)]
        self.total = running
        self.arrays: object = None  # starts and ends as numpy arrays, made by `batch` on use

    def index_at(self, t: int) -> int:
        """The last interval starting at or before ``t`` (which lies in the chunk); -1: none."""
        i = self.slots[t >> SLOT_BITS & SLOT_MASK]
        return i if self.probe[i + 1] > t else bisect_right(self.starts, t, i + 1) - 1

    def business_at(self, t: int) -> int:
        """Business time from the chunk's start to ``t`` (which lies in the chunk)."""
        i = self.index_at(t)
        return min(t + self.shift[i], self.cum_end[i]) if i >= 0 else 0

    def instant_at(self, b: int) -> int:
        """The earliest instant at which ``b`` (0 < b ≤ total) business time has run."""
        return b - self.shift[bisect_left(self.cum_end, b)]


class Calendar:
    """Business hours in one time zone: weekly windows minus closed dates.

    ``week`` holds seven sequences of windows, Monday first. ``closed`` says whether windows
    starting on a local date are cancelled (holidays, extra closed dates).
    """

    def __init__(
        self,
        name: str,
        tz: ZoneInfo,
        week: Sequence[Sequence[Window]],
        closed: Callable[[date], bool] = lambda day: False,
    ):
        if len(week) != 7:
            raise ValueError("a week has seven days of windows, Monday first")
        self.name = name
        self.tz = tz
        self.week = tuple(tuple(sorted(day, key=lambda w: w.start)) for day in week)
        self.closed = closed
        self._chunks: dict[int, Chunk] = {}

    def __repr__(self) -> str:
        return f"Calendar({self.name!r}, {self.tz.key})"

    # -- public arithmetic on datetimes -------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime | None:
        """When ``duration`` of business time has run from ``start``; None if it never does."""
        due = self.add_us(to_us(start), duration // ONE_US)
        return None if due is None else from_us(due)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants (zero when ``end`` is not after ``start``)."""
        return timedelta(microseconds=self.elapsed_us(to_us(start), to_us(end)))

    def next_open(self, at: datetime) -> datetime | None:
        """``at`` itself when open, else the next opening; None if the calendar never opens."""
        opening = self.next_open_us(to_us(at))
        return None if opening is None else from_us(opening)

    def is_open(self, at: datetime) -> bool:
        return self.next_open_us(to_us(at)) == to_us(at)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open intervals that meet [start, end), clipped to it, as UTC datetimes."""
        lo, hi = to_us(start), to_us(end)
        spans: list[tuple[int, int]] = []
        for k in range(lo >> CHUNK_BITS, ((hi - 1) >> CHUNK_BITS) + 1):
            chunk = self.chunk(k)
            spans.extend(zip(chunk.starts, chunk.ends, strict=True))
        return [
            (from_us(max(s, lo)), from_us(min(e, hi)))
            for s, e in _merge(spans)
            if s < hi and e > lo
        ]

    # -- the same on epoch microseconds (the hot path) ----------------------------------------

    def add_us(self, start: int, duration: int) -> int | None:
        if duration <= 0:
            return self.next_open_us(start)
        k = start >> CHUNK_BITS
        chunk = self._chunks.get(k) or self.chunk(k)
        # Chunk.index_at, business_at and instant_at, inlined: this is the hot path of every
        # deadline, and the time nearly always runs out in the interval it starts in or the
        # next, which two comparisons find faster than a bisect.
        cum_end = chunk.cum_end
        i = chunk.slots[start >> SLOT_BITS & SLOT_MASK]
        if chunk.probe[i + 1] <= start:
            i = bisect_right(chunk.starts, start, i + 1) - 1
        if i < 0:
            i, b = 0, duration
        else:
            b = start + chunk.shift[i]
            b = (b if b < cum_end[i] else cum_end[i]) + duration
        if b > chunk.total:
            return self._add_past(k, chunk, b)
        if b > cum_end[i]:
            i += 1
            if b > cum_end[i]:
                i = bisect_left(cum_end, b, i + 1)
        return b - chunk.shift[i]

    def add_many_us(
        self, starts: Sequence[int], durations: int | Sequence[int]
    ) -> list[int | None]:
        """``add_us`` for each start (with one duration, or one each), with the same answers.

        A few are added one by one; more at once with numpy (`slabot.sla.batch`), imported
        only then, so a command computing a handful of deadlines never loads it. numpy is an
        extra (``slabot[fast]``): without it, every batch is added one by one.
        """
        if len(starts) >= BATCH_MIN:
            try:
                from .batch import add_many
            except ImportError:
                pass
            else:
                return add_many(self, starts, durations)
        if isinstance(durations, int):
            return [self.add_us(start, durations) for start in starts]
        return [self.add_us(s, d) for s, d in zip(starts, durations, strict=True)]

    def _add_past(self, k: int, chunk: Chunk, b: int) -> int | None:
        """When business time ``b`` past the start of chunk ``k`` (beyond its end) is reached;
        None if never."""
        return walk(self.chunk, k, chunk, b)

    def elapsed_us(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        k1, k2 = start >> CHUNK_BITS, end >> CHUNK_BITS
        first = self.chunk(k1)
        if k1 == k2:
            return first.business_at(end) - first.business_at(start)
        inside = sum(self.chunk(k).total for k in range(k1 + 1, k2))
        return first.total - first.business_at(start) + inside + self.chunk(k2).business_at(end)

    def next_open_us(self, at: int) -> int | None:
        k = at >> CHUNK_BITS
        for _ in range(MAX_EMPTY_CHUNKS + 1):
            chunk = self.chunk(k)
            i = bisect_right(chunk.ends, at)
            if i < len(chunk.starts):
                return max(at, chunk.starts[i])
            k += 1
        return None

    # -- building -----------------------------------------------------------------------------

    def chunk(self, k: int) -> Chunk:
        chunk = self._chunks.get(k)
        if chunk is None:
            lo = k << CHUNK_BITS
            chunk = self._chunks[k] = Chunk(lo, self._intervals(lo, lo + CHUNK))
        return chunk

    def _intervals(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Open intervals clipped to [lo, hi), merged where windows touch or overlap."""
        first = from_us(lo).astimezone(self.tz).date() - timedelta(days=2)
        last = from_us(hi).astimezone(self.tz).date() + timedelta(days=1)
        spans = []
        day = first
        while day <= last:
            windows = self.week[day.weekday()]
            if windows and not self.closed(day):
                for window in windows:
                    s = _local_us(day, window.start, self.tz)
                    e = _local_us(day, window.end, self.tz)
                    s, e = max(s, lo), min(e, hi)
                    if s < e:
                        spans.append((s, e))
            day += timedelta(days=1)
        return _merge(spans)


class Counted(Protocol):
    """One chunk of a clock's time as `walk` reads it: its total, and where a count falls."""

    total: int

    def instant_at(self, units: int, /) -> int: ...


C = TypeVar("C", bound=Counted)


def walk(chunk_at: Callable[[int], C], k: int, chunk: C, units: int) -> int | None:
    """The instant ``units`` of a clock past the start of chunk ``k`` (``chunk``, which
    ``chunk_at(k)`` gives) is reached, walking on through the chunks after it: the one loop
    every clock counted in chunks (business hours, business days) adds with. None if the clock
    stays shut for more than `MAX_EMPTY_CHUNKS` chunks in a row (a calendar never open)."""
    empty = 0
    while units > chunk.total:
        units -= chunk.total
        empty = empty + 1 if chunk.total == 0 else 0
        if empty > MAX_EMPTY_CHUNKS:
            return None
        k += 1
        chunk = chunk_at(k)
    return chunk.instant_at(units)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _local_us(day: date, minutes: int, tz: ZoneInfo) -> int:
    """The first instant the local clock shows ``minutes`` after midnight of ``day``."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    instant = to_us(wall.replace(tzinfo=tz))  # fold=0: the first of a repeated hour
    if _wall(instant, tz) == wall:
        return instant
    # The time falls in a spring-forward gap: the clock jumps over it, so the window's edge is
    # the jump itself. fold=0 and fold=1 bracket the jump; find the first instant at or past it.
    lo = to_us(wall.replace(tzinfo=tz, fold=1))
    hi = instant
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > SECOND:
        mid = (lo + hi) // 2 // SECOND * SECOND
        if mid <= lo:
            break
        if _wall(mid, tz) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def _wall(us: int, tz: ZoneInfo) -> datetime:
    return from_us(us).astimezone(tz).replace(tzinfo=None)


class AllHours:
    """The built-in ``24x7`` clock: real elapsed time, holidays ignored.

    Arithmetic goes through epoch microseconds: Python adds, subtracts and compares two
    datetimes that share a tzinfo by their wall clocks, which is wrong across a DST change.
    """

    name = "24x7"

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return from_us(self.add_us(to_us(start), duration // ONE_US))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(microseconds=self.elapsed_us(to_us(start), to_us(end)))

    def next_open(self, at: datetime) -> datetime:
        return from_us(to_us(at))

    def is_open(self, at: datetime) -> bool:
        to_us(at)  # refuse naive datetimes here as everywhere
        return True

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        lo, hi = to_us(start), to_us(end)
        return [(from_us(lo), from_us(hi))] if hi > lo else []

    def add_us(self, start: int, duration: int) -> int:
        return start + max(duration, 0)

    def add_many_us(self, starts: Sequence[int], durations: int | Sequence[int]) -> list[int]:
        if isinstance(durations, int):
            return [start + max(durations, 0) for start in starts]
        return [s + max(d, 0) for s, d in zip(starts, durations, strict=True)]

    def elapsed_us(self, start: int, end: int) -> int:
        return max(end - start, 0)

    def next_open_us(self, at: int) -> int:
        return at


ALL_HOURS = AllHours()
# What a target's time counts on (a policy's ``clock:``): a calendar's open hours, or all hours.
Clock = Calendar | AllHours
