"""Outages a lead can correct: deleted outages kept, and every change in a trail.

``outages.deleted_at``/``deleted_by``: an outage a lead deleted (``/sla outage delete ID``)
keeps its row and counts nowhere. The running-outage index (``uq_outages_running``) now leaves
deleted rows out, so deleting a running outage lets another start.

``outage_events``: the audit trail of ``outages`` (who, when, the fields before and after, and
why), appended by `slabot.outages.trail`. Rows recorded before this migration have no trail
before their next change; their row still says who started and ended them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

RUNNING = sa.text("kind = 'outage' AND ended_at IS NULL AND deleted_at IS NULL")
WAS_RUNNING = sa.text("kind = 'outage' AND ended_at IS NULL")


def upgrade() -> None:
    op.add_column("outages", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outages", sa.Column("deleted_by", sa.String(length=32), nullable=True))
    _running_index(RUNNING)
    op.create_table(
        "outage_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outage_id", sa.Integer(), sa.ForeignKey("outages.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
    )
    op.create_index("ix_outage_events_outage", "outage_events", ["outage_id", "id"])


def downgrade() -> None:
    op.drop_table("outage_events")
    _running_index(WAS_RUNNING)
    with op.batch_alter_table("outages") as batch:
        batch.drop_column("deleted_by")
        batch.drop_column("deleted_at")


def _running_index(where: sa.TextClause) -> None:
    op.drop_index("uq_outages_running", table_name="outages")
    op.create_index(
        "uq_outages_running",
        "outages",
        ["workspace", "policy"],
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )
