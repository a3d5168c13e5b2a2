"""The ticket queue: the first page of open tickets on a big database, SQLite and PostgreSQL.

Issue 3 asks that with 100,000 tickets, 20,000 of them open, the queue's first page (20 rows,
closest to breach first) comes back in under 50 ms on SQLite and on PostgreSQL. This script
builds such a database and times ``slabot.tickets.queries.queue`` on it.

The database. The schema is built by ``slabot.store.migrate.upgrade`` (the Alembic migrations,
so the indexes are the shipped ones). The rows are NOT made by the use cases (``Tickets.open``
and friends take milliseconds each, far too slow for 100,000 tickets): they are generated
(fixed seed) and bulk-loaded with SQLAlchemy Core, ``insert(Ticket.__table__)`` with lists of
dicts in batches. They are shaped like the use cases' rows:

* one ``policy_versions`` row per policy in ``policies/`` (its text and digest), and tickets
  spread over those policies (leadpro 40 %, secpod 25 %, liveops 15 %, leadsquared 12 %,
  helpdesk-p1-p6 8 %);
* ``--workspaces`` workspaces (5); the queried one holds ``--share`` of the tickets (80 %), the
  others split the rest evenly. Ticket numbers run 1, 2, … per workspace in opening order, and
  ids in opening order over all of them, as the use cases give them out;
* ``--open`` of the tickets (20 %) are active, chosen at random, so the queried workspace has
  about ``share × open`` of them (16,000). They opened in the last 10 days. ``--paused`` of them
  (10 %) wait on the customer with no running deadline (``next_due_at`` NULL); the others have
  ``next_due_at`` spread uniformly, to the minute, over ±3 days around a fixed "now"
  (2026-11-22 12:00 UTC), so some are already breached and many share a minute (the queue's
  ``id`` tie-break matters);
* the inactive tickets opened over the last 400 days and were resolved (30 %) or resolved and
  closed (70 %), with ``resolved_at``/``closed_at`` set and no ``next_due_at``;
* the audit trail of each (``ticket_events``: opened, acknowledged, status changes), about 2.6
  rows per ticket, unless ``--no-events``.

Then ``ANALYZE`` runs, as a deployed database's autovacuum / ``PRAGMA optimize`` would have.

What is timed (``time.perf_counter`` around the whole call: session, SQL, building the
``Ticket`` objects), on the big workspace:

* the first page, ``queue(store, ws)``: once cold (on a new ``Store``, so opening the
  connection is included), then ``--repeat`` warm calls (50): p50, p95 and max;
* the second page, ``after=`` the first page's last row;
* the page across the paused boundary (the last 10 tickets with a deadline, then the first 10
  paused ones);
* the first page with ``policy=`` (liveops, 15 % of the tickets);
* the peer: what one would write without the index, loading every open ticket of the workspace
  through the same ORM and sorting in Python (``--naive-repeat`` calls, 5).

It prints the SQL plan of each statement the first page and the boundary page send, as
captured from ``queue()`` itself (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE,
BUFFERS)`` on PostgreSQL), and says whether any plan sorts. Not timed, it also walks every
page of the queue (with and without the policy filter) and checks the order against a full
sort in Python: closest deadline first, paused tickets last, ties by id, nothing skipped or
repeated.

Databases: SQLite, a new file in a temporary directory. PostgreSQL, by default
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` (``SLABOT_BENCH_POSTGRES_URL`` overrides
it). The script never touches the ``public`` schema: it creates its own schema
``slabot_bench_<pid>``, connects with ``options=-csearch_path=<schema>`` and drops the schema at
the end. With no PostgreSQL answering, that half is skipped with a message.

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/queue_read.py [--db sqlite|postgresql|both]
[--tickets 100000] [--open 20000] [--workspaces 5] [--share 0.8] [--repeat 50]``.
Nothing here asserts a time; the last lines compare the figures with the goal.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchdb import POLICY_SHARES, bulk_insert, each_database, event_row, policy_versions, table
from sqlalchemy import event, insert, select
from sqlalchemy.engine import URL

from slabot.sla import load_policy
from slabot.store import Store
from slabot.store.migrate import upgrade
from slabot.store.tables import PolicyVersion, Ticket, TicketEvent, WorkspaceCounter
from slabot.tickets.queries import queue

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"

SEED = 20261122
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GOAL_MS = 50.0
PAGE = 20
FILTER_POLICY = "liveops"
WORDS = (
    "login checkout payment export report dashboard api webhook timeout error slow sync "
    "invoice email password reset mobile app upload download search billing customer order "
    "crash blank page missing data integration token expired certificate latency outage"
).split()

Key = tuple[datetime | None, int]  # a queue row's (next_due_at, id): what ``after=`` takes


# -- the data ---------------------------------------------------------------------------------


@dataclass
class Dataset:
    workspace: str  # the one the queue is read for
    policy_versions: list[dict[str, Any]]
    counters: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)

    def queue_size(self) -> tuple[int, int, int]:
        """Tickets, active ones and paused ones in the queried workspace."""
        mine = [t for t in self.tickets if t["workspace"] == self.workspace]
        active = [t for t in mine if t["active"]]
        return len(mine), len(active), sum(1 for t in active if t["next_due_at"] is None)


def generate(
    n_tickets: int,
    n_open: int,
    n_workspaces: int,
    share: float,
    paused: float,
    events: bool,
    seed: int = SEED,
) -> Dataset:
    """Tickets (and their events) shaped like the use cases' rows; see the module docstring."""
    rng = random.Random(seed)
    policies = {name: load_policy(POLICIES / f"{name}.yaml") for name in POLICY_SHARES}
    versions = policy_versions(policies, POLICIES, NOW - timedelta(days=500))
    severities = {name: [s.key for s in p.severities] for name, p in policies.items()}
    names, weights = list(POLICY_SHARES), list(POLICY_SHARES.values())

    spaces = [f"T0BENCH{i:02d}" for i in range(1, n_workspaces + 1)]
    big = round(n_tickets * share) if n_workspaces > 1 else n_tickets
    homes = [spaces[0]] * big + [spaces[1 + i % (n_workspaces - 1)] for i in range(n_tickets - big)]
    active = set(rng.sample(range(n_tickets), n_open))
    people = {ws: [f"U{rng.randrange(16**9):09X}" for _ in range(200)] for ws in spaces}
    channels = {ws: [f"C{rng.randrange(16**9):09X}" for _ in range(30)] for ws in spaces}

    drafts = []
    for i, ws in enumerate(homes):
        is_active = i in active
        age = rng.uniform(0, 10) if is_active else rng.uniform(3, 400)
        drafts.append((NOW - timedelta(days=age), ws, is_active))
    drafts.sort(key=lambda d: d[0])  # ids and numbers are given out in opening order

    numbers = dict.fromkeys(spaces, 0)
    tickets: list[dict[str, Any]] = []
    trail: list[dict[str, Any]] = []
    for ticket_id, (opened_at, ws, is_active) in enumerate(drafts, start=1):
        numbers[ws] += 1
        policy = rng.choices(names, weights)[0]
        severity = rng.choice(severities[policy])
        reporter, owner = rng.choice(people[ws]), rng.choice([*people[ws][:20], None])
        reported_at = opened_at - timedelta(seconds=rng.randrange(0, 1800))
        title = " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize()
        acked = (is_active and rng.random() < 0.6) or (not is_active and rng.random() < 0.95)
        acknowledged_at = opened_at + timedelta(minutes=rng.randint(1, 120)) if acked else None
        acknowledged_at = min(acknowledged_at, NOW) if acknowledged_at else None
        resolved_at = closed_at = next_due_at = next_target = None
        changes: list[tuple[str, datetime, dict[str, Any], dict[str, Any]]] = []
        if acknowledged_at:
            changes.append(("acknowledged", acknowledged_at, {}, {"by": owner or reporter}))
        if is_active and rng.random() < paused:
            status = "waiting_on_customer"  # paused: no running deadline
            since = min(NOW, opened_at + timedelta(hours=rng.uniform(0.5, 48)))
            changes.append(("status_changed", since, {"status": "open"}, {"status": status}))
        elif is_active:
            status = "open"
            next_due_at = NOW + timedelta(minutes=rng.randint(-3 * 1440, 3 * 1440))
            next_target = rng.choice(["first_response", "update", "resolution"])
        else:
            resolved_at = opened_at + timedelta(minutes=rng.randint(10, 5 * 1440))
            closed_at = resolved_at + timedelta(days=3)
            status = "closed" if rng.random() < 0.7 and closed_at <= NOW else "resolved"
            closed_at = closed_at if status == "closed" else None
            changes.append(
                ("status_changed", resolved_at, {"status": "open"}, {"status": "resolved"})
            )
            if closed_at:
                after = {"status": "closed"}
                changes.append(("status_changed", closed_at, {"status": "resolved"}, after))
        stamps = [opened_at, *(at for _, at, _, _ in changes)]
        tickets.append(
            {
                "id": ticket_id,
                "workspace": ws,
                "number": numbers[ws],
                "title": title,
                "description": " ".join(rng.choices(WORDS, k=rng.randint(10, 60))),
                "policy": policy,
                "policy_digest": policies[policy].digest,
                "severity": severity,
                "status": status,
                "active": is_active,
                "channel": rng.choice(channels[ws]),
                "message_ts": f"{opened_at.timestamp():.6f}",
                "reporter": reporter,
                "owner": owner,
                "reported_at": reported_at,
                "opened_at": opened_at,
                "acknowledged_at": acknowledged_at,
                "acknowledged_by": (owner or reporter) if acknowledged_at else None,
                "resolved_at": resolved_at,
                "closed_at": closed_at,
                "next_due_at": next_due_at,
                "next_target": next_target,
                "version": 1 + len(changes),
                "idempotency_key": f"Ev{ticket_id:010d}",
                "updated_at": max(stamps),
            }
        )
        if events:
            opened = {
                "severity": severity,
                "title": title,
                "policy": policy,
                "reported_at": reported_at.isoformat(),
                "owner": owner,
            }
            trail.append(
                event_row(len(trail) + 1, ticket_id, "opened", reporter, opened_at, {}, opened)
            )
            for kind, at, before, after in changes:
                actor = owner or reporter
                trail.append(event_row(len(trail) + 1, ticket_id, kind, actor, at, before, after))
    counters = [{"workspace": ws, "last_number": n} for ws, n in numbers.items()]
    return Dataset(spaces[0], versions, counters, tickets, trail)


