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

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)

from .records import METADATA, Record, column, shared, table
from .types import UTCDateTime


def instant(**options: Any) -> Any:
    """An instant (aware UTC; see `UTCDateTime`)."""
    return column(UTCDateTime, **options)


def key() -> Any:
    """The table's own id, given by the database as the row is inserted."""
    return column(Integer, primary_key=True, default=None)


def json(default_factory: Any = dict) -> Any:
    return column(JSON, default_factory=default_factory)


def partial_indexes_on_postgresql() -> None:
    """Give each partial index its predicate on PostgreSQL as well: the same SQL as SQLite's.

    The indexes name only ``sqlite_where``: a ``postgresql_where`` here would load SQLAlchemy's
    PostgreSQL dialect (about 2 MB) into every process, those on SQLite too. A store on
    PostgreSQL calls this as it opens; calling it again changes nothing."""
    for declared in METADATA.tables.values():
        for index in declared.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:
                index.dialect_options["postgresql"]["where"] = where


@table("policy_versions")
class PolicyVersion(Record):
    digest: str = column(String(64), primary_key=True)
    name: str = column(String(64))
    text: str = column(String)
    first_seen_at: datetime = instant()


@table("workspace_counters")
class WorkspaceCounter(Record):
    """The last ticket number given out in a workspace (SLA-1, SLA-2, …)."""

    workspace: str = column(String(32), primary_key=True)
    last_number: int = column(Integer, default=0)


@table(
    "tickets",
    UniqueConstraint("workspace", "number", name="uq_tickets_workspace_number"),
    UniqueConstraint("workspace", "idempotency_key", name="uq_tickets_idempotency"),
    Index("uq_tickets_source", "workspace", "source", "source_ref", unique=True),
    Index("ix_tickets_queue", "workspace", "active", "next_due_at", "id"),
    Index("ix_tickets_opened", "workspace", "opened_at"),
    Index("ix_tickets_resolved", "workspace", "resolved_at", "policy", "opened_at"),
    Index("ix_tickets_customer", "workspace", "customer", "opened_at"),
)
class Ticket(Record):
    id: int | None = key()
    workspace: str = column(String(32))
    number: int = column(Integer)
    title: str = column(String)
    description: str = column(String, default="")
    policy: str = column(String(64))
    policy_digest: str = column(String(64), foreign_key="policy_versions.digest")
    severity: str = column(String(64))
    status: str = column(String(32), default="open")
    active: bool = column(Boolean, default=True)  # not resolved or closed: in the queue
    channel: str | None = column(String(32), default=None)
    message_ts: str | None = column(String(32), default=None)
    reporter: str = column(String(32))
    owner: str | None = column(String(32), default=None)
    reported_at: datetime = instant()
    opened_at: datetime = instant()
    acknowledged_at: datetime | None = instant(default=None)
    acknowledged_by: str | None = column(String(32), default=None)
    resolved_at: datetime | None = instant(default=None)
    closed_at: datetime | None = instant(default=None)
    next_due_at: datetime | None = instant(
        default=None
    )  # the next running deadline: the queue's order
    next_target: str | None = column(String(32), default=None)
    version: int = column(Integer, default=1)  # bumped by every change: optimistic concurrency
    idempotency_key: str | None = column(String(128), default=None)
    # Where the work came from (``slack``, ``api``, ``alertmanager``, ``email`` …) and that
    # system's own name for it (an alert group, a Message-ID, a Zendesk ticket number): shown
    # on the card, and unique per workspace so the same outside item never opens two tickets.
    source: str = column(String(32), default="slack", server_default="slack")
    source_ref: str | None = column(String(255), default=None)
    # The customer it is for (`Policy.customer_for`): reports and statements are cut by it.
    customer: str | None = column(String(200), default=None)
    updated_at: datetime = instant()

    @property
    def ref(self) -> str:
        return f"SLA-{self.number}"


@table(
    "ticket_events",
    Index("ix_ticket_events_ticket", "ticket_id", "id"),
    Index("uq_ticket_events_idempotency", "ticket_id", "idempotency_key", unique=True),
)
class TicketEvent(Record):
    id: int | None = key()
    ticket_id: int = column(Integer, foreign_key="tickets.id", ondelete="CASCADE")
    kind: str = column(String(32))
    actor: str = column(String(32))
    at: datetime = instant()
    before: dict[str, Any] = json()
    after: dict[str, Any] = json()
    idempotency_key: str | None = column(String(128), default=None)  # on a change's first event


@table("slack_events")
class SlackEvent(Record):
    """An Events API delivery already taken in, by Slack's ``event_id``."""

    event_id: str = column(String(64), primary_key=True)
    received_at: datetime = instant(index=True)


