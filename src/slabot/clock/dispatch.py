"""One tick of the clock: claim the due timers, perform each, record what happened.

The ``timers`` table has one owner, `slabot.tickets.timers`, which claims and records; this
module drives it and performs what it hands out. The three steps are separate on purpose:

1. **Claim** (`claim_due`), in one short transaction: the due timers (``sending`` whose claim
   is older than the lease: a clock died performing them; then ``pending`` whose
   ``next_attempt_at`` has come, read in due order through ``ix_timers_queue``) become
   ``sending`` with ``claimed_at``/``claimed_by`` (and ``first_claimed_at``, the first
   time, kept through every retry and take-over). On PostgreSQL the rows are taken with
   ``FOR UPDATE SKIP LOCKED``, so two dispatchers running at once never take the same row; on
   SQLite the write lock already admits one writer at a time. A timer waits while an earlier
   one of its ticket is being retried or performed, so each ticket's timers go out in order.
2. **Perform**, outside any transaction (a slow Slack must not hold database locks): look for
   the parts in doubt of the whole batch (`Notifier.recover`, each conversation read once),
   check the timer is still owed, then act (auto-solve and auto-close, through the ticket use
   cases, as the system actor) and notify. Several tickets are performed at once (up to
   ``workers`` threads, as many as `Concurrency` finds the CPU leaves room for), each ticket's
   timers one after the other, so a ticket's messages keep their order while the time one
   spends waiting on Slack is used for another.
3. **Record**, one transaction for the tick (`Tickets.record_timers`): ``fired`` with the
   receipt, ``dropped`` with the reason, back to ``pending`` with a capped backoff for as long
   as the ticket owes it, or ``dead`` when only a person can help (a revoked token, an unknown
   channel, a missing pager key), with each settled ticket's next timers.

In a burst (`Dispatcher.ticks`) the steps of consecutive batches overlap: the next batch is
claimed while one is performed, and each is recorded while the next is performed.

Exactly once: parts that arrived before a failure are recorded and skipped, and an action is
marked ``acted`` in the same transaction as the ticket change it makes. A part whose request
left without an answer (a timeout, a dropped connection) is recorded as ``doubtful``; a clock
that dies before a batch is recorded leaves its timers ``sending``, every part in doubt, and
the next clock takes them over after the lease. A part in doubt is never sent again before
the notifier has looked for it, from the timer's first claim on, so however many clocks died
in a row, whatever any of them sent is found.

The core never reads the wall clock: ``now`` is given to `Dispatcher.tick` and, through the
``clock`` it is handed, to `Dispatcher.ticks`.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select

from ..notify import Delivery, DeliveryFailed, Doubt, Found, Notifier, Receipt
from ..oncall.overrides import overrides_in
from ..sla.schedule import Timer
from ..store import Store
from ..store.tables import Ticket, TimerRow
from ..tickets import SYSTEM, ChangeRequest, TicketError, Tickets, TicketView, TimerOutcome
from ..tickets.timers import CARD, MESSAGES, POST, claim_due
from .concurrency import Concurrency, in_parallel
from .words import solve_reason

log = logging.getLogger(__name__)

ACTIONS = frozenset({"auto_solve", "auto_close"})  # timers that change the ticket itself
# A timer performed more than this after its due time is marked late. Longer than a busy
# tick's own delay (a burst of thousands of timers) or a few short retries; shorter than
# anything a reader would still call on time.
GRACE = timedelta(seconds=60)
LEASE = timedelta(seconds=60)
# Tickets performed at once, at most: enough to keep Slack's own pace across many channels.
# Slack takes about one message a second per channel; 500 busy channels at 50 ms a call
# (Slack's API from a nearby region) keep 25 calls in flight, and a page's card update adds to
# it: 32 leave a margin. Fewer run while the clock's CPU is the limit (`Concurrency`).
WORKERS = 32

Outcome = Literal["sent", "late", "dropped", "retried", "dead", "held", "paced"]


@dataclass
class TickReport:
    """What one tick did. ``late`` counts the sent timers that went out late; ``drawn`` the
    messages changes owed that went out (cards posted or redrawn, notes, taken pages' copies),
    apart from the timers ``sent``; ``claimed`` what it took, so a full batch says more may be
    due already; ``kinds`` the timers by kind and outcome (``on_time`` for a timer sent and not
    late), for the metrics."""

    sent: int = 0
    late: int = 0
    dropped: int = 0
    retried: int = 0
    dead: int = 0
    paced: int = 0  # held to Slack's limits (a channel's pace, a 429): not failures
    claimed: int = 0
    drawn: int = 0
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __add__(self, other: TickReport) -> TickReport:
        return TickReport(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def add(self, outcome: Outcome, kind: str) -> None:
        if outcome in ("sent", "late"):
            self.sent += 1
        if outcome in ("late", "dropped", "retried", "dead", "paced"):
            setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome != "held":
            self.kinds[(kind, "on_time" if outcome == "sent" else outcome)] += 1

    def __bool__(self) -> bool:
        return bool(
            self.sent or self.dropped or self.retried or self.dead or self.drawn or self.paced
        )

    def __str__(self) -> str:
        return (
            f"{self.sent} sent ({self.late} late), {self.drawn} cards and notes, "
            f"{self.dropped} dropped, {self.retried} to retry, {self.dead} dead, "
            f"{self.paced} paced"
        )


@dataclass(frozen=True)
class Backoff:
    """How long a failed timer waits: doubling from ``base`` up to ``cap``, less a random
    share of up to ``jitter`` so timers that failed together do not retry together, and never
    sooner than the far end asked (Slack's Retry-After)."""

    base: timedelta = timedelta(seconds=5)
    # A timer retries for as long as its ticket owes it; after a long outage it goes out
    # within this of Slack's return.
    cap: timedelta = timedelta(minutes=5)
    jitter: float = 0.5

    def delay(
        self, attempt: int, retry_after: float | None, rand: Callable[[], float]
    ) -> timedelta:
        step = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        wait = step * (1 - self.jitter * rand())
        return max(wait, timedelta(seconds=retry_after or 0))

    def after(self, failure: DeliveryFailed, attempt: int, rand: Callable[[], float]) -> timedelta:
        """How long work that failed with ``failure`` on its ``attempt``-th try waits: held by
        a limit, as long as asked (``base`` when not said); else `delay`."""
        if failure.held:
            return timedelta(seconds=failure.retry_after or self.base.total_seconds())
        return self.delay(attempt, failure.retry_after, rand)


@dataclass(frozen=True)
class _Done:
    """A performed timer: what it came to, and what to write on its row."""

    outcome: Outcome
    record: TimerOutcome
    # what was performed: a dead timer's channel is told, a drawn card checked, once recorded
    delivery: Delivery | None = None


@dataclass(frozen=True)
class _Batch:
    """The timers one tick claimed, at its ``now``, with their tickets' views."""

    now: datetime
    claims: list[_Claim]
    views: dict[int, TicketView]


@dataclass(frozen=True)
class _Claim:
    timer: TimerRow  # the row as it was before this claim
    paged: tuple[str, ...] | None = None  # a page: whom it reaches (see `Dispatcher._paged`)

    @property
    def doubt(self) -> Doubt | None:
        """Which parts may have arrived unrecorded: every part not done of a timer a dead
        clock left ``sending``, the ``doubtful`` ones of an earlier attempt; looked for from
        the first claim (or the latest, for a claim made before that was kept)."""
        timer = self.timer
        since = timer.first_claimed_at or timer.claimed_at or timer.due_at
        if timer.state == "sending":
            return Doubt(since)
        doubtful = timer.detail.get("doubtful")
        if not doubtful:
            return None
        return Doubt(since, None if doubtful is True else frozenset(doubtful))


def clock_name() -> str:
    """Who claims: host, process and a random tag (a restarted process is someone else)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Dispatcher:
    def __init__(
        self,
        store: Store,
        tickets: Tickets,
        notifier: Notifier,
        *,
        name: str | None = None,
        batch: int = 200,
        lease: timedelta = LEASE,
        backoff: Backoff = Backoff(),
        grace: timedelta = GRACE,
        workers: int = WORKERS,
        rand: Callable[[], float] = random.random,
        kinds: Collection[str] | None = None,
    ):
        self.store = store
        self.tickets = tickets
        self.notifier = notifier
        self.name = name or clock_name()
        self.batch = batch
        self.lease = lease
        self.backoff = backoff
        self.grace = grace
        self.workers = workers
        self.rand = rand
        # Only these kinds of owed work (None: all): a test kit delivers the messages changes
        # owe without performing the timers its test will tick itself.
        self.kinds = frozenset(kinds) if kinds is not None else None
        self._since: datetime | None = None  # this dispatcher's first tick
        self._concurrency = Concurrency(workers)

    def disown(self) -> None:
        """Claim under a new name from now on, after a run the database failed: its claims
        may have been stored and its records lost, and a claim of this clock's is never taken
        over (it is in flight), so they would stay ``sending`` for ever. Under a new name they
        are a dead clock's: taken over after the lease, their parts in doubt looked for first."""
        self.name = clock_name()

    def tick(self, now: datetime) -> TickReport:
        """Perform every timer due at ``now`` (up to ``batch`` of them)."""
        batch = self._prepare(now)
        if not batch.claims:
            return TickReport()
        with self._workers() as pool:
            return self._finish(batch, self._perform_all(batch, pool))

    def ticks(self, clock: Callable[[], datetime | None]) -> Iterator[TickReport]:
        """Ticks back to back while each claims a full batch (a burst), each at the instant
        ``clock`` gives; ``clock`` answers None to stop (this clock no longer leads).

        A pipeline: the next batch is claimed while this one is performed, and this one is
        recorded while the next is performed, so the database's share of a batch does not add
        to the Slack share. Safe because a claimed timer stays ``sending`` until recorded, so
        the next claim takes neither it nor a later timer of its ticket."""
        now = clock()
        if now is None:
            return
        batch = self._prepare(now)
        if not batch.claims:
            yield TickReport()
            return
        # One pool of workers for the whole burst: a pool a batch started 32 threads a batch,
        # about 2 % of a burst's CPU (bench/README.md, "clock", sixth round).
        with (
            ThreadPoolExecutor(2, "slabot-pipeline") as pipeline,
            self._workers() as pool,
        ):
            recording: Future[TickReport] | None = None
            while True:
                upcoming = None
                if len(batch.claims) == self.batch and (at := clock()) is not None:
                    upcoming = pipeline.submit(self._prepare, at)
                done = self._perform_all(batch, pool)
                if recording is not None:
                    yield recording.result()
                recording = pipeline.submit(self._finish, batch, done)
                if upcoming is None:
                    break
                batch = upcoming.result()
                if not batch.claims:
                    break
            yield recording.result()

    def _prepare(self, now: datetime) -> _Batch:
        if self._since is None:
            self._since = now
        claims = self._claim(now)
        views = self._views(claims, now) if claims else {}
        return _Batch(now, self._paged(claims, views), views)

    def _finish(self, batch: _Batch, done: list[_Done]) -> TickReport:
        """Record what a batch came to; then tell the channels of dead timers, and redraw
        the cards of tickets that changed while it was performed."""
        report = TickReport(claimed=len(batch.claims))
        kind_of = {claim.timer.id: claim.timer.kind for claim in batch.claims}
        records = [d.record for d in done]
        lost = self.tickets.record_timers(records, self.name, batch.now, batch.views)
        for d in done:
            if d.record.timer_id in lost:
                log.warning(
                    "timer %s was taken over by another clock; not recorded", d.record.timer_id
                )
                continue
            if d.outcome in ("sent", "late") and d.delivery and d.delivery.timer.kind in MESSAGES:
                report.drawn += 1
            else:
                report.add(d.outcome, kind_of[d.record.timer_id])
            if d.outcome == "dead" and d.delivery is not None:
                self._give_up(d.delivery, d.record)
        self._redraw_changed([d for d in done if d.record.timer_id not in lost], batch.now)
        return report

    def _redraw_changed(self, done: list[_Done], now: datetime) -> None:
        """Draw again the cards this tick drew of tickets that changed meanwhile, and the cards
        it found posted by an earlier attempt.

        A card is drawn from the view the tick began with. Someone may have changed the ticket
        since, and had the card drawn from the new state before this tick's drawing of the old
        one reached Slack. Checked after the tick's drawing is done, so whichever order the two
        drawings arrived in, the card ends showing the ticket as it stands. A card found in the
        channel (its post left without an answer) shows the ticket as that attempt saw it, and
        a change made meanwhile owed no redraw (the post was to draw it): drawn again always."""
        drawn: dict[int | None, Delivery] = {}  # by ticket id
        found: set[int | None] = set()
        for d in done:
            detail = d.record.values.get("detail", {})
            if d.delivery is None or not detail.get("receipt", {}).get("card"):
                continue
            timer, ticket_id = d.delivery.timer, d.delivery.view.ticket.id
            if CARD in detail.get("done", ()):
                found.add(ticket_id)
            elif (timer.kind, timer.stage) == (CARD, POST):
                continue  # a change while it was posted owed a redraw (`owe_messages`)
            drawn[ticket_id] = d.delivery
        if not drawn:
            return
        versions = select(Ticket.c.id, Ticket.c.version).where(Ticket.c.id.in_(drawn))
        with self.store.reading() as session:
            changed = [
                i
                for i, v in session.exec(versions)
                if i in found or v != drawn[i].view.ticket.version
            ]
            if not changed:
                return
            rows = list(session.exec(select(Ticket).where(Ticket.c.id.in_(changed))))
        for view in self.tickets.views(rows, now):
            self.notifier.redraw(drawn[view.ticket.id].with_view(view))

    def _workers(self) -> ThreadPoolExecutor:
        """The threads that perform a batch's tickets (started as they are first given work)."""
        return ThreadPoolExecutor(self.workers, "slabot-tick")

    def _perform_all(self, batch: _Batch, pool: ThreadPoolExecutor) -> list[_Done]:
        """Each ticket's claims, several tickets at once (`in_parallel`: as many threads of
        ``pool`` as `Concurrency` wants), the tickets with a page first."""
        views, now = batch.views, batch.now
        found = self._recover(batch)
        shared = self._together(batch)
        grouped: dict[int, list[_Claim]] = {}  # in due order, as claimed
        for claim in batch.claims:
            grouped.setdefault(claim.timer.ticket_id, []).append(claim)
        # the tickets with a page first: they take their channels' next slots
        tickets = sorted(grouped.values(), key=lambda c: not any(t.timer.kind == "page" for t in c))
        if self.workers <= 1 or len(tickets) <= 1:
            return [
                d for claims in tickets for d in self._perform(claims, views, now, found, shared)
            ]
        return in_parallel(
            pool,
            self._concurrency,
            tickets,
            lambda claims: self._perform(claims, views, now, found, shared),
        )

    def _recover(self, batch: _Batch) -> dict[int, Found | DeliveryFailed]:
        """What the notifiers found of the batch's parts in doubt, by timer id, looked for all
        at once so that each conversation is read once however many of its messages are in
        doubt (a timer missing here had none)."""
        doubtful = [
            self._delivery(claim, batch.views, batch.now) for claim in batch.claims if claim.doubt
        ]
        if not doubtful:
            return {}
        try:
            found = self.notifier.recover(doubtful)
        except Exception as exc:  # a bug: nothing in doubt is sent until it is looked for
            log.exception("looking for %d timers' messages in doubt failed", len(doubtful))
            failed = DeliveryFailed(f"looking for messages in doubt: {type(exc).__name__}: {exc}")
            return {d.timer.id: failed for d in doubtful}  # type: ignore[misc]
        return {d.timer.id: found.get(d.key, {}) for d in doubtful}  # type: ignore[misc]

    def _together(self, batch: _Batch) -> dict[str, Receipt]:
        """Parts the batch's pages share, sent once (one DM to a person several pages reach),
        by timer key. Only pages owed now with nothing in doubt: the others go alone."""
        pages = []
        for claim in batch.claims:
            timer, view = claim.timer, batch.views[claim.timer.ticket_id]
            if timer.kind != "page" or claim.doubt is not None:
                continue
            owed = _still_owed(timer, view)
            if not isinstance(owed, str) and owed.due_at <= batch.now:
                pages.append(self._delivery(claim, batch.views, batch.now))
        if len(pages) < 2:
            return {}
        try:
            return self.notifier.together(pages)
        except Exception:  # a bug: each page then goes alone, as it would anyway
            log.exception("sending %d pages together failed", len(pages))
            return {}

    def _perform(
        self,
        claims: list[_Claim],
        views: dict[int, TicketView],
        now: datetime,
        found: dict[int, Found | DeliveryFailed],
        shared: dict[str, Receipt],
    ) -> list[_Done]:
        """One ticket's claimed timers, in order; after one that must be retried, the rest of
        the ticket's wait behind it."""
        done: list[_Done] = []
        retrying = False
        for claim in claims:
            if retrying:  # what it had in doubt stays so, and what went out together is done
                waiting = self._delivery(claim, views, now)
                sent = shared.get(waiting.key, {})
                held = _carried(replace(waiting, done=waiting.done | set(sent)))
                done.append(_Done("held", self._unclaim(claim.timer, detail=held)))
                continue
            assert claim.timer.id is not None  # a claimed timer is a stored row
            done.append(self._run(claim, views, now, found.get(claim.timer.id), shared))
            retrying = done[-1].outcome in ("retried", "paced")
        return done

    # -- claim ------------------------------------------------------------------------------

    def _claim(self, now: datetime) -> list[_Claim]:
        """Up to ``batch`` due timers, as the owner of owed work hands them out
        (`slabot.tickets.timers.claim_due`: pages first, each ticket's in order)."""
        rows = claim_due(
            self.store, now, self.name, lease=self.lease, batch=self.batch, kinds=self.kinds
        )
        return [_Claim(row) for row in rows]

    def _views(self, claims: list[_Claim], now: datetime) -> dict[int, TicketView]:
        ids = {claim.timer.ticket_id for claim in claims}
        with self.store.reading() as session:
            rows = list(session.exec(select(Ticket).where(Ticket.c.id.in_(ids))))
        return {view.ticket.id: view for view in self.tickets.views(rows, now)}  # type: ignore[misc]

    def _paged(self, claims: list[_Claim], views: dict[int, TicketView]) -> list[_Claim]:
        """Each page with whom it reaches: its level's contacts and whoever was on call in
        the level's rotation at the page's due time (not at ``now``: a page retried or sent
        late goes to the same people, so parts done and in doubt keep their names)."""
        pages = [c for c in claims if c.timer.kind == "page" and c.timer.level]
        if not pages or not self.tickets.team.rotations:
            return claims
        workspaces = {views[c.timer.ticket_id].ticket.workspace for c in pages}
        since = min(c.timer.due_at for c in pages)
        with self.store.reading() as session:
            overrides = {ws: overrides_in(session, ws, since) for ws in workspaces}
        paged = []
        for claim in claims:
            view = views[claim.timer.ticket_id]
            escalation, level = view.policy.escalation, claim.timer.level
            if claim.timer.kind != "page" or escalation is None or level is None:
                paged.append(claim)
                continue
            try:
                spec = escalation.level(level)
            except KeyError:  # a level a newer policy version dropped
                paged.append(claim)
                continue
            whom = self.tickets.team.paged(
                spec, claim.timer.due_at, overrides[view.ticket.workspace]
            )
            paged.append(replace(claim, paged=whom))
        return paged

    # -- perform ----------------------------------------------------------------------------

    def _delivery(self, claim: _Claim, views: dict[int, TicketView], now: datetime) -> Delivery:
        timer = claim.timer
        return Delivery(
            timer,
            views[timer.ticket_id],
            now,
            late=self._late(timer, now),
            done=frozenset(timer.detail.get("done") or ()),
            doubt=claim.doubt,
            paged=claim.paged,
        )

    def _run(
        self,
        claim: _Claim,
        views: dict[int, TicketView],
        now: datetime,
        found: Found | DeliveryFailed | None,
        shared: dict[str, Receipt] | None = None,
    ) -> _Done:
        """Perform one claimed timer; ``found`` is what was found of its parts in doubt (a
        failure: nobody could tell yet, so nothing is sent; None: nothing was in doubt);
        ``shared``, by timer key, the parts sent together with other timers this tick."""
        timer = claim.timer
        delivery = self._delivery(claim, views, now)
        if isinstance(found, DeliveryFailed):
            return self._failed(delivery, found)
        if found is not None:  # the doubt is settled: what was found is done, the rest is not
            delivery = replace(delivery, done=delivery.done | set(found), doubt=None)
        receipt: Receipt = dict(sorted((found or {}).items()))  # what was found
        together = (shared or {}).get(delivery.key, {})
        if together:
            delivery = replace(delivery, done=delivery.done | set(together))
            receipt.update(together)
        try:
            if found is not None and self.notifier.delivered(delivery):
                return self._fired(delivery, receipt)
            if timer.kind not in MESSAGES and not timer.detail.get("acted"):
                owed = _still_owed(timer, delivery.view)
                if isinstance(owed, str):
                    return self._drop(delivery, owed)
                if owed.due_at > now:  # the ticket changed while the timer was claimed
                    return _Done(
                        "held",
                        self._unclaim(
                            timer,
                            due_at=owed.due_at,
                            next_attempt_at=owed.due_at,
                            detail=_carried(delivery),
                        ),
                    )
            if timer.kind in ACTIONS and not timer.detail.get("acted"):
                delivery = self._act(delivery)
                views[timer.ticket_id] = delivery.view
            receipt.update(self.notifier.send(delivery))
        except TicketError as refused:
            return self._drop(delivery, str(refused))
        except DeliveryFailed as failure:
            return self._failed(delivery, failure)
        except Exception as exc:  # a bug must not stop other tickets: retried, then dead
            log.exception("timer %s failed", delivery.key)
            return self._failed(delivery, DeliveryFailed(f"{type(exc).__name__}: {exc}"))
        return self._fired(delivery, receipt)

    def _late(self, timer: TimerRow, now: datetime) -> str | None:
        """Why a timer goes out more than ``grace`` after its due time, in a reader's words."""
        if now - timer.due_at <= self.grace:
            return None
        if timer.last_error is not None:
            return "delivery kept failing"
        if self._since is not None and self._since <= timer.due_at:
            return "delivery was held up"  # by an earlier timer of its ticket, or a full tick
        return "the clock was down"

    def _act(self, delivery: Delivery) -> Delivery:
        """Auto-solve or auto-close through the use cases, as the system actor."""
        timer, ticket = delivery.timer, delivery.view.ticket
        request = ChangeRequest(ticket.workspace, ticket.number, actor=SYSTEM, now=delivery.now)
        if timer.kind == "auto_solve":
            reason = solve_reason(delivery.view, timer)
            note = f"solved automatically: {reason}"
            view = self.tickets.resolve(request, note=note, timer_id=timer.id)
        else:
            view = self.tickets.close(request, timer_id=timer.id)
        # The row now says ``acted``; so must this snapshot, which later records write back.
        timer.detail = {**timer.detail, "acted": delivery.now.isoformat()}
        return delivery.with_view(view)

    # -- record -----------------------------------------------------------------------------

    def _fired(self, delivery: Delivery, receipt: Receipt) -> _Done:
        timer = delivery.timer
        detail = {**_carried(delivery), "receipt": receipt}
        if delivery.late:
            detail["late"] = delivery.late
        record = self._record(
            timer,
            state="fired",
            fired_at=delivery.now,
            attempts=timer.attempts + 1,
            detail=detail,
        )
        return _Done("late" if delivery.late else "sent", record, delivery)

    def _drop(self, delivery: Delivery, why: str) -> _Done:
        detail = {**delivery.timer.detail, "dropped": why}
        return _Done("dropped", self._record(delivery.timer, state="dropped", detail=detail))

    def _failed(self, delivery: Delivery, failure: DeliveryFailed) -> _Done:
        """Try again later, for as long as the ticket owes it (each attempt checks that), unless
        only a person can help: then the timer is dead. A timer held by Slack's limits (its
        channel's pace, a 429) waits as long as asked without spending an attempt."""
        timer, now = delivery.timer, delivery.now
        attempts = timer.attempts + 1
        detail = _carried(delivery, failure)
        if failure.held:
            wait = self.backoff.after(failure, attempts, self.rand)
            log.debug("timer %s held for %s: %s", delivery.key, wait, failure)
            return _Done("paced", self._unclaim(timer, next_attempt_at=now + wait, detail=detail))
        error = str(failure)[:2000]
        if failure.retryable:
            wait = self.backoff.after(failure, attempts, self.rand)
            log.info("timer %s failed (%s); retrying in %s", delivery.key, error, wait)
            record = self._unclaim(
                timer,
                attempts=attempts,
                next_attempt_at=now + wait,
                last_error=error,
                detail=detail,
            )
            return _Done("retried", record)
        log.warning("timer %s is dead after %d attempt(s): %s", delivery.key, attempts, error)
        record = self._record(
            timer, state="dead", attempts=attempts, last_error=error, detail=detail
        )
        return _Done("dead", record, delivery)

    def _give_up(self, delivery: Delivery, record: TimerOutcome) -> None:
        """Tell the ticket's channel that a timer is dead, once its death is recorded."""
        error, attempts = record.values["last_error"], record.values["attempts"]
        reason = error if attempts == 1 else f"{attempts} attempts, the last: {error}"
        try:
            self.notifier.gave_up(delivery, reason)
        except Exception:
            log.exception("could not tell the channel that timer %s is dead", delivery.key)

    @staticmethod
    def _record(timer: TimerRow, **values: object) -> TimerOutcome:
        return TimerOutcome(timer.id, timer.ticket_id, values)  # type: ignore[arg-type]

    def _unclaim(self, timer: TimerRow, **values: object) -> TimerOutcome:
        """Back to ``pending`` (a retry, or waiting behind an earlier timer of its ticket)."""
        return self._record(timer, state="pending", claimed_at=None, claimed_by=None, **values)


def _carried(delivery: Delivery, failure: DeliveryFailed | None = None) -> dict[str, object]:
    """The timer's ``detail`` after this attempt: ``done``, the parts that arrived (before it
    and in it), and ``doubtful``, the parts to look for before the next attempt (``True``:
    every part not done), left out when there are none."""
    detail = {k: v for k, v in delivery.timer.detail.items() if k != "doubtful"}
    done = delivery.done | (failure.done if failure else frozenset())
    if done:
        detail["done"] = sorted(done)
    unsettled = delivery.doubt  # set when this attempt could not look for its parts in doubt
    if unsettled is not None and unsettled.parts is None:
        detail["doubtful"] = True
        return detail
    doubtful = (failure.doubtful if failure else frozenset()) | (
        (unsettled.parts or frozenset()) if unsettled else frozenset()
    )
    if doubtful - done:
        detail["doubtful"] = sorted(doubtful - done)
    return detail


def _still_owed(timer: TimerRow, view: TicketView) -> Timer | str:
    """The timer as the ticket's schedule owes it at the view's ``now``, or why it is not."""
    status = view.ticket.status
    if status == "closed" or (status == "resolved" and timer.kind != "auto_close"):
        return f"the ticket is {status}"
    key = (timer.kind, timer.stage, timer.repeat)
    return next(
        (owed for owed in view.schedule.timers if owed.key == key),
        "no longer owed: answered, met, paused or superseded by a later repeat",
    )
