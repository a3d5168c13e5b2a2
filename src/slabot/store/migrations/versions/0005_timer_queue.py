"""An index that hands the clock its due timers in order, instead of one that did not.

The clock claims the pending timers whose time has come, earliest due first, a batch at a time.
Ordered by ``ix_timers_queue`` (state, due time, id), the claim reads the first batch and
stops; with ``ix_timers_due`` (state, next attempt), the database gathered every due timer
(ten thousand in a burst) and checked each against every later timer before sorting, on every
tick: 70 ms a batch on PostgreSQL (bench/README.md, "clock"). Nothing else needs the old
index, and every change of a timer's state had to keep it up to date.

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
    op.drop_index("ix_timers_due", "timers")


def downgrade() -> None:
    op.create_index("ix_timers_due", "timers", ["state", "next_attempt_at"])
    op.drop_index("ix_timers_queue", "timers")