def load(store: Store, data: Dataset) -> dict[str, float]:
    """Migrate, bulk-load and ANALYZE; seconds spent on each."""
    spent: dict[str, float] = {}
    began = time.perf_counter()
    upgrade(store)
    spent["migrate"] = time.perf_counter() - began

    began = time.perf_counter()
    with store.engine.begin() as connection:
        connection.execute(insert(table(PolicyVersion)), data.policy_versions)
        connection.execute(insert(table(WorkspaceCounter)), data.counters)
        bulk_insert(connection, [(data.tickets, Ticket), (data.events, TicketEvent)])
    spent["insert"] = time.perf_counter() - began

    began = time.perf_counter()
    with store.engine.begin() as connection:
        if store.is_sqlite:
            connection.exec_driver_sql("ANALYZE")
        else:  # only this schema's tables, never the whole database
            connection.exec_driver_sql("ANALYZE policy_versions, tickets, ticket_events")
    spent["analyze"] = time.perf_counter() - began
    return spent


# -- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    runs: list[float]  # milliseconds

    @property
    def p50(self) -> float:
        return statistics.median(self.runs)

    @property
    def p95(self) -> float:
        ordered = sorted(self.runs)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def max(self) -> float:
        return max(self.runs)


def timed(call: Callable[[], object], repeat: int) -> Timing:
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        runs.append((time.perf_counter() - began) * 1000)
    return Timing(runs)


