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
Example counts are `support.properties`' profiles (``ci`` under ``CI=true``, ``dev`` else).

The Slack conversation fixtures (``fake``, ``clock``, ``slack``) come from the test kit
(`support.conversation`) and are shared by every test module through this file.

Parallel runs (pytest-xdist, ``-n 2``) are safe: each worker is its own process, so its
PostgreSQL schemas (named by pid), temporary files and fake Slack servers are its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from support.conversation import clock as clock
from support.conversation import fake as fake
from support.conversation import slack as slack
from support.databases import empty_store, postgres_schema
from support.properties import in_ci

from slabot.policies import PolicyBook
from slabot.sla import Policy, load_policy
from slabot.store import Store, database_url
from slabot.store.migrate import upgrade
from slabot.tickets import Tickets

POLICIES = Path(__file__).resolve().parent.parent / "policies"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(autouse=True, scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """What the commands keep between runs (public holidays, `slabot.sla.public_holidays`)
    goes to this session's temporary directory, never the developer's ``~/.cache``."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


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
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_store(postgres_server: URL) -> Iterator[Store]:
    """One migrated schema for the whole session; ``store`` empties it before each test."""
    with postgres_schema(postgres_server, "s") as store:
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
    with empty_store(request.param, request, tmp_path, "blank") as store:
        yield store


@pytest.fixture
def tickets(store: Store, policy_book: PolicyBook) -> Tickets:
    """The use cases on ``store``: every repository policy, no default one, admin ``UADMIN``."""
    return Tickets(store, policy_book, admins={"UADMIN"})
