"""The clock under load: a burst of 10,000 due timers, 100 a second for a minute, Slack's pace.

Issue 5 asks, with 100,000 open tickets, 10,000 timers falling due in the same minute and an
instant fake Slack, for the clock's dispatch throughput (timers per second), the lateness from
a timer's due time to its Slack call (p50 / p99) and the clock's peak memory, on SQLite and
PostgreSQL. Goal: at least 1,000 timers/s, p99 lateness under 2 s at 100 due timers per second
sustained, memory under 200 MB.

The database. ``slabot.store.migrate.upgrade`` builds the schema (the shipped indexes). The rows
are generated (fixed seed) and bulk-loaded with SQLAlchemy Core, not made by the use cases,
which would take far too long. Every ticket runs under the repository's real LiveOps policy (its
``policy_versions`` row holds the text `PolicyBook` read), whose clocks are all 24x7, and its
timers are what the engine (``slabot.sla.schedule``) says its history owes, so the dispatcher's
re-check (the schedule recomputed from the ticket's events) keeps every timer under test:

* ``--tickets`` minus ``--timers`` background tickets (90,000), open over the last 10 days:
  P1 5 %, P2 30 %, P3 65 %; most acknowledged (every P1 also answered its level-2 page), some
  with an update or waiting on the customer; their events (opened, acknowledged, ...) and their
  timers: the ones the schedule owes before now are stored ``fired``, as the clock would have
  left them, and the later ones ``pending``. A ticket that would owe a timer within
  ``HORIZON`` of the load is drawn again, so nothing but the timers under test falls due while
  the script runs.
* the timers under test, each on a ticket of its own with its ``opened`` event, in a channel of
  its own in runs 1 and 2 (the clock keeps Slack's pace of a message a second per channel,
  which would otherwise bind those runs instead of the clock): half are LiveOps
  "P1: page level 2 at open" (a P1 opened at the due instant: a thread reply to the ticket's
  card, which mentions the channel, since the seed policy lists no contacts, and the card's
  update), half are "first response 50 % reminder" (a P2 opened 2 h before: one thread reply).
  Each ticket's other timers (the page's repeat, later reminders) are stored too, all pending.

Run 1, throughput: ``--timers`` (10,000) timers due in the minute before the clock starts
(spread evenly over it), so 100,000 tickets in all; then ``ANALYZE``. Run 2, lateness:
``--rate`` × ``--seconds`` (100 × 60) more, due at 100 per second from a few seconds after the
clock took the lead, loaded while it runs (no ANALYZE: a live database).

Run 3, Slack's pace (issue 11): ``--paced`` (10,000) reminders and ``--pages`` (200) pages among
them, due in the minute before the clock starts, their tickets taking 500 channels in turn,
against a fake Slack that answers each call 50 ms late and takes about a message a second per
channel (three at once; 429 with Retry-After beyond). Slack's own limit makes 20 s the floor.
Figures: from the clock's first call, when the last timer and the last page first reached
Slack, the posts answered 429, and the timers that recorded an error or died. Goal: drained
within 30 s, every page within 5 s, none failed or dead because of a 429, every timer once.

``--before SRC`` runs runs 1 and 3 first with the slabot package found in SRC, on timers of
their own, in the same database and run: main's code, say, from
``mkdir /tmp/main && git archive main src | tar -x -C /tmp/main`` (``--before /tmp/main/src``).
``--runs burst,steady,paced`` picks the runs.

slabot: the real ``python -m slabot clock`` (``--interval`` 1 s, ``--batch`` 200, its defaults)
as a subprocess, configured through its environment only (``DATABASE_URL``, ``SLACK_API_URL``
the fake, ``SLABOT_POLICIES``), so it is the production runner, dispatcher and Slack notifier.
The fake Slack (``tests/support/fakeslack/``, Block Kit checks off so it answers at once) runs in
this process. The script follows the clock's own log (``tick: N sent (L late), D dropped, …``)
until every timer under test is handled, then reads the clock's peak RSS (``VmHWM``) and CPU
time from ``/proc`` and stops it.

The peer, in the same run and on the same database: the design docs/architecture.md,
"Timers: the database is the source of truth", rejects, one
APScheduler 3 job per timer in a ``MemoryJobStore`` of a ``BackgroundScheduler`` (its default
pool of 10 threads, ``misfire_grace_time=None``: the default of 1 s would skip every job of a
burst that waits in the pool longer than that). It is this script with ``--peer-child``, a
subprocess too: it loads every pending timer of the database and the timers under test, adds a
date job per timer (sorted by due time), and each job reads its ticket, builds the same view,
and calls the same notifier (`Fanout` of `SlackNotifier` and `Pagers`, as ``slabot clock``
builds it). It records nothing: no claim, no outcome, no next repeat, so it does less work per
timer than the clock and cannot survive a restart. In run 1 it sends the same 10,000 timers
after slabot has (long due by then, so its lateness is not reported); in run 2 it gets the same
timers with the same spacing, shifted to start ``--peer-lead`` (15) s after it has read them.

Figures, from the fake's log (``Call.at``, ``time.time()`` on arrival) and the database:
timers sent, dropped, late, duplicates (a timer posted twice), throughput = timers sent / (last
call − first call), lateness = the timer's first ``chat.postMessage`` − its ``due_at`` (p50,
p99, max), peak RSS and CPU seconds of the clock process.

Databases: SQLite, a new file in a temporary directory. PostgreSQL, by default
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` (``SLABOT_BENCH_POSTGRES_URL`` overrides
it), in a schema of its own, ``slabot_bench_clock_<pid>`` (through ``options=-csearch_path=``),
never ``public``, dropped at the end; with no server answering, that half is skipped.

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/clock.py [--db sqlite|postgresql|both]
[--tickets 100000] [--timers 10000] [--rate 100] [--seconds 60] [--no-peer] [--runs …]
[--before SRC]``. Nothing here
asserts a time; the last lines compare the figures with the goal.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchdb import BATCH, bulk_insert, each_database, event_row, policy_versions, table
from sqlalchemy import insert, select
from sqlalchemy.engine import URL

from slabot.policies import PolicyBook
from slabot.sla import Policy
from slabot.sla.schedule import Timer, schedule
from slabot.store import Store
from slabot.store.migrate import upgrade
from slabot.store.tables import PolicyVersion, Ticket, TicketEvent, TimerRow, WorkspaceCounter
from slabot.tickets.events import engine_events

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
POLICY = "liveops"
TOKEN = "xoxb-bench"
WORKSPACE = "T0BENCH01"
SEED = 20261122
HORIZON = timedelta(minutes=90)  # no background timer falls due this soon after the load
GOAL_RATE = 1_000.0  # timers/s
GOAL_P99 = 2.0  # seconds
GOAL_MB = 200.0
# Run 3, Slack's pace: reminders and pages due at once over CHANNELS channels, a Slack that
# answers each call LATENCY late and takes about a message a second per channel.
CHANNELS = 500
LATENCY = 0.05  # seconds
GOAL_DRAINED = 30.0  # seconds; Slack's own limit makes 20 the floor (10,000 / 500 channels)
GOAL_PAGES = 5.0  # seconds from the clock's first call to its last page
TICK = re.compile(
    r"tick: (\d+) sent \((\d+) late\), (?:\d+ cards and notes, )?(\d+) dropped, "
    r"(\d+) to retry, (\d+) dead"
)
WORDS = (
    "login checkout payment export report dashboard api webhook timeout error slow sync "
    "invoice email password reset mobile app upload download search billing customer order "
    "crash blank page missing data integration token expired certificate latency outage "
    "trunk calls agents queue routing ivr recording"
).split()
SEVERITIES = {"p1": 0.05, "p2": 0.30, "p3": 0.65}


Change = tuple[str, datetime, dict[str, Any], dict[str, Any]]  # an event: kind, at, before, after


# -- the data ---------------------------------------------------------------------------------


@dataclass
class Ids:
    """The next id of each table: rows are inserted with explicit ids."""

    ticket: int = 1
    event: int = 1
    timer: int = 1


@dataclass
class UnderTest:
    """A timer the script waits for: its database id, key and due instant."""

    id: int
    key: str  # ``<ticket id>:<kind>:<stage>:<repeat>``, as the notifier names it in Slack
    kind: str
    due: float  # epoch seconds


@dataclass
class Rows:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    under_test: list[UnderTest] = field(default_factory=list)


class Maker:
    """Ticket, event and timer rows shaped like the use cases' rows, under one policy."""

    def __init__(self, book: PolicyBook, seed: int):
        self.book = book
        self.policy: Policy = book.get(POLICY)
        self.rng = random.Random(seed)
        self.people = [f"U{self.rng.randrange(16**9):09X}" for _ in range(200)]
        self.channels = [f"C{self.rng.randrange(16**9):09X}" for _ in range(30)]

    def title(self) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(3, 8))).capitalize()

    def ticket(
        self,
        rows: Rows,
        ids: Ids,
        severity: str,
        opened: datetime,
        changes: list[Change],
        now: datetime,
        *,
        owner: str | None,
        channel: str | None = None,
        due_cut: datetime | None = None,
        accept: Callable[[Sequence[Timer]], bool] = lambda owed: True,
    ) -> list[Timer] | None:
        """Add one ticket, its events and its timers (what the engine says its history owes at
        ``now``): those due at or before ``due_cut`` stored fired, the others pending. Returns
        the owed timers, or None (and adds nothing) when ``accept`` refuses them."""
        rng = self.rng
        ticket_id = ids.ticket
        reporter = rng.choice(self.people)
        title = self.title()
        opened_after = {
            "severity": severity,
            "title": title,
            "policy": self.policy.name,
            "reported_at": opened.isoformat(),
            "owner": owner,
        }
        trail = [("opened", opened, {}, opened_after, reporter)]
        trail += [
            (kind, at, before, after, owner or reporter) for kind, at, before, after in changes
        ]
        events = [
            event_row(ids.event + n, ticket_id, kind, actor, at, before, after)
            for n, (kind, at, before, after, actor) in enumerate(trail)
        ]
        plan = schedule(self.policy, engine_events(SimpleNamespace(**e) for e in events), now)
        if not accept(plan.timers):
            return None
        acked = next((at for kind, at, _b, _a in changes if kind == "acknowledged"), None)
        nearest = plan.next_breach
        rows.tickets.append(
            {
                "id": ticket_id,
                "workspace": WORKSPACE,
                "number": ticket_id,
                "title": title,
                "description": " ".join(rng.choices(WORDS, k=rng.randint(10, 60))),
                "policy": self.policy.name,
                "policy_digest": self.policy.digest,
                "severity": plan.severity,
                "status": plan.status,
                "active": True,
                "channel": channel or rng.choice(self.channels),
                "message_ts": f"{opened.timestamp():.6f}",
                "reporter": reporter,
                "owner": owner,
                "reported_at": opened,
                "opened_at": opened,
                "acknowledged_at": acked,
                "acknowledged_by": owner if acked else None,
                "resolved_at": None,
                "closed_at": None,
                "next_due_at": nearest.due if nearest else None,
                "next_target": nearest.target if nearest else None,
                "version": len(trail),
                "idempotency_key": f"Ev{ticket_id:010d}",
                "updated_at": max(at for _k, at, *_ in trail),
            }
        )
        rows.events += events
        for n, owed in enumerate(plan.timers):
            fired = due_cut is not None and owed.due_at <= due_cut
            detail: dict[str, Any] = {
                "share": owed.share,
                "trigger": owed.trigger,
                "clause": owed.clause,
            }
            if fired:
                detail["receipt"] = {"thread": f"{owed.due_at.timestamp():.6f}"}
            rows.timers.append(
                {
                    "id": ids.timer + n,
                    "ticket_id": ticket_id,
                    "kind": owed.kind,
                    "stage": owed.stage,
                    "repeat": owed.repeat,
                    "due_at": owed.due_at,
                    "state": "fired" if fired else "pending",
                    "next_attempt_at": owed.due_at,
                    "fired_at": owed.due_at + timedelta(seconds=1) if fired else None,
                    "attempts": 1 if fired else 0,
                    "last_error": None,
                    "target": owed.target,
                    "level": owed.level,
                    "detail": detail,
                    "claimed_at": owed.due_at if fired else None,
                    "claimed_by": "bench-history" if fired else None,
                }
            )
        ids.ticket += 1
        ids.event += len(events)
        ids.timer += len(plan.timers)
        return list(plan.timers)

    def background(self, count: int, now: datetime, ids: Ids) -> tuple[Rows, int]:
        """Open tickets whose timers are all past (stored fired) or beyond ``HORIZON``
        (pending); also the number of draws thrown away for owing a timer within it."""
        rows, redrawn = Rows(), 0
        names, weights = list(SEVERITIES), list(SEVERITIES.values())
        soon = now + HORIZON

        def quiet(owed: Sequence[Timer]) -> bool:
            return not any(now < t.due_at <= soon for t in owed)

        while len(rows.tickets) < count:
            severity = self.rng.choices(names, weights)[0]
            opened, changes, owner = self._story(severity, now)
            added = self.ticket(
                rows, ids, severity, opened, changes, now, owner=owner, due_cut=now, accept=quiet
            )
            redrawn += added is None
        return rows, redrawn

    def _story(self, severity: str, now: datetime) -> tuple[datetime, list[Change], str | None]:
        """When a background ticket opened and what happened to it since."""
        rng = self.rng
        opened = now - timedelta(seconds=rng.uniform(3600, 10 * 86400))
        owner = rng.choice(self.people[:40])
        changes: list[Change] = []
        first = {"p1": 3600, "p2": 4 * 3600, "p3": 8 * 3600}[severity]
        if severity == "p1" or rng.random() < 0.85:
            at = min(now, opened + timedelta(seconds=rng.uniform(60, 0.9 * first)))
            if severity == "p1":  # "I'm on it" on the level-2 page: answers it and acknowledges
                changes.append(("page_acknowledged", at, {}, {"level": "level_2"}))
            changes.append(("acknowledged", at, {}, {"by": owner}))
            if rng.random() < 0.4:
                later = at + (now - at) * rng.random()
                eta = later + timedelta(hours=rng.uniform(2, 72)) if rng.random() < 0.3 else None
                after = {
                    "text": self.title(),
                    "eta": eta.isoformat() if eta else None,
                    "workaround": rng.random() < 0.2,
                }
                changes.append(("update_posted", later, {}, after))
            if rng.random() < 0.1:
                later = max(c[1] for c in changes) + timedelta(minutes=rng.uniform(1, 600))
                status = {"status": "waiting_on_customer"}
                changes.append(("status_changed", min(later, now), {"status": "open"}, status))
        return opened, changes, owner if changes else None

    def due(
        self,
        count: int,
        start: datetime,
        span: timedelta,
        ids: Ids,
        *,
        page_every: int = 2,
        channels: Sequence[str] = (),
    ) -> Rows:
        """``count`` tickets, each owing one timer at an instant of ``[start, start + span)``,
        evenly spread: every ``page_every``-th a P1 opened then (its level-2 page at open), the
        others a P2 opened 2 h before (its first-response 50 % reminder). Their later timers
        are pending too. With ``channels``, the tickets take them in turn."""
        rows = Rows()
        step = span / count
        for n in range(count):
            due = start + step * n
            page = n % page_every == 0
            opened = due if page else due - timedelta(hours=2)
            owner = None if page or self.rng.random() < 0.7 else self.rng.choice(self.people)
            first_timer = ids.timer
            channel = channels[n % len(channels)] if channels else None
            owed = self.ticket(
                rows, ids, "p1" if page else "p2", opened, [], due, owner=owner, channel=channel
            )
            assert owed is not None
            now_due = [(i, t) for i, t in enumerate(owed) if t.due_at <= due]
            want = "page" if page else "reminder"
            if len(now_due) != 1 or now_due[0][1].due_at != due or now_due[0][1].kind != want:
                raise SystemExit(f"the engine does not owe one {want} at {due}: {owed}")
            index, timer = now_due[0]
            key = f"{ids.ticket - 1}:{timer.kind}:{timer.stage}:{timer.repeat}"
            rows.under_test.append(UnderTest(first_timer + index, key, timer.kind, due.timestamp()))
        return rows