@contextmanager
def recording(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) sent on the store's reading engine."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    event.listen(store.reader, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.reader, "before_cursor_execute", record)


def plan(store: Store, statement: str, parameters: Any) -> list[str]:
    """The database's plan of one statement, as lines."""
    with store.reader.connect() as connection:
        if store.is_sqlite:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            return lines
        rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
        return [row[0] for row in rows]


def sorts(lines: Sequence[str]) -> bool:
    """Whether a plan has a sort step (rather than reading rows in index order)."""
    return any("TEMP B-TREE" in line or " Sort " in f" {line.strip()} " for line in lines)


def key(ticket: Ticket) -> Key:
    return ticket.next_due_at, ticket.id  # type: ignore[return-value]


def queue_order(row: Key) -> tuple[bool, datetime, int]:
    """The queue's order: closest deadline first, paused (no deadline) last, ties by id."""
    due, ticket_id = row
    return due is None, due or NOW, ticket_id


def naive_page(store: Store, workspace: str, policy: str | None = None) -> list[Ticket]:
    """Without the index: every open ticket of the workspace, sorted in Python."""
    query = select(Ticket).where(Ticket.c.workspace == workspace, Ticket.c.active)
    if policy:
        query = query.where(Ticket.c.policy == policy)
    with store.reading() as session:
        rows = list(session.exec(query))
    rows.sort(key=lambda t: queue_order(key(t)))
    return rows[:PAGE]


def expected_order(store: Store, workspace: str, policy: str | None = None) -> list[Key]:
    """Every open ticket of the workspace, fully sorted in Python: what the pages must give."""
    query = select(Ticket.c.next_due_at, Ticket.c.id).where(
        Ticket.c.workspace == workspace, Ticket.c.active
    )
    if policy:
        query = query.where(Ticket.c.policy == policy)
    with store.reading() as session:
        rows: list[Key] = [(due, i) for due, i in session.exec(query)]  # type: ignore[misc]
    return sorted(rows, key=queue_order)


def walk(store: Store, workspace: str, policy: str | None = None) -> tuple[list[Key], int]:
    """Every page of the queue, following ``after=``; the rows' keys and the pages read."""
    seen: list[Key] = []
    after: Key | None = None
    pages = 0
    while True:
        page = queue(store, workspace, policy=policy, after=after)  # type: ignore[arg-type]
        pages += 1
        if not page:
            return seen, pages
        seen += [key(t) for t in page]
        after = key(page[-1])
        if pages > len(seen) + 10:  # a page that never moves on
            return seen, pages


def check(store: Store, workspace: str, policy: str | None) -> str:
    want = expected_order(store, workspace, policy)
    try:
        got, pages = walk(store, workspace, policy)
    except Exception as exc:  # a broken pagination is a finding, not a crash
        return f"FAILED: {type(exc).__name__}: {exc}"
    if got == want:
        return f"ok, {len(got):,} rows in {pages:,} pages in queue order"
    paused = sum(1 for due, _ in want if due is None)
    missing = len(set(want) - set(got))
    first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
    where = f", first difference at row {first}" if first is not None else ""
    return (
        f"WRONG: {len(got):,} of {len(want):,} rows ({paused:,} paused), {missing:,} never "
        f"shown{where}"
    )


# -- one database -----------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    first_cold: float
    first: Timing
    second: Timing
    boundary: Timing | None
    policy: Timing
    naive: Timing
    naive_policy: Timing
    spent: dict[str, float]
    sorted_in_plan: bool


def measure(
    name: str, url: URL, data: Dataset, repeat: int, naive_repeat: int, verbose_plan: bool
) -> Result:
    store = Store(url)
    try:
        spent = load(store, data)
    finally:
        store.dispose()
    rows, events, ws = len(data.tickets), len(data.events), data.workspace
    total, active, paused = data.queue_size()
    print(
        f"  loaded {rows:,} tickets and {events:,} events in {spent['insert']:.1f} s "
        f"({rows / spent['insert']:,.0f} tickets/s; migrations {spent['migrate']:.2f} s, "
        f"ANALYZE {spent['analyze']:.2f} s)"
    )
    print(
        f"  queue of workspace {ws}: {total:,} tickets, {active:,} open, of which {paused:,} "
        "paused (no deadline)"
    )

    store = Store(url)  # a new one, so the first call below opens its connection
    try:
        began = time.perf_counter()
        first_page = queue(store, ws)
        cold = (time.perf_counter() - began) * 1000
        second_after = key(first_page[-1])
        order = expected_order(store, ws)
        dated = sum(1 for due, _ in order if due is not None)
        boundary_after = order[dated - 11] if dated > 10 and dated < len(order) else None

        first = timed(lambda: queue(store, ws), repeat)
        second = timed(lambda: queue(store, ws, after=second_after), repeat)  # type: ignore[arg-type]
        boundary = None
        if boundary_after is not None:
            after = boundary_after
            boundary = timed(lambda: queue(store, ws, after=after), repeat)  # type: ignore[arg-type]
        policy = timed(lambda: queue(store, ws, policy=FILTER_POLICY), repeat)
        naive = timed(lambda: naive_page(store, ws), naive_repeat)
        naive_policy = timed(lambda: naive_page(store, ws, FILTER_POLICY), naive_repeat)

        same = [t.id for t in naive_page(store, ws)] == [t.id for t in first_page]
        walked = check(store, ws, None)
        walked_policy = check(store, ws, FILTER_POLICY)

        print()
        print(f"  {'ms per call':<44} {'p50':>7} {'p95':>7} {'max':>7}  runs")
        print(f"  {'first page, cold (new Store: connect + query)':<44} {cold:7.2f}")
        lines = [
            ("first page", first),
            ("second page (after= the first's last row)", second),
            ("page across the paused boundary", boundary),
            (f"first page, policy={FILTER_POLICY}", policy),
            ("naive: all open tickets, sorted in Python", naive),
            (f"naive, policy={FILTER_POLICY}", naive_policy),
        ]
        for label, timing in lines:
            if timing is None:
                print(f"  {label:<44} (no such page: too few tickets with a deadline)")
                continue
            print(
                f"  {label:<44} {timing.p50:7.2f} {timing.p95:7.2f} {timing.max:7.2f}"
                f"  {len(timing.runs)}"
            )
        print(
            f"  naive / slabot, first page p50: {naive.p50 / first.p50:,.0f}×; the naive first "
            f"page is {'the same' if same else 'NOT the same'} as slabot's"
        )
        print(f"  every page in order: {walked}")
        print(f"  every page, policy={FILTER_POLICY}: {walked_policy}")

        print()
        sorted_in_plan = False
        pages = [("the first page", None)]
        if boundary_after is not None:
            pages.append(("the page across the paused boundary", boundary_after))
        for label, page_after in pages:
            with recording(store) as sent:
                queue(store, ws, after=page_after)  # type: ignore[arg-type]
            print(f"  {label} sends {len(sent)} statement(s); the plan of each:")
            for statement, parameters in sent:
                if verbose_plan:
                    print("    " + " ".join(statement.split()))
                lines_of_plan = plan(store, statement, parameters)
                sorted_in_plan |= sorts(lines_of_plan)
                for line in lines_of_plan:
                    print(f"    | {line}")
        verdict = "a SORT step" if sorted_in_plan else "no sort: rows read in index order"
        print(f"  plans: {verdict}")
    finally:
        store.dispose()
    return Result(
        name,
        cold,
        first,
        second,
        boundary,
        policy,
        naive,
        naive_policy,
        spent,
        sorted_in_plan,
    )


