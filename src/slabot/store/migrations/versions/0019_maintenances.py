"""Planned maintenance in a table of its own, and ``notices`` for what a channel is owed.

``outages`` held both unplanned outages (``kind`` outage) and planned maintenance (``kind``
maintenance), whose ``ended_at`` was its planned end and whose ``announced_at``,
``notice_problems`` and ``cancelled_*`` meant nothing for an outage. Maintenance now has
``maintenances`` and its trail ``maintenance_events``; ``outages`` loses ``kind`` and the
maintenance-only columns. ``maintenance_notices`` held maintenance's reminders and outages'
announcements alike: it becomes ``notices``, each row naming its outage (``outage_id``) or its
maintenance (``maintenance_id``), exactly one of them.

Every row keeps its id: a maintenance's id is the one its lead was told (``/sla maintenance
cancel ID``) and the one its notices' Slack metadata names (``maintenance:ID:stage``), and a
notice's id is the one ``slabot timers --notices`` lists. The ids of maintenance and
outages were drawn from one sequence until now, so they do not collide here; from now on each
has its own. The two columns a maintenance must now have were nullable in ``outages``: a
row without ``announced_at`` (the use case has always set it) takes its start as announced,
and one without ``ended_at``, its start as its end.

Downgrade puts maintenance back into ``outages``. A maintenance whose id an outage has taken
meanwhile gets a new id above both (its notices and trail follow it); its trail events get new
ids of ``outage_events`` (no notice names them). On SQLite the restored ``kind`` and
``notice_problems`` keep a server default ('outage', '[]'): SQLite cannot drop a default
without rebuilding ``outages``, and rebuilding a table other tables reference, with foreign
keys on, would delete the rows that reference it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from slabot.store.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

RUNNING = sa.text("ended_at IS NULL AND deleted_at IS NULL")
WAS_RUNNING = sa.text("kind = 'outage' AND ended_at IS NULL AND deleted_at IS NULL")
SUBJECT = "(outage_id IS NULL) <> (maintenance_id IS NULL)"
OF_MAINTENANCE = sa.text("maintenance_id IS NOT NULL")
SCHEDULED = sa.text("event_id IS NULL")  # 0018's: a maintenance's notice, unique per stage
# The columns of a notice that are neither its subject nor its id, as 0017 and 0018 made them.
NOTICE_COLUMNS = (
    "stage, event_id, channel, due_at, state, next_attempt_at, fired_at, attempts, last_error, "
    "detail, claimed_at, claimed_by, first_claimed_at"
)
EVENT_COLUMNS = "kind, actor, at, before, after, reason"
MAINTENANCE_ONLY = ("announced_at", "notice_problems", "cancelled_at", "cancelled_by")


def _instant(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _notice_columns() -> list[Any]:
    """The delivery columns ``maintenance_notices`` and ``notices`` share."""
    return [
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        _instant("due_at", nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _instant("next_attempt_at", nullable=False),
        _instant("fired_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        _instant("claimed_at"),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        _instant("first_claimed_at"),
    ]


def _event_columns() -> list[Any]:
    """The columns a trail's event has besides its id and subject (0014's)."""
    return [
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        _instant("at", nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "maintenances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace", sa.String(32), nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        _instant("started_at", nullable=False),
        _instant("ended_at", nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        _instant("announced_at", nullable=False),
        sa.Column("notice_problems", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(32), nullable=False),
        _instant("cancelled_at"),
        sa.Column("cancelled_by", sa.String(32), nullable=True),
    )
    op.create_index("ix_maintenances_period", "maintenances", ["workspace", "policy", "started_at"])
    op.create_table(
        "maintenance_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("maintenance_id", sa.Integer(), sa.ForeignKey("maintenances.id"), nullable=False),
        *_event_columns(),
    )
    op.create_index(
        "ix_maintenance_events_maintenance", "maintenance_events", ["maintenance_id", "id"]
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outage_id", sa.Integer(), sa.ForeignKey("outages.id", ondelete="CASCADE")),
        sa.Column(
            "maintenance_id", sa.Integer(), sa.ForeignKey("maintenances.id", ondelete="CASCADE")
        ),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("outage_events.id", ondelete="CASCADE")),
        *_notice_columns(),
        sa.CheckConstraint(SUBJECT, name="ck_notices_subject"),
    )
    op.create_index(
        "uq_notices_stage",
        "notices",
        ["maintenance_id", "stage"],
        unique=True,
        sqlite_where=OF_MAINTENANCE,
        postgresql_where=OF_MAINTENANCE,
    )
    op.create_index("uq_notices_event", "notices", ["event_id"], unique=True)
    op.create_index("ix_notices_queue", "notices", ["state", "next_attempt_at", "id"])

    op.execute(
        "INSERT INTO maintenances (id, workspace, policy, channel, started_at, ended_at, note, "
        "announced_at, notice_problems, started_by, cancelled_at, cancelled_by) "
        "SELECT id, workspace, policy, channel, started_at, COALESCE(ended_at, started_at), "
        "note, COALESCE(announced_at, started_at), notice_problems, started_by, cancelled_at, "
        "cancelled_by FROM outages WHERE kind = 'maintenance'"
    )
    op.execute(
        f"INSERT INTO maintenance_events (id, maintenance_id, {EVENT_COLUMNS}) "
        f"SELECT id, outage_id, {EVENT_COLUMNS} FROM outage_events "
        "WHERE outage_id IN (SELECT id FROM maintenances)"
    )
    op.execute(
        f"INSERT INTO notices (id, outage_id, maintenance_id, {NOTICE_COLUMNS}) "
        "SELECT n.id, CASE WHEN o.kind = 'maintenance' THEN NULL ELSE n.outage_id END, "
        "CASE WHEN o.kind = 'maintenance' THEN n.outage_id ELSE NULL END, "
        f"{', '.join(f'n.{c.strip()}' for c in NOTICE_COLUMNS.split(','))} "
        "FROM maintenance_notices n JOIN outages o ON o.id = n.outage_id"
    )
    op.drop_table("maintenance_notices")
    op.execute("DELETE FROM outage_events WHERE outage_id IN (SELECT id FROM maintenances)")
    op.execute("DELETE FROM outages WHERE kind = 'maintenance'")
    op.drop_index("uq_outages_running", table_name="outages")
    for name in ("kind", *MAINTENANCE_ONLY):  # SQLite 3.35+ drops a column in place
        op.drop_column("outages", name)
    _running_index(RUNNING)
    _sequences_follow("maintenances", "maintenance_events", "notices")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _restore_column("kind", sa.String(16), "outage", sqlite)
    op.add_column("outages", _instant("announced_at"))
    _restore_column("notice_problems", sa.JSON(), "[]", sqlite)
    op.add_column("outages", _instant("cancelled_at"))
    op.add_column("outages", sa.Column("cancelled_by", sa.String(32), nullable=True))
    op.drop_index("uq_outages_running", table_name="outages")
    _running_index(WAS_RUNNING)

    moved = _maintenance_back()
    op.create_table(
        "maintenance_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "outage_id",
            sa.Integer(),
            sa.ForeignKey("outages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey(
                "outage_events.id", ondelete="CASCADE", name="fk_maintenance_notices_event"
            ),
        ),
        *_notice_columns(),
    )
    op.create_index(
        "uq_maintenance_notices_stage",
        "maintenance_notices",
        ["outage_id", "stage"],
        unique=True,
        sqlite_where=SCHEDULED,
        postgresql_where=SCHEDULED,
    )
    op.create_index(
        "uq_maintenance_notices_event", "maintenance_notices", ["event_id"], unique=True
    )
    op.create_index(
        "ix_maintenance_notices_queue", "maintenance_notices", ["state", "next_attempt_at", "id"]
    )
    op.execute(
        f"INSERT INTO maintenance_notices (id, outage_id, {NOTICE_COLUMNS}) "
        f"SELECT id, COALESCE(outage_id, maintenance_id), {NOTICE_COLUMNS} FROM notices"
    )
    for old, new in moved.items():
        op.execute(
            sa.text(
                "UPDATE maintenance_notices SET outage_id = :new WHERE id IN "
                "(SELECT id FROM notices WHERE maintenance_id = :old)"
            ).bindparams(old=old, new=new)
        )
    op.drop_table("notices")
    op.drop_table("maintenance_events")
    op.drop_table("maintenances")
    _sequences_follow("outages", "outage_events", "maintenance_notices")


def _maintenance_back() -> dict[int, int]:
    """Each maintenance as a row of ``outages`` again, its trail in ``outage_events``; the
    maintenance ids an outage has taken meanwhile, mapped to the new ids they get."""
    bind = op.get_bind()
    maintenances = sa.table(
        "maintenances",
        *(sa.column(n) for n in ("id", "workspace", "policy", "channel", "note", "started_by")),
        *(sa.column(n) for n in ("cancelled_by",)),
        sa.column("notice_problems", sa.JSON()),
        *(sa.column(n, UTCDateTime()) for n in ("started_at", "ended_at", "announced_at")),
        sa.column("cancelled_at", UTCDateTime()),
    )
    outages = sa.table(
        "outages",
        *(sa.column(n) for n in ("id", "workspace", "policy", "channel", "kind", "note")),
        *(sa.column(n) for n in ("force_majeure", "started_by", "cancelled_by")),
        sa.column("notice_problems", sa.JSON()),
        *(sa.column(n, UTCDateTime()) for n in ("started_at", "ended_at", "announced_at")),
        sa.column("cancelled_at", UTCDateTime()),
    )
    taken = set(bind.execute(sa.select(outages.c.id)).scalars())
    rows = [dict(r) for r in bind.execute(sa.select(maintenances).order_by("id")).mappings()]
    free = max([0, *taken, *(r["id"] for r in rows)])
    moved: dict[int, int] = {}
    for row in rows:
        if row["id"] in taken:
            free += 1
            moved[row["id"]] = free
            row["id"] = free
    if rows:
        extra = {"kind": "maintenance", "force_majeure": False}
        bind.execute(sa.insert(outages), [{**row, **extra} for row in rows])
    events = sa.table(
        "maintenance_events",
        sa.column("id"),
        sa.column("maintenance_id"),
        *(sa.column(n) for n in ("kind", "actor", "reason")),
        sa.column("at", UTCDateTime()),
        *(sa.column(n, sa.JSON()) for n in ("before", "after")),
    )
    trail = sa.table(
        "outage_events",
        sa.column("outage_id"),
        *(sa.column(n) for n in ("kind", "actor", "reason")),
        sa.column("at", UTCDateTime()),
        *(sa.column(n, sa.JSON()) for n in ("before", "after")),
    )
    found = bind.execute(sa.select(events).order_by(events.c.id)).mappings()
    changes = [
        {
            **{k: v for k, v in e.items() if k not in ("id", "maintenance_id")},
            "outage_id": moved.get(e["maintenance_id"], e["maintenance_id"]),
        }
        for e in found
    ]
    if changes:
        bind.execute(sa.insert(trail), changes)
    return moved


def _restore_column(name: str, type_: Any, fill: str, sqlite: bool) -> None:
    """A NOT NULL column of ``outages`` back, its rows (all outages, for now) given ``fill``."""
    op.add_column("outages", sa.Column(name, type_, nullable=False, server_default=fill))
    if not sqlite:  # as 0003 made it: no default
        op.alter_column("outages", name, server_default=None)


def _running_index(where: sa.TextClause) -> None:
    op.create_index(
        "uq_outages_running",
        "outages",
        ["workspace", "policy"],
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )


def _sequences_follow(*tables: str) -> None:
    """On PostgreSQL, each table's id sequence past the ids copied in with their values."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in tables:
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
        )
