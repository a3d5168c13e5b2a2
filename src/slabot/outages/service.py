"""The use cases of ``/sla outage start|end`` and ``/sla maintenance``, and the read reports use.

Each use case is one transaction (``store.writing()``). A refusal raises a `TicketError`
(`Invalid`, `AlreadyDone`, `NotFound`) before anything is written, with a message that says
what to do, as the ticket use cases do, so the Slack side shows both alike.

* At most one unplanned outage runs per workspace and policy. The use case looks for one
  first (for a message that names it); a partial unique index (``uq_outages_running``) makes
  the loser of two starts at the same instant fail too, and that is reported the same way.
* Planned maintenance is always recorded, even when it breaks the policy's notice rule: the
  maintenance happens anyway, and the record is what makes its minutes count as downtime.
  Whether the rule was met is decided once, when it is announced (`maintenance_problems`),
  and kept with the row (``notice_problems``), so a later edit of the policy file cannot
  turn an announced maintenance into downtime or back.
* What maintenance owes its channel (the reminders before, at the start and at the end) is
  written with it and deleted when it is called off (`slabot.outages.notices`), for the clock
  to deliver.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..oncall import OnCall
from ..policies import PolicyBook
from ..refusals import AlreadyDone, Invalid, NotFound
from ..sla import Policy
from ..sla.figures import Outage, maintenance_problems
from ..sla.oncall import Team
from ..store import Store
from ..store.tables import OutageRecord
from .notices import call_off, owe_notices

MAX_NOTE = 3000
MAX_MAINTENANCE = timedelta(days=7)  # longer is a typo (a unit), not a maintenance window


class Outages:
    def __init__(self, store: Store, policies: PolicyBook, *, roles: OnCall | None = None):
        """``roles``: who may record outages and announce maintenance (the deployment's team
        and admins); without it, nobody may (readers such as the reports only read)."""
        self.store = store
        self.policies = policies
        self.roles = roles or OnCall(store, Team())

    # -- unplanned outages -------------------------------------------------------------------

    def start(
        self,
        workspace: str,
        policy: str,
        *,
        channel: str | None,
        actor: str,
        now: datetime,
        note: str = "",
        force_majeure: bool = False,
        cause: str | None = None,
    ) -> OutageRecord:
        """Record that the service is down from ``now`` until `end` is called; ``cause`` is
        a key of the policy's ``uptime.causes`` (force majeure is also the old flag)."""
        chosen = self._policy(policy)
        self.roles.allow("outage", workspace, actor, now)
        note = _note(note)
        causes = chosen.uptime.causes if chosen.uptime else {}
        if cause is not None and cause not in causes:
            known = ", ".join(causes) or "none: the policy names no causes"
            raise Invalid(f"unknown cause {cause!r} for the {chosen.name} policy: use {known}")
        try:
            with self.store.writing() as session:
                running = self._running(session, workspace, chosen.name)
                if running is not None:
                    raise _already_running(running)
                record = OutageRecord(
                    workspace=workspace,
                    policy=chosen.name,
                    channel=channel,
                    kind="outage",
                    started_at=now,
                    note=note,
                    force_majeure=force_majeure,
                    cause=cause,
                    started_by=actor,
                )
                session.add(record)
                session.flush()
        except IntegrityError:
            # Another start for the same workspace and policy committed first.
            with self.store.reading() as session:
                running = self._running(session, workspace, chosen.name, lock=False)
            if running is None:
                raise
            raise _already_running(running) from None
        return record

    def end(
        self, workspace: str, policy: str, *, actor: str, now: datetime, note: str = ""
    ) -> OutageRecord:
        """End the running outage of this workspace and policy at ``now``; a note is added to
        the one given at the start."""
        chosen = self._policy(policy)
        self.roles.allow("outage", workspace, actor, now)
        note = _note(note)
        with self.store.writing() as session:
            record = self._running(session, workspace, chosen.name)
            if record is None:
                raise NotFound(
                    f"no outage of {chosen.name} is running in this workspace: start one with "
                    "/sla outage start [note]"
                )
            if now < record.started_at:
                raise Invalid("an outage cannot end before it started")
            record.ended_at, record.ended_by = now, actor
            if note:
                record.note = f"{record.note}\n{note}" if record.note else note
            session.add(record)
        return record

    # -- planned maintenance -----------------------------------------------------------------

    def plan_maintenance(
        self,
        workspace: str,
        policy: str,
        start: datetime,
        duration: timedelta,
        *,
        channel: str | None,
        actor: str,
        now: datetime,
        note: str = "",
    ) -> tuple[OutageRecord, list[str]]:
        """Record planned maintenance announced at ``now``; the list says why it breaks the
        policy's notice rule (empty: the rule is met, and its minutes are not downtime)."""
        chosen = self._policy(policy)
        self.roles.allow("maintenance", workspace, actor, now)
        note = _note(note)
        problems = self.preview(chosen.name, start, duration, now=now)
        with self.store.writing() as session:
            record = OutageRecord(
                workspace=workspace,
                policy=chosen.name,
                channel=channel,
                kind="maintenance",
                started_at=start,
                ended_at=start + duration,
                note=note,
                announced_at=now,
                notice_problems=problems,
                started_by=actor,
            )
            session.add(record)
            session.flush()
            owe_notices(session, record)
        return record, problems

    def preview(
        self, policy: str, start: datetime, duration: timedelta, *, now: datetime
    ) -> list[str]:
        """Why maintenance announced at ``now`` would break the policy's notice rule (empty:
        it would meet it), recording nothing: what a lead checks before announcing it."""
        chosen = self._policy(policy)
        if duration <= timedelta(0):
            raise Invalid("maintenance must last longer than zero: give a duration such as 2h")
        if duration > MAX_MAINTENANCE:
            raise Invalid(
                f"maintenance of more than {MAX_MAINTENANCE.days} days is not a maintenance "
                "window: check the duration (such as 2h or 90m)"
            )
        if start < now:
            raise Invalid(
                "that start is in the past: planned maintenance is announced before it starts "
                "(for downtime already going on, use /sla outage start)"
            )
        return maintenance_problems(chosen, start, duration, now)

    def upcoming(self, workspace: str, policy: str, now: datetime) -> list[OutageRecord]:
        """``policy``'s maintenance in ``workspace`` not over at ``now`` and not called off,
        soonest first: what ``/sla maintenance list`` shows, each with its ID to cancel."""
        chosen = self._policy(policy)
        query = select(OutageRecord).where(
            OutageRecord.workspace == workspace,
            OutageRecord.policy == chosen.name,
            OutageRecord.kind == "maintenance",
            col(OutageRecord.ended_at) > now,
            col(OutageRecord.cancelled_at).is_(None),
        )
        with self.store.reading() as session:
            return list(
                session.exec(query.order_by(col(OutageRecord.started_at), col(OutageRecord.id)))
            )

    def cancel(
        self, workspace: str, policy: str, ident: int, *, actor: str, now: datetime
    ) -> OutageRecord:
        """Call off maintenance ``ident`` before it starts: the row stays, with who called it
        off and when, and counts nowhere after that (a typo must not become downtime). One
        already begun is not called off: it happened, and its notice counts as announced."""
        chosen = self._policy(policy)
        self.roles.allow("maintenance", workspace, actor, now)
        with self.store.writing() as session:
            record = session.exec(
                select(OutageRecord)
                .where(
                    OutageRecord.id == ident,
                    OutageRecord.workspace == workspace,
                    OutageRecord.policy == chosen.name,
                    OutageRecord.kind == "maintenance",
                )
                .with_for_update()
            ).first()
            if record is None:
                raise NotFound(
                    f"there is no maintenance {ident} of {chosen.name} in this workspace: "
                    "/sla maintenance list shows each one's ID"
                )
            if record.cancelled_at is not None:
                raise AlreadyDone(
                    f"maintenance {ident} was called off already, by {{who}}",
                    people={"who": record.cancelled_by or "someone"},
                )
            if record.started_at <= now:
                raise Invalid(
                    f"maintenance {ident} has begun: it can no longer be called off (end it "
                    "early by noting it on the announcement)"
                )
            record.cancelled_at, record.cancelled_by = now, actor
            session.add(record)
            session.flush()
            call_off(session, record)
            session.refresh(record)
        return record

    # -- reading -----------------------------------------------------------------------------

    def records(
        self,
        workspaces: list[str],
        policy: str,
        start: datetime,
        end: datetime,
        *,
        kind: str | None = None,
    ) -> list[OutageRecord]:
        """The rows of ``policy`` in ``workspaces`` that overlap [start, end), oldest first."""
        query = select(OutageRecord).where(
            OutageRecord.workspace.in_(workspaces),  # type: ignore[attr-defined]
            OutageRecord.policy == policy,
            OutageRecord.started_at < end,
            or_(col(OutageRecord.ended_at).is_(None), col(OutageRecord.ended_at) > start),
            col(OutageRecord.cancelled_at).is_(None),  # called off: it never happened
        )
        if kind is not None:
            query = query.where(OutageRecord.kind == kind)
        with self.store.reading() as session:
            return list(
                session.exec(query.order_by(col(OutageRecord.started_at), col(OutageRecord.id)))
            )

    def between(
        self, workspaces: list[str], policy: str, start: datetime, end: datetime
    ) -> list[Outage]:
        """The stored outages and maintenance of ``policy`` overlapping [start, end), as the
        pure core's `Outage` values that `slabot.sla.figures.uptime` counts."""
        return [as_outage(r) for r in self.records(workspaces, policy, start, end)]

    # -- helpers -----------------------------------------------------------------------------

    def _policy(self, name: str) -> Policy:
        try:
            return self.policies.get(name)
        except KeyError as exc:
            raise Invalid(str(exc.args[0])) from None

    def _running(
        self, session: Session, workspace: str, policy: str, *, lock: bool = True
    ) -> OutageRecord | None:
        query = select(OutageRecord).where(
            OutageRecord.workspace == workspace,
            OutageRecord.policy == policy,
            OutageRecord.kind == "outage",
            OutageRecord.ended_at.is_(None),  # type: ignore[union-attr]
        )
        if lock:
            query = query.with_for_update()
        return session.exec(query).first()


def as_outage(record: OutageRecord) -> Outage:
    """A stored row as the core's `Outage`: maintenance is excluded from downtime only when
    its notice rule was met when it was announced."""
    planned = record.kind == "maintenance"
    return Outage(
        record.started_at,
        record.ended_at,
        record.note,
        planned=planned,
        notice_met=(not record.notice_problems) if planned else None,
        force_majeure=record.force_majeure,
        cause=record.cause,
    )


def _note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"the note is {len(note)} characters; keep it under {MAX_NOTE}")
    return note


def _already_running(record: OutageRecord) -> AlreadyDone:
    return AlreadyDone(
        f"an outage of {record.policy} is already running since {{since}} (started by "
        "{who}): end it with /sla outage end [note] before starting another",
        people={"who": record.started_by},
        times={"since": record.started_at},
    )
