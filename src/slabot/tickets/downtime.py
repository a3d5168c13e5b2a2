"""A lead's correction of the downtime a ticket implies (issue 13, clause 8).

Seed 001 (LeadPro): "LeadPro is not responsible for any downtime caused by general downtime to
the host servers (AWS)" and "Service Credits will not be applicable for unavailability caused
by Force Majeure". Every High ticket counted as downtime, including a "major disruption" that
was no outage, and nothing said what caused one. A lead corrects it afterwards: it was not an
outage, it was one after all, or it was caused by one of the policy's causes. The correction
is an event with who made it, when and why (the audit trail); the month's report reads the
latest one and shows what was left out and why.
"""

from __future__ import annotations

from ..refusals import Invalid
from ..sla import Policy
from ..store.records import Session
from ..store.tables import Ticket
from .changes import Change, ChangeRequest, Changes
from .views import TicketView

MAX_REASON = 2000


def correct_downtime(
    changes: Changes,
    request: ChangeRequest,
    *,
    counts: bool | None,
    cause: str | None,
    reason: str,
) -> TicketView:
    """Record that ticket ``ref`` was (``counts`` True) or was not (False) an outage, or is as
    its severity says (None), and what caused it (a key of the policy's ``uptime.causes``).
    A reason is required: it is what an auditor reads."""
    reason = reason.strip()
    if not reason:
        raise Invalid("say why, for the audit trail: such as 'AWS eu-west-1 incident'")
    if len(reason) > MAX_REASON:
        raise Invalid(f"keep the reason under {MAX_REASON} characters")

    def apply(session: Session, ticket: Ticket, policy: Policy) -> list[Change]:
        causes = policy.uptime.causes if policy.uptime else {}
        if cause is not None and cause not in causes:
            known = ", ".join(causes) or "none: the policy names no causes"
            raise Invalid(f"unknown cause {cause!r} for the {policy.name} policy: use {known}")
        changes.permissions.check(
            session, policy, "correct_downtime", request.actor, ticket, request.now
        )
        verdict = None if counts is None else ("yes" if counts else "no")
        return [("downtime_corrected", {}, {"counts": verdict, "cause": cause, "reason": reason})]

    return changes._change(request, apply)