# -- the database -----------------------------------------------------------------------------


def insert_rows(store: Store, rows: Rows) -> float:
    """Bulk-insert ``rows``; seconds spent."""
    began = time.perf_counter()
    with store.engine.begin() as connection:
        bulk_insert(
            connection,
            [(rows.tickets, Ticket), (rows.events, TicketEvent), (rows.timers, TimerRow)],
        )
        connection.execute(
            table(WorkspaceCounter).update().values(last_number=max(t["id"] for t in rows.tickets))
        )
    return time.perf_counter() - began


def prepare(store: Store, book: PolicyBook) -> None:
    upgrade(store)
    with store.engine.begin() as connection:
        first_seen = datetime.now(UTC) - timedelta(days=30)
        versions = policy_versions({POLICY: book.get(POLICY)}, POLICIES, first_seen)
        connection.execute(insert(table(PolicyVersion)), versions)
        connection.execute(
            insert(table(WorkspaceCounter)), [{"workspace": WORKSPACE, "last_number": 0}]
        )


def analyze(store: Store) -> float:
    began = time.perf_counter()
    with store.engine.begin() as connection:
        if store.is_sqlite:
            connection.exec_driver_sql("ANALYZE")
        else:  # only this schema's tables, never the whole database
            connection.exec_driver_sql("ANALYZE tickets, ticket_events, timers")
    return time.perf_counter() - began


