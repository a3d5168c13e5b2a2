"""Ticket histories as the engine reads them, in one read per question: what reports need.

`queries.between` gives whole ``Ticket`` and ``TicketEvent`` objects, which is right for showing
tickets but slow for a month-end report of 100,000 of them (building and validating 535,000
ORM objects took about 16 s on SQLite, see bench/README.md, "report"). A report needs only
each ticket's reference and policy version, and of each event its kind, its instant and the
one or two fields of ``after`` the engine reads (`FIELDS`). One Core query over the join
returns exactly that, one row a ticket in opening order (`_query`), and each row's events
are made straight into engine events.

The fields are taken out of the JSON by the database (``json_extract`` on SQLite, ``->>`` on
PostgreSQL), in C, rather than by ``json.loads`` of every ``after`` in Python, which was a
third of the read (bench/README.md, "report").

Histories come grouped by the digest of the policy version each ticket was opened under
(`Versions`), so a report can judge each group under its own version. A report of several
policies reads their months through `in_turn`, the next ones' queries on worker threads.
"""

from __future__ import annotations

from collections.abc import Collection, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from typing import Any, NamedTuple

from orjson import loads
from sqlalchemy import (
    Connection,
    CursorResult,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
    type_coerce,
    union,
)

from ..sla.history import Event
from ..store import Store
from ..store.tables import Ticket, TicketEvent
from .events import AUDIT_ONLY, READERS

T = Ticket.__table__
E = TicketEvent.__table__
History = tuple[str, list[Event]]
Versions = dict[str, list[History]]  # policy digest → (ref, events), in opening order
Span = tuple[datetime, datetime, str]  # [start, end) and a policy's name (`in_turn`)
AHEAD = 2  # queries `in_turn` runs ahead of the caller, at most, each on a thread of its own
# The ``after`` keys the engine reads, per kind: at most two (`events.READERS`).
FIELDS = {kind: fields for kind, (fields, _) in READERS.items() if fields}
_MAKE = {kind: make for kind, (_, make) in READERS.items()}
OUTAGE_KINDS = ("opened", "severity_changed")  # the events that set a severity
# The kinds with fields, the commonest in a month's histories first (`_query`).
_COMMON = ("status_changed", "update_posted", "opened", "severity_changed")
_BY_COUNT = sorted(
    FIELDS.items(), key=lambda item: _COMMON.index(item[0]) if item[0] in _COMMON else len(_COMMON)
)


def histories(
    store: Store,
    workspaces: list[str],
    start: datetime,
    end: datetime,
    *,
    policy: str | None = None,
    customer: str | None = None,
    prefix_workspace: bool = False,
) -> Versions:
    """The histories of the tickets opened in [start, end) in ``workspaces``, by policy
    version (only ``customer``'s, when named, in any case); with ``prefix_workspace`` a ref
    reads ``T123/SLA-4`` (several workspaces)."""
    where = _opened(workspaces, start, end, policy, customer)
    return _read(store, where, prefix_workspace)


