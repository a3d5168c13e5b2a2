"""The clock process: APScheduler runs one short ``tick`` job every ``interval`` seconds.

One interval job, at most one run at a time (``max_instances=1``), missed runs folded into one
(``coalesce``), and no persistent job store: the timers table is the only schedule
(docs/architecture.md, "Timers: the database is the source of truth"). Each run tries to
lead if it does not (a standby tries every ``retry`` seconds) and, while it leads,
dispatches what is due.

This is the one place the clock reads the wall clock; everything below it takes ``now``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from ..store import unavailable
from .dispatch import Dispatcher, TickReport
from .leader import Leadership

log = logging.getLogger(__name__)

STANDBY_RETRY = timedelta(seconds=2)  # a standby takes over within this after the leader dies


def wall_clock() -> datetime:
    return datetime.now(UTC)


class Observer(Protocol):
    """Told what each run did: the metrics and the readiness probe watch the clock this way."""

    def tick(self, report: TickReport) -> None:
        """One tick of a run (a burst is several), as recorded."""

    def ran(self, leading: bool) -> None:
        """A run finished without an error, leading or standing by."""


class Ticker:
    """A dispatcher behind a leadership: what each run of the tick job does. The clock process
    runs one (``slabot clock``, or ``serve`` in the background). Not ``Clock``: in the policy
    language and the engine a clock is what a target's time counts on (`slabot.sla.Clock`)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        leadership: Leadership,
        *,
        retry: timedelta = STANDBY_RETRY,
        now: Callable[[], datetime] = wall_clock,
        duties: Sequence[Callable[[datetime], object]] = (),  # more work per tick, after timers
        observers: Sequence[Observer] = (),
    ):
        self.duties = tuple(duties)
        self.observers = tuple(observers)
        self.dispatcher = dispatcher
        self.leadership = leadership
        self.retry = retry
        self.now = now
        self._next_try: datetime | None = None
        self._woken = threading.Event()
        self._scheduler: BaseScheduler | None = None
        self._down_since: datetime | None = None  # the database stopped answering then
        self._asked = False  # this run asked the database something (who leads, what is due)

    def wake(self) -> None:
        """A change has committed what it owes Slack (a card, a note): run now rather than at
        the next interval, or once more right after the run under way (which may have claimed
        before the change committed). ``serve`` calls it for its in-process clock."""
        self._woken.set()
        self._run_soon()

    def _after_run(self, event: JobExecutionEvent) -> None:
        """A wake that came after the run under way last looked (during its duties, say) asked
        for a run APScheduler skipped, one being under way (``max_instances=1``): run again now,
        the finished run no longer counted, rather than an interval later."""
        if event.job_id == "tick" and self._woken.is_set():
            self._run_soon()

    def _run_soon(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            with contextlib.suppress(JobLookupError):
                self._scheduler.modify_job("tick", next_run_time=wall_clock())

    def run(self) -> TickReport | None:
        """One run of the job; None while standing by. A tick that claimed a full batch is
        followed at once by another, while this clock still leads, so a burst drains as fast
        as the clock can perform it rather than one batch per interval (`Dispatcher.ticks`).
        Errors are logged, never raised: the next run simply tries again."""
        report: TickReport | None = None
        self._asked = self.leadership.held
        try:
            while True:
                self._woken.clear()
                for tick in self.dispatcher.ticks(self._leading):
                    if tick:
                        log.info("tick: %s", tick)
                    for observer in self.observers:
                        observer.tick(tick)
                    report = tick if report is None else report + tick
                if not self._woken.is_set():  # a change owed more while this run performed
                    break
            if report is not None:
                now = self.now()
                for duty in self.duties:
                    duty(now)
            for observer in self.observers:
                observer.ran(self.leadership.held)
        except Exception as exc:
            reason = unavailable(exc)
            if reason is None:
                log.exception("the clock's tick failed")
            else:
                self._unreachable(reason)
            return report
        if self._down_since is not None and self._asked:
            log.info("the database answers again, after %s", self.now() - self._down_since)
            self._down_since = None
        return report

    def _unreachable(self, reason: str) -> None:
        """Say once that the database is away (and again when it answers: `run`).

        The run may have ended anywhere: a claim or a record may have reached the database
        with its answer lost. So this clock no longer counts its earlier claims as in flight
        (`Dispatcher.disown`): like a dead clock's, they are taken over after the lease and
        their messages looked for before anything is sent again."""
        self.dispatcher.disown()
        if self._down_since is None:
            self._down_since = self.now()
            log.warning(
                "the database is unreachable (%s): nothing is claimed or sent until it "
                "answers; trying again every run",
                reason,
            )
        else:
            log.debug("the database is still unreachable (%s)", reason)

    def _leading(self) -> datetime | None:
        """The time now, or None when this clock does not lead (so it must not dispatch)."""
        now = self.now()
        return now if self._lead(now) else None

    def stop(self) -> None:
        self.leadership.release()

    def _lead(self, now: datetime) -> bool:
        was = self.leadership.held
        if not was and self._next_try is not None and now < self._next_try:
            return False
        self._asked = True
        try:
            leads = self.leadership.acquire()
        except Exception:  # the database cannot be asked: `run` says so
            self._next_try = now + self.retry
            raise
        if leads:
            if not was:
                log.info("this clock (%s) leads now", self.dispatcher.name)
            return True
        if was or self._next_try is None:
            log.info("another clock leads; standing by")
        self._next_try = now + self.retry
        return False


def schedule(ticker: Ticker, interval: float, *, background: bool) -> BaseScheduler:
    """A scheduler (not yet started) with the one ``tick`` job."""
    scheduler: BaseScheduler = (
        BackgroundScheduler(timezone=UTC) if background else BlockingScheduler(timezone=UTC)
    )
    # A run that outlasts the interval is normal in a burst; say nothing of the skipped ones.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    scheduler.add_job(
        ticker.run,
        "interval",
        seconds=interval,
        id="tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=wall_clock(),
    )
    scheduler.add_listener(ticker._after_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    ticker._scheduler = scheduler
    return scheduler


def run_forever(ticker: Ticker, interval: float) -> None:
    """``slabot clock``: tick until SIGTERM or Ctrl-C, then give up the leadership."""
    scheduler = schedule(ticker, interval, background=False)

    def stop(_signal: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    # What start-up built (modules, policies and their calendars, the schema) lives as long as
    # the process: kept out of the garbage collector's way, a burst collects about half as long.
    gc.freeze()
    # A tick's rows, views and messages die young, by their counts, in their thousands: the
    # youngest generation collected every 20,000 new objects instead of every 700 spends a
    # burst about 0.15 s less CPU in 10,000 timers (bench/README.md, "clock", sixth round).
    gc.set_threshold(20_000, 10, 10)
    try:
        scheduler.start()
    finally:
        ticker.stop()
