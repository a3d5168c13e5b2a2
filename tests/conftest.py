"""Shared fixtures: the repository's policies, and migrated stores on SQLite and PostgreSQL.

Storage fixtures
----------------
* ``store`` runs a test twice, on SQLite and on PostgreSQL (ids ``sqlite`` / ``postgresql``),
  with a migrated, empty `slabot.store.Store`. SQLite gets a fresh file per test; PostgreSQL
  gets one schema per test session (``slabot_test_<pid>_<random>``, migrated once, dropped at
  the end), truncated before each test. The ``public`` schema is never touched.
* ``blank_store`` is the same pair without migrations: an empty database to migrate from zero.
* ``tickets`` is the use cases on ``store`` with every policy in ``policies/`` and one admin,
  ``UADMIN``.

The PostgreSQL server is ``$SLABOT_TEST_POSTGRES_URL``, else the machine's own
(127.0.0.1:5432, user postgres, database ``test``). When it does not answer, PostgreSQL tests
skip with the reason, except in CI (``CI=true``), where they fail: CI must run them.
``-m "not postgresql"`` leaves them out on purpose.

Property tests (hypothesis)
---------------------------
Two profiles: ``ci`` (under ``CI=true``) runs every example each test asks for; ``dev`` (any
other run) runs a fifth of them, at least `FLOOR`, so the local loop stays quick while CI keeps
its thoroughness. A test states its count as ``settings(max_examples=examples(N))``: N under
``ci``. ``HYPOTHESIS_PROFILE=ci`` runs the full counts locally.

Parallel runs (pytest-xdist, ``-n 2``) are safe: each worker is its own process, so its
PostgreSQL schemas (named by pid), temporary files and fake Slack servers are its own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from slabot.oncall import OnCall
from slabot.policies import PolicyBook
from slabot.sla import Policy, load_policy
from slabot.sla.oncall import Team
from slabot.store import Store, database_url
from slabot.store.migrate import upgrade
from slabot.tickets import Tickets

POLICIES = Path(__file__).resolve().parent.parent / "policies"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


# Hypothesis' own default count is the ci profile's; dev takes a fifth.
FULL, FLOOR = 100, 10
settings.register_profile("ci", max_examples=FULL)
settings.register_profile("dev", max_examples=FULL // 5)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci() else "dev"))


def examples(full: int) -> int:
    """A property test's example count: ``full`` under the ci profile, the loaded profile's
    share of it otherwise (never fewer than `FLOOR`)."""
    return max(min(full, FLOOR), full * settings().max_examples // FULL)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs against the PostgreSQL test server")


@pytest.fixture(scope="session")
def policies() -> dict[str, Policy]:
    return {path.stem: load_policy(path) for path in sorted(POLICIES.glob("*.yaml"))}


@pytest.fixture(scope="session")
def policy_book() -> PolicyBook:
    """Every policy in the repository's ``policies/`` folder, as the bot loads them."""
    return PolicyBook.load(POLICIES)


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    """The PostgreSQL server's URL once it has answered; skip (fail in CI) when it does not."""
    url = database_url(os.environ.get("SLABOT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        reason = f"no PostgreSQL answers at {url.render_as_string(hide_password=True)}: {cause}"
        if _in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return url


@contextmanager
def _postgres_schema(server: URL, label: str) -> Iterator[Store]:
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


@pytest.fixture(scope="session")
def postgres_store(postgres_server: URL) -> Iterator[Store]:
    """One migrated schema for the whole session; ``store`` empties it before each test."""
    with _postgres_schema(postgres_server, "s") as store:
        upgrade(store)
        yield store


def _empty(store: Store) -> None:
    with store.engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# -- the fixtures tests use ---------------------------------------------------------------------


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store: a fresh SQLite file, or the session's PostgreSQL schema."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'slabot.db'}")
        upgrade(store)
        yield store
        store.dispose()
    else:
        store = request.getfixturevalue("postgres_store")
        _empty(store)
        yield store


@pytest.fixture(params=DATABASES)
def blank_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty database with no tables at all, to migrate from zero."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'blank.db'}")
        yield store
        store.dispose()
    else:
        with _postgres_schema(request.getfixturevalue("postgres_server"), "b") as store:
            yield store


# The people tests record outages and maintenance as: the team's leads (and the admin).
# (Built unchecked: these short IDs are not real Slack IDs, which a team file would refuse.)
RECORDERS = Team.model_construct(leads=("U", "U1", "U2", "U9"))


def recorders(store: Store) -> OnCall:
    """The roles of a deployment whose leads are the tests' recorders of outages."""
    return OnCall(store, RECORDERS, admins={"UADMIN"})


@pytest.fixture
def tickets(store: Store, policy_book: PolicyBook) -> Tickets:
    """The use cases on ``store``: every repository policy, no default one, admin ``UADMIN``."""
    return Tickets(store, policy_book, admins={"UADMIN"})
