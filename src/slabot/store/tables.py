"""The database's tables. Migrations in ``migrations/`` build exactly these (a test checks).

* ``tickets`` is the current state of each ticket, denormalised for the queue: ``next_due_at``
  is when its next running deadline falls, kept by every use case.
* ``ticket_events`` is the append-only audit trail: who did what, when, before and after. The
  engine's schedule is always recomputed from it.
* ``timers`` is every future obligation (reminder, nudge, page, follow-up, auto-solve, …), unique
  per ticket by ``(kind, stage, repeat)`` so nothing can fire twice. The clock claims a due
  timer (``sending``, with ``claimed_at``/``claimed_by``) before it acts, so a claim left
  behind by a killed clock can be recognised once its lease runs out; ``first_claimed_at``
  stays from the first claim on, so what any earlier attempt sent can be looked for.
* ``policy_versions`` keeps the text of every policy a ticket was opened under, by digest, so
  editing a policy file never changes the rules of tickets already running.
* ``tickets.source``/``source_ref`` name the system a ticket came from and its own id there
  (an alert group, a Message-ID): unique per workspace, so a repeat finds its ticket.
* ``tickets.customer`` is the account the ticket counts for, named by its source or supplied
  by its policy: a month's report and the customer statement are cut by it.
* ``ticket_events.idempotency_key`` is the natural key of the Slack request (a command's or a
  click's trigger) that made a change: a repeated delivery finds it and changes nothing, as
  ``tickets.idempotency_key`` does for the request that opened the ticket.
* ``slack_events`` is each Events API delivery seen, by its ``event_id``, so a retry of one
  already handled is skipped on any replica; rows older than a day are pruned.
* ``api_tokens`` is the HTTP API's bearer tokens (`slabot.inbound.tokens`): each one's SHA-256
  digest (never the token), its workspace, the actions it may take (scopes) and its default
  channel; a revoked token keeps its row, so its name and use stay on record.
* ``api_requests`` binds each API change's ``Idempotency-Key`` (per token) to a digest of the
  request it first came with (`slabot.inbound.api.idempotency`): the same key with another
  request is refused instead of answered with the first one's result.
* ``outages`` is downtime recorded without a ticket (``/sla outage start|end``), per workspace
  and policy. At most one outage runs per workspace and policy: a partial unique index makes a
  second start fail even when two arrive at once. A deleted outage (``deleted_at``) keeps its
  row and counts nowhere; the running-outage index leaves it out, so another may start.
* ``maintenances`` is planned maintenance (``/sla maintenance``), per workspace and policy: the
  window announced (``started_at`` to ``ended_at``, both planned), when it was announced and
  why that broke the policy's notice rule, decided once. Maintenance called off
  (``cancelled_at``) keeps its row and counts nowhere. Until migration 0019 these were rows of
  ``outages`` of kind ``maintenance``; they kept their ids.
* ``outage_events`` is the append-only audit trail of ``outages``, and ``maintenance_events``
  that of ``maintenances`` (`slabot.outages.trail`, their one writer): each outage recorded
  (backdated or not), ended, edited or deleted, and each maintenance announced or called off,
  with who, when, the row's fields before and after, and why.
* ``notices`` is what a channel is owed outside any ticket (`slabot.outages.notices`, its one
  writer): a planned maintenance's announcement, the reminder an hour before, the start, the
  end and its calling off (``maintenance_id``), and the announcement of each change a lead
  makes to an outage (``outage_id``, ``event_id``), written with the change that causes it and
  delivered by the clock as the ``timers`` are: claimed (``sending``), posted with metadata
  naming it, looked for before it is sent again when it may have arrived unrecorded. Until
  migration 0019 the table was ``maintenance_notices``.
* ``oncall_overrides`` is who covers a rotation for a span (a holiday, a swap), recorded with
  who did it and when; the rotations themselves are the deployment's team file. The latest
  recorded override covering an instant wins (see `slabot.sla.oncall`).
* ``oncall_handoffs`` is each hand-off of a rotation that announces or keeps a user group
  (`slabot.oncall.handoffs`), unique per workspace, rotation and instant: owed work claimed,
  performed and recorded by the clock like a timer, so each is announced once.
* ``slack_installations``, ``slack_bots`` and ``slack_oauth_states`` are slack_sdk's OAuth
  stores, declared by slack_sdk itself in `slabot.store.oauth_tables` (not here: see why
  there) and written only through it (`slabot.slack.workspaces`): each workspace's
  installation and bot token (with its refresh token when Slack rotates tokens), and the
  one-use states of installs under way. Their instants are naive UTC, as slack_sdk writes
  them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


def instant(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def partial_indexes_on_postgresql() -> None:
    """Give each partial index its predicate on PostgreSQL as well: the same SQL as SQLite's.

    The indexes name only ``sqlite_where``: a ``postgresql_where`` here would load SQLAlchemy's
    PostgreSQL dialect (about 2 MB) into every process, those on SQLite too. A store on
    PostgreSQL calls this as it opens; calling it again changes nothing."""
    for table in SQLModel.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:
                index.dialect_options["postgresql"]["where"] = where


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_versions"

    digest: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=64)
    text: str
    first_seen_at: datetime = instant(nullable=False)


class WorkspaceCounter(SQLModel, table=True):
    """The last ticket number given out in a workspace (SLA-1, SLA-2, …)."""

    __tablename__ = "workspace_counters"

    workspace: str = Field(primary_key=True, max_length=32)
    last_number: int = 0


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("workspace", "number", name="uq_tickets_workspace_number"),
        UniqueConstraint("workspace", "idempotency_key", name="uq_tickets_idempotency"),
        Index("uq_tickets_source", "workspace", "source", "source_ref", unique=True),
        Index("ix_tickets_queue", "workspace", "active", "next_due_at", "id"),
        Index("ix_tickets_opened", "workspace", "opened_at"),
        Index("ix_tickets_resolved", "workspace", "resolved_at", "policy", "opened_at"),
        Index("ix_tickets_customer", "workspace", "customer", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=32)
    number: int
    title: str
    description: str = ""
    policy: str = Field(max_length=64)
    policy_digest: str = Field(foreign_key="policy_versions.digest", max_length=64)
    severity: str = Field(max_length=64)
    status: str = Field(default="open", max_length=32)
    active: bool = True  # not resolved or closed: in the queue
    channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    reporter: str = Field(max_length=32)
    owner: str | None = Field(default=None, max_length=32)
    reported_at: datetime = instant(nullable=False)
    opened_at: datetime = instant(nullable=False)
    acknowledged_at: datetime | None = instant()
    acknowledged_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = instant()
    closed_at: datetime | None = instant()
    next_due_at: datetime | None = instant()  # the next running deadline: the queue's order
    next_target: str | None = Field(default=None, max_length=32)
    version: int = 1  # bumped by every change: optimistic concurrency
    idempotency_key: str | None = Field(default=None, max_length=128)
    # Where the work came from (``slack``, ``api``, ``alertmanager``, ``email`` …) and that
    # system's own name for it (an alert group, a Message-ID, a Zendesk ticket number): shown
    # on the card, and unique per workspace so the same outside item never opens two tickets.
    source: str = Field(
        default="slack", max_length=32, sa_column_kwargs={"server_default": "slack"}
    )
    source_ref: str | None = Field(default=None, max_length=255)
    # The customer it is for (`Policy.customer_for`): reports and statements are cut by it.
    customer: str | None = Field(default=None, max_length=200)
    updated_at: datetime = instant(nullable=False)

    @property
    def ref(self) -> str:
        return f"SLA-{self.number}"


class TicketEvent(SQLModel, table=True):
    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "id"),
        Index("uq_ticket_events_idempotency", "ticket_id", "idempotency_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=32)
    at: datetime = instant(nullable=False)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    idempotency_key: str | None = Field(default=None, max_length=128)  # on a change's first event


class SlackEvent(SQLModel, table=True):
    """An Events API delivery already taken in, by Slack's ``event_id``."""

    __tablename__ = "slack_events"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = instant(nullable=False, index=True)


