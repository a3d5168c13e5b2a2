"""The use cases: everything a Slack command, a button or the clock can do to a ticket.

Each use case is one transaction. It locks the ticket, checks the request against the ticket's
state, its policy and the caller's rights, appends events, then recomputes the ticket from its
whole history with the engine: the row's state, the queue's ``next_due_at``, and the pending
timers (added, moved or deleted, so no timer outlives the state that caused it). A refusal
raises a `TicketError` before anything is written.

A change made for a Slack request takes that request's natural key (``idempotency_key``: the
command's or the click's trigger) and keeps it on the first event it appends. The same request
delivered again (a retry, a replay, the second half of a double submit) finds its key under
the locked ticket and changes nothing: it gets the ticket as it stands, marked ``replayed``,
the answer the first delivery got, rather than "already done" or "changed since you looked".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from ..policies import PolicyBook
from ..sla import Policy, format_duration
from ..sla.classify import Classification, classify
from ..sla.oncall import Team
from ..sla.schedule import Schedule, schedule
from ..sla.schedule import Timer as EngineTimer
from ..store import Store
from ..store.tables import (
    ChannelPolicy,
    PolicyVersion,
    Ticket,
    TicketEvent,
    Timer,
    WorkspaceCounter,
)
from .errors import (
    AlreadyDone,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    SeverityUnclear,
    TicketError,
)
from .events import engine_events, stamp
from .page_copies import answerers

# The clock acts as this actor (auto-solve, auto-close); a deployment that runs the clock lists
# it among its admins, so the policy's permissions never stop what the policy itself demands.
SYSTEM = "slabot"
ACTIVE = ("open", "pending", "waiting_on_customer", "waiting_on_third_party")
WAITING = ("pending", "waiting_on_customer", "waiting_on_third_party")
MAX_TITLE = 3000
# A permission as a refusal says it ("you may not pause or resume SLA-4"); else its own name.
ACTION_WORDS = {"change_severity": "change the severity of", "pause": "pause or resume"}
MAX_TEXT = 40_000
TIMERS = Timer.__table__  # type: ignore[attr-defined]
_REF = re.compile(r"(?:sla-?)?#?(\d{1,9})", re.IGNORECASE)

Change = tuple[str, dict[str, Any], dict[str, Any]]  # kind, before, after


@dataclass(frozen=True)
class TicketView:
    """A ticket as it stands: its row, the policy it runs under, and its schedule at ``now``.

    ``replayed``: a change use case answered a request it had applied before (same
    idempotency key), so this call changed nothing and there is nothing new to announce."""

    ticket: Ticket
    policy: Policy
    schedule: Schedule
    replayed: bool = False


@dataclass(frozen=True)
class TimerOutcome:
    """What the clock did with a timer it claimed: the columns to write on its row."""

    timer_id: int
    ticket_id: int
    values: dict[str, Any]

    @property
    def settled(self) -> bool:
        """Fired, dropped or dead: the ticket's next timers are due to be written."""
        return self.values.get("state") in ("fired", "dropped", "dead")


@dataclass(frozen=True)
class OpenResult:
    view: TicketView
    created: bool  # False: the idempotency key had opened this ticket already
    classification: Classification | None


def parse_ref(ref: str | int) -> int:
    """``SLA-42``, ``sla42``, ``#42`` or ``42`` → 42."""
    match = _REF.fullmatch(str(ref).strip())
    if not match or int(match.group(1)) == 0:
        raise Invalid(f"{str(ref)[:40]!r} is not a ticket ID: use its number, such as SLA-42 or 42")
    return int(match.group(1))