def outcomes(store: Store, under_test: list[UnderTest]) -> Counter[str]:
    """What the database says of the timers under test: fired / late / dropped / dead / …"""
    found: Counter[str] = Counter()
    ids = [t.id for t in under_test]
    with store.reader.connect() as connection:
        for start in range(0, len(ids), BATCH):
            timers = table(TimerRow).c
            query = select(timers.state, timers.detail, timers.last_error).where(
                timers.id.in_(ids[start : start + BATCH])
            )
            for state, detail, error in connection.execute(query):
                found[state] += 1
                found["errored"] += error is not None
                if state == "fired" and (detail or {}).get("late"):
                    found["late"] += 1
                if state == "dropped":
                    found[f"dropped: {(detail or {}).get('dropped')}"] += 1
    return found


# -- the processes ----------------------------------------------------------------------------


def proc_figures(pid: int) -> tuple[float, float]:
    """Peak RSS (MB, ``VmHWM``) and CPU seconds (user + system) of a live process."""
    peak = 0.0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return peak, (int(fields[11]) + int(fields[12])) / ticks


def child_env(url: URL, fake_url: str, src: Path | None = None) -> dict[str, str]:
    """The clock's environment; with ``src``, slabot is imported from there (the code being
    compared with, such as main's ``git archive``), ahead of this checkout."""
    path = [str(src)] if src else []
    return {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": fake_url,
        "SLABOT_POLICIES": str(POLICIES),
        "PYTHONPATH": os.pathsep.join(path + [p for p in sys.path if p]),
    }


