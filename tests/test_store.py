"""The store: migrations, the instants rule, DATABASE_URL, and SQLite's settings.

Every test that takes ``store`` or ``blank_store`` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import column, func, insert, inspect, table, text
from sqlalchemy.exc import StatementError
from sqlmodel import SQLModel, select

from slabot.store import Store, StoreError, database_url
from slabot.store import tables as _tables  # noqa: F401  (registers the tables)
from slabot.store.migrate import applied, heads, is_current, pending, upgrade
from slabot.store.tables import MaintenanceNotice, PolicyVersion
from slabot.store.types import UTCDateTime

TABLES = {
    "channel_policies",
    "maintenance_notices",
    "oncall_handoffs",
    "oncall_overrides",
    "outages",
    "policy_versions",
    "slack_bots",
    "slack_events",
    "slack_installations",
    "slack_oauth_states",
    "ticket_events",
    "tickets",
    "timers",
    "workspace_counters",
}
KOLKATA = ZoneInfo("Asia/Kolkata")


def test_migrations_build_the_schema_from_zero_exactly_as_the_tables_declare(blank_store):
    assert not set(inspect(blank_store.engine).get_table_names()) & TABLES
    assert pending(blank_store) == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
        "0013",
        "0014",
        "0015",
        "0016",
        "0017",
        "0018",
        "0019",
    ]

    upgrade(blank_store)

    assert pending(blank_store) == []
    assert set(inspect(blank_store.engine).get_table_names()) >= TABLES
    with blank_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_the_reminders_maintenance_still_owed_become_its_notices(blank_store):
    """0017: what the ``reminded_*_at`` columns still owed (not yet said, not called off)
    becomes a pending notice due when it falls due; what was said, or called off, owes
    nothing; and no reminder before is owed of maintenance planned less than an hour ahead."""
    upgrade(blank_store, "0016")
    start = datetime(2026, 12, 6, 2, tzinfo=UTC)
    rows = [  # id, announced, reminded before, start, end, cancelled
        (1, start - timedelta(days=2), start - timedelta(hours=1), None, None, None),
        (2, start - timedelta(minutes=30), None, None, None, None),
        (3, start - timedelta(days=2), None, None, None, start - timedelta(days=1)),
        (4, start - timedelta(days=2), start, start, start, None),
    ]
    columns = ["announced_at", *(f"reminded_{s}_at" for s in ("before", "start", "end"))]
    outages = table(
        "outages",
        *(column(name) for name in ("id", "workspace", "policy", "channel", "kind", "note")),
        *(column(name) for name in ("force_majeure", "notice_problems", "started_by")),
        *(column(name, UTCDateTime()) for name in ["started_at", "ended_at", "cancelled_at"]),
        *(column(name, UTCDateTime()) for name in columns),
    )
    with blank_store.engine.begin() as connection:
        for ident, announced, before, begun, ended, cancelled in rows:
            connection.execute(
                insert(outages).values(
                    id=ident,
                    workspace="T1",
                    policy="leadsquared",
                    channel="COPS",
                    kind="maintenance",
                    note="",
                    force_majeure=False,
                    notice_problems="[]",
                    started_by="U1",
                    started_at=start,
                    ended_at=start + timedelta(hours=2),
                    cancelled_at=cancelled,
                    announced_at=announced,
                    reminded_before_at=before,
                    reminded_start_at=begun,
                    reminded_end_at=ended,
                )
            )

    upgrade(blank_store)

    with blank_store.reading() as session:
        owed = session.exec(select(MaintenanceNotice).order_by(MaintenanceNotice.id)).all()
    assert [(n.outage_id, n.stage, n.due_at, n.state) for n in owed] == [
        (1, "start", start, "pending"),
        (1, "end", start + timedelta(hours=2), "pending"),
        (2, "start", start, "pending"),
        (2, "end", start + timedelta(hours=2), "pending"),
    ]
    assert all(n.next_attempt_at == n.due_at for n in owed)


def test_upgrading_an_up_to_date_database_changes_nothing(store):
    assert pending(store) == []
    upgrade(store)
    assert pending(store) == []


def test_the_heads_read_from_the_version_files_are_alembics():
    """`heads` reads the migrations' text instead of asking Alembic; they must agree."""
    config = Config()
    config.set_main_option("script_location", "slabot.store:migrations")
    assert heads() == set(ScriptDirectory.from_config(config).get_heads())


