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
from sqlalchemy import column, func, insert, inspect, select, table, text
from sqlalchemy.exc import IntegrityError, StatementError

from slabot.store import Store, StoreError, database_url
from slabot.store import oauth_tables as _oauth_tables  # noqa: F401  (registers slack_sdk's)
from slabot.store import tables as _tables  # noqa: F401  (registers the tables)
from slabot.store.migrate import applied, downgrade, heads, is_current, pending, upgrade
from slabot.store.records import METADATA
from slabot.store.tables import (
    ApiToken,
    MaintenanceEvent,
    MaintenanceRecord,
    Notice,
    OutageEvent,
    OutageRecord,
    PolicyVersion,
)
from slabot.store.types import UTCDateTime

TABLES = {
    "channel_policies",
    "maintenance_events",
    "maintenances",
    "notices",
    "oncall_handoffs",
    "oncall_overrides",
    "outage_events",
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
        "0020",
    ]

    upgrade(blank_store)

    assert pending(blank_store) == []
    assert set(inspect(blank_store.engine).get_table_names()) >= TABLES
    with blank_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, METADATA)
    assert differences == []


def test_the_declared_tables_keep_their_partial_unique_indexes_on_either_database(blank_store):
    """Built from the declarations alone (as a test or a new deployment's tooling may), a
    table's partial unique index holds over its live rows only, on SQLite and on PostgreSQL:
    its predicate is declared for SQLite, and given to PostgreSQL as a store there opens
    (`store.tables.partial_indexes_on_postgresql`), so SQLite's processes never load
    SQLAlchemy's PostgreSQL dialect."""
    METADATA.create_all(blank_store.engine, tables=[ApiToken.__table__])
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)

    def token(digest: str, revoked: bool) -> ApiToken:
        revoked_at = at if revoked else None
        return ApiToken(
            workspace="T1", name="ci", digest=digest, created_at=at, revoked_at=revoked_at
        )

    with blank_store.writing() as session:  # a name revoked twice, and live once
        session.add_all([token("a", True), token("b", True), token("c", False)])
    with pytest.raises(IntegrityError), blank_store.writing() as session:
        session.add(token("d", False))  # a second live token of that name


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

    upgrade(blank_store, "0018")

    owed = _notices_0018(blank_store)
    assert [(n.outage_id, n.stage, n.due_at, n.state) for n in owed] == [
        (1, "start", start, "pending"),
        (1, "end", start + timedelta(hours=2), "pending"),
        (2, "start", start, "pending"),
        (2, "end", start + timedelta(hours=2), "pending"),
    ]
    assert all(n.next_attempt_at == n.due_at for n in owed)


def _notices_0018(store: Store) -> list:
    """``maintenance_notices`` as 0017 and 0018 made it, oldest first."""
    notices = table(
        "maintenance_notices",
        *(column(name) for name in ("id", "outage_id", "event_id", "stage", "state", "channel")),
        *(column(name, UTCDateTime()) for name in ("due_at", "next_attempt_at")),
    )
    with store.engine.connect() as connection:
        return list(connection.execute(select(notices).order_by(notices.c.id)))


def _at_0018(store: Store, start: datetime) -> None:
    """Outage 1 (ended, announced in its channel), maintenance 2 (announced, reminders owed,
    its trail) and maintenance 3 (called off), as 0018 stored them (each table's ids given
    out from 1, in order)."""
    outages = table(
        "outages",
        *(column(name) for name in ("id", "workspace", "policy", "channel", "kind", "note")),
        *(column(name) for name in ("force_majeure", "notice_problems", "started_by")),
        *(column(name) for name in ("cancelled_by", "cause")),
        *(column(name, UTCDateTime()) for name in ("started_at", "ended_at", "cancelled_at")),
        column("announced_at", UTCDateTime()),
    )
    events = table(
        "outage_events",
        *(column(name) for name in ("id", "outage_id", "kind", "actor", "before", "after")),
        column("reason"),
        column("at", UTCDateTime()),
    )
    notices = table(
        "maintenance_notices",
        *(column(name) for name in ("id", "outage_id", "event_id", "stage", "state", "channel")),
        *(column(name) for name in ("attempts", "detail")),
        *(column(name, UTCDateTime()) for name in ("due_at", "next_attempt_at")),
    )
    two = timedelta(hours=2)
    common = {"workspace": "T1", "policy": "leadsquared", "note": "db", "started_by": "U1"}
    with store.engine.begin() as connection:
        connection.execute(
            insert(outages),
            [
                {
                    **common,
                    "kind": "outage",
                    "channel": "COPS",
                    "cause": "dns",
                    "force_majeure": False,
                    "notice_problems": "[]",
                    "started_at": start - two,
                    "ended_at": start - two / 2,
                    "announced_at": None,
                    "cancelled_at": None,
                    "cancelled_by": None,
                },
                {
                    **common,
                    "kind": "maintenance",
                    "channel": "COPS",
                    "cause": None,
                    "force_majeure": False,
                    "notice_problems": '["short notice"]',
                    "started_at": start,
                    "ended_at": start + two,
                    "announced_at": start - two,
                    "cancelled_at": None,
                    "cancelled_by": None,
                },
                {
                    **common,
                    "kind": "maintenance",
                    "channel": None,
                    "cause": None,
                    "force_majeure": False,
                    "notice_problems": "[]",
                    "started_at": start,
                    "ended_at": start + two,
                    "announced_at": start - two,
                    "cancelled_at": start - two / 2,
                    "cancelled_by": "U2",
                },
            ],
        )
        connection.execute(
            insert(events),
            [
                {
                    "outage_id": 1,
                    "kind": "started",
                    "actor": "U1",
                    "at": start - two,
                    "before": "{}",
                    "after": '{"note": "db"}',
                    "reason": "",
                },
                {
                    "outage_id": 2,
                    "kind": "announced",
                    "actor": "U1",
                    "at": start - two,
                    "before": "{}",
                    "after": '{"note": "db"}',
                    "reason": "",
                },
                {
                    "outage_id": 3,
                    "kind": "cancelled",
                    "actor": "U2",
                    "at": start - two / 2,
                    "before": '{"note": "db"}',
                    "after": "{}",
                    "reason": "",
                },
            ],
        )
        owed = {"state": "pending", "attempts": 0, "detail": "{}", "channel": None}
        connection.execute(
            insert(notices),
            [
                {
                    **owed,
                    "outage_id": 1,
                    "event_id": 1,
                    "stage": "started",
                    "channel": "COPS",
                    "due_at": start - two,
                    "next_attempt_at": start - two,
                },
                {
                    **owed,
                    "outage_id": 2,
                    "event_id": None,
                    "stage": "start",
                    "due_at": start,
                    "next_attempt_at": start,
                },
                {
                    **owed,
                    "outage_id": 2,
                    "event_id": None,
                    "stage": "end",
                    "due_at": start + two,
                    "next_attempt_at": start + two,
                },
            ],
        )