@dataclass
class ClockLog:
    path: Path
    sent: int = 0
    late: int = 0
    dropped: int = 0
    retried: int = 0
    dead: int = 0
    ticks: int = 0
    busiest: int = 0
    _read: int = 0

    def follow(self) -> None:
        with self.path.open() as log:
            log.seek(self._read)
            chunk = log.read()
        complete = chunk.rfind("\n") + 1
        self._read += len(chunk[:complete].encode())
        for match in TICK.finditer(chunk[:complete]):
            sent, late, dropped, retried, dead = map(int, match.groups())
            self.sent += sent
            self.late += late
            self.dropped += dropped
            self.retried += retried
            self.dead += dead
            self.ticks += 1
            self.busiest = max(self.busiest, sent + dropped + retried + dead)

    @property
    def handled(self) -> int:
        return self.sent + self.dropped + self.dead

    def text(self) -> str:
        return self.path.read_text()


class SlabotClock:
    """``python -m slabot clock`` as deployed, logging to a file."""

    def __init__(
        self,
        url: URL,
        fake_url: str,
        workdir: Path,
        args: argparse.Namespace,
        n: int,
        src: Path | None = None,
    ):
        self.log = ClockLog(workdir / f"clock-{n}.log")
        command = [
            sys.executable,
            "-m",
            "slabot",
            "clock",
            "--interval",
            str(args.interval),
            "--batch",
            str(args.batch),
        ]
        if args.workers is not None:
            command += ["--workers", str(args.workers)]
        with self.log.path.open("w") as out:
            self.process = subprocess.Popen(
                command,
                env=child_env(url, fake_url, src),
                cwd=workdir,  # no stray .env
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_leading(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "leads now" not in self.log.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the clock did not start:\n{self.log.text()[-3000:]}")
            time.sleep(0.05)

    def wait_handled(self, count: int, stall: float) -> bool:
        """Until the clock's log says ``count`` timers are handled; False if it stalls."""
        last, since = -1, time.monotonic()
        while True:
            self.log.follow()
            if self.log.handled >= count:
                return True
            if self.log.handled != last:
                last, since = self.log.handled, time.monotonic()
            if self.process.poll() is not None or time.monotonic() - since > stall:
                return False
            time.sleep(0.25)

    def stop(self) -> tuple[float, float]:
        """Peak RSS (MB) and CPU seconds, read just before SIGTERM."""
        figures = (0.0, 0.0)
        if self.process.poll() is None:
            figures = proc_figures(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.follow()
        return figures


# -- the peer: one APScheduler job per timer --------------------------------------------------


def peer_child(spec_path: str) -> int:
    """The rejected design, in its own process; prints one JSON line of figures at the end."""
    import httpx
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from slabot.notify import Delivery, Fanout
    from slabot.notify.pagers import Pagers
    from slabot.notify.slack import SlackNotifier
    from slabot.settings import load_settings
    from slabot.slack.client import make_client
    from slabot.tickets import SYSTEM, Tickets

    began = time.perf_counter()
    spec = json.loads(Path(spec_path).read_text())
    settings = load_settings()
    store = Store(settings.database_url)
    tickets = Tickets(store, PolicyBook.load(settings.slabot_policies), admins={SYSTEM})
    notifier = Fanout([SlackNotifier(make_client(settings, retry=False)), Pagers(httpx.Client())])
    wanted = set(spec["ids"])
    columns = [c for c in table(TimerRow).c if c.name not in ("claimed_at", "claimed_by")]
    loaded: dict[int, Any] = {}
    with store.reader.connect() as connection:
        if spec["all_pending"]:
            query = select(*columns).where(table(TimerRow).c.state == "pending")
            loaded.update((row.id, row) for row in connection.execute(query))
        ids = spec["ids"]
        for start in range(0, len(ids), BATCH):
            query = select(*columns).where(table(TimerRow).c.id.in_(ids[start : start + BATCH]))
            loaded.update((row.id, row) for row in connection.execute(query))

    done = threading.Event()
    lock = threading.Lock()
    counts: Counter[str] = Counter()

    def fire(row: Any) -> None:
        now = datetime.now(UTC)
        try:
            with store.reading() as session:
                ticket = session.get(Ticket, row.ticket_id)
            view = tickets.views([ticket], now)[0]  # type: ignore[list-item]
            timer = TimerRow(**{c.name: getattr(row, c.name) for c in columns})
            notifier.send(Delivery(timer, view, now))
            outcome = "sent"
        except Exception as exc:  # counted and reported, as a lost page
            outcome = f"failed: {type(exc).__name__}: {str(exc)[:100]}"
        if row.id in wanted:
            with lock:
                counts[outcome] += 1
                if sum(counts.values()) >= len(wanted):
                    done.set()

    shift = 0.0
    if spec["lead"] is not None:  # the timers' spacing, moved to start ``lead`` s from now
        shift = time.time() + spec["lead"] - spec["window_start"]
    jobs = sorted(
        loaded.values(),
        key=lambda row: row.due_at.timestamp() + (shift if row.id in wanted else 0.0),
    )
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(10)},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )
    for row in jobs:
        due = row.due_at + timedelta(seconds=shift if row.id in wanted else 0.0)
        scheduler.add_job(fire, "date", run_date=due, args=[row], id=str(row.id))
    scheduler.start()
    ready, ready_in = time.time(), time.perf_counter() - began
    finished = done.wait(spec["timeout"])
    scheduler.shutdown(wait=False)
    peak = 0.0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    cpu = os.times()
    figures = {
        "finished": finished,
        "counts": dict(counts),
        "jobs": len(jobs),
        "shift": shift,
        "ready_in": ready_in,
        "late_start": spec["lead"] is not None and ready > spec["window_start"] + shift,
        "peak_mb": peak,
        "cpu_s": cpu.user + cpu.system,
    }
    print("PEER " + json.dumps(figures), flush=True)
    os._exit(0)  # the pool's threads may still be sending: do not wait for them


@dataclass
class PeerFigures:
    finished: bool
    counts: dict[str, int]
    jobs: int
    shift: float
    peak_mb: float
    cpu_s: float
    late_start: bool
    ready_in: float


def run_peer(
    url: URL,
    fake_url: str,
    workdir: Path,
    under_test: list[UnderTest],
    args: argparse.Namespace,
    *,
    lead: float | None,
    window_start: float,
) -> PeerFigures:
    spec = {
        "ids": [t.id for t in under_test],
        "all_pending": args.peer_jobs == "all",
        "lead": lead,
        "window_start": window_start,
        "timeout": args.peer_timeout,
    }
    path = workdir / "peer.json"
    path.write_text(json.dumps(spec))
    log = workdir / "peer.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--peer-child", str(path)],
            env=child_env(url, fake_url),
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        process.wait(timeout=args.peer_timeout + 600)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    line = next((x for x in log.read_text().splitlines() if x.startswith("PEER ")), None)
    if line is None:
        raise SystemExit(f"the peer failed:\n{log.read_text()[-3000:]}")
    return PeerFigures(**json.loads(line[5:]))


