"""Hand-offs as owed work: each hand-off of a rotation that announces it or keeps a user group,
claimed, performed and recorded once (``oncall_handoffs``, which this module owns).

Who is on call is a pure function of the team file and the overrides (`Rotation.latest_handoff`), so
a hand-off needs no schedule written ahead: at each tick the clock asks for the latest
hand-off of each such rotation and claims it, if nobody has yet, by inserting its row (unique
per workspace, rotation and instant: of two clocks, one insert wins). Only the latest is ever
claimed, so a clock that was down for several shifts announces the one running now, once, and
says it is late (`Claim.late`); the hand-offs it slept through are not announced in a burst.

As for the clock's timers (docs/architecture.md, "Exactly once"): a claim older than `LEASE`
belongs to a clock that died and is taken over; a failure Slack may get over puts the row back
to ``pending`` until a capped backoff has passed; and any attempt after the first
(`Claim.again`) looks for its announcement in the channel before posting it again, from the
first claim on (the post carries metadata naming the row). Setting the user group is
idempotent, so it is simply done again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..sla.oncall import HANDOFFS_WITHIN, HandOff, Rotation
from ..store import Store
from ..store.tables import OnCallHandOff
from .overrides import overrides_in

LEASE = timedelta(seconds=60)  # as the clock's timers: a claim this old was a dead clock's
LATE = timedelta(minutes=5)  # found later than this after it happened: announced as late
RETRY_BASE, RETRY_CAP = timedelta(seconds=10), timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    """A hand-off this clock has claimed: perform it, then `HandOffs.record` it."""

    id: int
    workspace: str
    rotation: Rotation
    handoff: HandOff
    tries: int  # this attempt's number: the record must come from the latest claim
    first_claimed_at: datetime
    late: bool

    @property
    def again(self) -> bool:
        """An earlier attempt may have posted the announcement: look for it first."""
        return self.tries > 1


class HandOffs:
    def __init__(self, store: Store, name: str, *, lease: timedelta = LEASE):
        self.store = store
        self.name = name  # the claiming clock's
        self.lease = lease

    def claim(self, workspace: str, rotations: Sequence[Rotation], now: datetime) -> list[Claim]:
        """The latest hand-off of each of ``rotations`` (of ``workspace``) at ``now``, claimed
        for this clock: not those done, held by another clock, waiting to be retried, or that
        no rotation can say (`Rotation.latest_handoff`). One read for them all, since this
        runs at every tick: the covers once, and every row of the hand-offs in question."""
        with self.store.reading() as session:
            overrides = overrides_in(session, workspace, now - HANDOFFS_WITHIN)
            due = [(r, h) for r in rotations if (h := r.latest_handoff(now, overrides))]
            if not due:
                return []
            rows = session.exec(
                select(OnCallHandOff).where(
                    OnCallHandOff.c.workspace == workspace,
                    OnCallHandOff.c.rotation.in_([r.key for r, _ in due]),
                    OnCallHandOff.c.starts_at.in_([h.since for _, h in due]),
                )
            )
            known = {(row.rotation, row.starts_at): row for row in rows}
        claims = []
        for rotation, handoff in due:
            late = now - handoff.known > LATE
            row = known.get((rotation.key, handoff.since))
            if row is None:
                claim = self._first(workspace, rotation, handoff, now, late)
            else:
                claim = self._again(row, rotation, handoff, now, late)
            if claim is not None:
                claims.append(claim)
        return claims

    def _again(
        self, row: OnCallHandOff, rotation: Rotation, handoff: HandOff, now: datetime, late: bool
    ) -> Claim | None:
        """A row tried before, claimed again if its claim is a dead clock's or its retry is due."""
        assert row.id is not None
        taken_over = row.state == "sending" and (row.claimed_at or now) <= now - self.lease
        retry = row.state == "pending" and (row.retry_at or now) <= now
        if not (taken_over or retry):
            return None
        claim = (
            update(OnCallHandOff)
            .where(OnCallHandOff.c.id == row.id, OnCallHandOff.c.tries == row.tries)
            .values(state="sending", claimed_by=self.name, claimed_at=now, tries=row.tries + 1)
        )
        with self.store.writing() as session:
            if session.execute(claim).rowcount != 1:  # type: ignore[attr-defined]
                return None  # another clock claimed it first
        first = row.first_claimed_at or now
        return Claim(row.id, row.workspace, rotation, handoff, row.tries + 1, first, late)

    def _first(
        self, workspace: str, rotation: Rotation, handoff: HandOff, now: datetime, late: bool
    ) -> Claim | None:
        row = OnCallHandOff(
            workspace=workspace,
            rotation=rotation.key,
            starts_at=handoff.since,
            person=handoff.person,
            state="sending",
            tries=1,
            claimed_by=self.name,
            claimed_at=now,
            first_claimed_at=now,
        )
        try:
            with self.store.writing() as session:
                session.add(row)
                row_id = row.id
        except IntegrityError:  # another clock inserted it first
            return None
        assert row_id is not None
        return Claim(row_id, workspace, rotation, handoff, 1, now, late)

    def done(self, claim: Claim, now: datetime, announced: str | None) -> None:
        """Performed: ``announced`` is the post's ts (or ``found``: an earlier attempt's)."""
        self._record(claim, state="done", done_at=now, announced_ts=announced, retry_at=None)

    def retry(self, claim: Claim, now: datetime, error: str) -> None:
        """Slack may get over it: back to ``pending`` until a capped backoff has passed."""
        wait = min(RETRY_CAP, RETRY_BASE * 2 ** (claim.tries - 1))
        self._record(claim, state="pending", retry_at=now + wait, error=error[:500])

    def give_up(self, claim: Claim, now: datetime, error: str) -> None:
        """Only a person can mend it (the bot not in the channel, a missing scope)."""
        self._record(claim, state="gave_up", done_at=now, error=error[:500])

    def _record(self, claim: Claim, **values: object) -> None:
        """Only the latest claim's outcome counts: a clock that lost its claim to a take-over
        records nothing."""
        record = (
            update(OnCallHandOff)
            .where(OnCallHandOff.c.id == claim.id, OnCallHandOff.c.tries == claim.tries)
            .values(**values)
        )
        with self.store.writing() as session:
            session.execute(record)