def in_turn(
    store: Store,
    workspaces: list[str],
    spans: Sequence[Span],
    *,
    customer: str | None = None,
    prefix_workspace: bool = False,
) -> Generator[Versions, None, None]:
    """`histories` of each span in turn (each policy's month, say), the following spans'
    queries running in the database while the caller works on the histories it was given.

    Most of a read is the database's work: SQLite producing the rows (about a third of a
    month's report, bench/README.md, "report", seventh round), or PostgreSQL's server
    grouping the events while the process waits. Neither holds the GIL meanwhile (sqlite3
    lets it go for each ``sqlite3_step``, psycopg while it waits for the server), so on a
    second core a worker thread can run that while this thread makes the events and the
    figures of the span before. Only the query's execution goes to the worker: fetching
    takes the GIL back at every row, and a thread that wants it back from one that computes
    waits out the switch interval (5 ms) each time, which at a row a ticket would take
    minutes. So this thread fetches the rows, once the worker has run the query. On SQLite,
    executing a query produces only its first row, so the worker's query is materialized
    (`_query`'s ``whole``): the first row waits for every row, the rest are read back from
    SQLite's temporary table, a tenth of the work.

    Up to `AHEAD` queries run ahead of the caller, each on a worker thread of its own, and
    each span's rows are taken out of the database before a further query is asked for. Two
    rather than one because the first two reads start together while the caller has
    nothing else to do: with one, the second, the biggest policy's (LeadPro's two fifths of
    the tickets, after the helpdesk's twelfth), was still running when the caller came for
    it; on PostgreSQL the caller's waits fell from 0.6–1.1 s to 0.4–0.7 s (bench/README.md,
    "report", seventh round). A report so holds at most three reading connections (the
    workers' and one for its own queries in between), never more than the store's pool
    keeps (`Store.reading_connections`); where it cannot lend two, every read runs here, one
    after the other, as `histories` does, and so does a single span's (there is no next one
    to overlap). Either way each read is a transaction of its own.

    What it gains depends on a second core being free: on a machine whose cores are busy
    with other work the worker's share comes out of the same CPU time, and the two threads
    cost 5–20 % more CPU than one (SQLite's temporary table, about 3 %, and two threads
    working side by side slowing each other).
    """
    wheres = [_opened(workspaces, *span, customer) for span in spans]
    connections = store.reading_connections()
    depth = AHEAD if connections is None else min(AHEAD, connections - 1)
    if depth < 1 or len(wheres) < 2:
        for where in wheres:
            yield _read(store, where, prefix_workspace)
        return
    with ThreadPoolExecutor(max_workers=depth, thread_name_prefix="slabot-read") as worker:

        def run(k: int) -> Future[_Executed]:
            return worker.submit(_execute, store, wheres[k], whole=True)

        ahead = {k: run(k) for k in range(min(depth, len(wheres)))}
        try:
            for k in range(len(wheres)):
                rows = ahead.pop(k).result().rows()
                if k + depth < len(wheres):
                    ahead[k + depth] = run(k + depth)
                yield _fold(rows, prefix_workspace)
        finally:
            for left in ahead.values():  # the caller stopped early, or a read failed
                _close(left)


def sizes(
    store: Store, workspaces: list[str], spans: Sequence[Span], *, customer: str | None = None
) -> dict[str, int]:
    """About how many tickets each span's policy has in `histories`: those opened between the
    first span's start and the last one's end, by policy, in one grouped count (the months
    of policies in different zones differ by hours only). What a report orders its months
    by, biggest first, before reading them (`reports.monthly`)."""
    if not spans:
        return {}
    first, last = min(start for start, _, _ in spans), max(end for _, end, _ in spans)
    query = (
        select(T.c.policy, func.count())
        .where(*_opened(workspaces, first, last, None, customer))
        .group_by(T.c.policy)
    )
    with store.reader.connect() as connection:
        return {policy: count for policy, count in connection.execute(query)}


def _opened(
    workspaces: list[str],
    start: datetime,
    end: datetime,
    policy: str | None,
    customer: str | None,
) -> list[Any]:
    """The conditions that a ticket was opened in [start, end) in ``workspaces`` (under
    ``policy``, when named) and is ``customer``'s (`_of`)."""
    where = [T.c.workspace.in_(workspaces), T.c.opened_at >= start, T.c.opened_at < end]
    if policy:
        where.append(T.c.policy == policy)
    return where + _of(customer)


def _of(customer: str | None) -> list[Any]:
    """The condition that a ticket is ``customer``'s (none: every ticket's)."""
    return [] if customer is None else [func.lower(T.c.customer) == customer.lower()]