# -- measuring --------------------------------------------------------------------------------


@dataclass
class RunFigures:
    label: str
    timers: int
    sent: int  # timers with at least one chat.postMessage at the fake
    duplicates: int  # further posts of a timer already posted
    others: int  # posts for timers not under test
    failed_calls: int
    calls: int
    span: float  # first call → last call, seconds
    lateness: list[float]
    peak_mb: float
    cpu_s: float
    dropped: int = 0
    late: int = 0
    left: int = 0  # neither sent nor dropped when the run ended
    fake_cpu_s: float = 0.0  # this process's CPU meanwhile: the fake Slack, mostly
    notes: list[str] = field(default_factory=list)
    # run 3: from the clock's first Slack call to the last timer's (page's) first post
    drained: float = float("nan")
    pages_by: float = float("nan")
    limited: int = 0  # posts Slack answered 429
    errored: int = 0  # timers under test that recorded an error (a 429 must not be one)
    dead: int = 0

    @property
    def rate(self) -> float:
        return self.sent / self.span if self.span > 0 else float("nan")

    def pct(self, p: float) -> float:
        if not self.lateness:
            return float("nan")
        ordered = sorted(self.lateness)  # nearest rank
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def late_at(self, p: float, width: int = 0) -> str:
        """A percentile of lateness (100: the max) in seconds, or n/a."""
        return f"{self.pct(p):{width}.2f}" if self.lateness else f"{'n/a':>{width}}"


def from_fake(
    label: str, fake: Any, under_test: list[UnderTest], shift: float, peak: float, cpu: float
) -> RunFigures:
    due = {t.key: t.due + shift for t in under_test}
    first: dict[str, float] = {}
    counted: Counter[str] = Counter()
    calls = fake.calls
    for call in calls:
        if call.method != "chat.postMessage" or not call.ok:
            continue
        metadata = call.args.get("metadata") or {}
        key = (metadata.get("event_payload") or {}).get("timer")
        if key is None:
            continue
        counted[key] += 1
        first.setdefault(key, call.at)
    ours = [k for k in counted if k in due]
    stamps = [c.at for c in calls]
    return RunFigures(
        label=label,
        timers=len(under_test),
        sent=len(ours),
        duplicates=sum(counted[k] - 1 for k in ours),
        others=sum(n for k, n in counted.items() if k not in due),
        failed_calls=sum(1 for c in calls if not c.ok),
        calls=len(calls),
        span=(max(stamps) - min(stamps)) if stamps else 0.0,
        lateness=[first[k] - due[k] for k in ours],
        peak_mb=peak,
        cpu_s=cpu,
    )


def cpu_now() -> float:
    times = os.times()
    return times.user + times.system


@contextmanager
def fake_slack(*, like_slack: bool = False) -> Iterator[Any]:
    """The fake Slack: instant, or ``like_slack``: each answer ``LATENCY`` late and Slack's
    limit of about a message a second per channel enforced (three at once), 429 beyond.

    The collector rests while it serves. The fake shares this process with the generated
    background (hundreds of thousands of objects kept for the figures) and keeps a record of
    every call; each full collection those records set off walked everything and held the
    fake 0.3-0.5 s every few seconds, the clock waiting on it meanwhile (bench/README.md,
    "clock", eighth round). The records hold no cycles worth collecting in the meantime."""
    from support.fakeslack import FakeSlack

    gc.disable()
    try:
        with FakeSlack(clock=time.time, validate_blocks=False) as fake:
            if like_slack:
                fake.delay(LATENCY)
                fake.limit_posts(1, burst=3)
            yield fake
    finally:
        gc.enable()


