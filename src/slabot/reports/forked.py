"""Figures worked out in a forked child process while this one works out others: what lets a
large report use a second core (a replay's draft, a big policy's month).

Python runs one thread at a time, and a report is nearly all Python (bench/README.md,
"report", seventh round), so a second core helps only through a second process. Forking hands
the child what this process has read (the histories) without pickling them; only the child's
answer comes back, through a pipe. The child touches none of this process's database
connections (those, and any lock another thread held when it forked, stay this process's):
it computes, or reads on connections of its own (`Store.forked`); it writes nothing, and
leaves with ``os._exit`` as `multiprocessing` makes it. Several processes can share out
work as they go (`Turns`).
"""

from __future__ import annotations

import multiprocessing
import os
import select
from array import array
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

T = TypeVar("T")

# Tickets from which a report's figures are worked out in a second process: below it, forking
# costs more than it saves (a few thousand tickets take well under a second).
PARALLEL_FROM = 20_000


def can_fork() -> bool:
    """Whether a child can run beside this process: a second core, and ``fork`` to start it."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1


class Turns:
    """The numbers 0 to ``count`` - 1, each taken by whichever process asks next, this one or
    a child forked after it was made: work split as it goes, so a process that finishes early
    takes more, whatever each piece costs.

    A pipe holds them, written whole before any child is forked: taking one is a read of a
    few bytes, which the kernel does at once, so there is no lock, and a child killed at any
    moment leaves nobody waiting. The numbers must fit in the pipe at once (`select.PIPE_BUF`
    bytes, writable without a reader): `fits`."""

    _SIZE = array("I").itemsize

    def __init__(self, count: int):
        if not self.fits(count):
            raise ValueError(f"{count} turns do not fit in a pipe")
        self._taking, giving = os.pipe()
        os.write(giving, array("I", range(count)).tobytes())
        os.close(giving)  # taking reads the end, not a wait, once every number is taken

    @classmethod
    def fits(cls, count: int) -> bool:
        return count * cls._SIZE <= select.PIPE_BUF

    def __iter__(self) -> Iterator[int]:
        """The numbers this process takes, until none is left."""
        while taken := os.read(self._taking, self._SIZE):
            yield array("I", taken)[0]

    def close(self) -> None:
        os.close(self._taking)


class Child(Generic[T]):
    """``work`` running in a forked child from the moment this is made; `result` waits for its
    answer. A child that dies without answering (killed, out of memory) costs only time:
    ``again`` (``work`` itself unless given) is then done here."""

    def __init__(self, work: Callable[[], T], again: Callable[[], T] | None = None):
        self._again = work if again is None else again
        context = multiprocessing.get_context("fork")
        self._receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(target=_answer, args=(work, sending), daemon=True)
        self._process.start()
        sending.close()

    def result(self, within: float | None = None) -> T:
        """The child's answer, or the exception that stopped it raised here. A child with no
        answer ``within`` seconds (None: no limit) is killed and ``again`` done here: one
        that opens a connection after the fork can be stuck for good on a lock another thread
        of this process held at that moment, which stays held in the child."""
        try:
            if within is not None and not self._receiving.poll(within):
                self.stop()
                return self._again()
            answered, value = self._receiving.recv()
        except EOFError:  # it died without answering
            self._reap()
            return self._again()
        except BaseException:
            self.stop()
            raise
        self._reap()
        if not answered:
            raise value
        return value

    def stop(self) -> None:
        """The child killed if it still runs (its caller is leaving with an error), and
        reaped."""
        if self._process.is_alive():
            self._process.kill()
        self._reap()

    def _reap(self) -> None:
        self._receiving.close()
        self._process.join()


def _answer(work: Callable[[], object], connection: Connection) -> None:
    """In the child: the figures, or the exception that stopped them, to the parent."""
    try:
        answer: tuple[bool, object] = (True, work())
    except BaseException as exc:  # the parent raises it
        answer = (False, exc)
    connection.send(answer)
    connection.close()
