"""Deadlines and elapsed time on a clock that a ticket's pauses stop.

A pause is a real interval (waiting on the customer, say) in which no time counts; an open-ended
pause (end ``None``) is one still running, so any deadline past its start is unknown until it
ends. Pauses are merged first, so overlapping or unsorted ones are fine.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from .calendar import ONE_US, Clock, from_us, to_us
from .days import BusinessDays

Pause = tuple[datetime, datetime | None]
_FOREVER = 2**62


def pause_spans(pauses: Iterable[Pause]) -> list[tuple[int, int]]:
    """Pauses as merged, sorted microsecond spans; an ongoing pause runs to "forever"."""
    spans = []
    for start, end in pauses:
        s = to_us(start)
        e = _FOREVER if end is None else to_us(end)
        if e > s:
            spans.append((s, e))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def deadline(
    clock: Clock, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """When ``duration`` of the clock has run from ``start``, not counting pauses.

    None when it never does: the calendar never opens, or an ongoing pause stops the clock
    before the time runs out.
    """
    due = deadline_us(clock, to_us(start), duration // ONE_US, pause_spans(pauses))
    return None if due is None else from_us(due)


def deadline_us(
    clock: Clock | BusinessDays, start: int, duration: int, spans: list[tuple[int, int]]
) -> int | None:
    cursor, remaining = start, duration
    for pause_start, pause_end in spans:
        if pause_end <= cursor:
            continue
        if pause_start > cursor:
            due = clock.add_us(cursor, remaining)
            # Time running out just as the pause begins is due then; but a zero duration asks
            # when the clock next runs, and at the pause's start it does not.
            if due is None or due < pause_start or (due == pause_start and remaining > 0):
                return due
            remaining -= clock.elapsed_us(cursor, pause_start)
        if pause_end >= _FOREVER:
            return None
        cursor = pause_end
    return clock.add_us(cursor, remaining)


def elapsed(
    clock: Clock, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Clock time between two instants, less the time spent in pauses."""
    return timedelta(microseconds=elapsed_us(clock, to_us(start), to_us(end), pause_spans(pauses)))


def elapsed_us(clock: Clock, start: int, end: int, spans: list[tuple[int, int]]) -> int:
    total = clock.elapsed_us(start, end)
    for pause_start, pause_end in spans:
        lo, hi = max(pause_start, start), min(pause_end, end)
        if hi > lo:
            total -= clock.elapsed_us(lo, hi)
    return total