def slabot_run(
    label: str,
    store: Store,
    workdir: Path,
    args: argparse.Namespace,
    n: int,
    *,
    load_due: Callable[[], tuple[list[UnderTest], float]],
    while_running: bool,
    src: Path | None = None,
    like_slack: bool = False,
    after: Callable[[Any, list[UnderTest], RunFigures], None] | None = None,
) -> tuple[RunFigures, list[UnderTest], float]:
    """One run of the real clock (imported from ``src``, when given). ``load_due()`` inserts
    the timers under test and returns them and their window's start (epoch seconds); it is
    called before the clock starts, or once it leads (``while_running``). ``after`` reads
    more figures from the fake before it closes."""
    with fake_slack(like_slack=like_slack) as fake:
        under_test: list[UnderTest] = []
        window = 0.0
        if not while_running:
            under_test, window = load_due()
        began = cpu_now()
        clock = SlabotClock(store.url, fake.url, workdir, args, n, src)
        try:
            clock.wait_leading()
            if while_running:
                loading = cpu_now()
                under_test, window = load_due()
                began += cpu_now() - loading
            stall = max(60.0, 3 * args.interval)
            complete = clock.wait_handled(len(under_test), stall)
            time.sleep(0.5)  # the last card updates
        finally:
            peak, cpu = clock.stop()
        figures = from_fake(label, fake, under_test, 0.0, peak, cpu)
        figures.fake_cpu_s = cpu_now() - began
        if after is not None:
            after(fake, under_test, figures)
    found = outcomes(store, under_test)
    figures.dropped = sum(v for k, v in found.items() if k == "dropped")
    figures.late = found["late"]
    figures.left = found["pending"] + found["sending"]
    figures.errored, figures.dead = found["errored"], found["dead"]
    log = clock.log
    figures.notes.append(
        f"the clock's log: {log.ticks} ticks, {log.sent:,} sent ({log.late:,} late), "
        f"{log.dropped:,} dropped, {log.retried:,} to retry, {log.dead:,} dead; at most "
        f"{log.busiest} timers in one tick"
    )
    for key, value in sorted(found.items()):
        if key.startswith("dropped: "):
            figures.notes.append(f"dropped {value:,}×, {key[9:]}")
    if found["dead"]:
        figures.notes.append(f"{found['dead']:,} timers dead")
    if not complete:
        figures.notes.append(f"STOPPED: no progress for {stall:.0f} s")
    if "Traceback" in log.text():
        figures.notes.append(f"the clock logged an error; see {log.path}")
    return figures, under_test, window


def peer_run(
    label: str,
    store: Store,
    workdir: Path,
    args: argparse.Namespace,
    under_test: list[UnderTest],
    *,
    lead: float | None,
    window_start: float,
) -> RunFigures:
    with fake_slack() as fake:
        began = cpu_now()
        peer = run_peer(
            store.url, fake.url, workdir, under_test, args, lead=lead, window_start=window_start
        )
        time.sleep(0.5)
        figures = from_fake(label, fake, under_test, peer.shift, peer.peak_mb, peer.cpu_s)
        figures.fake_cpu_s = cpu_now() - began
    figures.left = figures.timers - sum(peer.counts.values())
    if lead is None:  # these timers fell due before slabot's run: lateness means nothing here
        figures.lateness = []
    figures.notes.append(
        f"{peer.jobs:,} jobs in the MemoryJobStore ({len(under_test):,} under test); "
        f"ready {peer.ready_in:.1f} s after it started"
    )
    for outcome, count in sorted(peer.counts.items()):
        if outcome != "sent":
            figures.notes.append(f"{count:,}× {outcome}")
    if not peer.finished:
        figures.notes.append(f"CAPPED: stopped after {args.peer_timeout:.0f} s, unfinished")
    if peer.late_start:
        figures.notes.append("it was ready only after its window had begun")
    return figures


def mix(under_test: list[UnderTest]) -> str:
    kinds = Counter(t.kind for t in under_test)
    return " and ".join(f"{n:,} {kind}s" for kind, n in sorted(kinds.items()))


@dataclass
class DatabaseResult:
    name: str
    runs: list[RunFigures]
    notes: list[str]


def measure(name: str, url: URL, book: PolicyBook, args: argparse.Namespace) -> DatabaseResult:
    maker = Maker(book, SEED)
    ids = Ids()
    store = Store(url)
    runs: list[RunFigures] = []
    notes: list[str] = []
    try:
        began = time.perf_counter()
        prepare(store, book)
        background, redrawn = maker.background(args.tickets - args.timers, datetime.now(UTC), ids)
        made = time.perf_counter() - began
        spent = insert_rows(store, background)
        fired = sum(1 for t in background.timers if t["state"] == "fired")
        notes.append(
            f"background: {len(background.tickets):,} open tickets, {len(background.events):,} "
            f"events, {len(background.timers) - fired:,} pending and {fired:,} fired timers "
            f"(generated in {made:.1f} s, {redrawn:,} draws owing a timer within "
            f"{HORIZON.seconds // 60} min thrown away), inserted in {spent:.1f} s"
        )
        print(f"  {notes[-1]}", flush=True)
        del background

        with tempfile.TemporaryDirectory(prefix="slabot-bench-clock-") as tmp:
            workdir = Path(tmp)

            def burst() -> tuple[list[UnderTest], float]:
                start = datetime.now(UTC) - timedelta(seconds=60)
                rows = maker.due(
                    args.timers, start, timedelta(seconds=60), ids, channels=own(args.timers)
                )
                spent = insert_rows(store, rows)
                analysed = analyze(store)
                notes.append(
                    f"run 1: {args.timers:,} tickets each owing a timer due in the last minute "
                    f"({mix(rows.under_test)}), inserted in {spent:.1f} s; ANALYZE "
                    f"{analysed:.1f} s"
                )
                print(f"  {notes[-1]}", flush=True)
                return rows.under_test, start.timestamp()

            for round_ in range(1, args.rounds + 1 if "burst" in args.runs else 1):
                # Later rounds run the two again (their labels numbered), --before's clock
                # second in even rounds: on a shared machine only pairs run side by side say
                # which side used less, and the clock run first after the data was made (or
                # after the other) may pay for what the second is spared.
                tag = "" if round_ == 1 else f"/{round_}"

                def before_run(tag: str = tag, round_: int = round_) -> None:
                    print(f"  run 1{tag}, the clock of --before …", flush=True)
                    before, *_ = slabot_run(
                        f"run 1{tag} before",
                        store,
                        workdir,
                        args,
                        10 * round_,
                        load_due=burst,
                        while_running=False,
                        src=args.before,
                    )
                    runs.append(before)

                if args.before and round_ % 2 == 1:
                    before_run()
                print(f"  run 1{tag}, slabot clock …", flush=True)
                first, burst_timers, burst_start = slabot_run(
                    f"run 1{tag} slabot",
                    store,
                    workdir,
                    args,
                    1 if round_ == 1 else 10 * round_ + 1,
                    load_due=burst,
                    while_running=False,
                )
                runs.append(first)
                if args.before and round_ % 2 == 0:
                    before_run()
            if "burst" in args.runs and not args.no_peer:
                print("  run 1, APScheduler peer …", flush=True)
                runs.append(
                    peer_run(
                        "run 1 peer",
                        store,
                        workdir,
                        args,
                        burst_timers,
                        lead=None,
                        window_start=burst_start,
                    )
                )

            sustained = args.rate * args.seconds

            def steady() -> tuple[list[UnderTest], float]:
                start = datetime.now(UTC) + timedelta(seconds=args.lead)
                rows = maker.due(
                    sustained, start, timedelta(seconds=args.seconds), ids, channels=own(sustained)
                )
                spent = insert_rows(store, rows)
                notes.append(
                    f"run 2: {sustained:,} tickets owing a timer each ({mix(rows.under_test)}), "
                    f"{args.rate}/s for {args.seconds} s from {args.lead:g} s after the clock "
                    f"led, inserted in {spent:.1f} s while it ran"
                )
                print(f"  {notes[-1]}", flush=True)
                return rows.under_test, start.timestamp()

            if "steady" in args.runs:
                print("  run 2, slabot clock …", flush=True)
                second, steady_timers, steady_start = slabot_run(
                    "run 2 slabot", store, workdir, args, 2, load_due=steady, while_running=True
                )
                runs.append(second)
            if "steady" in args.runs and not args.no_peer:
                print("  run 2, APScheduler peer …", flush=True)
                runs.append(
                    peer_run(
                        "run 2 peer",
                        store,
                        workdir,
                        args,
                        steady_timers,
                        lead=args.peer_lead,
                        window_start=steady_start,
                    )
                )
            if "paced" in args.runs:
                runs += paced_runs(store, maker, ids, workdir, args, notes)
    finally:
        store.dispose()
    for run in runs:
        show(run)
    return DatabaseResult(name, runs, notes)


