"""Outage announcements as owed work: a notice may announce one change of an outage's trail.

``/sla outage start|end|edit|delete`` posted their announcements inside the request: a Slack
failure left them unposted and the lead was told to try again. Each is now a row of
``maintenance_notices`` written with the change, naming the trail event it announces
(``event_id``) and the channel it goes to (``channel``: a correction of an outage recorded
without one is announced where the lead typed it). Such notices are unique per event; the
ones planned maintenance owes stay unique per maintenance and stage.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

SCHEDULED = sa.text("event_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("maintenance_notices") as batch:
        batch.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(32), nullable=True))
        batch.create_foreign_key(
            "fk_maintenance_notices_event",
            "outage_events",
            ["event_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.drop_constraint("uq_maintenance_notices_stage", type_="unique")
    op.create_index(
        "uq_maintenance_notices_stage",
        "maintenance_notices",
        ["outage_id", "stage"],
        unique=True,
        sqlite_where=SCHEDULED,
        postgresql_where=SCHEDULED,
    )
    op.create_index(
        "uq_maintenance_notices_event", "maintenance_notices", ["event_id"], unique=True
    )


def downgrade() -> None:
    op.execute("DELETE FROM maintenance_notices WHERE event_id IS NOT NULL")
    op.drop_index("uq_maintenance_notices_event", table_name="maintenance_notices")
    op.drop_index("uq_maintenance_notices_stage", table_name="maintenance_notices")
    with op.batch_alter_table("maintenance_notices") as batch:
        batch.create_unique_constraint("uq_maintenance_notices_stage", ["outage_id", "stage"])
        batch.drop_constraint("fk_maintenance_notices_event", type_="foreignkey")
        batch.drop_column("channel")
        batch.drop_column("event_id")