@shared
class Delivery(Record):
    """What a row of owed work (``timers``, ``notices``) holds of its delivery: when it is
    due, its state, its attempts and the claim of the clock performing it (`store.queue`)."""

    due_at: datetime = instant()
    state: str = column(String(16), default="pending")  # pending, sending, fired, dropped, dead
    next_attempt_at: datetime = instant()
    fired_at: datetime | None = instant(default=None)
    attempts: int = column(Integer, default=0)
    last_error: str | None = column(String, default=None)
    detail: dict[str, Any] = json()
    claimed_at: datetime | None = instant(default=None)  # when a clock took it (sending)
    claimed_by: str | None = column(String(64), default=None)  # which clock
    # the first claim, kept through retries and take-overs: a search for messages that may
    # have arrived unrecorded starts here
    first_claimed_at: datetime | None = instant(default=None)


@table(
    "timers",
    UniqueConstraint("ticket_id", "kind", "stage", "repeat", name="uq_timers_key"),
    Index("ix_timers_queue", "state", "due_at", "id"),  # the clock's claim, in order
)
class TimerRow(Delivery):
    """A row of ``timers``: a `slabot.sla.schedule.Timer` as stored and delivered (its state,
    attempts, claim). Named a row so that `Timer`, the domain's word, means one thing: what a
    ticket's schedule owes."""

    id: int | None = key()
    ticket_id: int = column(Integer, foreign_key="tickets.id", ondelete="CASCADE")
    kind: str = column(String(32))
    stage: str = column(String(128))
    repeat: int = column(Integer, default=0)
    target: str | None = column(String(32), default=None)
    level: str | None = column(String(64), default=None)


@table("channel_policies")
class ChannelPolicy(Record):
    """Which policy a Slack channel's tickets run under, and which customer they are for."""

    workspace: str = column(String(32), primary_key=True)
    channel: str = column(String(32), primary_key=True)
    policy: str = column(String(64))
    customer: str | None = column(String(200), default=None)  # None: the policy's or ticket's
    bound_by: str = column(String(32))
    bound_at: datetime = instant()


RUNNING_OUTAGE = "ended_at IS NULL AND deleted_at IS NULL"


@table(
    "outages",
    Index("ix_outages_period", "workspace", "policy", "started_at"),
    Index(
        "uq_outages_running",
        "workspace",
        "policy",
        unique=True,
        sqlite_where=text(RUNNING_OUTAGE),
    ),
)
class OutageRecord(Record):
    """Downtime recorded without a ticket: from ``started_at`` until ``ended_at`` (None: it
    runs), as a lead or a hook said, corrected only through its trail."""

    id: int | None = key()
    workspace: str = column(String(32))
    policy: str = column(String(64))
    channel: str | None = column(String(32), default=None)
    started_at: datetime = instant()
    ended_at: datetime | None = instant(default=None)
    note: str = column(String, default="")
    force_majeure: bool = column(Boolean, default=False)
    cause: str | None = column(String(64), default=None)  # a key of the policy's causes
    started_by: str = column(String(32))
    ended_by: str | None = column(String(32), default=None)
    # an outage a lead deleted (`/sla outage delete`): kept, with who and when (the reason is
    # in its trail); it counts nowhere
    deleted_at: datetime | None = instant(default=None)
    deleted_by: str | None = column(String(32), default=None)


@table(
    "maintenances",
    Index("ix_maintenances_period", "workspace", "policy", "started_at"),
)
class MaintenanceRecord(Record):
    """Planned maintenance: the window from ``started_at`` to ``ended_at`` announced at
    ``announced_at``; ``notice_problems`` says why that broke the policy's notice rule (empty:
    the rule was met, so its minutes are not downtime), decided once, when it was announced."""

    id: int | None = key()
    workspace: str = column(String(32))
    policy: str = column(String(64))
    channel: str | None = column(String(32), default=None)
    started_at: datetime = instant()  # planned
    ended_at: datetime = instant()  # planned
    note: str = column(String, default="")
    announced_at: datetime = instant()
    notice_problems: list[str] = json(list)
    started_by: str = column(String(32))  # who announced it
    # called off (`/sla maintenance cancel`): kept, with who and when; it counts nowhere, and
    # the clock reminds nobody of it
    cancelled_at: datetime | None = instant(default=None)
    cancelled_by: str | None = column(String(32), default=None)


@table(
    "outage_events",
    Index("ix_outage_events_outage", "outage_id", "id"),
)
class OutageEvent(Record):
    """One change to a row of ``outages``, appended and never rewritten: ``before`` and
    ``after`` hold the fields it changed (instants as ISO 8601 strings)."""

    id: int | None = key()
    outage_id: int = column(Integer, foreign_key="outages.id")
    kind: str = column(String(16))  # started, ended, edited, deleted
    actor: str = column(String(32))
    at: datetime = instant()  # when the change was made, not what it says
    before: dict[str, Any] = json()
    after: dict[str, Any] = json()
    reason: str = column(String, default="")


