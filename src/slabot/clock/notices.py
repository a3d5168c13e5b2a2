"""The clock's second duty: deliver what planned maintenance and outages owe a channel.

The notices (maintenance's announcement, the reminder before, the start, the end, the calling
off; an outage's start, end and corrections) are owed work written with the change that
caused them (`slabot.outages.notices`, which owns their table and says which are still owed);
a lead's ``/sla maintenance`` or ``/sla outage`` only records and answers, and ``serve`` wakes
its clock so the announcement follows within a tick;
this module only drives them, on every tick of the leading clock after the timers, with the
timers' exactly-once rule: claim, look for the posts in doubt (each channel read once), post
with metadata naming the notice (through the `Announcer` it is given: in production the chat's
notifier, paced per channel, limits honoured), record. A clock killed after posting and before
recording leaves its claim, which the next clock takes over after the lease and finds in the
channel; a Slack outage puts each notice back with the timers' capped backoff until Slack
answers again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from ..notify import Announcement, Announcer, DeliveryFailed
from ..outages.notices import Claimed, NoticeOutcome, Notices
from ..policies import PolicyBook
from ..store import Store
from .dispatch import LEASE, Backoff, clock_name

log = logging.getLogger(__name__)

BATCH = 100
BACKOFF = Backoff()  # the timers' own


class NoticeDispatcher:
    """Delivers the notices that are due (maintenance's and outages'); one instance per clock."""

    def __init__(
        self,
        store: Store,
        notifier: Announcer,
        policies: PolicyBook,
        *,
        name: str | None = None,
        lease: timedelta = LEASE,
        backoff: Backoff = BACKOFF,
        rand: Callable[[], float] = random.random,
        stages: Sequence[str] | None = None,
    ):
        """``stages``: only those (`Notices.claim`); every stage when None, as a clock."""
        self.notices = Notices(store)
        self.stages = stages
        self.notifier = notifier
        self.policies = policies
        self.name = name or clock_name()
        self.lease = lease
        self.backoff = backoff
        self.rand = rand

    def tick(self, now: datetime) -> int:
        """Deliver what is due at ``now``; how many notices were posted."""
        claims = self.notices.claim(now, self.name, self.lease, BATCH, self.stages)
        if not claims:
            return 0
        found = self._found(claims, now)
        outcomes: list[NoticeOutcome] = []
        waiting: set[str] = set()  # what has an earlier notice to retry (`Claimed.subject`)
        posted = 0
        for claim in claims:  # in due order: each maintenance's notices in turn
            notice = claim.notice
            assert notice.id is not None  # a claimed notice is a stored row
            if claim.subject in waiting:  # its doubt, if any, stays for the next attempt
                outcomes.append(_unclaim(claim, _doubt_kept(claim)))
                continue
            outcome = self._perform(claim, found.get(claim.key), now)
            outcomes.append(outcome)
            state, detail = outcome.values["state"], outcome.values["detail"]
            if state == "pending":
                waiting.add(claim.subject)
            posted += state == "fired" and not detail.get("found")
        lost = self.notices.record(outcomes, self.name)
        for notice_id in lost:
            log.warning("maintenance notice %s was taken over by another clock", notice_id)
        return posted

    def _found(self, claims: list[Claimed], now: datetime) -> dict[str, str | DeliveryFailed]:
        """Where the claims in doubt were found posted (or why nobody can tell yet)."""
        doubtful = [self._announcement(c, now) for c in claims if c.doubt is not None]
        return self.notifier.find_announced(doubtful) if doubtful else {}

    def _perform(
        self, claim: Claimed, found: str | DeliveryFailed | None, now: datetime
    ) -> NoticeOutcome:
        notice = claim.notice
        if isinstance(found, DeliveryFailed):  # in doubt and not looked for: nothing is sent
            return self._failed(claim, found, now, doubtful=True)
        if found is not None:  # an earlier attempt's post, found in the channel
            return _fired(claim, now, {"ts": found, "found": True})
        stale = claim.stale(now)
        if stale is not None:
            return _record(claim, state="dropped", detail={"dropped": stale})
        try:
            ts = self.notifier.announce(self._announcement(claim, now))
        except DeliveryFailed as failure:
            return self._failed(claim, failure, now, doubtful=bool(failure.doubtful))
        log.info("%s: %s notice posted to %s", claim.subject, notice.stage, claim.channel)
        return _fired(claim, now, {"ts": ts})

    def _announcement(self, claim: Claimed, now: datetime) -> Announcement:
        record = claim.record
        try:
            policy = self.policies.get(record.policy)
        except KeyError:  # a policy the deployment no longer has: its name stands in
            policy = None
        stage, channel = claim.notice.stage, claim.channel
        return Announcement(
            claim.key, record, policy, stage, now, channel, claim.change, claim.doubt
        )

    def _failed(
        self, claim: Claimed, failure: DeliveryFailed, now: datetime, *, doubtful: bool
    ) -> NoticeOutcome:
        """Back to pending after the timers' wait (a limit spends no attempt), or ``dead``
        when only a person can help (the bot is not in the channel, the channel is gone).
        ``doubtful``: its post may have arrived, so it is looked for before the next one."""
        notice = claim.notice
        detail: dict[str, object] = {"doubtful": True} if doubtful else _doubt_kept(claim)
        if failure.held:
            wait = self.backoff.after(failure, notice.attempts + 1, self.rand)
            log.debug("maintenance notice %s held for %s: %s", claim.key, wait, failure)
            return _unclaim(claim, detail, next_attempt_at=now + wait)
        attempts, error = notice.attempts + 1, str(failure)[:2000]
        if failure.retryable:
            wait = self.backoff.after(failure, attempts, self.rand)
            log.info("maintenance notice %s: %s; again in %s", claim.key, error, wait)
            return _unclaim(
                claim, detail, attempts=attempts, next_attempt_at=now + wait, last_error=error
            )
        log.warning("maintenance notice %s is dead: %s", claim.key, error)
        return _record(claim, state="dead", attempts=attempts, last_error=error, detail=detail)


def _doubt_kept(claim: Claimed) -> dict[str, object]:
    """The detail of a notice put back unperformed: in doubt still, if it was."""
    return {"doubtful": True} if claim.doubt is not None else {}


def _fired(claim: Claimed, now: datetime, detail: dict[str, object]) -> NoticeOutcome:
    attempts = claim.notice.attempts + 1
    return _record(claim, state="fired", fired_at=now, attempts=attempts, detail=detail)


def _unclaim(claim: Claimed, detail: dict[str, object], **values: object) -> NoticeOutcome:
    return _record(
        claim, state="pending", claimed_at=None, claimed_by=None, detail=detail, **values
    )


def _record(claim: Claimed, **values: object) -> NoticeOutcome:
    assert claim.notice.id is not None
    return NoticeOutcome(claim.notice.id, values)