def test_maintenance_moves_to_its_own_table_and_back_keeping_its_ids(blank_store):
    """0019: maintenance leaves ``outages`` for ``maintenances`` with its id, its trail for
    ``maintenance_events``, and ``maintenance_notices`` becomes ``notices`` naming an outage or
    a maintenance; downgrading puts everything back, giving a maintenance whose id an outage
    took meanwhile a new one that its notices and trail follow."""
    upgrade(blank_store, "0018")
    start = datetime(2026, 12, 6, 2, tzinfo=UTC)
    _at_0018(blank_store, start)

    upgrade(blank_store)

    with blank_store.reading() as session:
        [outage] = session.exec(select(OutageRecord)).all()
        planned = session.exec(select(MaintenanceRecord).order_by(MaintenanceRecord.c.id)).all()
        trail = session.exec(select(OutageEvent)).all()
        kept = session.exec(select(MaintenanceEvent).order_by(MaintenanceEvent.c.id)).all()
        owed = session.exec(select(Notice).order_by(Notice.c.id)).all()
    assert (outage.id, outage.cause, outage.ended_at) == (1, "dns", start - timedelta(hours=1))
    assert [(m.id, m.notice_problems, m.cancelled_by) for m in planned] == [
        (2, ["short notice"], None),
        (3, [], "U2"),
    ]
    assert planned[0].announced_at == start - timedelta(hours=2)
    assert [(e.id, e.outage_id, e.kind) for e in trail] == [(1, 1, "started")]
    assert [(e.id, e.maintenance_id, e.kind, e.before) for e in kept] == [
        (2, 2, "announced", {}),
        (3, 3, "cancelled", {"note": "db"}),
    ]
    assert [(n.id, n.outage_id, n.maintenance_id, n.event_id, n.stage) for n in owed] == [
        (1, 1, None, 1, "started"),
        (2, None, 2, None, "start"),
        (3, None, 2, None, "end"),
    ]

    # afterwards, an outage is stored as 2 (as PostgreSQL's own sequence for outages may give
    # it) and a new maintenance as 4: on the way back, maintenance 2 becomes 5
    with blank_store.writing() as session:
        session.add(
            OutageRecord(id=2, workspace="T1", policy="leadpro", started_at=start, started_by="U3")
        )
        session.add(
            MaintenanceRecord(
                workspace="T1",
                policy="leadsquared",
                started_at=start,
                ended_at=start + timedelta(hours=1),
                announced_at=start - timedelta(days=3),
                started_by="U4",
            )
        )
    with blank_store.reading() as session:
        assert session.get(OutageRecord, 2) is not None
        assert session.get(MaintenanceRecord, 4) is not None

    downgrade(blank_store, "0018")

    assert applied(blank_store) == {"0018"}
    outages = table(
        "outages", column("id"), column("kind"), column("policy"), column("cancelled_by")
    )
    trail_0018 = table("outage_events", column("id"), column("outage_id"), column("kind"))
    changed = select(trail_0018.c.outage_id, trail_0018.c.kind).order_by(trail_0018.c.id)
    with blank_store.engine.connect() as connection:
        rows = connection.execute(select(outages).order_by(outages.c.id)).all()
        changes = connection.execute(changed).all()
    assert [tuple(r) for r in rows] == [
        (1, "outage", "leadsquared", None),
        (2, "outage", "leadpro", None),
        (3, "maintenance", "leadsquared", "U2"),
        (4, "maintenance", "leadsquared", None),
        (5, "maintenance", "leadsquared", None),
    ]
    assert [tuple(c) for c in changes] == [(1, "started"), (5, "announced"), (3, "cancelled")]
    assert [(n.id, n.outage_id, n.event_id, n.stage) for n in _notices_0018(blank_store)] == [
        (1, 1, 1, "started"),
        (2, 5, None, "start"),
        (3, 5, None, "end"),
    ]

    upgrade(blank_store)  # and forward again
    assert pending(blank_store) == []
    with blank_store.reading() as session:
        assert sorted(m.id for m in session.exec(select(MaintenanceRecord))) == [3, 4, 5]


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
