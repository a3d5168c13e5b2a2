"""The owner of ``notices``: what planned maintenance and a lead's changes to an outage owe a
channel, and the clock's claims and outcomes of it. No other module writes the table. Each
notice names its maintenance (``maintenance_id``) or its outage (``outage_id``).

Planned maintenance owes its channel an announcement (stage ``announce``), then three
reminders: `LEAD` before it starts, when it starts, and when it ends (its planned end). Each
is a notice written in the transaction that plans the maintenance (`owe_notices`; no reminder
before the start when it was planned less than `LEAD` ahead: the announcement was the
warning). Calling it off (`call_off`) deletes the reminders not yet posted and owes the
channel a last notice, ``called_off``, in the same transaction. The lead who typed is
answered at once; the clock posts the announcements, as it posts the reminders (issue 11:
every message slabot owes Slack is written with the change that caused it, and performed by
one delivery path with one exactly-once rule).

The clock delivers them as it delivers a ticket's timers, with the same exactly-once rule:
claimed (``sending``, with ``claimed_at``/``claimed_by`` and ``first_claimed_at``) in one
short transaction, posted with metadata naming the notice, recorded in another. A claim
older than the lease was left by a dead clock and is taken over; a notice whose post may have
arrived unrecorded (taken over, or its answer never came: ``doubtful``) is looked for in the
channel from its first claim before anything is posted again. A Slack failure that may pass
puts the notice back with a capped backoff for as long as it is owed; one only a person can
fix makes it ``dead``.

An outage started, ended, edited or deleted from Slack owes the channel its announcement
(`owe_announcement`), a notice naming the change of the outage's trail it announces
(``event_id``; its ``stage`` is the change's kind), written in the change's transaction.

**Late.** A reminder is owed only while it still means something (`Claimed.stale`): the one
before the start until the maintenance starts, the one at the start until it ends, none once
the maintenance is called off. The end is always said, however late, since it closes the
story; so are the announcement and its calling off, since the channel may have seen the one
and must then hear the other (both go out, in that order, after a long Slack outage). Each
maintenance's notices go in order: one waits while an earlier one is retrying or being
posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update

from ..store import Store
from ..store.queue import requeue_dead, seen_as, update_by_id
from ..store.records import Session
from ..store.tables import MaintenanceRecord, Notice, OutageEvent, OutageRecord
from . import trail
from .trail import Change

NOTICES = Notice.__table__
# An hour ahead: enough to finish or park work in progress and tell anyone on a call, and
# close enough to the start that nobody has forgotten it again by then. (The announcement
# came at least the policy's notice earlier, 48 hours for LeadSquared.)
LEAD = timedelta(hours=1)
BEFORE, START, END = "before", "start", "end"
ANNOUNCE, CALLED_OFF = "announce", "called_off"
REMINDERS = (BEFORE, START, END)  # what calling the maintenance off makes needless
# What a lead's command owes, at once: maintenance announced or called off, and each change
# to an outage (a stage named after the change's kind in its trail).
OUTAGE_CHANGES = ("started", "ended", "edited", "deleted")
ANNOUNCEMENTS = (ANNOUNCE, CALLED_OFF, *OUTAGE_CHANGES)


def owe_notices(session: Session, record: MaintenanceRecord) -> None:
    """What maintenance ``record`` (just added in ``session``, announced at its
    ``announced_at``) owes its channel: the announcement and the reminders; nothing without a
    channel."""
    if not record.channel:
        return
    assert record.id is not None  # set by the use case
    start, end = record.started_at, record.ended_at
    due = {ANNOUNCE: record.announced_at}
    if record.announced_at < start - LEAD:
        due[BEFORE] = start - LEAD
    due |= {START: start, END: end}
    _owe(session, record, due)


def owe_announcement(
    session: Session, record: OutageRecord, change: Change, channel: str | None
) -> None:
    """What ``change`` (just appended to outage ``record``'s trail) owes ``channel``: its
    announcement, due at once; nothing without a channel."""
    if not channel:
        return
    assert change.id is not None and change.kind in OUTAGE_CHANGES
    extra = {"event_id": change.id, "channel": channel}
    _owe(session, record, {change.kind: change.at}, extra)


def _owe(
    session: Session,
    record: OutageRecord | MaintenanceRecord,
    due: dict[str, datetime],
    extra: dict[str, Any] | None = None,
) -> None:
    """``record``'s notices of ``due`` (stage: when), pending."""
    planned = isinstance(record, MaintenanceRecord)
    rows: list[dict[str, Any]] = [
        {
            "outage_id": None if planned else record.id,
            "maintenance_id": record.id if planned else None,
            "stage": stage,
            "due_at": at,
            "next_attempt_at": at,
            "state": "pending",
            "attempts": 0,
            "detail": {},
            "event_id": None,
            "channel": None,
            **(extra or {}),
        }
        for stage, at in due.items()
    ]
    session.execute(insert(NOTICES), rows)


def call_off(session: Session, record: MaintenanceRecord) -> None:
    """Maintenance ``record``, called off at its ``cancelled_at``, owes no more reminders (one
    being posted finishes; a claimed one finds the maintenance called off and is dropped), and
    owes its channel the news. The announcement, if not posted yet, still goes first."""
    if not record.channel:
        return
    assert record.cancelled_at is not None  # set by the use case
    session.execute(
        delete(Notice).where(
            Notice.c.maintenance_id == record.id,
            Notice.c.stage.in_(REMINDERS),
            Notice.c.state == "pending",
        )
    )
    _owe(session, record, {CALLED_OFF: record.cancelled_at})


@dataclass(frozen=True)
class Claimed:
    """A notice the clock claimed (its row as it was before the claim), its maintenance or
    outage, and the change of its trail it announces (None: a notice of maintenance)."""

    notice: Notice
    record: OutageRecord | MaintenanceRecord
    change: Change | None = None

    @property
    def subject(self) -> str:
        """What it is about: ``maintenance 3``, ``outage 5``."""
        return subject(self.record)

    @property
    def key(self) -> str:
        """The notice's identity outside the database, named in its post's metadata."""
        notice = self.notice
        if notice.event_id is not None:
            return f"outage:{notice.outage_id}:{notice.event_id}"
        return f"maintenance:{notice.maintenance_id}:{notice.stage}"

    @property
    def channel(self) -> str:
        """Where it goes."""
        channel = self.notice.channel or self.record.channel
        assert channel is not None  # nothing is owed without a channel
        return channel

    @property
    def doubt(self) -> datetime | None:
        """Since when its post may be in the channel unrecorded (None: it cannot be): a dead
        clock left it ``sending``, or an earlier attempt's answer never came."""
        notice = self.notice
        if notice.state != "sending" and not notice.detail.get("doubtful"):
            return None
        return notice.first_claimed_at or notice.claimed_at or notice.due_at

    def stale(self, now: datetime) -> str | None:
        """Why the notice is no longer owed at ``now``, or None while it is."""
        record, stage = self.record, self.notice.stage
        if stage not in REMINDERS or not isinstance(record, MaintenanceRecord):
            return None
        if record.cancelled_at is not None:
            return "the maintenance was called off"
        if stage == BEFORE and now >= record.started_at:
            return "late: the maintenance has started"
        if stage == START and now >= record.ended_at:
            return "late: the maintenance is over"
        return None


def subject(record: OutageRecord | MaintenanceRecord) -> str:
    """``maintenance 3`` or ``outage 5``: what a notice is about, for logs and listings."""
    kind = "maintenance" if isinstance(record, MaintenanceRecord) else "outage"
    return f"{kind} {record.id}"


@dataclass(frozen=True)
class NoticeOutcome:
    """What the clock did with a claimed notice: the columns to write on its row."""

    notice_id: int
    values: dict[str, Any]


class Notices:
    def __init__(self, store: Store):
        self.store = store

    def claim(
        self,
        now: datetime,
        name: str,
        lease: timedelta,
        batch: int,
        stages: Sequence[str] | None = None,
    ) -> list[Claimed]:
        """Up to ``batch`` due notices for clock ``name``, earliest due first: the pending
        ones whose attempt has come and those a clock left ``sending`` longer than ``lease``
        ago, none behind an earlier notice of its maintenance that is waiting to be retried or
        being posted; only ``stages`` when given (the test kit's courier takes the
        announcements alone). On PostgreSQL the rows are taken with ``FOR UPDATE SKIP
        LOCKED``, so two clocks never take the same one; on SQLite the write lock admits one
        writer."""
        stale = now - lease
        notice, earlier = NOTICES.c, NOTICES.alias().c
        busy = or_(
            and_(earlier.state == "pending", earlier.next_attempt_at > now),
            and_(earlier.state == "sending", earlier.claimed_at >= stale),
        )
        same = or_(  # NULL = NULL is not true: only the one that is set can match
            earlier.outage_id == notice.outage_id,
            earlier.maintenance_id == notice.maintenance_id,
        )
        behind = exists().where(same, earlier.due_at < notice.due_at, busy)
        due = and_(notice.state == "pending", notice.next_attempt_at <= now)
        interrupted = and_(notice.state == "sending", notice.claimed_at < stale)
        query = (
            _with_subject(select(Notice, OutageRecord, MaintenanceRecord, OutageEvent))
            .outerjoin(OutageEvent, OutageEvent.c.id == notice.event_id)
            .where(or_(due, interrupted), ~behind)
            .order_by(notice.due_at, notice.id)
            .limit(batch)
        )
        if stages is not None:
            query = query.where(notice.stage.in_(stages))
        if not self.store.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=notice)
        with self.store.writing() as session:
            rows = list(session.exec(query))
            if rows:
                session.execute(
                    update(Notice)
                    .where(Notice.c.id.in_([row[0].id for row in rows]))
                    .values(
                        state="sending",
                        claimed_at=now,
                        claimed_by=name,
                        first_claimed_at=func.coalesce(Notice.c.first_claimed_at, now),
                    )
                )
        return [Claimed(n, o or m, None if e is None else trail.read(e)) for n, o, m, e in rows]

    def record(self, outcomes: Sequence[NoticeOutcome], name: str) -> set[int]:
        """The outcomes of notices clock ``name`` claimed, in one transaction. Returns the ids
        not recorded because ``name`` no longer holds them (the lease ran out and another
        clock took them over); nothing is written for those."""
        if not outcomes:
            return set()
        ids = [o.notice_id for o in outcomes]
        with self.store.writing() as session:
            mine = (
                select(Notice.c.id)
                .where(
                    Notice.c.id.in_(ids),
                    Notice.c.state == "sending",
                    Notice.c.claimed_by == name,
                )
                .with_for_update()
            )
            held = set(session.exec(mine).all())
            rows = [{"id": o.notice_id, **o.values} for o in outcomes if o.notice_id in held]
            if rows:
                update_by_id(session, NOTICES, rows)
        return set(ids) - held


