"""Many deadlines on one calendar at once, vectorised with numpy.

Lists, the queue, reports and the clock ask for the deadlines of many tickets together. Added
one by one, each costs a few hundred nanoseconds of interpreted Python; here the same
arithmetic runs over arrays, so each costs tens (bench/README.md, "deadlines").

The starts are sorted first (numpy's searches are several times faster over sorted keys), and
the open intervals of every chunk a start falls in, and of the chunk after each, are laid end
to end with one running business total. Within those, a deadline is the same two searches as
`Calendar.add_us`. A deadline beyond the chunk after its start's (a very long target, a
calendar shut for a year), and a zero duration (the next opening), are left to `add_us`
itself, so every answer is the one the single path gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .calendar import CHUNK_BITS

if TYPE_CHECKING:
    from .calendar import Calendar, Chunk


def add_many(
    calendar: Calendar, starts: Sequence[int], durations: int | Sequence[int]
) -> list[int | None]:
    """``calendar.add_us(start, duration)`` for each start, in the order given."""
    t = np.asarray(starts, dtype=np.int64)
    if not len(t):
        return []
    order = np.argsort(t)
    t = t[order]
    d = np.asarray(durations, dtype=np.int64)
    if d.ndim:
        d = d[order]
    k = t >> CHUNK_BITS
    first = np.flatnonzero(np.diff(k, prepend=k[0] - 1))
    ks = np.union1d(k[first], k[first] + 1).tolist()
    chunks = [calendar.chunk(n) for n in ks]
    opens = np.concatenate([_arrays(c)[0] for c in chunks])
    closes = np.concatenate([_arrays(c)[1] for c in chunks])
    due = np.empty_like(t)
    done = np.zeros(len(t), dtype=bool)
    if len(opens):
        running = np.cumsum(closes - opens)  # business time at each interval's close
        shift = running - closes  # business minus real time inside each interval
        # Business time at the end of each chunk; the one after a start's chunk is its limit.
        limit = np.cumsum([c.total for c in chunks])[np.searchsorted(ks, k) + 1]
        i = np.searchsorted(opens, t, "right") - 1
        inside = np.maximum(i, 0)
        b = np.where(i >= 0, np.minimum(t + shift[inside], running[inside]), 0) + d
        done = (d > 0) & (b <= limit)
        j = np.minimum(np.searchsorted(running, b, "left"), len(running) - 1)
        due = b - shift[j]
    unsorted = np.empty_like(due)
    unsorted[order] = due
    answers: list[int | None] = unsorted.tolist()
    for n in order[~done].tolist():
        answers[n] = calendar.add_us(starts[n], _nth(durations, n))
    return answers


def _nth(durations: int | Sequence[int], n: int) -> int:
    return durations if isinstance(durations, int) else durations[n]


def _arrays(chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """A chunk's interval starts and ends as arrays, made once and kept on the chunk."""
    if chunk.arrays is None:
        chunk.arrays = (
            np.array(chunk.starts, dtype=np.int64),
            np.array(chunk.ends, dtype=np.int64),
        )
    return chunk.arrays  # type: ignore[return-value]
