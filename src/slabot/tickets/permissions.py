"""Who may do what to a ticket: the policy's permissions, and the deployment's admins.

Every use case that changes a ticket asks here before it writes, so the rule is the same from
a command, a button, a form or the API.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..refusals import Forbidden
from ..sla import Policy
from ..store.tables import Ticket

# The clock acts as this actor (auto-solve, auto-close); a deployment that runs the clock lists
# it among its admins, so the policy's permissions never stop what the policy itself demands.
SYSTEM = "slabot"
# A permission as a refusal says it ("you may not pause or resume SLA-4"); else its own name.
ACTION_WORDS = {"change_severity": "change the severity of", "pause": "pause or resume"}


class Permissions:
    def __init__(self, admins: Iterable[str] = ()):
        self.admins = frozenset(admins)

    def check(self, policy: Policy, action: str, actor: str, ticket: Ticket) -> None:
        """Return if ``actor`` may do ``action`` to ``ticket``; else refuse (`Forbidden`)."""
        if actor in self.admins or policy.may(
            action, actor, owner=ticket.owner, reporter=ticket.reporter
        ):
            return
        who = ", ".join(getattr(policy.permissions, action))
        doing = ACTION_WORDS.get(action, action)
        raise Forbidden(
            f"you may not {doing} {ticket.ref}: the {policy.name} policy "
            f"allows {who}. Ask the owner"
            + (" ({owner})" if ticket.owner else "")
            + " or someone in the escalation matrix",
            people={"owner": ticket.owner} if ticket.owner else None,
        )