# -- the operator's (``slabot timers --notices``) -----------------------------------------------


@dataclass(frozen=True)
class NoticeLine:
    notice: Notice
    record: OutageRecord | MaintenanceRecord

    @property
    def subject(self) -> str:
        return subject(self.record)

    @property
    def state(self) -> str:
        return seen_as(self.notice)

    @property
    def channel(self) -> str:
        return self.notice.channel or self.record.channel or ""


def listing(store: Store, *, dead_only: bool, limit: int) -> list[NoticeLine]:
    """Dead notices, or every notice still to be posted (and the dead), soonest first."""
    states = ("dead",) if dead_only else ("pending", "sending", "dead")
    query = (
        _with_subject(select(Notice, OutageRecord, MaintenanceRecord))
        .where(Notice.c.state.in_(states))
        .order_by(Notice.c.next_attempt_at, Notice.c.id)
        .limit(limit)
    )
    with store.reading() as session:
        return [NoticeLine(n, o or m) for n, o, m in session.exec(query)]


def retry(store: Store, ids: list[int] | None) -> int:
    """Re-queue dead notices (``ids``, or every dead one when None), say once the bot is
    invited to the channel; how many were re-queued. One no longer owed when it comes due
    again (the maintenance has started, for the reminder before) is dropped then."""
    with store.writing() as session:
        return requeue_dead(session, Notice, ids, "maintenance notice")


def _with_subject(query: Any) -> Any:
    """``query`` on ``notices`` joined to each notice's outage or maintenance (the other
    comes back None)."""
    return query.outerjoin(OutageRecord, OutageRecord.c.id == Notice.c.outage_id).outerjoin(
        MaintenanceRecord, MaintenanceRecord.c.id == Notice.c.maintenance_id
    )
