"""The customer a ticket is for, and planned maintenance called off.

``tickets.customer``: the customer a ticket is for, a column, no longer a line in its
description.

Alerts, e-mail routes and the API named the customer in the ticket's description, where no
report could read it. ``tickets.customer`` is the account the ticket counts for (set at
opening: named by its source, else the policy's own customer), so a month's figures and the
customer statement can be cut per customer; indexed with the opening instant for that cut.

``outages.cancelled_at``/``cancelled_by``: maintenance called off (``/sla maintenance cancel
ID``) keeps its row, with who called it off and when, and counts nowhere after that.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("customer", sa.String(length=200), nullable=True))
    op.create_index("ix_tickets_customer", "tickets", ["workspace", "customer", "opened_at"])
    op.add_column("outages", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outages", sa.Column("cancelled_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_tickets_customer", table_name="tickets")
    with op.batch_alter_table("outages") as batch:
        batch.drop_column("cancelled_by")
        batch.drop_column("cancelled_at")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("customer")
