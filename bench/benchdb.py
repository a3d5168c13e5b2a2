"""What the benchmarks share: a throwaway PostgreSQL schema, policy-version rows, and a git
ref's code to run beside this code (`checkout`).

The scripts run from the repository root with the test kit on the path
(``PYTHONPATH=tests .venv/bin/python bench/<script>.py``): this folder is on the path as the
script's own, and the fake Slack and signed requests come from ``tests/support``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from slabot.sla import Policy

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REPO = Path(__file__).resolve().parent.parent


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
