"""What the benchmarks share: a throwaway PostgreSQL schema or SQLite file and a run on each
(`each_database`), the bulk loader of generated rows (`bulk_insert`), the policy mix and
policy-version rows of the generated data, and a git ref's code to run beside this code
(`checkout`).

The scripts run from the repository root with the test kit on the path
(``PYTHONPATH=tests .venv/bin/python bench/<script>.py``): this folder is on the path as the
script's own, and the fake Slack and signed requests come from ``tests/support``.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, create_engine, insert, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from slabot.sla import Policy

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REPO = Path(__file__).resolve().parent.parent
BATCH = 5_000  # rows per INSERT
# The generated tickets' policies, by share: the queue and the month's report draw the same mix.
POLICY_SHARES = {
    "leadpro": 0.40,
    "secpod": 0.25,
    "liveops": 0.15,
    "leadsquared": 0.12,
    "helpdesk-p1-p6": 0.08,
}
R = TypeVar("R")


def each_database(
    choice: str, sqlite_file: str, schema: str, measure: Callable[[str, URL], R]
) -> list[R]:
    """``measure(name, url)`` on a new SQLite file and a new PostgreSQL schema (``choice``:
    sqlite, postgresql or both); a PostgreSQL that does not answer is skipped, and said."""
    results = []
    if choice in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="slabot-bench-") as directory:
            path = Path(directory) / sqlite_file
            print(f"SQLite {sqlite3.sqlite_version}: a new file {path} (WAL)", flush=True)
            results.append(measure("SQLite", make_url(f"sqlite:///{path}")))
        print()
    if choice in ("postgresql", "both"):
        with postgres_schema(schema) as url:
            if url is not None:
                results.append(measure("PostgreSQL", url))
    return results


def table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def event_row(
    event_id: int,
    ticket_id: int,
    kind: str,
    actor: str,
    at: datetime,
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    """A ``ticket_events`` row, its id given."""
    return {
        "id": event_id,
        "ticket_id": ticket_id,
        "kind": kind,
        "actor": actor,
        "at": at,
        "before": before,
        "after": after,
    }


def bulk_insert(connection: Connection, rows: Sequence[tuple[list[dict], Any]]) -> None:
    """Insert each model's rows, ids given, in batches; on PostgreSQL then move each table's id
    sequence past them, so rows the code under test adds get new ids."""
    for data, model in rows:
        for start in range(0, len(data), BATCH):
            connection.execute(insert(table(model)), data[start : start + BATCH])
    if connection.dialect.name == "postgresql":
        for _, model in rows:
            name = table(model).name
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
                )
            )


@contextmanager
def postgres_schema(prefix: str) -> Iterator[URL | None]:
    """A new schema ``<prefix>_<pid>`` on the bench server (``SLABOT_BENCH_POSTGRES_URL``),
    as a URL whose connections use it; dropped afterwards. None when no server answers.

    The schema keeps a benchmark away from everything else in the database (``public``
    included), so it can run beside the tests and other benchmarks.
    """
    base = make_url(os.environ.get("SLABOT_BENCH_POSTGRES_URL") or POSTGRES_URL)
    if base.drivername in ("postgres", "postgresql"):
        base = base.set(drivername="postgresql+psycopg")
    schema = f"{prefix}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            server = connection.exec_driver_sql("SHOW server_version").scalar()
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(f"PostgreSQL: no server answers at {base.render_as_string()}: skipped ({reason})")
        admin.dispose()
        yield None
        return
    try:
        print(
            f"PostgreSQL {server}: {base.render_as_string()}, schema {schema} (dropped at the end)",
            flush=True,
        )
        yield base.update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def policy_versions(
    policies: Mapping[str, Policy], folder: Path, first_seen: datetime
) -> list[dict]:
    """``policy_versions`` rows for policies loaded from ``folder/<name>.yaml``."""
    return [
        {
            "digest": policy.digest,
            "name": policy.name,
            "text": (folder / f"{name}.yaml").read_text(encoding="utf-8"),
            "first_seen_at": first_seen,
        }
        for name, policy in policies.items()
    ]


def checkout(ref: str, folder: Path) -> Path:
    """The ``src/`` of a git ref (``main``: today's code), extracted into ``folder``, to run
    beside this code in the same benchmark run (``PYTHONPATH``)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"
