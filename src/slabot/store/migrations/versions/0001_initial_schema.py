"""The initial schema: policy versions, tickets, their events and timers, channel bindings.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _instant(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        _instant("first_seen_at", nullable=False),
    )
    op.create_table(
        "workspace_counters",
        sa.Column("workspace", sa.String(32), primary_key=True),
        sa.Column("last_number", sa.Integer(), nullable=False),
    )
    op.create_table(
        "channel_policies",
        sa.Column("workspace", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("bound_by", sa.String(32), nullable=False),
        _instant("bound_at", nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column(
            "policy_digest",
            sa.String(64),
            sa.ForeignKey("policy_versions.digest"),
            nullable=False,
        ),
        sa.Column("severity", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("reporter", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(32), nullable=True),
        _instant("reported_at", nullable=False),
        _instant("opened_at", nullable=False),
        _instant("acknowledged_at"),
        sa.Column("acknowledged_by", sa.String(32), nullable=True),
        _instant("resolved_at"),
        _instant("closed_at"),
        _instant("next_due_at"),
        sa.Column("next_target", sa.String(32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        _instant("updated_at", nullable=False),
        sa.UniqueConstraint("workspace", "number", name="uq_tickets_workspace_number"),
        sa.UniqueConstraint("workspace", "idempotency_key", name="uq_tickets_idempotency"),
    )
    op.create_index("ix_tickets_queue", "tickets", ["workspace", "active", "next_due_at", "id"])
    op.create_index("ix_tickets_opened", "tickets", ["workspace", "opened_at"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        _instant("at", nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
    )
    op.create_index("ix_ticket_events_ticket", "ticket_events", ["ticket_id", "id"])
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(128), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        _instant("due_at", nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _instant("next_attempt_at", nullable=False),
        _instant("fired_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("target", sa.String(32), nullable=True),
        sa.Column("level", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.UniqueConstraint("ticket_id", "kind", "stage", "repeat", name="uq_timers_key"),
    )
    op.create_index("ix_timers_due", "timers", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("timers")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
    op.drop_table("channel_policies")
    op.drop_table("workspace_counters")
    op.drop_table("policy_versions")
