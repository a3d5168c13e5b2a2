"""Ticket histories as the engine reads them, in one read per question: what reports need.

`queries.between` gives whole ``Ticket`` and ``TicketEvent`` objects, which is right for showing
tickets but slow for a month-end report of 100,000 of them (building and validating 535,000
ORM objects takes about 16 s on SQLite, see bench/README.md, "report"). A report needs only
each ticket's reference and policy version, and of each event its kind, its instant and the
one or two fields of ``after`` the engine reads (`FIELDS`). One Core query over the join
returns exactly that, in opening order, and the rows are folded straight into engine events.

The fields are taken out of the JSON by the database (``json_extract`` on SQLite, ``->>`` on
PostgreSQL), in C, rather than by ``json.loads`` of every ``after`` in Python, which was a
third of the read (bench/README.md, "report").

Histories come grouped by the digest of the policy version each ticket was opened under
(`Versions`), so a report can judge each group under its own version.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    exists,
    func,
    literal,
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
_AUDIT_ONLY = frozenset(AUDIT_ONLY)
OUTAGE_KINDS = ("opened", "severity_changed")  # the events that set a severity


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
    kind, after = E.c.kind, E.c.after
    first = case(
        *((kind == k, after[names[0]].as_string()) for k, names in FIELDS.items()),
        else_=None,
    )
    second = case(
        *((kind == k, after[names[1]].as_string()) for k, names in FIELDS.items() if names[1:]),
        else_=None,
    )
    at: Any = E.c.at
    if store.is_sqlite:
        # SQLite keeps instants as UTC text without an offset: with one appended,
        # datetime.fromisoformat (C) reads them straight into aware UTC instants, several
        # times faster than SQLAlchemy's generic DateTime parser.
        at = type_coerce(E.c.at, String) + literal("+00:00")
    return (
        select(
            T.c.id,
            T.c.workspace,
            T.c.number,
            T.c.policy_digest,
            kind,
            at.label("at"),
            first.label("first"),
            second.label("second"),
        )
        .join(E, E.c.ticket_id == T.c.id)
        .where(and_(*where))
        .order_by(T.c.opened_at, T.c.id, E.c.id)
    )


def _read(store: Store, where: list[Any], prefix: bool) -> Versions:
    out: Versions = {}
    current: int | None = None
    events: list[Event] = []
    with store.reader.connect() as connection:
        result = connection.execute(_query(store, where))
        # The rows straight from the driver's cursor: none of the columns needs SQLAlchemy's
        # result processing (instants are handled below), and building its Row objects was
        # half of the database read (bench/README.md, "report").
        cursor = result.cursor
        while part := cursor.fetchmany(5000):
            for ticket, workspace, number, digest, kind, when, first, second in part:
                if ticket != current:
                    current, events = ticket, []
                    ref = f"{workspace}/SLA-{number}" if prefix else f"SLA-{number}"
                    out.setdefault(digest, []).append((ref, events))
                if kind in _AUDIT_ONLY:
                    continue
                if isinstance(when, str):  # SQLite: UTC text with "+00:00" appended
                    when = datetime.fromisoformat(when)
                elif when.tzinfo is not UTC:  # PostgreSQL: in the session's time zone
                    when = when.astimezone(UTC)
                try:
                    make = READERS[kind][1]
                except KeyError:
                    raise ValueError(f"unknown ticket event kind {kind!r}") from None
                events.append(make(when, first, second))
        result.close()
    return out
