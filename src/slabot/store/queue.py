"""What the tables of owed work share (``timers``, ``notices``): writing many rows
by id at once, and re-queuing dead rows. Each table's owner module calls these; nothing else
writes those tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, select, update

from .records import Record, Session


class NotDead(Exception):
    """Work asked to be retried is missing or not dead; the message says which."""


def seen_as(row: Any) -> str:
    """A row's state in an operator's words: ``late`` once an attempt has failed (it is past
    due and retrying), else as stored."""
    return "late" if row.state == "pending" and row.attempts else str(row.state)


def update_by_id(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """UPDATE ``table`` by id, one executemany per set of columns (each row: ``id`` and the
    columns to write): one statement a set of columns rather than one a row, as
    `Session.flush` writes, which a clock recording a thousand outcomes a second notices."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    for columns, group in by_columns.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        params = [
            {"row_id": row["id"], **{f"new_{name}": row[name] for name in columns}} for row in group
        ]
        session.execute(statement, params)


def requeue_dead(session: Session, model: type[Record], ids: list[int] | None, noun: str) -> int:
    """Make dead rows of ``model`` (``ids``, or every dead one when None) due again at their
    own due time, so any clock sends them on its next tick whatever that clock's time reads
    (the operator's machine may run ahead of the clock's), with a fresh count of attempts; how
    many were re-queued. Named rows must all be dead, else nothing changes and `NotDead` says
    which are not (each called a ``noun``)."""
    if ids is not None:
        query = select(model.c.id, model.c.state).where(model.c.id.in_(ids))
        found = {row_id: state for row_id, state in session.exec(query)}
        wrong = [
            f"{noun} {i} does not exist"
            if i not in found
            else f"{noun} {i} is {found[i]}, not dead"
            for i in ids
            if found.get(i) != "dead"
        ]
        if wrong:
            raise NotDead("; ".join(wrong) + f": only dead {noun}s can be retried")
    requeue = update(model.__table__).where(model.c.state == "dead")
    if ids is not None:
        requeue = requeue.where(model.c.id.in_(ids))
    requeued = requeue.values(
        state="pending",
        next_attempt_at=model.c.due_at,
        attempts=0,
        claimed_at=None,
        claimed_by=None,
    )
    return session.execute(requeued).rowcount  # type: ignore[attr-defined]
