"""When a timer was first claimed: where the search for its messages after a crash starts.

A claim writes ``claimed_at``, and a clock that takes over an interrupted claim writes it
again. The search of Slack's history for messages an interrupted clock had sent started from
the latest claim, so after two crashes in a row it missed what the first clock had sent, and
sent it again (276 duplicates in a burst of 300). ``first_claimed_at`` is written by the first
claim only and kept through every retry and take-over, so the search covers every attempt.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "timers", sa.Column("first_claimed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("first_claimed_at")
