"""Timer claims: which clock took a due timer to perform it, and when.

A timer in state ``sending`` whose claim is older than the clock's lease was interrupted (the
clock died mid-delivery); the columns let the next clock find it and check before resending.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("timers", sa.Column("claimed_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_at")
