"""Who may do what to a ticket: the policy's permissions, the deployment's admins, and what a
hook may do (`slabot.actors`).

Every use case that changes a ticket asks here before it writes, so the rule is the same from
a command, a button, a form or the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..actors import HOOK_TICKET_ACTIONS, came_through, is_hook
from ..oncall.overrides import overrides_in
from ..refusals import Forbidden
from ..sla import Policy
from ..sla.oncall import Team
from ..store.records import Session
from ..store.tables import Ticket
from .page_copies import GROUP, Groups, Members, NoGroups, answerers, level_contacts

# A permission as a refusal says it ("you may not pause or resume SLA-4"); else its own name.
ACTION_WORDS = {
    "change_severity": "change the severity of",
    "pause": "pause or resume",
    "agree_release": "record an agreed release on",
    "correct_downtime": "correct the downtime of",
}


class Permissions:
    def __init__(
        self, admins: Iterable[str] = (), team: Team | None = None, groups: Groups | None = None
    ):
        self.admins = frozenset(admins)
        self.team = team or Team()
        self.groups: Groups = groups or NoGroups()  # set by the Slack app: `Tickets.read_groups`

    def groups_paged(self, policy: Policy, level: str, workspace: str) -> Members:
        """The members of each user group ``level`` pages, as Slack says now (None: Slack
        cannot say), for `answer`: asked outside the answer's transaction."""
        groups = [c for c in level_contacts(policy, level) if GROUP.fullmatch(c)]
        return {group: self.groups.members(workspace, group) for group in groups}

    def answer(
        self,
        session: Session,
        policy: Policy,
        level: str,
        actor: str,
        ticket: Ticket,
        now: datetime,
        groups: Members,
    ) -> None:
        """A page is answered by those it reached (see `page_copies.answerers`; ``groups``:
        `groups_paged`), the ticket's owner or an admin; else refuse, naming who may. A hook
        answers no page."""
        if is_hook(actor):
            raise _hook_refused(actor, "answer this page of", ticket)
        allowed = answerers(session, ticket, policy, level, self.team, now, groups)
        if allowed is None or actor in allowed or actor in self.admins or actor == ticket.owner:
            return
        people = {f"paged{i}": user for i, user in enumerate(sorted(allowed))}
        if ticket.owner:
            people["owner"] = ticket.owner
        who = ", ".join(f"{{{role}}}" for role in people if role != "owner")
        raise Forbidden(
            f"only those paged may answer this page of {ticket.ref}: {who}"
            + (", or its owner {owner}" if ticket.owner else ""),
            people=people,
        )

    def check(
        self,
        session: Session,
        policy: Policy,
        action: str,
        actor: str,
        ticket: Ticket,
        now: datetime,
    ) -> None:
        """Return if ``actor`` may do ``action`` to ``ticket`` at ``now`` (who is on call
        then counts as the matrix); else refuse (`Forbidden`). A hook may do only what
        `slabot.actors` grants it, whatever the policy says of roles."""
        if is_hook(actor):
            if action in HOOK_TICKET_ACTIONS and came_through(actor, ticket.source):
                return
            raise _hook_refused(actor, ACTION_WORDS.get(action, action), ticket)
        if actor in self.admins or policy.may(
            action,
            actor,
            owner=ticket.owner,
            reporter=ticket.reporter,
            escalation=self._on_call(session, policy, ticket, now),
            leads=frozenset(self.team.leads),
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

    def _on_call(
        self, session: Session, policy: Policy, ticket: Ticket, now: datetime
    ) -> frozenset[str]:
        """Whoever the policy's levels' rotations have on call at ``now``: in the matrix as
        much as a level's named contacts, for as long as their shift lasts."""
        levels = (
            [level for level in policy.escalation.levels if level.rotation]
            if (policy.escalation)
            else []
        )
        if not levels:
            return frozenset()
        overrides = overrides_in(session, ticket.workspace, now)
        return frozenset(
            person for level in levels for person in self.team.paged(level, now, overrides)
        )


def _hook_refused(hook: str, doing: str, ticket: Ticket) -> Forbidden:
    return Forbidden(
        f"the {hook} hook may not {doing} {ticket.ref}: a hook resolves and reopens only the "
        "tickets that came in through it, and changes nothing else; ask a person to do it in Slack"
    )