def test_a_schema_is_current_only_once_every_migration_is_applied(blank_store):
    assert applied(blank_store) == set() and not is_current(blank_store)
    upgrade(blank_store, "0004")
    assert applied(blank_store) == {"0004"} and not is_current(blank_store)
    upgrade(blank_store)
    assert applied(blank_store) == heads() and is_current(blank_store)


def test_a_current_schema_is_checked_without_importing_alembic(store):
    """A restart (`slabot serve`, `slabot clock`) finds the schema current: it must not pay
    for importing Alembic, Mako and Pygments."""
    check = (
        "import sys; from slabot.store import Store; "
        "from slabot.store.migrate import pending, upgrade; "
        "store = Store(sys.argv[1]); upgrade(store); assert pending(store) == []; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))"
    )
    url = store.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", check, url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_instant_in_any_zone_comes_back_as_the_same_instant_in_utc(store):
    seen = datetime(2026, 3, 3, 15, 30, 12, 345678, tzinfo=KOLKATA)
    with store.writing() as session:
        session.add(PolicyVersion(digest="d1", name="p", text="t", first_seen_at=seen))

    with store.reading() as session:
        back = session.get(PolicyVersion, "d1").first_seen_at

    assert back == seen
    assert back.tzinfo is UTC
    assert back.replace(tzinfo=None) == datetime(2026, 3, 3, 10, 0, 12, 345678)


def test_a_naive_datetime_is_refused_and_nothing_is_written(store):
    with (
        pytest.raises(StatementError, match="no time zone"),
        store.writing() as session,
    ):
        session.add(
            PolicyVersion(digest="d1", name="p", text="t", first_seen_at=datetime(2026, 3, 3))
        )
        session.flush()

    with store.reading() as session:
        assert session.exec(select(func.count()).select_from(PolicyVersion)).one() == 0


@pytest.mark.parametrize(
    "given",
    ["postgres://u@db.example:5432/slabot", "postgresql://u@db.example:5432/slabot"],
)
def test_database_url_reads_postgres_urls_as_psycopg(given):
    url = database_url(given)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.database, url.username) == ("db.example", 5432, "slabot", "u")


def test_database_url_defaults_to_a_sqlite_file_and_takes_postgres_urls_as_platforms_give_them():
    assert str(database_url()) == "sqlite:///slabot.db"
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"


def test_database_url_refuses_mysql_naming_the_databases_it_supports():
    with pytest.raises(StoreError) as refused:
        database_url("mysql://u@db.example/slabot")
    assert "sqlite" in str(refused.value) and "postgresql" in str(refused.value)


def test_database_url_refuses_text_that_is_not_a_url():
    with pytest.raises(StoreError, match="not a database URL"):
        database_url("slabot.db")


def test_a_sqlite_file_runs_in_wal_mode_with_foreign_keys_on(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'slabot.db'}")
    try:
        for engine in (store.engine, store.reader):
            with engine.connect() as connection:
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        store.dispose()


def test_a_sqlite_file_enforces_foreign_keys(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'slabot.db'}")
    upgrade(store)
    try:
        with pytest.raises(Exception, match="FOREIGN KEY"), store.writing() as session:
            session.execute(
                text(
                    "INSERT INTO ticket_events (ticket_id, kind, actor, at, before, after) "
                    "VALUES (999, 'opened', 'U1', '2026-03-03 10:00:00.000000', '{}', '{}')"
                )
            )
    finally:
        store.dispose()
