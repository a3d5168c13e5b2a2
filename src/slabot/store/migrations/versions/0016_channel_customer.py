"""The customer a channel's tickets are for.

``channel_policies.customer``: ``/sla policy NAME customer:Acme`` binds a channel to a policy
and a customer (a shared Slack Connect channel per customer is the common set-up, issue 13),
so every ticket opened there counts for that customer unless it names another. Null: the
binding names none, and a ticket's customer comes from the policy or the ticket, as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("channel_policies", sa.Column("customer", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_policies") as batch:
        batch.drop_column("customer")