class Tickets:
    def __init__(
        self,
        store: Store,
        policies: PolicyBook,
        *,
        admins: Iterable[str] = (),
        default_policy: str | None = None,
        team: Team | None = None,
    ):
        self.store = store
        self.policies = policies
        self.admins = frozenset(admins)
        self.default_policy = default_policy
        self.team = team or Team()  # rotations, leads, roles: who a page reached

    # -- opening -------------------------------------------------------------------------------

    def open(
        self,
        workspace: str,
        *,
        title: str,
        reporter: str,
        now: datetime,
        severity: str | None = None,
        policy: str | None = None,
        channel: str | None = None,
        description: str = "",
        reported_at: datetime | None = None,
        owner: str | None = None,
        idempotency_key: str | None = None,
    ) -> OpenResult:
        """Open a ticket; a repeated ``idempotency_key`` returns the ticket it opened before."""
        if idempotency_key is not None:
            existing = self._by_key(workspace, idempotency_key, now)
            if existing is not None:
                return OpenResult(existing, False, None)
        title = title.strip()
        if not title:
            raise Invalid("a ticket needs a title: say in a few words what is wrong")
        if len(title) > MAX_TITLE:
            raise Invalid(f"the title is {len(title)} characters; keep it under {MAX_TITLE}")
        if len(description) > MAX_TEXT:
            raise Invalid(f"the description is too long; keep it under {MAX_TEXT} characters")
        if reported_at is not None and reported_at > now:
            raise Invalid("the problem cannot be reported after the ticket opens")
        chosen = self.policy_for(workspace, channel, policy)
        classification = None
        if severity is None:
            # A severity named in the title ("p1 checkout down") is taken out of it; keywords
            # are looked for in the description too.
            classification = classify(chosen, title)
            if classification.explicit:
                title = classification.summary or title
            elif description.strip():
                classification = classify(chosen, f"{title}\n{description}")
            if classification.unsure:
                raise SeverityUnclear(
                    f"Which severity is it? {classification.reason}.", classification
                )
            severity = classification.severity
        try:
            level = chosen.severity(severity or "")
        except KeyError as exc:
            raise Invalid(str(exc.args[0])) from None
        try:
            with self.store.writing() as session:
                self._remember_version(session, chosen, now)
                ticket = Ticket(
                    workspace=workspace,
                    number=self._next_number(session, workspace),
                    title=title,
                    description=description,
                    policy=chosen.name,
                    policy_digest=chosen.digest,
                    severity=level.key,
                    channel=channel,
                    reporter=reporter,
                    owner=owner,
                    reported_at=reported_at or now,
                    opened_at=now,
                    idempotency_key=idempotency_key,
                    updated_at=now,
                )
                session.add(ticket)
                session.flush()
                after = {
                    "severity": level.key,
                    "title": title,
                    "policy": chosen.name,
                    "reported_at": stamp(reported_at),
                    "owner": owner,
                }
                if classification is not None:
                    after["classified"] = classification.reason
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id, kind="opened", actor=reporter, at=now, after=after
                    )
                )
                view = self._recompute(session, ticket, chosen, now, bump=False)
        except IntegrityError:
            # Another delivery of the same request won the race: answer with its ticket.
            existing = idempotency_key and self._by_key(workspace, idempotency_key, now)
            if not existing:
                raise
            return OpenResult(existing, False, None)
        return OpenResult(view, True, classification)

    # -- changes -------------------------------------------------------------------------------

    def acknowledge(
        self,
        workspace: str,
        ref: str | int,
        *,
        actor: str,
        now: datetime,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "acknowledge")
            if ticket.acknowledged_at is not None:
                raise AlreadyDone(
                    f"{ticket.ref} was already acknowledged by <@{ticket.acknowledged_by}> at "
                    f"{ticket.acknowledged_at:%Y-%m-%d %H:%M} UTC"
                )
            return _claim(ticket, actor, now)

        return self._change(
            workspace, ref, actor, now, expected_version, apply, key=idempotency_key
        )

    def change_severity(
        self,
        workspace: str,
        ref: str | int,
        severity: str,
        *,
        actor: str,
        now: datetime,
        reason: str = "",
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "change the severity of")
            self._allowed(policy, "change_severity", actor, ticket)
            try:
                level = policy.severity(severity)
            except KeyError as exc:
                raise Invalid(str(exc.args[0])) from None
            if level.key == ticket.severity:
                raise AlreadyDone(f"{ticket.ref} is already {level.label}")
            before = {"severity": ticket.severity}
            return [("severity_changed", before, {"severity": level.key, "reason": reason})]

        return self._change(
            workspace, ref, actor, now, expected_version, apply, key=idempotency_key
        )

    def post_update(
        self,
        workspace: str,
        ref: str | int,
        text: str,
        *,
        actor: str,
        now: datetime,
        eta: datetime | None = None,
        workaround: bool = False,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        """An update to the customer: resets the update clock; an ETA or a workaround also
        answers rules such as LiveOps's P2 elevation."""
        text = text.strip()
        if not text:
            raise Invalid("an update needs some text: say what changed and what happens next")
        if len(text) > MAX_TEXT:
            raise Invalid(f"the update is too long; keep it under {MAX_TEXT} characters")
        if eta is not None and eta <= now:
            raise Invalid("the ETA is already past: give a time still to come")

        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "post an update on")
            after = {"text": text, "eta": stamp(eta), "workaround": workaround}
            return [("update_posted", {}, after)]

        return self._change(
            workspace, ref, actor, now, expected_version, apply, key=idempotency_key
        )

    def set_status(
        self,
        workspace: str,
        ref: str | int,
        status: str,
        *,
        actor: str,
        now: datetime,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        """Pending, waiting on the customer or a third party, or back to open (``resume``)."""
        if status not in (*WAITING, "open"):
            raise Invalid(
                f"{status!r} is not a status you can set: use open, {', '.join(WAITING)} "
                "(resolve, reopen and close have their own commands)"
            )

        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "change the status of")
            self._allowed(policy, "pause", actor, ticket)
            if ticket.status == status:
                raise AlreadyDone(f"{ticket.ref} is already {policy.state_label(status)}")
            return [("status_changed", {"status": ticket.status}, {"status": status})]

        return self._change(
            workspace, ref, actor, now, expected_version, apply, key=idempotency_key
        )

    def resolve(
        self,
        workspace: str,
        ref: str | int,
        *,
        actor: str,
        now: datetime,
        note: str = "",
        expected_version: int | None = None,
        timer_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        """Resolve; ``timer_id`` is the clock's auto-solve timer doing it (see `_change`)."""

        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            if ticket.status == "closed":
                raise Invalid(
                    f"{ticket.ref} is {policy.state_label('closed')}: a closed ticket cannot "
                    "change; open a new ticket and mention this one"
                )
            if ticket.status == "resolved":
                raise AlreadyDone(f"{ticket.ref} is already {policy.state_label(ticket.status)}")
            self._allowed(policy, "resolve", actor, ticket)
            ticket.resolved_at = now
            after = {"status": "resolved", "note": note}
            return [("status_changed", {"status": ticket.status}, after)]

        return self._change(
            workspace, ref, actor, now, expected_version, apply, timer_id, key=idempotency_key
        )

    def reopen(
        self,
        workspace: str,
        ref: str | int,
        *,
        actor: str,
        now: datetime,
        reason: str = "",
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        """Back to open; ``reason`` (why it is not fixed after all) is kept in the trail."""

        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            if ticket.status != "resolved":
                raise Invalid(
                    f"{ticket.ref} is {policy.state_label(ticket.status)}: only a resolved "
                    "ticket can be reopened"
                    + ("; open a new ticket instead" if ticket.status == "closed" else "")
                )
            self._allowed(policy, "reopen", actor, ticket)
            window = policy.lifecycle.reopen_within
            if window and ticket.resolved_at and now > ticket.resolved_at + window:
                raise Invalid(
                    f"{ticket.ref} was resolved more than {format_duration(window)} ago, past the "
                    "policy's reopen window: open a new ticket and mention this one"
                )
            ticket.resolved_at = None
            after = {"status": "open", "reason": reason} if reason else {"status": "open"}
            return [("status_changed", {"status": "resolved"}, after)]

        return self._change(
            workspace, ref, actor, now, expected_version, apply, key=idempotency_key
        )

    def close(
        self,
        workspace: str,
        ref: str | int,
        *,
        actor: str,
        now: datetime,
        expected_version: int | None = None,
        timer_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        """Close; ``timer_id`` is the clock's auto-close timer doing it (see `_change`)."""

        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            if ticket.status == "closed":
                raise AlreadyDone(f"{ticket.ref} is already closed")
            if ticket.status != "resolved":
                raise Invalid(f"{ticket.ref} is not resolved: resolve it first, then close it")
            self._allowed(policy, "close", actor, ticket)
            ticket.closed_at = now
            return [("status_changed", {"status": "resolved"}, {"status": "closed"})]

        return self._change(
            workspace, ref, actor, now, expected_version, apply, timer_id, key=idempotency_key
        )

    def assign(
        self,
        workspace: str,
        ref: str | int,
        owner: str,
        *,
        actor: str,
        now: datetime,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> TicketView:
        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "assign")
            self._allowed(policy, "assign", actor, ticket)
            if ticket.owner == owner:
                raise AlreadyDone(f"<@{owner}> already owns {ticket.ref}")
            before = {"owner": ticket.owner}
            ticket.owner = owner
            return [("owner_assigned", before, {"owner": owner})]

        return self._change(
            workspace, ref, actor, now, expected_version, apply, key=idempotency_key
        )

    def acknowledge_page(
        self,
        workspace: str,
        ref: str | int,
        level: str,
        *,
        actor: str,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> TicketView:
        """ "I'm on it" on a page: stops that level's repeats and acknowledges the ticket."""

        def apply(ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "answer a page for")
            self._may_answer(ticket, policy, level, actor, now)
            return [("page_acknowledged", {}, {"level": level}), *_claim(ticket, actor, now)]

        return self._change(workspace, ref, actor, now, None, apply, key=idempotency_key)

    def set_message(self, workspace: str, ref: str | int, channel: str, ts: str) -> None:
        """Where the ticket's card lives, so every change can update it in place."""
        with self.store.writing() as session:
            ticket = self._lock(session, workspace, ref)
            ticket.channel, ticket.message_ts = channel, ts

    def record_timers(
        self,
        outcomes: Sequence[TimerOutcome],
        claimed_by: str,
        now: datetime,
        views: Mapping[int, TicketView],
    ) -> set[int]:
        """The clock's outcomes for the timers it claimed in one tick, and the timers each
        settled ticket owes from ``now`` on (a page's next repeat, the next follow-up).

        One transaction for the whole tick: the outcome and the next timers are written
        together (a clock killed in between could otherwise leave a repeat nobody owes), and
        one commit instead of one per timer is most of what lets the clock keep up with a burst.
        The tickets are locked first, in id order, as every use case locks its ticket. The next
        timers come from ``views`` (the schedules the clock computed at ``now``) unless the
        ticket changed since, in which case it is recomputed here. Returns the ids of the timers
        not recorded because ``claimed_by`` no longer holds them (the lease ran out and another
        clock took them over); nothing is written for those.
        """
        if not outcomes:
            return set()
        ids = [o.timer_id for o in outcomes]
        with self.store.writing() as session:
            settled = sorted({o.ticket_id for o in outcomes if o.settled})
            lock = (
                select(Ticket.id, Ticket.version)
                .where(Ticket.id.in_(settled))  # type: ignore[union-attr]
                .order_by(Ticket.id)  # type: ignore[arg-type]
                .with_for_update()
            )
            versions = dict(session.exec(lock).all()) if settled else {}
            mine = (
                select(Timer.id)
                .where(
                    Timer.id.in_(ids),  # type: ignore[union-attr]
                    Timer.state == "sending",
                    Timer.claimed_by == claimed_by,
                )
                .with_for_update()
            )
            held = set(session.exec(mine).all())
            rows = [{"id": o.timer_id, **o.values} for o in outcomes if o.timer_id in held]
            if rows:
                _update_timers(session, rows)
            recorded = {o.ticket_id for o in outcomes if o.settled and o.timer_id in held}
            plans = {}
            for ticket_id in sorted(recorded):
                view = views.get(ticket_id)
                if view is not None and view.ticket.version == versions[ticket_id]:
                    plans[ticket_id] = view.schedule
                else:  # changed by someone while the clock performed
                    ticket = session.get_one(Ticket, ticket_id)
                    policy = self._policy_of(session, ticket)
                    plans[ticket_id] = self._schedule(session, ticket, policy, now)
            self._rewrite_timers(session, plans, revive=False)
        return set(ids) - held

    def bind_channel(
        self, workspace: str, channel: str, policy: str, *, actor: str, now: datetime
    ) -> Policy:
        """Tickets opened in ``channel`` run under ``policy`` from now on (the team's
        ``bind_channel`` role: leads by default, and admins)."""
        from ..oncall import OnCall  # on-call's use cases import this package's errors

        chosen = self._named(policy)
        OnCall(self.store, self.team, admins=self.admins).allow(
            "bind_channel", workspace, actor, now
        )
        with self.store.writing() as session:
            self._remember_version(session, chosen, now)
            session.merge(
                ChannelPolicy(
                    workspace=workspace,
                    channel=channel,
                    policy=chosen.name,
                    bound_by=actor,
                    bound_at=now,
                )
            )
        return chosen

    # -- reading -------------------------------------------------------------------------------

    def view(self, workspace: str, ref: str | int, now: datetime) -> TicketView:
        with self.store.reading() as session:
            ticket = self._find(session, workspace, ref)
            policy = self._policy_of(session, ticket)
            return TicketView(ticket, policy, self._schedule(session, ticket, policy, now))

    def views(self, rows: list[Ticket], now: datetime) -> list[TicketView]:
        """Views of several tickets (a queue page, a Home tab, a clock tick) with one read of
        their events: the columns the engine reads, not whole rows (a tick reads a thousand
        events, and building ORM objects of them took longer than the schedules)."""
        if not rows:
            return []
        with self.store.reading() as session:
            ids = [t.id for t in rows]
            stored: dict[int | None, list[Any]] = {i: [] for i in ids}
            query = (
                select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.at, TicketEvent.after)
                .where(TicketEvent.ticket_id.in_(ids))  # type: ignore[union-attr]
                .order_by(TicketEvent.id)
            )
            for row in session.exec(query):
                stored[row.ticket_id].append(row)
            result = []
            for ticket in rows:
                policy = self._policy_of(session, ticket)
                plan = schedule(policy, engine_events(stored[ticket.id]), now)
                result.append(TicketView(ticket, policy, plan))
            return result

    # -- the machinery -------------------------------------------------------------------------

    def _change(
        self,
        workspace: str,
        ref: str | int,
        actor: str,
        now: datetime,
        expected_version: int | None,
        apply: Callable[[Ticket, Policy], list[Change]],
        timer_id: int | None = None,
        *,
        key: str | None = None,
    ) -> TicketView:
        """Apply one change in one transaction. ``timer_id``: the clock's timer (claimed, in
        state ``sending``) that makes this change; it is marked ``acted`` in the same
        transaction, so a retry after a failed announcement never repeats the change.
        ``key``: the request's idempotency key; one already applied to this ticket changes
        nothing (checked under the ticket's lock, before the change's own checks, which
        would refuse a repeat as "already done")."""
        with self.store.writing() as session:
            ticket = self._lock(session, workspace, ref)
            version = ticket.version
            policy = self._policy_of(session, ticket)
            if key is not None and self._applied(session, ticket, key):
                view = TicketView(ticket, policy, self._schedule(session, ticket, policy, now))
                return replace(view, replayed=True)
            at = max(now, self._last_event_at(session, ticket) or now)
            # The change's own checks come first: a double click is told "already done",
            # which says more than "changed since you looked". (A refusal rolls back.)
            changes = apply(ticket, policy)
            if expected_version is not None and version != expected_version:
                raise Conflict(
                    f"{ticket.ref} changed while you were looking at it: "
                    "check its card and try again"
                )
            for index, (kind, before, after) in enumerate(changes):
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        kind=kind,
                        actor=actor,
                        at=at,
                        before=before,
                        after=after,
                        idempotency_key=None if index else key,
                    )
                )
            if timer_id is not None:
                timer = session.get_one(Timer, timer_id)
                timer.detail = {**timer.detail, "acted": stamp(at)}
            return self._recompute(session, ticket, policy, at, bump=True)

    def _recompute(
        self, session: Session, ticket: Ticket, policy: Policy, now: datetime, *, bump: bool
    ) -> TicketView:
        session.flush()
        plan = self._schedule(session, ticket, policy, now)
        ticket.severity = plan.severity
        ticket.status = plan.status
        ticket.active = plan.status in ACTIVE
        nearest = plan.next_breach
        ticket.next_due_at = nearest.due if nearest else None
        ticket.next_target = nearest.target if nearest else None
        if bump:
            ticket.version += 1
        ticket.updated_at = now
        self._rewrite_timers(session, {ticket.id: plan})  # type: ignore[dict-item]
        session.flush()
        return TicketView(ticket, policy, plan)

    def _schedule(
        self, session: Session, ticket: Ticket, policy: Policy, now: datetime
    ) -> Schedule:
        rows = session.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
        return schedule(policy, engine_events(rows), now)

    def _rewrite_timers(
        self, session: Session, plans: Mapping[int, Schedule], *, revive: bool = True
    ) -> None:
        """Make each ticket's pending timers what its plan (ticket id → schedule) owes: the
        ones no longer owed deleted, the new ones added, the moved ones moved. With ``revive``,
        a timer the clock dropped (its ticket was resolved or paused as it came due) that a
        change has made owed again (a reopen, a pause that ended) is pending again; the clock's
        own records pass False, since the same instant cannot owe what it has just dropped.
        Timers being sent or already settled are left as they are."""
        if not plans:
            return
        existing: dict[int, dict[tuple[str, str, int], Any]] = {t: {} for t in plans}
        query = select(
            Timer.id,
            Timer.ticket_id,
            Timer.kind,
            Timer.stage,
            Timer.repeat,
            Timer.state,
            Timer.due_at,
        ).where(Timer.ticket_id.in_(list(plans)))  # type: ignore[union-attr]
        for row in session.exec(query):
            existing[row.ticket_id][(row.kind, row.stage, row.repeat)] = row
        stale: list[int] = []
        moved: list[dict[str, Any]] = []
        new: list[dict[str, Any]] = []
        for ticket_id, plan in plans.items():
            wanted = {timer.key: timer for timer in plan.timers}
            rows = existing[ticket_id]
            stale += [r.id for key, r in rows.items() if r.state == "pending" and key not in wanted]
            for key, timer in wanted.items():
                row = rows.get(key)
                if row is None:
                    new.append(
                        {
                            "ticket_id": ticket_id,
                            "kind": timer.kind,
                            "stage": timer.stage,
                            "repeat": timer.repeat,
                            "due_at": timer.due_at,
                            "next_attempt_at": timer.due_at,
                            "state": "pending",
                            "attempts": 0,
                            "target": timer.target,
                            "level": timer.level,
                            "detail": _detail(timer),
                        }
                    )
                elif row.state == "pending" and row.due_at != timer.due_at:
                    moved.append(
                        {"id": row.id, "due_at": timer.due_at, "next_attempt_at": timer.due_at}
                    )
                elif row.state == "dropped" and revive:
                    moved.append(
                        {
                            "id": row.id,
                            "state": "pending",
                            "attempts": 0,
                            "detail": _detail(timer),
                            "due_at": timer.due_at,
                            "next_attempt_at": timer.due_at,
                        }
                    )
        if stale:
            session.execute(delete(Timer).where(Timer.id.in_(stale)))  # type: ignore[union-attr]
        if moved:
            _update_timers(session, moved)
        if new:
            session.execute(insert(TIMERS), new)

    def _lock(self, session: Session, workspace: str, ref: str | int) -> Ticket:
        number = parse_ref(ref)
        query = select(Ticket).where(Ticket.workspace == workspace, Ticket.number == number)
        ticket = session.exec(query.with_for_update()).first()
        if ticket is None:
            raise NotFound(f"there is no ticket SLA-{number} in this workspace")
        return ticket

    def _find(self, session: Session, workspace: str, ref: str | int) -> Ticket:
        number = parse_ref(ref)
        query = select(Ticket).where(Ticket.workspace == workspace, Ticket.number == number)
        ticket = session.exec(query).first()
        if ticket is None:
            raise NotFound(f"there is no ticket SLA-{number} in this workspace")
        return ticket

    def _by_key(self, workspace: str, key: str, now: datetime) -> TicketView | None:
        with self.store.reading() as session:
            query = select(Ticket).where(
                Ticket.workspace == workspace, Ticket.idempotency_key == key
            )
            ticket = session.exec(query).first()
            if ticket is None:
                return None
            policy = self._policy_of(session, ticket)
            return TicketView(ticket, policy, self._schedule(session, ticket, policy, now))

    def _applied(self, session: Session, ticket: Ticket, key: str) -> bool:
        query = select(TicketEvent.id).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.idempotency_key == key
        )
        return session.exec(query).first() is not None

    def _last_event_at(self, session: Session, ticket: Ticket) -> datetime | None:
        query = select(func.max(TicketEvent.at)).where(TicketEvent.ticket_id == ticket.id)
        return session.exec(query).first()

    def _policy_of(self, session: Session, ticket: Ticket) -> Policy:
        try:
            return self.policies.version(ticket.policy_digest, None)
        except KeyError:
            text = session.get(PolicyVersion, ticket.policy_digest).text  # type: ignore[union-attr]
            return self.policies.version(ticket.policy_digest, text)

    def _named(self, name: str) -> Policy:
        try:
            return self.policies.get(name)
        except KeyError as exc:
            raise Invalid(str(exc.args[0])) from None

    def policy_for(self, workspace: str, channel: str | None, name: str | None) -> Policy:
        """The policy a ticket opened here runs under: named, bound to the channel, the
        deployment's default, or the only one."""
        if name:
            return self._named(name)
        if channel:
            with self.store.reading() as session:
                bound = session.get(ChannelPolicy, (workspace, channel))
            if bound is not None:
                return self._named(bound.policy)
        if self.default_policy:
            return self._named(self.default_policy)
        names = self.policies.names()
        if len(names) == 1:
            return self.policies.get(names[0])
        # Said the same way to /sla open, /sla policy and /sla report: no ticket is assumed.
        raise Invalid(
            "this channel is bound to no policy and there is no default: name one "
            f"(policy:NAME, one of {', '.join(names)}) or bind this channel to one with "
            "/sla policy NAME"
        )

    def _remember_version(self, session: Session, policy: Policy, now: datetime) -> None:
        values = {
            "digest": policy.digest,
            "name": policy.name,
            "text": self.policies.source(policy),
            "first_seen_at": now,
        }
        insert = pg_insert if not self.store.is_sqlite else sqlite_insert
        session.execute(insert(PolicyVersion).values(**values).on_conflict_do_nothing())

    def _next_number(self, session: Session, workspace: str) -> int:
        insert = pg_insert if not self.store.is_sqlite else sqlite_insert
        session.execute(
            insert(WorkspaceCounter)
            .values(workspace=workspace, last_number=0)
            .on_conflict_do_nothing()
        )
        bumped = (
            update(WorkspaceCounter)
            .where(WorkspaceCounter.workspace == workspace)  # type: ignore[arg-type]
            .values(last_number=WorkspaceCounter.last_number + 1)
            .returning(WorkspaceCounter.last_number)
        )
        return session.execute(bumped).scalar_one()

    def _may_answer(
        self, ticket: Ticket, policy: Policy, level: str, actor: str, now: datetime
    ) -> None:
        """A page is answered by those it reached (see `page_copies.answerers`), its owner or
        an admin."""
        session = object_session(ticket)
        allowed = answerers(session, ticket, policy, level, self.team, now)  # type: ignore[arg-type]
        if allowed is None or actor in allowed or actor in self.admins or actor == ticket.owner:
            return
        who = ", ".join(f"<@{u}>" for u in sorted(allowed))
        raise Forbidden(
            f"only those paged may answer this page of {ticket.ref}: {who}"
            + (f", or its owner <@{ticket.owner}>" if ticket.owner else "")
        )

    def _allowed(self, policy: Policy, action: str, actor: str, ticket: Ticket) -> None:
        if actor in self.admins or policy.may(
            action, actor, owner=ticket.owner, reporter=ticket.reporter
        ):
            return
        who = ", ".join(getattr(policy.permissions, action))
        doing = ACTION_WORDS.get(action, action)
        raise Forbidden(
            f"you may not {doing} {ticket.ref}: the {policy.name} policy "
            f"allows {who}. Ask the owner"
            + (f" (<@{ticket.owner}>)" if ticket.owner else "")
            + " or someone in the escalation matrix"
        )


