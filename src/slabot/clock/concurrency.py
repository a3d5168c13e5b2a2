"""How many tickets the clock performs at once: as many as keep its Python busy, and no more.

A ticket's time goes to the CPU (its blocks drawn, JSON, the database driver) and to waiting on
Slack. Against a Slack 50 ms away a thread waits fifty times longer than it computes, and 32
threads are needed to keep the clock's one interpreter busy; against a Slack a millisecond away
two already do, and every thread more only waits its turn for the interpreter's lock, each turn
costing CPU: 32 threads spent a third more CPU a timer than 4 in the instant-Slack burst, and
sent fewer timers a second (bench/README.md, "clock", eighth round). No one number suits every
deployment (Slack's latency depends on the region and the hour), so the clock measures: over
each short window, the CPU time of its process over the time elapsed. Near a whole core, it is
bound by its CPU and sheds threads; well under one while tickets wait, it adds them, doubling,
so that a slow Slack has its 32 within a second.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

START = 4  # threads at first: a fast Slack needs no more, a slow one has 32 three windows later
LEAST = 2  # one waiting on Slack while the other computes
WINDOW = 0.2  # seconds of a burst judged at once: a few dozen tickets even at 50 ms a call
BUSY = 0.9  # cores: above, the process is bound by its CPU
IDLE = 0.6  # cores: below, with tickets waiting, it is bound by Slack


@dataclass
class Concurrency:
    """The number of threads wanted, told the time and the process's CPU time as tickets are
    performed (`observe`); kept across batches, so a burst's later batches start where the
    earlier ones ended. ``most``: the cap (``slabot clock --workers``)."""

    most: int
    wanted: int = START
    _window: tuple[float, float] | None = None  # elapsed and CPU seconds when it began

    def __post_init__(self) -> None:
        self.wanted = max(1, min(self.wanted, self.most))

    def begin(self, elapsed: float, cpu: float) -> None:
        """A window begins (a batch's performing starts): the time since the last one, idle
        between ticks, says nothing of the next batch."""
        self._window = (elapsed, cpu)

    def observe(self, elapsed: float, cpu: float) -> int:
        """The number wanted now, given a monotonic ``elapsed`` and the process's ``cpu``
        time, both in seconds; judged once a window has passed since `begin` (called first)
        or the last judgement."""
        assert self._window is not None, "a window begins (begin) before it is observed"
        began, spent = self._window
        if elapsed - began < WINDOW:
            return self.wanted
        load = (cpu - spent) / (elapsed - began)
        self._window = (elapsed, cpu)
        if load > BUSY:
            self.wanted = max(min(LEAST, self.most), self.wanted - max(1, self.wanted // 4))
        elif load < IDLE:
            self.wanted = min(self.most, self.wanted * 2)
        return self.wanted


def in_parallel(
    pool: ThreadPoolExecutor,
    concurrency: Concurrency,
    items: Iterable[T],
    perform: Callable[[T], list[R]],
) -> list[R]:
    """What ``perform`` gives for each item, the items taken in order by as many threads of
    ``pool`` as ``concurrency`` wants, told after each item (one task a thread, not one an
    item: a burst is thousands)."""
    return _Crew(pool, concurrency, items, perform).run()


class _Crew(Generic[T, R]):
    """One `in_parallel` run. A class rather than closures: two closures calling each other
    make a reference cycle, which kept each batch's results alive until a full garbage
    collection (the clock's memory grew by 15 MB over a burst)."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        concurrency: Concurrency,
        items: Iterable[T],
        perform: Callable[[T], list[R]],
    ):
        self.pool = pool
        self.concurrency = concurrency
        self.items = deque(items)
        self.perform = perform
        self.lock = threading.Lock()
        self.parts: list[Future[list[R]]] = []
        self.running = 0

    def run(self) -> list[R]:
        self.concurrency.begin(time.monotonic(), time.process_time())
        with self.lock:
            self._start(self.concurrency.wanted)
        # A part is added only by a running part, before it returns: once every part counted
        # has returned, none is left to add one.
        results: list[R] = []
        waited = 0
        while waited < len(self.parts):
            results += self.parts[waited].result()
            waited += 1
        return results

    def _start(self, wanted: int) -> None:
        """Threads up to ``wanted`` (no more than items left), under the lock."""
        while self.running < min(wanted, len(self.items)):
            self.running += 1
            self.parts.append(self.pool.submit(self._work))

    def _work(self) -> list[R]:
        done: list[R] = []
        while True:
            with self.lock:
                if not self.items or self.running > self.concurrency.wanted:
                    self.running -= 1
                    return done
                item = self.items.popleft()
            done += self.perform(item)
            with self.lock:
                self._start(self.concurrency.observe(time.monotonic(), time.process_time()))
