"""Business days: a calendar's clock counted in its open days, whatever their hours.

Contracts say "3 business days" and "by the end of the next business day". On a calendar open
8 hours a day, "3 business days" is not 3 × 24 hours of that calendar (that is nine of its
days) and, on a calendar whose Saturday is shorter than its weekdays, not any fixed number of
hours either. So a `BusinessDays` clock counts a calendar's open days instead of its hours:
every open day is worth exactly one day (``DAY`` microseconds of this clock), spread evenly
over that day's own open time. Then

* "3 business days" from Monday 10:00 on a 09:00–17:00 calendar is Thursday 10:00: a day is a
  day, however long it is open, and the same point of it three open days later;
* "the end of the next business day" is the close of the next open day: one whole day past
  the end of the day the ticket opened in;
* pauses, reminders at a share of the target and pages at 75 % work as on any clock, since
  this is one: a pause stops it for the business time it covers.

Which days are open comes from the calendar's own rules (`slabot.sla.calendar`): a day is the
windows that belong to one local date (a window past midnight belongs to the day it starts
on), and a holiday closes the day it falls on. Days are kept apart even where windows touch
(a 00:00–24:00 working week is one merged interval for the calendar, five days here); where
windows of two days overlap, the later day starts when the earlier one ends.

Interpretation (the contracts are silent): a ticket opened while the calendar is closed (at
night, at a weekend) counts as received when it next opens, so "the end of the next business
day" for a ticket opened on Saturday is the close of Tuesday, Monday being the day it was
received; and one opened on Monday at 10:00 is due at the close of Tuesday.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta

from .calendar import CHUNK, CHUNK_BITS, Calendar, _local_us, from_us, to_us, walk

DAY = 86_400 * 1_000_000  # one open day of this clock, in microseconds


class _Days:
    """The open days whose first window starts in one chunk of real time.

    ``starts`` and ``ends`` bound each day (its first opening, its last close);
    ``parts[i]`` are day ``i``'s intervals and ``cums[i]`` their running business totals.
    """

    __slots__ = ("cums", "ends", "parts", "starts", "total")

    def __init__(self, days: list[list[tuple[int, int]]]):
        self.parts = days
        self.starts = [day[0][0] for day in days]
        self.ends = [day[-1][1] for day in days]
        self.cums = []
        for day in days:
            running, cum = 0, []
            for s, e in day:
                running += e - s
                cum.append(running)
            self.cums.append(cum)
        self.total = len(days) * DAY

    def units_at(self, i: int, t: int) -> int:
        """This clock's time from the chunk's start to ``t``, which lies at or after the start
        of day ``i`` and before the next day's."""
        done = 0
        for (s, e), cum in zip(self.parts[i], self.cums[i], strict=True):
            if t < e:
                done = cum - (e - max(t, s))
                break
        else:
            done = self.cums[i][-1]
        return i * DAY + done * DAY // self.cums[i][-1]

    def instant_at(self, units: int) -> int:
        """The earliest instant at which ``units`` (0 < units ≤ total) of this clock have run."""
        i = (units - 1) // DAY
        cum = self.cums[i]
        business = -(-(units - i * DAY) * cum[-1] // DAY)  # rounded up: never early
        j = bisect_left(cum, business)
        return self.parts[i][j][1] - (cum[j] - business)


class BusinessDays:
    """A calendar's clock counted in open days (see the module's docstring); it answers what
    every clock answers (`slabot.sla.calendar.Clock`), so the engine uses it like any other."""

    def __init__(self, calendar: Calendar):
        self.calendar = calendar
        self.name = calendar.name
        self._chunks: dict[int, _Days] = {}

    def __repr__(self) -> str:
        return f"BusinessDays({self.name!r})"

    # -- what every clock answers -------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime | None:
        due = self.add_us(to_us(start), duration // timedelta(microseconds=1))
        return None if due is None else from_us(due)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(microseconds=self.elapsed_us(to_us(start), to_us(end)))

    def next_open(self, at: datetime) -> datetime | None:
        return self.calendar.next_open(at)

    def is_open(self, at: datetime) -> bool:
        return self.calendar.is_open(at)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return self.calendar.open_intervals(start, end)

    def next_open_us(self, at: int) -> int | None:
        return self.calendar.next_open_us(at)

    def add_us(self, start: int, duration: int) -> int | None:
        if duration <= 0:
            return self.next_open_us(start)
        k, units = self._locate(start)
        return walk(self.chunk, k, self.chunk(k), units + duration)

    def add_many_us(
        self, starts: Sequence[int], durations: int | Sequence[int]
    ) -> list[int | None]:
        if isinstance(durations, int):
            return [self.add_us(start, durations) for start in starts]
        return [self.add_us(s, d) for s, d in zip(starts, durations, strict=True)]

    def elapsed_us(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        (k1, u1), (k2, u2) = self._locate(start), self._locate(end)
        inside = sum(self.chunk(k).total for k in range(k1, k2))
        return inside + u2 - u1

    # -- days ---------------------------------------------------------------------------------

    def to_day_end_us(self, at: int) -> int:
        """How much of this clock is left, from ``at``, until the end of the business day it
        falls in. A closed instant falls in the next open day (the docstring's
        interpretation): it counts from that day's opening, a whole day."""
        opening = self.next_open_us(at)
        if opening is None:
            return 0  # never opens: the deadline never comes whatever is added
        return DAY - self._locate(opening)[1] % DAY

    def _locate(self, t: int) -> tuple[int, int]:
        """The chunk whose days ``t`` is counted in, and this clock's time from its start."""
        k = t >> CHUNK_BITS
        days = self.chunk(k)
        i = bisect_right(days.starts, t) - 1
        if i >= 0:
            return k, days.units_at(i, t)
        before = self.chunk(k - 1)
        if before.ends and t < before.ends[-1]:  # inside a day that began in the chunk before
            return k - 1, before.units_at(len(before.starts) - 1, t)
        return k, 0

    def chunk(self, k: int) -> _Days:
        days = self._chunks.get(k)
        if days is None:
            days = self._chunks[k] = _Days(self._days(k << CHUNK_BITS, (k << CHUNK_BITS) + CHUNK))
        return days

    def _days(self, lo: int, hi: int) -> list[list[tuple[int, int]]]:
        """The open days whose first window starts in [lo, hi), each as disjoint intervals."""
        calendar = self.calendar
        day = from_us(lo).astimezone(calendar.tz).date() - timedelta(days=2)
        last = from_us(hi).astimezone(calendar.tz).date() + timedelta(days=1)
        days, previous_end = [], None
        while day <= last:
            windows = calendar.week[day.weekday()]
            if windows and not calendar.closed(day):
                parts: list[tuple[int, int]] = []
                for window in windows:
                    s = _local_us(day, window.start, calendar.tz)
                    e = _local_us(day, window.end, calendar.tz)
                    if previous_end is not None:
                        s = max(s, previous_end)
                    if parts and s <= parts[-1][1]:
                        parts[-1] = (parts[-1][0], max(e, parts[-1][1]))
                    elif s < e:
                        parts.append((s, e))
                if parts:
                    previous_end = parts[-1][1]
                    if lo <= parts[0][0] < hi:
                        days.append(parts)
            day += timedelta(days=1)
        return days
