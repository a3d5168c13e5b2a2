"""A new ticket's support level, routed by the nature of its query (issue 13, clause 10).

Seed 001 (LeadPro) sorts queries into Level 1, 2 and 3 support by what they are about. Where
the policy lists ``escalation.support_levels``, `Tickets.open` routes the ticket
(`slabot.sla.levels.route`) and records where it went as an event of its own, kept with the
opening: the engine reads it for whose people a reminder mentions and whom a
``support_level`` rule pages.
"""

from __future__ import annotations

from datetime import datetime

from ..actors import SYSTEM
from ..sla import Policy
from ..sla.levels import route
from ..store.tables import TicketEvent


def routed_event(policy: Policy, ticket_id: int, text: str, now: datetime) -> list[TicketEvent]:
    """The ``level_routed`` event for a ticket just opened (and flushed: ``ticket_id`` is its
    row's); none when the policy routes none."""
    level = route(policy, text)
    if level is None:
        return []
    return [
        TicketEvent(
            ticket_id=ticket_id,
            kind="level_routed",
            actor=SYSTEM,
            at=now,
            after={"level": level},
        )
    ]
