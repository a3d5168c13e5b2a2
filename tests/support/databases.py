"""PostgreSQL for tests: a store whose tables live in a schema of its own, dropped afterwards,
so parallel workers and processes never share tables and ``public`` is never touched."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

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
