"""Maintenance reminders as owed work: ``maintenance_notices``, one row per message a planned
maintenance owes its channel, delivered by the clock exactly once.

The reminders were claimed by a conditional UPDATE of ``outages.reminded_*_at`` and posted at
most once: a clock killed between the claim and the post lost the reminder, and one killed
after the post could not tell it had gone. Each reminder is now a row with the timers' states
and claim columns, written with the maintenance. What the old columns still owed (maintenance
not called off whose end was not yet said) becomes rows here; the columns go.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from slabot.store.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

LEAD = timedelta(hours=1)  # the reminder before, as `slabot.outages.notices` owed it then
STAGES = ("before", "start", "end")


def _instant(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "maintenance_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "outage_id",
            sa.Integer(),
            sa.ForeignKey("outages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("stage", sa.String(16), nullable=False),
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
        sa.UniqueConstraint("outage_id", "stage", name="uq_maintenance_notices_stage"),
    )
    op.create_index(
        "ix_maintenance_notices_queue",
        "maintenance_notices",
        ["state", "next_attempt_at", "id"],
    )
    _carry_over()
    op.drop_index("ix_outages_reminders", table_name="outages")
    for stage in STAGES:  # SQLite 3.35+ drops a column in place (no table rebuild)
        op.drop_column("outages", f"reminded_{stage}_at")


def _carry_over() -> None:
    """The reminders the old columns still owed, as notices due when they fall due."""
    outages = sa.table(
        "outages",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("channel", sa.String()),
        sa.column("started_at", UTCDateTime()),
        sa.column("ended_at", UTCDateTime()),
        sa.column("announced_at", UTCDateTime()),
        sa.column("cancelled_at", UTCDateTime()),
        *(sa.column(f"reminded_{stage}_at", UTCDateTime()) for stage in STAGES),
    )
    notices = sa.table(
        "maintenance_notices",
        sa.column("outage_id", sa.Integer()),
        sa.column("stage", sa.String()),
        sa.column("due_at", UTCDateTime()),
        sa.column("state", sa.String()),
        sa.column("next_attempt_at", UTCDateTime()),
        sa.column("attempts", sa.Integer()),
        sa.column("detail", sa.JSON()),
    )
    owing = sa.select(outages).where(
        outages.c.kind == "maintenance",
        outages.c.channel.is_not(None),
        outages.c.cancelled_at.is_(None),
        outages.c.reminded_end_at.is_(None),
    )
    bind = op.get_bind()
    rows = []
    for record in bind.execute(owing).mappings():
        start, end = record["started_at"], record["ended_at"] or record["started_at"]
        announced = record["announced_at"] or start
        due = {"before": start - LEAD, "start": start, "end": end}
        for stage in STAGES:
            if record[f"reminded_{stage}_at"] is not None:
                continue
            if stage == "before" and not announced < start - LEAD:
                continue
            rows.append(
                {
                    "outage_id": record["id"],
                    "stage": stage,
                    "due_at": due[stage],
                    "state": "pending",
                    "next_attempt_at": due[stage],
                    "attempts": 0,
                    "detail": {},
                }
            )
    if rows:
        bind.execute(sa.insert(notices), rows)


def downgrade() -> None:
    for stage in STAGES:
        op.add_column("outages", _instant(f"reminded_{stage}_at"))
    op.create_index("ix_outages_reminders", "outages", ["kind", "reminded_end_at", "started_at"])
    op.drop_index("ix_maintenance_notices_queue", table_name="maintenance_notices")
    op.drop_table("maintenance_notices")