@table(
    "maintenance_events",
    Index("ix_maintenance_events_maintenance", "maintenance_id", "id"),
)
class MaintenanceEvent(Record):
    """One change to a row of ``maintenances``, as `OutageEvent` is to ``outages``."""

    id: int | None = key()
    maintenance_id: int = column(Integer, foreign_key="maintenances.id")
    kind: str = column(String(16))  # announced, cancelled
    actor: str = column(String(32))
    at: datetime = instant()
    before: dict[str, Any] = json()
    after: dict[str, Any] = json()
    reason: str = column(String, default="")


NOTICE_SUBJECT = "(outage_id IS NULL) <> (maintenance_id IS NULL)"
MAINTENANCE_NOTICE = "maintenance_id IS NOT NULL"


@table(
    "notices",
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
class Notice(Delivery):
    """A message owed a channel outside any ticket: planned maintenance's, one per ``stage``
    (``announce``, ``before``, ``start``, ``end``, ``called_off``), or the announcement of a
    change to an outage (``stage``: the change's kind), delivered as a `TimerRow` is
    (`Delivery`). Exactly one of ``outage_id`` and ``maintenance_id`` is set."""

    id: int | None = key()
    outage_id: int | None = column(
        Integer, default=None, foreign_key="outages.id", ondelete="CASCADE"
    )
    maintenance_id: int | None = column(
        Integer, default=None, foreign_key="maintenances.id", ondelete="CASCADE"
    )
    stage: str = column(String(16))
    # An outage's announcement: the change of its trail it announces, and where (None: the
    # outage's channel). Unique per event; the notices of maintenance, per stage.
    event_id: int | None = column(
        Integer, default=None, foreign_key="outage_events.id", ondelete="CASCADE"
    )
    channel: str | None = column(String(32), default=None)


@table(
    "api_tokens",
    Index(
        "uq_api_tokens_live_name",
        "workspace",
        "name",
        unique=True,
        sqlite_where=text("revoked_at IS NULL"),
    ),
)
class ApiToken(Record):
    """A bearer token of the HTTP API; one name per live token and workspace."""

    id: int | None = key()
    workspace: str = column(String(32))
    name: str = column(String(24))
    digest: str = column(String(64), unique=True)  # SHA-256 of the token, hex
    scopes: list[str] = json(list)
    channel: str | None = column(String(32), default=None)  # where its tickets go by default
    created_at: datetime = instant()
    revoked_at: datetime | None = instant(default=None)


@table("api_requests")
class ApiRequest(Record):
    """An API change taken in under an ``Idempotency-Key``, by token."""

    token_id: int = column(
        Integer, primary_key=True, foreign_key="api_tokens.id", ondelete="CASCADE"
    )
    key: str = column(String(100), primary_key=True)
    fingerprint: str = column(String(64))  # SHA-256 of method, path and body
    created_at: datetime = instant()


@table(
    "oncall_overrides",
    Index("ix_oncall_overrides_span", "workspace", "ends_at"),
)
class OnCallOverride(Record):
    """``person`` is on call in ``rotation`` from ``starts_at`` until ``ends_at``."""

    id: int | None = key()
    workspace: str = column(String(32))
    rotation: str = column(String(64))
    person: str = column(String(32))
    starts_at: datetime = instant()
    ends_at: datetime = instant()
    recorded_by: str = column(String(32))
    recorded_at: datetime = instant()


@table(
    "oncall_handoffs",
    UniqueConstraint("workspace", "rotation", "starts_at", name="uq_oncall_handoffs"),
)
class OnCallHandOff(Record):
    """The hand-off to ``person`` at ``starts_at`` in ``rotation``, as the clock performs it."""

    id: int | None = key()
    workspace: str = column(String(32))
    rotation: str = column(String(64))
    starts_at: datetime = instant()
    person: str | None = column(String(32), default=None)  # None: nobody (a calendar's gap)
    state: str = column(String(16))  # sending, pending (to retry), done, gave_up
    tries: int = column(Integer, default=0)
    claimed_by: str | None = column(String(64), default=None)
    claimed_at: datetime | None = instant(default=None)
    first_claimed_at: datetime | None = instant(default=None)
    retry_at: datetime | None = instant(default=None)
    announced_ts: str | None = column(String(32), default=None)  # the post's, or "found"
    done_at: datetime | None = instant(default=None)
    error: str | None = column(String(500), default=None)
