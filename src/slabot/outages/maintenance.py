"""The use cases of ``/sla maintenance``: planned maintenance announced, listed and called
off, and the read the reports use.

Planned maintenance is its own concept, stored in ``maintenances`` (until migration 0019 it was
a row of ``outages`` of kind ``maintenance``): a window announced ahead, whose minutes count as
downtime only when the announcement broke the policy's notice rule. It lives beside the
outages because both are downtime a policy's uptime counts, and both are announced through the
same notices (`slabot.outages.notices`) and kept in a trail (`slabot.outages.trail`).

* Planned maintenance is always recorded, even when it breaks the policy's notice rule: the
  maintenance happens anyway, and the record is what makes its minutes count as downtime.
  Whether the rule was met is decided once, when it is announced (`maintenance_problems`),
  and kept with the row (``notice_problems``), so a later edit of the policy file cannot
  turn an announced maintenance into downtime or back.
* What it owes its channel (its announcement, the reminders before, at the start and at the
  end, and the news that it is called off) is written in the change's transaction
  (`slabot.outages.notices`), for the clock to deliver; ``owed`` is told once that transaction
  has committed, as for `slabot.outages.Outages`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..refusals import AlreadyDone, Invalid, NotFound
from ..sla.figures import Interruption, maintenance_problems
from ..store.tables import MaintenanceRecord
from . import trail
from .notices import call_off, owe_notices
from .service import Recorder, clean_note, policy_named

MAX_MAINTENANCE = timedelta(days=7)  # longer is a typo (a unit), not a maintenance window
SOONEST = (MaintenanceRecord.c.started_at, MaintenanceRecord.c.id)


class Maintenances(Recorder):
    """Planned maintenance: announced (with its notice rule checked once), previewed, listed,
    called off, and read for the month's figures."""

    def plan(
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
    ) -> tuple[MaintenanceRecord, list[str]]:
        """Record planned maintenance announced at ``now``; the list says why it breaks the
        policy's notice rule (empty: the rule is met, and its minutes are not downtime)."""
        chosen = policy_named(self.policies, policy)
        self.roles.allow("maintenance", workspace, actor, now)
        note = clean_note(note)
        problems = self.preview(chosen.name, start, duration, now=now)
        with self.store.writing() as session:
            record = MaintenanceRecord(
                workspace=workspace,
                policy=chosen.name,
                channel=channel,
                started_at=start,
                ended_at=start + duration,
                note=note,
                announced_at=now,
                notice_problems=problems,
                started_by=actor,
            )
            session.add(record)
            trail.append(session, record, "announced", actor=actor, at=now)
            owe_notices(session, record)
        self._announced(record.channel)
        return record, problems

    def preview(
        self, policy: str, start: datetime, duration: timedelta, *, now: datetime
    ) -> list[str]:
        """Why maintenance announced at ``now`` would break the policy's notice rule (empty:
        it would meet it), recording nothing: what a lead checks before announcing it."""
        chosen = policy_named(self.policies, policy)
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

    def upcoming(self, workspace: str, policy: str, now: datetime) -> list[MaintenanceRecord]:
        """``policy``'s maintenance in ``workspace`` not over at ``now`` and not called off,
        soonest first: what ``/sla maintenance list`` shows, each with its ID to cancel."""
        chosen = policy_named(self.policies, policy)
        query = select(MaintenanceRecord).where(
            MaintenanceRecord.c.workspace == workspace,
            MaintenanceRecord.c.policy == chosen.name,
            MaintenanceRecord.c.ended_at > now,
            MaintenanceRecord.c.cancelled_at.is_(None),
        )
        with self.store.reading() as session:
            return list(session.exec(query.order_by(*SOONEST)))

    def cancel(
        self, workspace: str, policy: str, ident: int, *, actor: str, now: datetime
    ) -> MaintenanceRecord:
        """Call off maintenance ``ident`` before it starts: the row stays, with who called it
        off and when, and counts nowhere after that (a typo must not become downtime). One
        already begun is not called off: it happened, and its notice counts as announced."""
        chosen = policy_named(self.policies, policy)
        self.roles.allow("maintenance", workspace, actor, now)
        with self.store.writing() as session:
            record = session.exec(
                select(MaintenanceRecord)
                .where(
                    MaintenanceRecord.c.id == ident,
                    MaintenanceRecord.c.workspace == workspace,
                    MaintenanceRecord.c.policy == chosen.name,
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
            trail.append(session, record, "cancelled", actor=actor, at=now)
            call_off(session, record)
            session.refresh(record)
        self._announced(record.channel)
        return record

    # -- reading -----------------------------------------------------------------------------

    def records(
        self, workspaces: list[str], policy: str, start: datetime, end: datetime
    ) -> list[MaintenanceRecord]:
        """The maintenance of ``policy`` in ``workspaces`` overlapping [start, end) and not
        called off (it never happened), soonest first."""
        query = select(MaintenanceRecord).where(
            MaintenanceRecord.c.workspace.in_(workspaces),
            MaintenanceRecord.c.policy == policy,
            MaintenanceRecord.c.started_at < end,
            MaintenanceRecord.c.ended_at > start,
            MaintenanceRecord.c.cancelled_at.is_(None),
        )
        with self.store.reading() as session:
            return list(session.exec(query.order_by(*SOONEST)))


def as_spell(record: MaintenanceRecord) -> Interruption:
    """A stored maintenance as the core's spell of downtime that `slabot.sla.figures.uptime`
    counts: excluded from downtime only when its notice rule was met when it was announced."""
    return Interruption(
        record.started_at,
        record.ended_at,
        record.note,
        planned=True,
        notice_met=not record.notice_problems,
    )
