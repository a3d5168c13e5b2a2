"""Outages without a ticket and planned maintenance, with the clock's reminder claims.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RUNNING = sa.text("kind = 'outage' AND ended_at IS NULL")


def _instant(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace", sa.String(32), nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        _instant("started_at", nullable=False),
        _instant("ended_at"),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("force_majeure", sa.Boolean(), nullable=False),
        _instant("announced_at"),
        sa.Column("notice_problems", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(32), nullable=False),
        sa.Column("ended_by", sa.String(32), nullable=True),
        _instant("reminded_before_at"),
        _instant("reminded_start_at"),
        _instant("reminded_end_at"),
    )
    op.create_index("ix_outages_period", "outages", ["workspace", "policy", "started_at"])
    op.create_index("ix_outages_reminders", "outages", ["kind", "reminded_end_at", "started_at"])
    op.create_index(
        "uq_outages_running",
        "outages",
        ["workspace", "policy"],
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_table("outages")