def still_down(
    store: Store,
    workspaces: list[str],
    before: datetime,
    policy: str,
    severities: Collection[str],
    *,
    customer: str | None = None,
    prefix_workspace: bool = False,
) -> Versions:
    """The histories of ``policy``'s tickets opened before ``before`` that may still have been
    down at ``before``: not resolved by then, and of one of ``severities`` (outage severities)
    at some point or corrected by a lead as an outage whatever its severity (`/sla correct ID
    outage`). Uptime counts their downtime after ``before``; compliance leaves them out.

    "Not resolved by then" is read from the row: a ticket still active, or resolved (last)
    after ``before`` (a reopen clears ``resolved_at``, a new resolution sets it again).
    """
    seen = E.alias("seen")  # the outer query joins the events too
    severity = seen.c.after["severity"].as_string()
    declared = and_(
        seen.c.kind == "downtime_corrected", seen.c.after["counts"].as_string() == "yes"
    )
    by_severity = and_(seen.c.kind.in_(OUTAGE_KINDS), severity.in_(list(severities)))
    # A later correction may take it back: the engine reads the latest (`outages_from_tickets`).
    outage = exists().where(seen.c.ticket_id == T.c.id, or_(by_severity, declared))
    mine, row = T.c.workspace.in_(workspaces), [T.c.policy == policy, T.c.opened_at < before]
    # Two index searches (ix_tickets_queue, ix_tickets_resolved) rather than an OR, which
    # SQLite answers by walking every ticket opened before ``before``. The second checks the
    # policy and the opening in the index (conditions outside the union alone had SQLite read
    # the row of every ticket resolved since); the first must not have the opening, or SQLite
    # would search ix_tickets_opened for every ticket opened before.
    candidates = union(
        select(T.c.id).where(mine, T.c.active.is_(True)),
        select(T.c.id).where(mine, T.c.resolved_at > before, *row),
    )
    where = [T.c.id.in_(candidates.scalar_subquery()), *row, outage, *_of(customer)]
    return _read(store, where, prefix_workspace)


def _query(store: Store, where: list[Any], *, whole: bool = False) -> Select[Any]:
    """One row a ticket: its reference, its policy version, and its events as a JSON array of
    ``[id, kind, instant, first field, second field]``, in opening order. With ``whole``, on
    SQLite, every row is worked out before the first is handed over (`in_turn`).

    The database groups the events, so the driver hands Python a fifth of the rows, and a
    JSON array is read by ``json.loads`` (C) in one call: SQLite producing a row per event
    (eight columns each) was a quarter of a month's report (bench/README.md, "report", fifth
    round). Neither database promises the order of an aggregate's elements (SQLite before
    3.44 cannot be asked for one), so each event carries its id and `_events` sorts by it.
    """
    kind, after = E.c.kind, E.c.after

    def field(name: str) -> Any:
        # On SQLite, json_extract as it is: a JSON true comes out as 1, which the engine's
        # events read as true (`events._truth`); SQLAlchemy's string form wraps each one in
        # a CAST, which SQLite then evaluates for every event.
        if store.is_sqlite:
            return func.json_extract(after, f'$."{name}"')
        return after[name].as_string()

    # ``CASE kind WHEN …``: the kind read once per event, the commonest kinds asked first.
    first = case({k: field(names[0]) for k, names in _BY_COUNT}, value=kind)
    second = case({k: field(names[1]) for k, names in _BY_COUNT if names[1:]}, value=kind)
    # Instants as UTC text with an offset, which datetime.fromisoformat (C) reads straight into
    # aware UTC instants: SQLite keeps them as UTC text without one; PostgreSQL writes a
    # timestamp into JSON as ISO 8601 in the session's time zone, which `_execute` sets to UTC
    # for the read (``to_char`` was a fifth of the server's work, bench/README.md, "report",
    # eighth round).
    if store.is_sqlite:
        at: Any = type_coerce(E.c.at, String)
        events: Any = func.json_group_array(
            func.json_array(E.c.id, kind, at + "+00:00", first, second)
        )
    else:
        element = func.json_build_array(E.c.id, kind, E.c.at, first, second)
        events = cast(func.json_agg(element), Text)
    columns = [T.c.workspace, T.c.number, T.c.policy_digest, events.label("events")]
    query = (
        select(*columns)
        .join(E, and_(E.c.ticket_id == T.c.id, E.c.kind.not_in(sorted(AUDIT_ONLY))))
        .where(and_(*where))
        # The opening first: SQLite then groups the rows as its index search yields them,
        # without sorting them.
        .group_by(T.c.opened_at, T.c.id)
        .order_by(T.c.opened_at, T.c.id)
    )
    if not (whole and store.is_sqlite):
        return query  # PostgreSQL's client-side cursor receives every row as it executes
    # SQLite computes a materialized common table expression at the first step, into a
    # temporary table, which the outer query then reads in the same order (SQLite promises
    # no order without ORDER BY; sorting rows already in order costs little).
    found = query.add_columns(T.c.opened_at, T.c.id).cte("found").prefix_with("MATERIALIZED")
    return select(*(found.c[c.name] for c in columns)).order_by(found.c.opened_at, found.c.id)


