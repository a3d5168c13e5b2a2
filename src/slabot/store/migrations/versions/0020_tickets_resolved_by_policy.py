"""The index on when tickets were resolved takes the policy and the opening too.

A month's uptime reads, per policy, the outage tickets opened before the month that may still
have been down in it (`slabot.tickets.histories.still_down`): those resolved after the month
began are found through this index. On ``(workspace, resolved_at)`` alone SQLite read the row
of every ticket of every policy resolved since, to check its policy and opening: at 100,000
tickets a month, a tenth of the report's time (bench/README.md, "report, fifth round"). With
them in the index it checks them there and reads only the rows it returns. The policy comes
after the instant: an index led by ``(workspace, policy)`` was taken by SQLite for the month's
histories too (`histories`), which then had to be sorted by opening. Nothing else reads the old
index, so this one replaces it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tickets_resolved", "tickets")
    op.create_index(
        "ix_tickets_resolved", "tickets", ["workspace", "resolved_at", "policy", "opened_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_resolved", "tickets")
    op.create_index("ix_tickets_resolved", "tickets", ["workspace", "resolved_at"])
