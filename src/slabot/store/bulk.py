"""Writing many rows by id in one statement per set of columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlmodel import Session


def update_by_id(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """UPDATE ``table`` by id, one executemany per set of columns (each row: ``id`` and the
    columns to write). In Core: the ORM's bulk update by primary key does the same with
    several times the overhead, which a clock recording a thousand outcomes a second notices."""
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
