"""A slow, obviously-correct reference for business-time arithmetic, stepping minute by minute.

It shares no code with ``slabot.sla.calendar``: it reads only a calendar's public attributes
(``tz``, ``week`` — seven tuples of windows with ``start``/``end`` minutes after local midnight,
Monday first — and ``closed(date)``) and applies the wall-clock rules literally:

* a window instance on local date ``d`` opens at the first real instant at which the local wall
  clock shows ``d + start`` or later, and closes at the first real instant at which it shows
  ``d + end`` or later (found by stepping real time a minute at a time, so spring-forward gaps
  and fall-back repeats need no special cases);
* ``closed(d)`` cancels the windows that start on ``d``;
* the calendar is open during a UTC minute if any window instance covers it (a union);
* a minute inside a pause ``[start, end)`` (``end`` None: forever) does not count.

Everything works on whole minutes: starts, window edges, pauses and time-zone offsets must be
minute-aligned. Times are integers — minutes since the Unix epoch — internally.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

MINUTE = timedelta(minutes=1)
UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)
EPOCH_DATE = date(1970, 1, 1)
DAY = 24 * 60
# Real time zones are within UTC-12:00 .. UTC+14:00, so a wall clock never runs more than 14
# hours ahead of UTC: at minute m it shows at most m + 14 h.
MAX_AHEAD = 14 * 60
# A calendar with no counting minute for this long is taken never to open again.
GIVE_UP = 400 * DAY

Pause = tuple[datetime, datetime | None]


def reference_add(
    calendar, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """The earliest instant t ≥ start with ``duration`` of open, unpaused time in [start, t].

    A zero duration gives the first instant at or after ``start`` at which time counts. None
    when that never happens (an ongoing pause, or nothing open for ``GIVE_UP``).
    """
    timeline = _timeline(calendar)
    paused = _Pauses(pauses)
    m = _minute(start)
    needed = _whole_minutes(duration)
    counted = 0
    last_counted = m
    while True:
        if paused.forever_from(m):
            return None
        if m - last_counted > GIVE_UP:
            return None
        if timeline.is_open(m) and not paused.covers(m):
            if needed == 0:
                return _instant(m)
            counted += 1
            last_counted = m
            if counted == needed:
                return _instant(m + 1)
        m += 1


def reference_elapsed(
    calendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Open, unpaused time in [start, end] (zero when ``end`` is not after ``start``)."""
    timeline = _timeline(calendar)
    paused = _Pauses(pauses)
    count = 0
    for m in range(_minute(start), _minute(end)):
        if timeline.is_open(m) and not paused.covers(m):
            count += 1
    return count * MINUTE


def reference_is_open(calendar, at: datetime) -> bool:
    """Whether the minute starting at ``at`` is open."""
    return _timeline(calendar).is_open(_minute(at))


# -- minutes ---------------------------------------------------------------------------------


def _minute(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError(f"{instant} is naive")
    minutes, rest = divmod(instant - UTC_EPOCH, MINUTE)
    if rest:
        raise ValueError(f"the reference works on whole minutes, not {instant}")
    return minutes


def _whole_minutes(duration: timedelta) -> int:
    minutes, rest = divmod(duration, MINUTE)
    if rest or minutes < 0:
        raise ValueError(f"the reference works on whole, non-negative minutes, not {duration}")
    return minutes


def _instant(m: int) -> datetime:
    return UTC_EPOCH + m * MINUTE


class _Pauses:
    def __init__(self, pauses: Iterable[Pause]):
        self.finite = []
        self.ongoing = []
        for start, end in pauses:
            if end is None:
                self.ongoing.append(_minute(start))
            else:
                self.finite.append((_minute(start), _minute(end)))

    def covers(self, m: int) -> bool:
        return any(s <= m < e for s, e in self.finite) or self.forever_from(m)

    def forever_from(self, m: int) -> bool:
        return any(s <= m for s in self.ongoing)


# -- the calendar, minute by minute ----------------------------------------------------------


class _Timeline:
    """Which UTC minutes a calendar is open, worked out lazily a few local dates at a time."""

    def __init__(self, calendar):
        self.calendar = calendar
        self.walls: dict[int, int] = {}  # UTC minute -> local wall-clock minute (naive)
        self.instances: dict[date, list[tuple[int, int]]] = {}  # date -> [(open, close)]
        self.open_minutes: set[int] = set()
        self.dates_marked: set[date] = set()  # dates whose instances are in open_minutes
        self.days_loaded: set[int] = set()  # UTC days whose minutes is_open can answer

    def wall(self, m: int) -> int:
        """What the local wall clock shows during UTC minute ``m``, in minutes."""
        wall = self.walls.get(m)
        if wall is None:
            local = _instant(m).astimezone(self.calendar.tz).replace(tzinfo=None)
            wall = self.walls[m] = (local - NAIVE_EPOCH) // MINUTE
        return wall

    def first_minute_showing(self, wall: int) -> int:
        """The first UTC minute at which the wall clock shows ``wall`` or later."""
        m = wall - MAX_AHEAD - 60  # every earlier minute shows less than ``wall``
        while self.wall(m) < wall:
            m += 1
        return m

    def window_instances(self, day: date) -> list[tuple[int, int]]:
        """The [open, close) UTC minutes of the windows that start on local date ``day``."""
        if day not in self.instances:
            found = []
            if not self.calendar.closed(day):
                midnight = (day - EPOCH_DATE).days * DAY
                for window in self.calendar.week[day.weekday()]:
                    opens = self.first_minute_showing(midnight + window.start)
                    closes = self.first_minute_showing(midnight + window.end)
                    found.append((opens, closes))
            self.instances[day] = found
        return self.instances[day]

    def is_open(self, m: int) -> bool:
        utc_day = m // DAY
        if utc_day not in self.days_loaded:
            # Minute m shows a local date L within a day of its UTC date U. A window instance
            # on date d that covers m has every minute before its close showing less than its
            # end (at most d + 48 h), so L <= d + 1; a fall-back after it opened could show a
            # date before d, but never by two days, so d <= L + 2. Hence d in U-2 .. U+3.
            utc_date = EPOCH_DATE + timedelta(days=utc_day)
            for offset in range(-3, 4):
                day = utc_date + timedelta(days=offset)
                if day not in self.dates_marked:
                    for opens, closes in self.window_instances(day):
                        self.open_minutes.update(range(opens, closes))
                    self.dates_marked.add(day)
            self.days_loaded.add(utc_day)
        return m in self.open_minutes


_TIMELINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _timeline(calendar) -> _Timeline:
    timeline = _TIMELINES.get(calendar)
    if timeline is None:
        timeline = _TIMELINES[calendar] = _Timeline(calendar)
    return timeline
