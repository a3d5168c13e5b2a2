"""Natural keys of Slack deliveries: a change's request on its event, and Events API ids.

A slash command or a click that changes a ticket carries its own natural key (its trigger);
stored on the first event the change appends, unique per ticket, it lets a repeated delivery
(a replay, a retry) find that it was applied and change nothing. ``slack_events`` remembers
each Events API delivery by ``event_id`` for a day, so a retry of one already taken in is
skipped while a retry whose first delivery never arrived is handled.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A column and a unique index, not a constraint: neither rebuilds the table on SQLite.
    op.add_column("ticket_events", sa.Column("idempotency_key", sa.String(128), nullable=True))
    op.create_index(
        "uq_ticket_events_idempotency",
        "ticket_events",
        ["ticket_id", "idempotency_key"],
        unique=True,
    )
    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_slack_events_received_at", "slack_events", ["received_at"])


def downgrade() -> None:
    op.drop_table("slack_events")
    op.drop_index("uq_ticket_events_idempotency", "ticket_events")
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_column("idempotency_key")