class TimerRow(SQLModel, table=True):
    """A row of ``timers``: a `slabot.sla.schedule.Timer` as stored and delivered (its state,
    attempts, claim). Named a row so that `Timer`, the domain's word, means one thing: what a
    ticket's schedule owes."""

    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "stage", "repeat", name="uq_timers_key"),
        Index("ix_timers_queue", "state", "due_at", "id"),  # the clock's claim, in order
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    kind: str = Field(max_length=32)
    stage: str = Field(max_length=128)
    repeat: int = 0
    due_at: datetime = instant(nullable=False)
    state: str = Field(default="pending", max_length=16)  # pending, sending, fired, dropped, dead
    next_attempt_at: datetime = instant(nullable=False)
    fired_at: datetime | None = instant()
    attempts: int = 0
    last_error: str | None = None
    target: str | None = Field(default=None, max_length=32)
    level: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    claimed_at: datetime | None = instant()  # when a clock took it to perform (state sending)
    claimed_by: str | None = Field(default=None, max_length=64)  # which clock
    # the first claim, kept through retries and take-overs: a search for messages that may
    # have arrived unrecorded starts here
    first_claimed_at: datetime | None = instant()


class ChannelPolicy(SQLModel, table=True):
    """Which policy a Slack channel's tickets run under, and which customer they are for."""

    __tablename__ = "channel_policies"

    workspace: str = Field(primary_key=True, max_length=32)
    channel: str = Field(primary_key=True, max_length=32)
    policy: str = Field(max_length=64)
    customer: str | None = Field(default=None, max_length=200)  # None: the policy's or ticket's
    bound_by: str = Field(max_length=32)
    bound_at: datetime = instant(nullable=False)


