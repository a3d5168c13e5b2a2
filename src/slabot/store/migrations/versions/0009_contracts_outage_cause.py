"""Why an outage recorded without a ticket happened: the policy's key for its cause.

LeadPro's contract leaves out "general downtime to the host servers (AWS)" and pays no credit
for Force Majeure; an outage started with ``/sla outage start cause:aws`` keeps the cause, and
the month's report leaves its minutes out as the policy's ``uptime.causes`` say.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outages", sa.Column("cause", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outages") as batch:
        batch.drop_column("cause")