def own(count: int) -> list[str]:
    """A channel for each of ``count`` tickets: runs 1 and 2 measure the clock, so Slack's
    pace of a message a second per channel (which the clock keeps) must not bind them."""
    return [f"C{n:06d}OWN" for n in range(count)]


def paced_runs(
    store: Store, maker: Maker, ids: Ids, workdir: Path, args: argparse.Namespace, notes: list[str]
) -> list[RunFigures]:
    """Run 3: ``--paced`` reminders and ``--pages`` pages among them, all due at once, the
    tickets taking ``CHANNELS`` channels in turn, against a Slack ``LATENCY`` away that takes
    about a message a second per channel; with ``--before``, that clock first, on timers of
    its own."""
    channels = [f"C{n:04d}PACE" for n in range(CHANNELS)]
    count = args.paced + args.pages

    def load() -> tuple[list[UnderTest], float]:
        start = datetime.now(UTC) - timedelta(seconds=60)
        rows = maker.due(
            count,
            start,
            timedelta(seconds=60),
            ids,
            page_every=count // args.pages,
            channels=channels,
        )
        spent = insert_rows(store, rows)
        analysed = analyze(store)
        notes.append(
            f"run 3: {count:,} tickets each owing a timer due in the last minute "
            f"({mix(rows.under_test)}) over {CHANNELS} channels, inserted in {spent:.1f} s; "
            f"ANALYZE {analysed:.1f} s"
        )
        print(f"  {notes[-1]}", flush=True)
        return rows.under_test, start.timestamp()

    runs = []
    for label, src, n in [("run 3 before", args.before, 30), ("run 3 slabot", None, 3)]:
        if label == "run 3 before" and not args.before:
            continue
        print(f"  {label}: Slack {LATENCY * 1000:.0f} ms away, a message a second …", flush=True)
        figures, *_ = slabot_run(
            label,
            store,
            workdir,
            args,
            n,
            load_due=load,
            while_running=False,
            src=src,
            like_slack=True,
            after=paced_figures,
        )
        runs.append(figures)
    return runs


def paced_figures(fake: Any, under_test: list[UnderTest], figures: RunFigures) -> None:
    """When the last timer (and the last page) first reached Slack, from the clock's first
    call; the posts Slack refused with a 429."""
    calls = fake.calls
    if not calls:
        return
    began = min(c.at for c in calls)
    first: dict[str, float] = {}
    for call in calls:
        if call.method == "chat.postMessage":
            figures.limited += call.status == 429
            key = ((call.args.get("metadata") or {}).get("event_payload") or {}).get("timer")
            if call.ok and key is not None:
                first.setdefault(key, call.at)
    reached = [first[t.key] - began for t in under_test if t.key in first]
    pages = [first[t.key] - began for t in under_test if t.kind == "page" and t.key in first]
    figures.drained = max(reached, default=float("nan"))
    figures.pages_by = max(pages, default=float("nan"))


def show(run: RunFigures) -> None:
    print(
        f"  {run.label}: {run.sent:,} of {run.timers:,} sent, {run.dropped:,} dropped, "
        f"{run.left:,} left, {run.duplicates} duplicates, {run.others} other timers; "
        f"{run.rate:,.0f} timers/s over {run.span:.1f} s ({run.calls:,} Slack calls, "
        f"{run.failed_calls} failed); lateness (s) p50 {run.late_at(50)}, p99 "
        f"{run.late_at(99)}, max {run.late_at(100)}; peak RSS {run.peak_mb:.0f} MB, CPU "
        f"{run.cpu_s:.1f} s ({1000 * run.cpu_s / max(run.sent, 1):.1f} ms per timer, start-up "
        f"included; the fake Slack's process: {run.fake_cpu_s:.1f} s)"
    )
    if run.label.startswith("run 3"):
        print(
            f"    Slack's pace: drained {run.drained:.1f} s after the first call, the last page "
            f"at {run.pages_by:.1f} s; {run.limited:,} posts answered 429; {run.errored:,} "
            f"timers recorded an error, {run.dead:,} dead"
        )
    for note in run.notes:
        print(f"    {note}")


