"""PostgreSQL for tests: a store whose tables live in a schema of its own, dropped afterwards,
so parallel workers and processes never share tables and ``public`` is never touched; and an
empty database of either kind (`empty_store`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from slabot.store import Store


@contextmanager
def postgres_schema(server: URL, label: str) -> Iterator[Store]:
    """A Store whose tables live in a new schema of their own, dropped afterwards."""
    schema = f"slabot_test_{os.getpid()}_{label}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        store = Store(server.update_query_dict({"options": f"-csearch_path={schema}"}))
        try:
            yield store
        finally:
            store.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def empty_store(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, label: str
) -> Iterator[Store]:
    """An empty, unmigrated database of ``kind`` (``sqlite``: a new file; ``postgresql``: a
    new schema on the session's server), dropped afterwards."""
    if kind == "sqlite":
        store = Store(f"sqlite:///{tmp_path / f'{label}.db'}")
        try:
            yield store
        finally:
            store.dispose()
    else:
        with postgres_schema(request.getfixturevalue("postgres_server"), label) as store:
            yield store
