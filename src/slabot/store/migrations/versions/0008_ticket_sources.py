"""Where a ticket came from: its source and that source's own reference.

Tickets now arrive from the HTTP API, monitoring alerts and e-mail as well as from Slack. Each
keeps the system it came from and that system's id for it (an alert group key, a Message-ID),
unique per workspace, so a repeat of the same outside item finds its ticket instead of opening
a second one. Existing tickets all came from Slack.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns and a unique index, not a constraint: neither rebuilds the table on SQLite.
    op.add_column(
        "tickets",
        sa.Column("source", sa.String(32), nullable=False, server_default="slack"),
    )
    op.add_column("tickets", sa.Column("source_ref", sa.String(255), nullable=True))
    op.create_index(
        "uq_tickets_source", "tickets", ["workspace", "source", "source_ref"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_tickets_source", "tickets")
    op.drop_column("tickets", "source_ref")
    op.drop_column("tickets", "source")
