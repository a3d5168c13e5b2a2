"""An index that hands the clock its due timers in order.

The clock claims the pending timers whose time has come, earliest due first, a batch at a time.
Ordered by this index, the claim reads the first batch and stops; without it, the database
gathered every due timer (ten thousand in a burst) and checked each against every later
timer before sorting, on every tick: 70 ms a batch on PostgreSQL (bench/README.md, "clock").

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_timers_queue", "timers", ["state", "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_timers_queue", "timers")
