"""A month's ticket histories as the engine reads them, in one read: what reports need.

`queries.between` gives whole ``Ticket`` and ``TicketEvent`` objects, which is right for showing
tickets but slow for a month-end report of 100,000 of them (building and validating 500,000
ORM objects takes about 16 s on SQLite, see bench/README.md, "report"). A report needs only each
ticket's reference and the events' kind, instant and ``after``: one Core query over the join,
in opening order, folded straight into engine events.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import String, select, type_coerce

from ..sla.history import Event
from ..store import Store
from ..store.tables import Ticket, TicketEvent
from .events import AUDIT_ONLY, engine_events

# kinds whose ``after`` the engine never reads (see `engine_events`)
_AFTER_UNREAD = AUDIT_ONLY | {"acknowledged"}
T = Ticket.__table__  # type: ignore[attr-defined]
E = TicketEvent.__table__  # type: ignore[attr-defined]


def histories(
    store: Store,
    workspaces: list[str],
    start: datetime,
    end: datetime,
    *,
    policy: str | None = None,
    prefix_workspace: bool = False,
) -> list[tuple[str, list[Event]]]:
    """(ref, engine events) of the tickets opened in [start, end) in ``workspaces``, in opening
    order; with ``prefix_workspace`` a ref reads ``T123/SLA-4`` (several workspaces)."""
    at, after = E.c.at, E.c.after
    if store.is_sqlite:
        # SQLite keeps instants and JSON as text: datetime.fromisoformat (C) reads the
        # instants several times faster than SQLAlchemy's generic DateTime parser (they are
        # UTC by construction), and ``after`` is parsed only for the kinds the engine reads.
        at, after = type_coerce(E.c.at, String), type_coerce(E.c.after, String)
    query = (
        select(T.c.workspace, T.c.number, E.c.kind, at.label("at"), after.label("after"))
        .join(E, E.c.ticket_id == T.c.id)
        .where(T.c.workspace.in_(workspaces), T.c.opened_at >= start, T.c.opened_at < end)
        .order_by(T.c.opened_at, T.c.id, E.c.id)
    )
    if policy:
        query = query.where(T.c.policy == policy)
    out: list[tuple[str, list[Event]]] = []
    with store.reader.connect() as connection:
        result = connection.execute(query)
        key, rows = None, []
        for part in result.partitions(5000):  # fetchmany: far fewer driver calls than rows
            for workspace, number, kind, when, data in part:
                if (workspace, number) != key:
                    if rows:
                        out.append((_ref(key, prefix_workspace), engine_events(rows)))  # type: ignore[arg-type]
                    key, rows = (workspace, number), []
                if isinstance(when, str):
                    when = datetime.fromisoformat(when).replace(tzinfo=UTC)
                if isinstance(data, str):
                    data = json.loads(data) if kind not in _AFTER_UNREAD else {}
                rows.append(_Row(kind, when, data))
        if rows:
            out.append((_ref(key, prefix_workspace), engine_events(rows)))  # type: ignore[arg-type]
    return out


class _Row:
    """The three fields of a stored event that `engine_events` reads."""

    __slots__ = ("after", "at", "kind")

    def __init__(self, kind: str, at: datetime, after: dict):
        self.kind, self.at, self.after = kind, at, after


def _ref(key: tuple[str, int] | None, prefix: bool) -> str:
    workspace, number = key  # type: ignore[misc]
    return f"{workspace}/SLA-{number}" if prefix else f"SLA-{number}"