class _Executed(NamedTuple):
    """A query that has run, its rows still in the driver's cursor."""

    connection: Connection
    result: CursorResult[Any]

    def rows(self) -> Sequence[Any]:
        """The rows straight from the driver's cursor (none of the columns needs SQLAlchemy's
        result processing, and building its Row objects was half of the database read,
        bench/README.md, "report"); the connection goes back to its pool."""
        try:
            return self.result.cursor.fetchall()
        finally:
            self.close()

    def close(self) -> None:
        self.result.close()
        self.connection.close()


# PostgreSQL's settings for a read, until it ends (``SET LOCAL``). UTC: `_query`'s instants.
# Joins by nested loop: the month's tickets are a fraction of the table, each looked up in
# ix_ticket_events_ticket, where the planner chose to merge-join every event of the table
# for each policy (150–210 ms of LeadPro's query, nearly all of a small policy's) or a
# parallel hash join; and no parallel workers, as a big report already keeps the cores busy
# with processes of its own (`reports.monthly`; bench/README.md, "report", ninth round).
_READING = (
    "TimeZone = 'UTC'",
    "enable_mergejoin = off",
    "enable_hashjoin = off",
    "max_parallel_workers_per_gather = 0",
)


def _execute(store: Store, where: list[Any], *, whole: bool = False) -> _Executed:
    """`_query` run on a reading connection of its own (on PostgreSQL, `_READING`)."""
    connection = store.reader.connect()
    try:
        if not store.is_sqlite:
            connection.exec_driver_sql("; ".join(f"SET LOCAL {s}" for s in _READING))
        return _Executed(connection, connection.execute(_query(store, where, whole=whole)))
    except BaseException:
        connection.close()
        raise


def _close(ahead: Future[_Executed]) -> None:
    """A query asked for ahead whose rows nobody will read: not run if it has not started,
    else closed once it has. Its error, if any, is dropped: nobody waits for it (the caller
    stopped reading, or is already leaving with an error of its own)."""
    if not ahead.cancel():
        with suppress(Exception):
            ahead.result().close()


def _read(store: Store, where: list[Any], prefix: bool) -> Versions:
    """`_query`'s histories, read here and now."""
    return _fold(_execute(store, where).rows(), prefix)


def _fold(rows: Sequence[Any], prefix: bool) -> Versions:
    """`_query`'s rows as histories by policy version."""
    out: Versions = {}
    for workspace, number, digest, found in rows:
        ref = f"{workspace}/SLA-{number}" if prefix else f"SLA-{number}"
        out.setdefault(digest, []).append((ref, _events(found)))
    return out


def _events(found: str) -> list[Event]:
    """A ticket's events from the JSON array `_query` gives, in the order they were stored.

    Parsed by orjson rather than the standard ``json``: a month's arrays are 535,000 events,
    and ``json.loads`` of them was a tenth of a report's main thread; orjson takes a third
    less (bench/README.md, "report", eighth round)."""
    rows = loads(found)
    rows.sort()  # by id: already in order nearly always, which costs one comparison an event
    try:
        return [
            _MAKE[kind](datetime.fromisoformat(at), first, second)
            for _, kind, at, first, second in rows
        ]
    except KeyError as exc:
        raise ValueError(f"unknown ticket event kind {exc.args[0]!r}") from None