RUNNING_OUTAGE = "ended_at IS NULL AND deleted_at IS NULL"


class OutageRecord(SQLModel, table=True):
    """Downtime recorded without a ticket: from ``started_at`` until ``ended_at`` (None: it
    runs), as a lead or a hook said, corrected only through its trail."""

    __tablename__ = "outages"
    __table_args__ = (
        Index("ix_outages_period", "workspace", "policy", "started_at"),
        Index(
            "uq_outages_running",
            "workspace",
            "policy",
            unique=True,
            sqlite_where=text(RUNNING_OUTAGE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=32)
    policy: str = Field(max_length=64)
    channel: str | None = Field(default=None, max_length=32)
    started_at: datetime = instant(nullable=False)
    ended_at: datetime | None = instant()
    note: str = ""
    force_majeure: bool = False
    cause: str | None = Field(default=None, max_length=64)  # a key of the policy's causes
    started_by: str = Field(max_length=32)
    ended_by: str | None = Field(default=None, max_length=32)
    # an outage a lead deleted (`/sla outage delete`): kept, with who and when (the reason is
    # in its trail); it counts nowhere
    deleted_at: datetime | None = instant()
    deleted_by: str | None = Field(default=None, max_length=32)


class MaintenanceRecord(SQLModel, table=True):
    """Planned maintenance: the window from ``started_at`` to ``ended_at`` announced at
    ``announced_at``; ``notice_problems`` says why that broke the policy's notice rule (empty:
    the rule was met, so its minutes are not downtime), decided once, when it was announced."""

    __tablename__ = "maintenances"
    __table_args__ = (Index("ix_maintenances_period", "workspace", "policy", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=32)
    policy: str = Field(max_length=64)
    channel: str | None = Field(default=None, max_length=32)
    started_at: datetime = instant(nullable=False)  # planned
    ended_at: datetime = instant(nullable=False)  # planned
    note: str = ""
    announced_at: datetime = instant(nullable=False)
    notice_problems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_by: str = Field(max_length=32)  # who announced it
    # called off (`/sla maintenance cancel`): kept, with who and when; it counts nowhere, and
    # the clock reminds nobody of it
    cancelled_at: datetime | None = instant()
    cancelled_by: str | None = Field(default=None, max_length=32)


class OutageEvent(SQLModel, table=True):
    """One change to a row of ``outages``, appended and never rewritten: ``before`` and
    ``after`` hold the fields it changed (instants as ISO 8601 strings)."""

    __tablename__ = "outage_events"
    __table_args__ = (Index("ix_outage_events_outage", "outage_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    outage_id: int = Field(foreign_key="outages.id")
    kind: str = Field(max_length=16)  # started, ended, edited, deleted
    actor: str = Field(max_length=32)
    at: datetime = instant(nullable=False)  # when the change was made, not what it says
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = ""


class MaintenanceEvent(SQLModel, table=True):
    """One change to a row of ``maintenances``, as `OutageEvent` is to ``outages``."""

    __tablename__ = "maintenance_events"
    __table_args__ = (Index("ix_maintenance_events_maintenance", "maintenance_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    maintenance_id: int = Field(foreign_key="maintenances.id")
    kind: str = Field(max_length=16)  # announced, cancelled
    actor: str = Field(max_length=32)
    at: datetime = instant(nullable=False)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = ""


NOTICE_SUBJECT = "(outage_id IS NULL) <> (maintenance_id IS NULL)"
MAINTENANCE_NOTICE = "maintenance_id IS NOT NULL"


class Notice(SQLModel, table=True):
    """A message owed a channel outside any ticket: planned maintenance's, one per ``stage``
    (``announce``, ``before``, ``start``, ``end``, ``called_off``), or the announcement of a
    change to an outage (``stage``: the change's kind), with the same delivery states and
    claim columns as `TimerRow`. Exactly one of ``outage_id`` and ``maintenance_id`` is set."""

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(NOTICE_SUBJECT, name="ck_notices_subject"),
        Index(
            "uq_notices_stage",
            "maintenance_id",
            "stage",
            unique=True,
            sqlite_where=text(MAINTENANCE_NOTICE),
        ),
        Index("uq_notices_event", "event_id", unique=True),
        Index("ix_notices_queue", "state", "next_attempt_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    outage_id: int | None = Field(
        default=None, foreign_key="outages.id", ondelete="CASCADE", nullable=True
    )
    maintenance_id: int | None = Field(
        default=None, foreign_key="maintenances.id", ondelete="CASCADE", nullable=True
    )
    stage: str = Field(max_length=16)
    # An outage's announcement: the change of its trail it announces, and where (None: the
    # outage's channel). Unique per event; the notices of maintenance, per stage.
    event_id: int | None = Field(
        default=None, foreign_key="outage_events.id", ondelete="CASCADE", nullable=True
    )
    channel: str | None = Field(default=None, max_length=32)
    due_at: datetime = instant(nullable=False)
    state: str = Field(default="pending", max_length=16)  # pending, sending, fired, dropped, dead
    next_attempt_at: datetime = instant(nullable=False)
    fired_at: datetime | None = instant()
    attempts: int = 0
    last_error: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    claimed_at: datetime | None = instant()
    claimed_by: str | None = Field(default=None, max_length=64)
    first_claimed_at: datetime | None = instant()


class ApiToken(SQLModel, table=True):
    """A bearer token of the HTTP API; one name per live token and workspace."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        Index(
            "uq_api_tokens_live_name",
            "workspace",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=32)
    name: str = Field(max_length=24)
    digest: str = Field(max_length=64, unique=True)  # SHA-256 of the token, hex
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel: str | None = Field(default=None, max_length=32)  # where its tickets go by default
    created_at: datetime = instant(nullable=False)
    revoked_at: datetime | None = instant()


class ApiRequest(SQLModel, table=True):
    """An API change taken in under an ``Idempotency-Key``, by token."""

    __tablename__ = "api_requests"

    token_id: int = Field(primary_key=True, foreign_key="api_tokens.id", ondelete="CASCADE")
    key: str = Field(primary_key=True, max_length=100)
    fingerprint: str = Field(max_length=64)  # SHA-256 of method, path and body
    created_at: datetime = instant(nullable=False)


class OnCallOverride(SQLModel, table=True):
    """``person`` is on call in ``rotation`` from ``starts_at`` until ``ends_at``."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_span", "workspace", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=32)
    rotation: str = Field(max_length=64)
    person: str = Field(max_length=32)
    starts_at: datetime = instant(nullable=False)
    ends_at: datetime = instant(nullable=False)
    recorded_by: str = Field(max_length=32)
    recorded_at: datetime = instant(nullable=False)


class OnCallHandOff(SQLModel, table=True):
    """The hand-off to ``person`` at ``starts_at`` in ``rotation``, as the clock performs it."""

    __tablename__ = "oncall_handoffs"
    __table_args__ = (
        UniqueConstraint("workspace", "rotation", "starts_at", name="uq_oncall_handoffs"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=32)
    rotation: str = Field(max_length=64)
    starts_at: datetime = instant(nullable=False)
    person: str | None = Field(default=None, max_length=32)  # None: nobody (a calendar's gap)
    state: str = Field(max_length=16)  # sending, pending (to retry), done, gave_up
    tries: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = instant()
    first_claimed_at: datetime | None = instant()
    retry_at: datetime | None = instant()
    announced_ts: str | None = Field(default=None, max_length=32)  # the post's, or "found"
    done_at: datetime | None = instant()
    error: str | None = Field(default=None, max_length=500)
