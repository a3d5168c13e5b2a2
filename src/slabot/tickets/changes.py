"""The changes a ticket goes through: acknowledge, severity, updates, the customer's replies,
status, resolve, reopen, close, assign, answering a page.

Each change is one transaction. It locks the ticket, checks the request against the ticket's
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

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..policies import PolicyVersions
from ..refusals import AlreadyDone, Conflict, Invalid, Postpones
from ..sla import Policy, format_duration
from ..sla.history import UpdatePosted
from ..sla.policy import ACTIVE, WAITING
from ..sla.postponements import postponements
from ..store import Store
from ..store.records import Session
from ..store.tables import Ticket, TicketEvent
from .events import stamp
from .page_copies import copies, sent_pages
from .permissions import Permissions
from .timers import Say, mark_acted, owe_messages, owe_page_copies, rewrite_timers
from .views import TicketView, find, history_of, view_of

MAX_TEXT = 40_000

Change = tuple[str, dict[str, Any], dict[str, Any]]  # kind, before, after
Check = Callable[[Session, Ticket, Policy, datetime], None]


@dataclass(frozen=True)
class ChangeRequest:
    """Who asks for a change of which ticket, when, and under which key: what every change
    takes alike, built once by whoever asks (a listener, the API, the clock, a mail), so each
    change's own signature says only what is particular to it (a severity, a text, an ETA).

    ``expected_version``: the ticket's version as the asker saw it (a card's button); a ticket
    changed since is refused with `Conflict`. ``idempotency_key``: the request's natural key
    (the command's or the click's trigger, the API's Idempotency-Key); a request already
    applied changes nothing. ``say``: the thread's note for the change."""

    workspace: str
    ref: str | int
    _: KW_ONLY
    actor: str
    now: datetime
    expected_version: int | None = None
    idempotency_key: str | None = None
    say: Say | None = None


class Changes:
    def __init__(
        self,
        store: Store,
        versions: PolicyVersions,
        permissions: Permissions,
        owed: Callable[[], None] = lambda: None,
    ):
        self.store = store
        self.versions = versions
        self.permissions = permissions
        self.owed = owed  # told once a change that owes Slack messages has committed

    def acknowledge(self, request: ChangeRequest) -> TicketView:
        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "acknowledge")
            if ticket.acknowledged_at is not None:
                # No raw UTC instant: the card says when, in each reader's own zone.
                raise AlreadyDone(
                    f"{ticket.ref} was already acknowledged by {{who}}",
                    people={"who": ticket.acknowledged_by or "someone"},
                )
            return _take(ticket, request.actor, request.now)

        return self._change(request, apply)

    def change_severity(
        self, request: ChangeRequest, severity: str, *, reason: str = ""
    ) -> TicketView:
        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "change the severity of")
            self.permissions.check(
                session, policy, "change_severity", request.actor, ticket, request.now
            )
            try:
                level = policy.severity(severity)
            except KeyError as exc:
                raise Invalid(str(exc.args[0])) from None
            if level.key == ticket.severity:
                raise AlreadyDone(f"{ticket.ref} is already {level.label}")
            before = {"severity": ticket.severity}
            return [("severity_changed", before, {"severity": level.key, "reason": reason})]

        return self._change(request, apply)

    def post_update(
        self,
        request: ChangeRequest,
        text: str,
        *,
        eta: datetime | None = None,
        workaround: bool = False,
        confirmed: bool = False,
    ) -> TicketView:
        """An update to the customer: resets the update clock; an ETA or a workaround also
        answers rules such as LiveOps's P2 elevation.

        An ETA that would put off a duty by more than its own period (the next update of a
        P1 owed hourly, pushed out 15 hours) is refused with `Postpones`, saying what it puts
        off, unless ``confirmed``: the person is asked first, then it is posted."""
        text = text.strip()
        if not text:
            raise Invalid("an update needs some text: say what changed and what happens next")
        if len(text) > MAX_TEXT:
            raise Invalid(f"the update is too long; keep it under {MAX_TEXT} characters")
        if eta is not None and eta <= request.now:
            raise Invalid("the ETA is already past: give a time still to come")

        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "post an update on")
            after = {"text": text, "eta": stamp(eta), "workaround": workaround}
            return [("update_posted", {}, after)]

        def check(session: Session, ticket: Ticket, policy: Policy, at: datetime) -> None:
            if eta is None or confirmed:
                return
            found = postponements(
                policy,
                history_of(session, ticket),
                UpdatePosted(at, eta, workaround),
                UpdatePosted(at, None, workaround),
                at,
            )
            if found:
                put_off = ", ".join(
                    f"{p.label} by {format_duration(p.by)} (owed every {format_duration(p.every)})"
                    for p in found
                )
                raise Postpones(f"this ETA puts off {put_off}: confirm to post it", found)

        return self._change(request, apply, check=check)

    def set_status(self, request: ChangeRequest, status: str) -> TicketView:
        """Pending, waiting on the customer or a third party, or back to open (``resume``)."""
        if status not in (*WAITING, "open"):
            raise Invalid(
                f"{status!r} is not a status you can set: use open, {', '.join(WAITING)} "
                "(resolve, reopen and close have their own commands)"
            )

        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "change the status of")
            self.permissions.check(session, policy, "pause", request.actor, ticket, request.now)
            if ticket.status == status:
                raise AlreadyDone(f"{ticket.ref} is already {policy.state_label(status)}")
            return [("status_changed", {"status": ticket.status}, {"status": status})]

        return self._change(request, apply)

    def customer_replied(self, request: ChangeRequest, text: str) -> TicketView:
        """The customer wrote on the ticket (an e-mail reply): ``request.actor`` is the sender
        as the mail names them. Kept in the trail; it is not an update to the customer, so no
        clock of the contract counts it as an answer. A ticket waiting on the customer runs
        again: the customer answered what was asked, as the contracts' pausing rules expect. A
        resolved or closed ticket keeps its state (whoever reads the thread decides to
        reopen)."""
        text = text.strip()[:MAX_TEXT]
        sender = request.actor

        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            changes: list[Change] = [("customer_replied", {}, {"text": text, "sender": sender})]
            if ticket.status == "waiting_on_customer":
                changes.append(("status_changed", {"status": ticket.status}, {"status": "open"}))
            return changes

        return self._change(replace(request, actor=sender[:32] or "customer"), apply)

    def resolve(
        self, request: ChangeRequest, *, note: str = "", timer_id: int | None = None
    ) -> TicketView:
        """Resolve; ``timer_id`` is the clock's auto-solve timer doing it (see `_change`)."""

        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            if ticket.status == "closed":
                raise Invalid(
                    f"{ticket.ref} is {policy.state_label('closed')}: a closed ticket cannot "
                    "change; open a new ticket and mention this one"
                )
            if ticket.status == "resolved":
                raise AlreadyDone(f"{ticket.ref} is already {policy.state_label(ticket.status)}")
            self.permissions.check(session, policy, "resolve", request.actor, ticket, request.now)
            ticket.resolved_at = request.now
            after = {"status": "resolved", "note": note}
            return [("status_changed", {"status": ticket.status}, after)]

        return self._change(request, apply, timer_id=timer_id)

    def reopen(self, request: ChangeRequest, *, reason: str = "") -> TicketView:
        """Back to open; ``reason`` (why it is not fixed after all) is kept in the trail."""
        now = request.now

        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            if ticket.status != "resolved":
                raise Invalid(
                    f"{ticket.ref} is {policy.state_label(ticket.status)}: only a resolved "
                    "ticket can be reopened"
                    + ("; open a new ticket instead" if ticket.status == "closed" else "")
                )
            self.permissions.check(session, policy, "reopen", request.actor, ticket, now)
            window = policy.lifecycle.reopen_within
            if window and ticket.resolved_at and now > ticket.resolved_at + window:
                raise Invalid(
                    f"{ticket.ref} was resolved more than {format_duration(window)} ago, past the "
                    "policy's reopen window: open a new ticket and mention this one"
                )
            ticket.resolved_at = None
            after = {"status": "open", "reason": reason} if reason else {"status": "open"}
            return [("status_changed", {"status": "resolved"}, after)]

        return self._change(request, apply)

    def close(self, request: ChangeRequest, *, timer_id: int | None = None) -> TicketView:
        """Close; ``timer_id`` is the clock's auto-close timer doing it (see `_change`)."""

        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            if ticket.status == "closed":
                raise AlreadyDone(f"{ticket.ref} is already closed")
            if ticket.status != "resolved":
                raise Invalid(f"{ticket.ref} is not resolved: resolve it first, then close it")
            self.permissions.check(session, policy, "close", request.actor, ticket, request.now)
            ticket.closed_at = request.now
            return [("status_changed", {"status": "resolved"}, {"status": "closed"})]

        return self._change(request, apply, timer_id=timer_id)

    def assign(self, request: ChangeRequest, owner: str) -> TicketView:
        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "assign")
            self.permissions.check(session, policy, "assign", request.actor, ticket, request.now)
            if ticket.owner == owner:
                raise AlreadyDone(f"{{owner}} already owns {ticket.ref}", people={"owner": owner})
            before = {"owner": ticket.owner}
            ticket.owner = owner
            return [("owner_assigned", before, {"owner": owner})]

        return self._change(request, apply)

    def acknowledge_page(self, request: ChangeRequest, level: str) -> TicketView:
        """ "I'm on it" on a page: stops that level's repeats and acknowledges the ticket."""
        actor, now = request.actor, request.now
        # Who is in the level's user groups is Slack's to say: asked before the ticket is
        # locked, so a slow Slack never holds the write.
        with self.store.reading() as session:
            paged = find(session, request.workspace, request.ref)
            groups = self.permissions.groups_paged(
                self.versions.get(session, paged.policy_digest), level, request.workspace
            )

        def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
            _active(ticket, "answer a page for")
            self.permissions.answer(session, policy, level, actor, ticket, now, groups)
            return [("page_acknowledged", {}, {"level": level}), *_take(ticket, actor, now)]

        def redraw_copies(session: Session, ticket: Ticket, at: datetime) -> None:
            taken = [
                {"part": c.part, "ts": c.ts} for c in copies(sent_pages(session, ticket, level))
            ]
            owe_page_copies(session, ticket, at, level, actor, taken)

        return self._change(request, apply, then=redraw_copies)

    def _change(
        self,
        request: ChangeRequest,
        apply: Callable[[Session, Ticket, Policy], list[Change]],
        *,
        timer_id: int | None = None,
        check: Check | None = None,
        then: Callable[[Session, Ticket, datetime], None] | None = None,
    ) -> TicketView:
        """Apply one change in one transaction. ``timer_id``: the clock's timer (claimed, in
        state ``sending``) that makes this change; it is marked ``acted`` in the same
        transaction, so a retry after a failed announcement never repeats the change.
        The request's idempotency key: one already applied to this ticket changes
        nothing (checked under the ticket's lock, before the change's own checks, which
        would refuse a repeat as "already done"). ``check``: a refusal that needs the
        ticket's history, run after those checks and before anything is written. The
        request's ``say``: the thread's note for the change, owed with the card's redraw
        (`owe_messages`) in the same transaction; ``then``: more the change owes, written in
        it too."""
        key, say, now = request.idempotency_key, request.say, request.now
        with self.store.writing() as session:
            ticket = find(session, request.workspace, request.ref, lock=True)
            version = ticket.version
            policy = self.versions.get(session, ticket.policy_digest)
            if key is not None and self._applied(session, ticket, key):
                return replace(view_of(session, ticket, policy, now), replayed=True)
            at = max(now, self._last_event_at(session, ticket) or now)
            # As it stood, for the note (a copy: the change rewrites the row itself).
            was = view_of(session, ticket.copy(), policy, at) if say else None
            # The change's own checks come first: a double click is told "already done",
            # which says more than "changed since you looked". (A refusal rolls back.)
            changes = apply(session, ticket, policy)
            if request.expected_version is not None and version != request.expected_version:
                raise Conflict(
                    f"{ticket.ref} changed while you were looking at it: "
                    "check its card and try again"
                )
            assert ticket.id is not None  # read from the database
            if check is not None:
                check(session, ticket, policy, at)
            for index, (kind, before, after) in enumerate(changes):
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        kind=kind,
                        actor=request.actor,
                        at=at,
                        before=before,
                        after=after,
                        idempotency_key=None if index else key,
                    )
                )
            if timer_id is not None:
                mark_acted(session, timer_id, at)
            view = recompute(
                session,
                ticket,
                policy,
                at,
                bump=True,
                owe=lambda view: owe_messages(
                    session, ticket, at, note=say(view, was) if say else None
                ),
            )
            if then is not None:
                then(session, ticket, at)
        self.owed()  # committed: the in-process clock may deliver it now
        return view

    def _applied(self, session: Session, ticket: Ticket, key: str) -> bool:
        query = select(TicketEvent.c.id).where(
            TicketEvent.c.ticket_id == ticket.id, TicketEvent.c.idempotency_key == key
        )
        return session.exec(query).first() is not None

    def _last_event_at(self, session: Session, ticket: Ticket) -> datetime | None:
        query = select(func.max(TicketEvent.c.at)).where(TicketEvent.c.ticket_id == ticket.id)
        return session.exec(query).first()


def recompute(
    session: Session,
    ticket: Ticket,
    policy: Policy,
    now: datetime,
    *,
    bump: bool,
    owe: Callable[[TicketView], None] | None = None,
) -> TicketView:
    """The ticket's row and pending timers made what its history now says; ``owe``: what the
    change owes Slack, written first, so that a timer due at once (a P1's first page) follows
    the card and the change's note in the clock's order."""
    view = view_of(session, ticket, policy, now)
    plan = view.schedule
    ticket.severity = plan.severity
    ticket.status = plan.status
    ticket.active = plan.status in ACTIVE
    nearest = plan.next_breach
    ticket.next_due_at = nearest.due if nearest else None
    ticket.next_target = nearest.target if nearest else None
    if bump:
        ticket.version += 1
    ticket.updated_at = now
    if owe is not None:
        owe(view)
    rewrite_timers(session, {ticket.id: plan})  # type: ignore[dict-item]
    return view


def _take(ticket: Ticket, actor: str, now: datetime) -> list[Change]:
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
