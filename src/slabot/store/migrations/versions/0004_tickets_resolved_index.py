"""An index on when tickets were resolved, per workspace.

A month's uptime counts outage tickets opened in an earlier month that were still down in this
one (`slabot.tickets.histories.still_down`): those still open (``ix_tickets_queue``) or
resolved after the month began (this index), so the read never walks every older ticket.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_resolved", "tickets", ["workspace", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_resolved", "tickets")