def _update_timers(session: Session, rows: list[dict[str, Any]]) -> None:
    """UPDATE timers by id, one executemany per set of columns. In Core: the ORM's bulk
    update by primary key does the same with several times the overhead, which a clock
    recording a thousand outcomes a second notices."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    for columns, group in by_columns.items():
        statement = (
            update(TIMERS)
            .where(TIMERS.c.id == bindparam("timer_id"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        params = [
            {"timer_id": row["id"], **{f"new_{name}": row[name] for name in columns}}
            for row in group
        ]
        session.execute(statement, params)


def _detail(timer: EngineTimer) -> dict[str, Any]:
    """What the clock needs besides the key to word a timer's message."""
    return {"share": timer.share, "trigger": timer.trigger, "clause": timer.clause}


def _claim(ticket: Ticket, actor: str, now: datetime) -> list[Change]:
    """Acknowledge for ``actor`` unless someone has, and make them the owner if nobody is."""
    changes: list[Change] = []
    if ticket.acknowledged_at is None:
        ticket.acknowledged_at, ticket.acknowledged_by = now, actor
        changes.append(("acknowledged", {}, {"by": actor}))
    if ticket.owner is None:
        ticket.owner = actor
        changes.append(("owner_assigned", {"owner": None}, {"owner": actor}))
    return changes


def _active(ticket: Ticket, doing: str) -> None:
    if ticket.status not in ACTIVE:
        raise Invalid(
            f"{ticket.ref} is {ticket.status}: you cannot {doing} it"
            + (" (reopen it first)" if ticket.status == "resolved" else "")
        )


__all__ = [
    "SYSTEM",
    "OpenResult",
    "TicketError",
    "TicketView",
    "Tickets",
    "TimerOutcome",
    "parse_ref",
]