# -- the report -------------------------------------------------------------------------------


def summary(results: Sequence[Result]) -> None:
    print()
    print(
        f"{'database':<11} {'first p50':>9} {'p95':>6} {'cold':>6} {'2nd p50':>8} "
        f"{'policy p50':>10} {'naive p50':>10} {'load':>7}"
    )
    for r in results:
        print(
            f"{r.name:<11} {r.first.p50:9.2f} {r.first.p95:6.2f} {r.first_cold:6.2f} "
            f"{r.second.p50:8.2f} {r.policy.p50:10.2f} {r.naive.p50:10.1f} "
            f"{r.spent['insert']:6.1f}s"
        )
    print("(milliseconds; load: the bulk insert, in seconds)")
    print()
    print(f"goal: first page < {GOAL_MS:.0f} ms (warm p95 over the timed calls)")
    for r in results:
        met = r.first.p95 < GOAL_MS
        plan_note = "; the plan sorts" if r.sorted_in_plan else ""
        print(
            f"{r.name}: {'met' if met else 'NOT met'}: p95 {r.first.p95:.2f} ms, max "
            f"{r.first.max:.2f} ms, cold {r.first_cold:.2f} ms{plan_note}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets in all")
    parser.add_argument("--open", type=int, default=20_000, help="active tickets in all")
    parser.add_argument("--workspaces", type=int, default=5)
    parser.add_argument(
        "--share", type=float, default=0.8, help="the queried workspace's share of the tickets"
    )
    parser.add_argument(
        "--paused", type=float, default=0.1, help="share of open tickets with no deadline"
    )
    parser.add_argument("--repeat", type=int, default=50, help="timed calls of each page")
    parser.add_argument("--naive-repeat", type=int, default=5, help="timed calls of the peer")
    parser.add_argument("--no-events", action="store_true", help="load no ticket_events")
    parser.add_argument("--sql", action="store_true", help="print the SQL before each plan")
    args = parser.parse_args(argv)
    if not 0 < args.open <= args.tickets or args.workspaces < 1 or not 0 < args.share <= 1:
        parser.error("need 0 < --open <= --tickets, --workspaces >= 1 and 0 < --share <= 1")
    args.repeat, args.naive_repeat = max(args.repeat, 1), max(args.naive_repeat, 1)

    began = time.perf_counter()
    data = generate(
        args.tickets, args.open, args.workspaces, args.share, args.paused, not args.no_events
    )
    print(
        f"{args.tickets:,} tickets ({args.open:,} open, {args.paused:.0%} of those paused) in "
        f"{args.workspaces} workspaces, {args.share:.0%} in the queried one; seed {SEED}, "
        f"now {NOW:%Y-%m-%d %H:%M} UTC; generated in {time.perf_counter() - began:.1f} s"
    )
    print(f"python {sys.version.split()[0]}; page size {PAGE}, {args.repeat} timed calls each")
    print()

    results = each_database(
        args.db,
        "queue.db",
        "slabot_bench",
        lambda name, url: measure(name, url, data, args.repeat, args.naive_repeat, args.sql),
    )
    if results:
        summary(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
