"""The use cases of ``/sla outage``, and the read reports use (planned maintenance is
`slabot.outages.maintenance`'s).

Each use case is one transaction (``store.writing()``). A refusal raises a `TicketError`
(`Invalid`, `AlreadyDone`, `NotFound`) before anything is written, with a message that says
what to do, as the ticket use cases do, so the Slack side shows both alike.

* At most one unplanned outage runs per workspace and policy. The use case looks for one
  first (for a message that names it); a partial unique index (``uq_outages_running``) makes
  the loser of two starts at the same instant fail too, and that is reported the same way.
* A start or an end may be backdated (``at``), and a lead may edit or delete an outage
  recorded (`edit`, `delete`; the ``correct_outage`` role): each spell is checked as
  `spans.check_span` says, and every change to a row is appended to its trail (`trail`) in the
  same transaction. A deleted outage keeps its row and counts nowhere.
* The announcement of each change to an outage (``announce_in``) is written in the change's
  transaction (`slabot.outages.notices`), for the clock to deliver; ``owed`` is told once that
  transaction has committed (``serve`` wakes its clock, as `slabot.tickets.Tickets.when_owed`
  does for tickets).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..oncall import OnCall
from ..policies import PolicyBook
from ..refusals import AlreadyDone, Invalid, NotFound
from ..sla import Policy
from ..sla.figures import Interruption
from ..sla.oncall import Team
from ..store import Store
from ..store.records import Session
from ..store.tables import OutageRecord
from . import trail
from .notices import owe_announcement
from .spans import check_span
from .trail import Change

MAX_NOTE = 3000
MAX_REASON = 2000
RECENT = 10  # the outages `/sla outage list` shows
NO_CAUSE = "none"  # `cause:none` takes an outage's cause away


class Recorder:
    """What the use cases of outages and of maintenance share: the store, the policies, who
    may record, and whom to tell that a committed change owes Slack a message."""

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

    def _announced(self, channel: str | None) -> None:
        """A change owing ``channel`` a message has committed: say so (`owed`)."""
        if channel:
            self.owed()


class Outages(Recorder):
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
        chosen = policy_named(self.policies, policy)
        self.roles.allow("outage", workspace, actor, now)
        note = clean_note(note)
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
        chosen = policy_named(self.policies, policy)
        self.roles.allow("outage", workspace, actor, now)
        note = clean_note(note)
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
        chosen = policy_named(self.policies, policy)
        self.roles.allow("correct_outage", workspace, actor, now)
        if cause is not None and cause != NO_CAUSE:
            _cause(chosen, cause)
        note = None if note is None else clean_note(note)
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
        chosen = policy_named(self.policies, policy)
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
        chosen = policy_named(self.policies, policy)
        query = select(OutageRecord).where(
            OutageRecord.c.workspace == workspace,
            OutageRecord.c.policy == chosen.name,
            OutageRecord.c.deleted_at.is_(None),
        )
        order = (OutageRecord.c.started_at.desc(), OutageRecord.c.id.desc())
        with self.store.reading() as session:
            return list(session.exec(query.order_by(*order).limit(RECENT)))

    def history(self, workspace: str, policy: str, ident: int) -> tuple[OutageRecord, list[Change]]:
        """Outage ``ident`` as it stands (deleted or not) and its trail."""
        chosen = policy_named(self.policies, policy)
        with self.store.reading() as session:
            record = self._find(session, workspace, chosen.name, ident)
            if record is None:
                raise _unknown(ident, chosen.name)
            return record, trail.changes(session, record)

    # -- reading -----------------------------------------------------------------------------

    def records(
        self, workspaces: list[str], policy: str, start: datetime, end: datetime
    ) -> list[OutageRecord]:
        """The outages of ``policy`` in ``workspaces`` that overlap [start, end), deleted ones
        aside, oldest first."""
        query = select(OutageRecord).where(
            OutageRecord.c.workspace.in_(workspaces),
            OutageRecord.c.policy == policy,
            OutageRecord.c.started_at < end,
            or_(OutageRecord.c.ended_at.is_(None), OutageRecord.c.ended_at > start),
            OutageRecord.c.deleted_at.is_(None),  # deleted by a lead: recorded by mistake
        )
        with self.store.reading() as session:
            return list(session.exec(query.order_by(OutageRecord.c.started_at, OutageRecord.c.id)))

    def between(
        self, workspaces: list[str], policy: str, start: datetime, end: datetime
    ) -> list[Interruption]:
        """`records` as the pure core's `Interruption` values that `slabot.sla.figures.uptime`
        counts."""
        return [as_outage(r) for r in self.records(workspaces, policy, start, end)]

    # -- helpers -----------------------------------------------------------------------------

    def _running(
        self, session: Session, workspace: str, policy: str, *, lock: bool = True
    ) -> OutageRecord | None:
        query = select(OutageRecord).where(
            OutageRecord.c.workspace == workspace,
            OutageRecord.c.policy == policy,
            OutageRecord.c.ended_at.is_(None),
            OutageRecord.c.deleted_at.is_(None),
        )
        if lock:
            query = query.with_for_update()
        return session.exec(query).first()

    def _find(
        self, session: Session, workspace: str, policy: str, ident: int, *, lock: bool = False
    ) -> OutageRecord | None:
        query = select(OutageRecord).where(
            OutageRecord.c.id == ident,
            OutageRecord.c.workspace == workspace,
            OutageRecord.c.policy == policy,
        )
        return session.exec(query.with_for_update() if lock else query).first()

    def _recorded(self, session: Session, workspace: str, policy: str, ident: int) -> OutageRecord:
        """Outage ``ident``, locked, that a lead may still correct; else refuse, saying why."""
        record = self._find(session, workspace, policy, ident, lock=True)
        if record is None:
            raise _unknown(ident, policy)
        if record.deleted_at is not None:
            raise AlreadyDone(
                f"outage #{ident} was deleted by {{who}} on {{when}}: it counts nowhere, and "
                "is kept only in its trail",
                people={"who": record.deleted_by or "someone"},
                times={"when": record.deleted_at},
            )
        return record


def as_outage(record: OutageRecord) -> Interruption:
    """A stored outage as the core's `Interruption`, the spell of downtime `uptime` counts."""
    return Interruption(
        record.started_at,
        record.ended_at,
        record.note,
        force_majeure=record.force_majeure,
        cause=record.cause,
    )


def policy_named(policies: PolicyBook, name: str) -> Policy:
    """The deployment's policy ``name``, or `Invalid` listing the known ones."""
    try:
        return policies.get(name)
    except KeyError as exc:
        raise Invalid(str(exc.args[0])) from None


def clean_note(note: str) -> str:
    """A lead's note, trimmed; refused when too long to show."""
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
