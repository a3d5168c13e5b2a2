"""Ticket histories as the engine reads them, in one read per question: what reports need.

`queries.between` gives whole ``Ticket`` and ``TicketEvent`` objects, which is right for showing
tickets but slow for a month-end report of 100,000 of them (building and validating 535,000
ORM objects takes about 16 s on SQLite, see bench/README.md, "report"). A report needs only
each ticket's reference and policy version, and of each event its kind, its instant and the
one or two fields of ``after`` the engine reads (`FIELDS`). One Core query over the join
returns exactly that, one row a ticket in opening order (`_query`), and each row's events
are made straight into engine events.

The fields are taken out of the JSON by the database (``json_extract`` on SQLite, ``->>`` on
PostgreSQL), in C, rather than by ``json.loads`` of every ``after`` in Python, which was a
third of the read (bench/README.md, "report").

Histories come grouped by the digest of the policy version each ticket was opened under
(`Versions`), so a report can judge each group under its own version.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from json import loads
from typing import Any

from sqlalchemy import (
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

T = Ticket.__table__  # type: ignore[attr-defined]
E = TicketEvent.__table__  # type: ignore[attr-defined]
History = tuple[str, list[Event]]
Versions = dict[str, list[History]]  # policy digest → (ref, events), in opening order
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
    where = [T.c.workspace.in_(workspaces), T.c.opened_at >= start, T.c.opened_at < end]
    if policy:
        where.append(T.c.policy == policy)
    return _read(store, where + _of(customer), prefix_workspace)


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


def _query(store: Store, where: list[Any]) -> Select[Any]:
    """One row a ticket: its reference, its policy version, and its events as a JSON array of
    ``[id, kind, instant, first field, second field]``, in opening order.

    The database groups the events, so the driver hands Python a fifth of the rows, and a
    JSON array is read by ``json.loads`` (C) in one call: SQLite producing a row per event
    (eight columns each) was a quarter of a month's report (bench/README.md, "report", fifth
    round). Neither database promises the order of an aggregate's elements (SQLite before
    3.44 cannot be asked for one), so each event carries its id and `_read` sorts by it.
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
    # aware UTC instants: SQLite keeps them as UTC text without one; PostgreSQL would write
    # them into JSON in the session's time zone.
    if store.is_sqlite:
        at: Any = type_coerce(E.c.at, String)
        events: Any = func.json_group_array(
            func.json_array(E.c.id, kind, at + "+00:00", first, second)
        )
    else:
        at = func.to_char(func.timezone("UTC", E.c.at), 'YYYY-MM-DD"T"HH24:MI:SS.US')
        element = func.json_build_array(E.c.id, kind, at + "+00:00", first, second)
        events = cast(func.json_agg(element), Text)
    return (
        select(T.c.workspace, T.c.number, T.c.policy_digest, events)
        .join(E, and_(E.c.ticket_id == T.c.id, E.c.kind.not_in(sorted(AUDIT_ONLY))))
        .where(and_(*where))
        # The opening first: SQLite then groups the rows as its index search yields them,
        # without sorting them.
        .group_by(T.c.opened_at, T.c.id)
        .order_by(T.c.opened_at, T.c.id)
    )


def _read(store: Store, where: list[Any], prefix: bool) -> Versions:
    out: Versions = {}
    with store.reader.connect() as connection:
        result = connection.execute(_query(store, where))
        # The rows straight from the driver's cursor: none of the columns needs SQLAlchemy's
        # result processing, and building its Row objects was half of the database read
        # (bench/README.md, "report").
        for workspace, number, digest, found in result.cursor.fetchall():
            ref = f"{workspace}/SLA-{number}" if prefix else f"SLA-{number}"
            out.setdefault(digest, []).append((ref, _events(found)))
        result.close()
    return out


def _events(found: str) -> list[Event]:
    """A ticket's events from the JSON array `_query` gives, in the order they were stored."""
    rows = loads(found)
    rows.sort()  # by id: already in order nearly always, which costs one comparison an event
    try:
        return [
            _MAKE[kind](datetime.fromisoformat(at), first, second)
            for _, kind, at, first, second in rows
        ]
    except KeyError as exc:
        raise ValueError(f"unknown ticket event kind {exc.args[0]!r}") from None
