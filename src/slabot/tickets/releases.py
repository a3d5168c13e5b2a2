"""Recording a release the customer agreed: "10 business days, or specific release".

LeadSquared's Medium target is met by a resolution within ten business days *or* by a specific
release agreed with the customer. An ETA on an update never moved the deadline, so a ticket
waiting on a release forty days out breached on day ten and paged the manager. This use case
records the agreement (the date, and who agreed it) as an event on the ticket; the engine then
lets the release stand for the resolution target where the policy says the contract allows it
(``agreed_release: true``), and the card, reminders, pages and the month's report follow.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..refusals import Invalid
from ..sla import Policy
from ..store.records import Session
from ..store.tables import Ticket
from .changes import Change, ChangeRequest, Changes, _active
from .events import stamp
from .views import TicketView

MAX_AGREED_BY = 200


def agree_release(
    changes: Changes, request: ChangeRequest, release_at: datetime, *, agreed_by: str
) -> TicketView:
    """Record that ``agreed_by`` (the customer's person, in their words) agreed the release
    due at ``release_at``; a later agreement replaces an earlier one. Refused, with what to do
    instead, when the policy's resolution target allows no release, the date is past, or the
    caller may not move the ticket's deadlines."""
    agreed_by = " ".join(agreed_by.split())
    if not agreed_by:
        raise Invalid("say who agreed the release, such as 'Priya (Acme's IT lead), by e-mail'")
    if len(agreed_by) > MAX_AGREED_BY:
        raise Invalid(f"keep who agreed it under {MAX_AGREED_BY} characters")
    if release_at <= request.now:
        raise Invalid("the release date is already past: give a date still to come")

    def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
        _active(ticket, "record a release on")
        target = policy.severity(ticket.severity).targets.resolution
        if target is None or not target.agreed_release:
            label = policy.severity(ticket.severity).label
            raise Invalid(
                f"the {policy.name} policy lets no release stand for the resolution of a "
                f"{label} ticket: post the date as an ETA with /sla update instead"
            )
        changes.permissions.check(
            session, policy, "agree_release", request.actor, ticket, request.now
        )
        after = {"release_at": stamp(release_at.astimezone(UTC)), "agreed_by": agreed_by}
        return [("release_agreed", {}, after)]

    return changes._change(request, apply)
