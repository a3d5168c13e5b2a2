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
* A start or an end may be backdated (``at``), and a lead may edit or delete an outage
  recorded (`edit`, `delete`; the ``correct_outage`` role): each spell is checked as
  `spans.check_span` says, and every change to a row is appended to its trail (`trail`) in the
  same transaction. A deleted outage keeps its row and counts nowhere.
* What maintenance owes its channel (its announcement, the reminders before, at the start
  and at the end, and the news that it is called off), and the announcement of each change a
  lead makes to an outage (``announce_in``), is written in the change's transaction
  (`slabot.outages.notices`), for the clock to deliver; ``owed`` is told once that
  transaction has committed (``serve`` wakes its clock, as `slabot.tickets.Tickets.when_owed`
  does for tickets).
"""

from __future__ import annotations

from collections.abc import Callable
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
from . import trail
from .notices import call_off, owe_announcement, owe_notices
from .spans import check_span
from .trail import Change

MAX_NOTE = 3000
MAX_MAINTENANCE = timedelta(days=7)  # longer is a typo (a unit), not a maintenance window
MAX_REASON = 2000
RECENT = 10  # the outages `/sla outage list` shows
NO_CAUSE = "none"  # `cause:none` takes an outage's cause away


class Outages:
    def __init__(
        self,
        store: Store,
        policies: PolicyBook,
        *,
        roles: OnCall | None = None,
        owed: Callable[[], None] = lambda: None,
    ):
        """``roles``: who may record outages and announce maintenance (the deployment's team
        and admins); without it, nobody may (readers such as the reports only read).
        ``owed``: called after a change that owes Slack a message has committed."""
        self.store = store
        self.policies = policies
        self.roles = roles or OnCall(store, Team())
        self.owed = owed

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
        at: datetime | None = None,
        announce_in: str | None = None,
    ) -> OutageRecord:
        """Record at ``now`` that the service is down from ``at`` (default: ``now``; earlier
        when typed late) until `end` is called; ``cause`` is a key of the policy's
        ``uptime.causes`` (force majeure is also the old flag). ``announce_in``: the channel
        owed its announcement (None: announced nowhere, as a hook's own outages)."""
        chosen = self._policy(policy)
        self.roles.allow("outage", workspace, actor, now)
        note = _note(note)
        _cause(chosen, cause)
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
                    started_at=at or now,
                    note=note,
                    force_majeure=force_majeure,
                    cause=cause,
                    started_by=actor,
                )
                check_span(session, record, record.started_at, None, now)
                session.add(record)
                change = trail.append(session, record, "started", actor=actor, at=now)
                owe_announcement(session, record, change, announce_in)
        except IntegrityError:
            # Another start for the same workspace and policy committed first.
            with self.store.reading() as session:
                running = self._running(session, workspace, chosen.name, lock=False)
            if running is None:
                raise
            raise _already_running(running) from None
        self._announced(announce_in)
        return record

    def end(
        self,
        workspace: str,
        policy: str,
        *,
        actor: str,
        now: datetime,
        note: str = "",
        at: datetime | None = None,
        announce_in: str | None = None,
    ) -> OutageRecord:
        """End the running outage of this workspace and policy at ``at`` (default: ``now``;
        earlier when typed late), recorded at ``now``; a note is added to the one given at
        the start. ``announce_in``: as for `start`."""
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
            before = trail.fields(record)
            check_span(session, record, record.started_at, at or now, now)
            record.ended_at, record.ended_by = at or now, actor
            if note:
                record.note = f"{record.note}\n{note}" if record.note else note
            session.add(record)
            change = trail.append(session, record, "ended", actor=actor, at=now, before=before)
            owe_announcement(session, record, change, announce_in)
        self._announced(announce_in)
        return record

    # -- a lead's corrections ------------------------------------------------------------------

    def edit(
        self,
        workspace: str,
        policy: str,
        ident: int,
        *,
        actor: str,
        now: datetime,
        start: datetime | None = None,
        end: datetime | None = None,
        cause: str | None = None,
        note: str | None = None,
        reason: str = "",
        announce_in: str | None = None,
    ) -> tuple[OutageRecord, Change]:
        """Correct outage ``ident``: its start, its end (ending it, if it runs), its cause
        (`NO_CAUSE` takes it away) or its note; None leaves a field as it is. Leads and
        admins only (the ``correct_outage`` role); the change and ``reason`` go to its trail.
        ``announce_in``: the lead's channel; the correction is owed to the outage's own
        channel if it has one, else there (None: announced nowhere)."""
        chosen = self._policy(policy)
        self.roles.allow("correct_outage", workspace, actor, now)
        if cause is not None and cause != NO_CAUSE:
            _cause(chosen, cause)
        note = None if note is None else _note(note)
        reason = _reason(reason, required=False)
        with self.store.writing() as session:
            record = self._recorded(session, workspace, chosen.name, ident)
            before = trail.fields(record)
            check_span(session, record, start or record.started_at, end or record.ended_at, now)
            if start is not None:
                record.started_at = start
            if end is not None:
                record.ended_by = record.ended_by or actor
                record.ended_at = end
            if cause is not None:
                record.cause = None if cause == NO_CAUSE else cause
            if note is not None:
                record.note = note
            if trail.fields(record) == before:
                raise AlreadyDone(f"outage #{ident} already says that: nothing changed")
            session.add(record)
            change = trail.append(
                session, record, "edited", actor=actor, at=now, before=before, reason=reason
            )
            where = announce_in and (record.channel or announce_in)
            owe_announcement(session, record, change, where)
        self._announced(where)
        return record, change

    def delete(
        self,
        workspace: str,
        policy: str,
        ident: int,
        *,
        reason: str,
        actor: str,
        now: datetime,
        announce_in: str | None = None,
    ) -> tuple[OutageRecord, Change]:
        """Delete outage ``ident``, recorded by mistake: its row stays, with who deleted it
        and when, and counts nowhere after that; its trail keeps it and ``reason``. Leads
        and admins only (the ``correct_outage`` role). ``announce_in``: as for `edit`."""
        chosen = self._policy(policy)
        self.roles.allow("correct_outage", workspace, actor, now)
        reason = _reason(reason, required=True)
        with self.store.writing() as session:
            record = self._recorded(session, workspace, chosen.name, ident)
            record.deleted_at, record.deleted_by = now, actor
            session.add(record)
            change = trail.append(session, record, "deleted", actor=actor, at=now, reason=reason)
            where = announce_in and (record.channel or announce_in)
            owe_announcement(session, record, change, where)
        self._announced(where)
        return record, change

    def recent(self, workspace: str, policy: str) -> list[OutageRecord]:
        """``policy``'s latest outages in ``workspace`` (deleted ones aside), newest first:
        what ``/sla outage list`` shows, each with its ID to edit or delete."""
        chosen = self._policy(policy)
        query = select(OutageRecord).where(
            OutageRecord.workspace == workspace,
            OutageRecord.policy == chosen.name,
            OutageRecord.kind == "outage",
            col(OutageRecord.deleted_at).is_(None),
        )
        order = (col(OutageRecord.started_at).desc(), col(OutageRecord.id).desc())
        with self.store.reading() as session:
            return list(session.exec(query.order_by(*order).limit(RECENT)))

    def history(self, workspace: str, policy: str, ident: int) -> tuple[OutageRecord, list[Change]]:
        """Outage or maintenance ``ident`` as it stands (deleted or not) and its trail."""
        chosen = self._policy(policy)
        with self.store.reading() as session:
            record = self._find(session, workspace, chosen.name, ident)
            if record is None:
                raise _unknown(ident, chosen.name)
            return record, trail.changes(session, ident)

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
            trail.append(session, record, "announced", actor=actor, at=now)
            owe_notices(session, record)
        self._announced(record.channel)
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
            trail.append(session, record, "cancelled", actor=actor, at=now)
            call_off(session, record)
            session.refresh(record)
        self._announced(record.channel)
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
            col(OutageRecord.deleted_at).is_(None),  # deleted by a lead: recorded by mistake
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

    def _announced(self, channel: str | None) -> None:
        """A change owing ``channel`` an announcement has committed: say so (`owed`)."""
        if channel:
            self.owed()

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
            col(OutageRecord.deleted_at).is_(None),
        )
        if lock:
            query = query.with_for_update()
        return session.exec(query).first()

    def _find(
        self, session: Session, workspace: str, policy: str, ident: int, *, lock: bool = False
    ) -> OutageRecord | None:
        query = select(OutageRecord).where(
            OutageRecord.id == ident,
            OutageRecord.workspace == workspace,
            OutageRecord.policy == policy,
        )
        return session.exec(query.with_for_update() if lock else query).first()

    def _recorded(self, session: Session, workspace: str, policy: str, ident: int) -> OutageRecord:
        """Outage ``ident``, locked, that a lead may still correct; else refuse, saying why."""
        record = self._find(session, workspace, policy, ident, lock=True)
        if record is None:
            raise _unknown(ident, policy)
        if record.kind != "outage":
            raise Invalid(
                f"#{ident} is planned maintenance, not an outage: call it off with "
                f"/sla maintenance cancel {ident}"
            )
        if record.deleted_at is not None:
            raise AlreadyDone(
                f"outage #{ident} was deleted by {{who}} on {{when}}: it counts nowhere, and "
                "is kept only in its trail",
                people={"who": record.deleted_by or "someone"},
                times={"when": record.deleted_at},
            )
        return record


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


def _cause(policy: Policy, cause: str | None) -> None:
    """Refuse a cause that is not a key of the policy's ``uptime.causes``, listing them."""
    causes = policy.uptime.causes if policy.uptime else {}
    if cause is not None and cause not in causes:
        known = ", ".join(causes) or "none: the policy names no causes"
        raise Invalid(f"unknown cause {cause!r} for the {policy.name} policy: use {known}")


def _reason(reason: str, *, required: bool) -> str:
    reason = reason.strip()
    if required and not reason:
        raise Invalid("say why, for the audit trail: such as reason:recorded twice by mistake")
    if len(reason) > MAX_REASON:
        raise Invalid(f"keep the reason under {MAX_REASON} characters")
    return reason


def _unknown(ident: int, policy: str) -> NotFound:
    return NotFound(
        f"there is no outage #{ident} of {policy} in this workspace: /sla outage list shows "
        "each one's ID"
    )


def _already_running(record: OutageRecord) -> AlreadyDone:
    return AlreadyDone(
        f"an outage of {record.policy} is already running since {{since}} (started by "
        "{who}): end it with /sla outage end [note] before starting another",
        people={"who": record.started_by},
        times={"since": record.started_at},
    )