# -- the databases ----------------------------------------------------------------------------


# -- the report -------------------------------------------------------------------------------


def summary(results: Sequence[DatabaseResult], args: argparse.Namespace) -> None:
    print()
    print(
        f"{'database':<11} {'run':<15} {'sent':>7} {'dropped':>7} {'dup':>4} {'timers/s':>9} "
        f"{'late p50':>9} {'p99':>7} {'max':>7} {'peak MB':>8} {'CPU s':>6} {'fake CPU':>8}"
    )
    for result in results:
        for run in result.runs:
            print(
                f"{result.name:<11} {run.label:<15} {run.sent:>7,} {run.dropped:>7,} "
                f"{run.duplicates:>4} {run.rate:>9,.0f} {run.late_at(50, 9)} "
                f"{run.late_at(99, 7)} {run.late_at(100, 7)} {run.peak_mb:>8.0f} "
                f"{run.cpu_s:>6.1f} {run.fake_cpu_s:>8.1f}"
            )
    print(
        "(run 1: the burst, lateness includes the minute they were already due; run 2: "
        f"{args.rate}/s for {args.seconds} s; lateness in seconds, peak RSS of the process)"
    )
    print()
    print(
        f"goal: ≥ {GOAL_RATE:,.0f} timers/s (run 1), p99 lateness < {GOAL_P99:g} s at "
        f"{args.rate}/s (run 2), peak memory < {GOAL_MB:.0f} MB, every timer sent once; run 3 "
        f"drained within {GOAL_DRAINED:g} s, every page within {GOAL_PAGES:g} s, no timer "
        "failed or dead for a 429"
    )
    for result in results:
        found = {r.label: r for r in result.runs}
        mine = [r for label, r in found.items() if label.endswith("slabot")]
        checks: dict[str, bool] = {}
        if burst := found.get("run 1 slabot"):
            checks[f"{burst.rate:,.0f} timers/s"] = burst.rate >= GOAL_RATE
        if steady := found.get("run 2 slabot"):
            checks[f"p99 {steady.late_at(99)} s"] = bool(steady.lateness) and (
                steady.pct(99) < GOAL_P99
            )
        if paced := found.get("run 3 slabot"):
            checks[f"drained in {paced.drained:.1f} s"] = paced.drained <= GOAL_DRAINED
            checks[f"pages by {paced.pages_by:.1f} s"] = paced.pages_by <= GOAL_PAGES
            checks[f"{paced.errored} failed, {paced.dead} dead"] = not (paced.errored or paced.dead)
        peak = max(r.peak_mb for r in mine)
        checks[f"peak {peak:.0f} MB"] = peak < GOAL_MB
        sent, timers = sum(r.sent for r in mine), sum(r.timers for r in mine)
        duplicates = sum(r.duplicates for r in mine)
        checks[f"{sent:,} of {timers:,} sent, {duplicates} duplicates"] = (
            sent == timers and not duplicates
        )
        verdict = "met" if all(checks.values()) else "MISSED"
        parts = ", ".join(f"{what} ({'ok' if ok else 'missed'})" for what, ok in checks.items())
        print(f"{result.name}: {verdict}: {parts}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000, help="open tickets in run 1")
    parser.add_argument("--timers", type=int, default=10_000, help="timers due in run 1's burst")
    parser.add_argument("--rate", type=int, default=100, help="timers due per second in run 2")
    parser.add_argument("--seconds", type=int, default=60, help="how long run 2's due times last")
    parser.add_argument("--interval", type=float, default=1.0, help="slabot clock --interval")
    parser.add_argument("--batch", type=int, default=200, help="slabot clock --batch")
    parser.add_argument(
        "--workers", type=int, help="slabot clock --workers (left out: the clock's default)"
    )
    parser.add_argument(
        "--lead", type=float, default=5.0, help="run 2 starts this long after the clock leads"
    )
    parser.add_argument(
        "--peer-lead", type=float, default=15.0, help="… after the peer has read its timers"
    )
    parser.add_argument(
        "--peer-jobs",
        choices=["all", "due"],
        default="all",
        help="the peer holds a job for every pending timer (all) or only those under test",
    )
    parser.add_argument("--peer-timeout", type=float, default=300.0, help="cap on a peer run")
    parser.add_argument("--no-peer", action="store_true", help="skip the APScheduler peer")
    parser.add_argument(
        "--runs",
        type=lambda text: set(text.split(",")),
        default={"burst", "steady", "paced"},
        help="which runs, comma-separated: burst (1), steady (2), paced (3); all by default",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run 1 this many times, each with --before's clock before it (after it in even "
        "rounds); new timers each time",
    )
    parser.add_argument("--paced", type=int, default=10_000, help="reminders due in run 3")
    parser.add_argument("--pages", type=int, default=200, help="pages among them in run 3")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="SRC",
        help="also run runs 1 and 3 with the slabot package from SRC first, e.g. main's: "
        "mkdir /tmp/main && git archive main src | tar -x -C /tmp/main, then /tmp/main/src",
    )
    parser.add_argument("--peer-child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer_child:
        return peer_child(args.peer_child)
    if not 0 < args.timers < args.tickets or args.rate <= 0 or args.seconds <= 0:
        parser.error("need 0 < --timers < --tickets, --rate > 0 and --seconds > 0")

    book = PolicyBook.load(POLICIES)
    print(
        f"clock: {args.tickets:,} open {POLICY} tickets, {args.timers:,} timers due in the "
        f"minute before the clock starts (run 1), then {args.rate}/s for {args.seconds} s "
        f"(run 2); slabot clock --interval {args.interval:g} --batch {args.batch}"
        + (f" --workers {args.workers}" if args.workers is not None else "")
    )
    print(
        f"Python {platform.python_version()} on {os.cpu_count()} CPU(s); seed {SEED}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        flush=True,
    )
    print()
    results = each_database(
        args.db, "clock.db", "slabot_bench_clock", lambda name, url: measure(name, url, book, args)
    )
    if results:
        summary(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
