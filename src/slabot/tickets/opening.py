"""Opening a ticket: every source of tickets (command, button, form, API, alert, e-mail)
comes through `Opening.open`.

The policy is the one named, else the channel's, else the deployment's default; the severity
is the one given, else read from the title and description by the classifier, which asks
(`SeverityUnclear`) rather than guess. The customer is the one named (a command's
``customer:``, the form, the API, an alert or mail route), else the channel's
(``/sla policy NAME customer:NAME``), else the policy's own (`ChannelBindings.ticket_terms`).
Numbers count up per workspace with no gaps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..graphemes import clusters
from ..policies import ChannelBindings, PolicyVersions
from ..refusals import Invalid, SeverityUnclear
from ..sla.classify import Classification, classify
from ..store import Store
from ..store.records import Session
from ..store.tables import Ticket, TicketEvent, WorkspaceCounter
from .changes import MAX_TEXT, recompute
from .events import stamp
from .routing import routed_event
from .timers import Say, owe_messages
from .views import TicketView, TicketViews

MAX_TITLE = 3000
HEADLINE_MAX = 200  # the title made of a summary's first line when the summary is too long
MAX_SOURCE_REF = 255
_SOURCE = re.compile(r"[a-z][a-z0-9-]{0,31}")


@dataclass(frozen=True)
class OpenResult:
    view: TicketView
    created: bool  # False: the same request or outside item had opened this ticket already
    classification: Classification | None


class Opening:
    def __init__(
        self,
        store: Store,
        versions: PolicyVersions,
        bindings: ChannelBindings,
        views: TicketViews,
        owed: Callable[[], None] = lambda: None,
    ):
        self.store = store
        self.versions = versions
        self.bindings = bindings
        self.views = views
        self.owed = owed  # told once a ticket's card is owed (committed)

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
        source: str = "slack",
        source_ref: str | None = None,
        say: Say | None = None,
        customer: str | None = None,
    ) -> OpenResult:
        """Open a ticket, whatever the source (a command, the API, an alert, an e-mail).

        A repeated ``idempotency_key`` (the same request) or ``source_ref`` (the same outside
        item: an alert group, a Message-ID) returns the ticket it opened before. The card
        (and ``say``'s note in its thread) is owed in the same transaction (`owe_messages`):
        the clock posts it, so a slow or failing Slack never loses it nor posts it twice."""
        if not _SOURCE.fullmatch(source):
            raise Invalid(
                f"{source[:40]!r} is not a source name: use lower-case letters, digits and "
                "dashes, such as api or alertmanager"
            )
        if source_ref is not None and not 0 < len(source_ref) <= MAX_SOURCE_REF:
            raise Invalid(
                f"a source reference must be 1 to {MAX_SOURCE_REF} characters, "
                f"not {len(source_ref)}"
            )
        existing = self.views.existing(workspace, idempotency_key, source, source_ref, now)
        if existing is not None:
            return OpenResult(existing, False, None)
        if len(title.strip()) > MAX_TITLE and not description:
            # A summary typed in one go (a command, an alert) carries more than a title holds:
            # every word, as typed, goes to the description, and its first line, cut, is the title.
            title, description = _headline(title), title
        title = title.strip()
        if not title:
            raise Invalid("a ticket needs a title: say in a few words what is wrong")
        if len(title) > MAX_TITLE:
            raise Invalid(f"the title is {len(title)} characters; keep it under {MAX_TITLE}")
        if len(description) > MAX_TEXT:
            raise Invalid(f"the description is too long; keep it under {MAX_TEXT} characters")
        if reported_at is not None and reported_at > now:
            raise Invalid("the problem cannot be reported after the ticket opens")
        chosen, customer = self.bindings.ticket_terms(workspace, channel, policy, customer)
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
                self.versions.remember(session, chosen, now)
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
                    source=source,
                    source_ref=source_ref,
                    customer=customer,
                    updated_at=now,
                )
                session.add(ticket)
                after = {
                    "severity": level.key,
                    "title": title,
                    "policy": chosen.name,
                    "reported_at": stamp(reported_at),
                    "owner": owner,
                    "source": source,
                    "source_ref": source_ref,
                    "customer": customer,
                }
                if classification is not None:
                    after["classified"] = classification.reason
                assert ticket.id is not None  # flushed: the database gave it its id
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id, kind="opened", actor=reporter, at=now, after=after
                    )
                )
                session.add_all(routed_event(chosen, ticket.id, f"{title}\n{description}", now))
                view = recompute(
                    session,
                    ticket,
                    chosen,
                    now,
                    bump=False,
                    owe=lambda view: owe_messages(
                        session, ticket, now, opened=True, note=say(view, None) if say else None
                    ),
                )
        except IntegrityError:
            # Another delivery of the same request won the race: answer with its ticket.
            existing = self.views.existing(workspace, idempotency_key, source, source_ref, now)
            if existing is None:
                raise
            return OpenResult(existing, False, None)
        self.owed()
        return OpenResult(view, True, classification)

    def _next_number(self, session: Session, workspace: str) -> int:
        session.execute(
            self.store.insert_if_new(WorkspaceCounter).values(workspace=workspace, last_number=0)
        )
        bumped = (
            update(WorkspaceCounter)
            .where(WorkspaceCounter.c.workspace == workspace)
            .values(last_number=WorkspaceCounter.c.last_number + 1)
            .returning(WorkspaceCounter.c.last_number)
        )
        return session.execute(bumped).scalar_one()


def _headline(summary: str) -> str:
    """``summary``'s first line, cut between grapheme clusters to `HEADLINE_MAX` with "…"."""
    line = summary.strip().split("\n", 1)[0]
    if len(line) <= HEADLINE_MAX:
        return line
    kept, used = [], 0
    for cluster in clusters(line):
        if used + len(cluster) >= HEADLINE_MAX:
            break
        kept.append(cluster)
        used += len(cluster)
    return "".join(kept).rstrip() + "…"
