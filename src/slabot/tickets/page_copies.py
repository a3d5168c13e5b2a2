"""A ticket's pages as they went out: who each reached, and where its copies are.

A page is answered by those it was sent to: the level's people, the members of its user
groups, and whoever was on call in its rotation when each of its pages fell due (a page
retried late still went to them). The clock
records where each copy landed on the timer's receipt (``thread``, ``dm:U…``, ``post:C…`` →
the message's ts), which is what lets an answer owe the redraw of every copy at once
(`slabot.tickets.timers.owe_page_copies`, in the answer's transaction).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from ..oncall.overrides import overrides_in
from ..sla import Policy
from ..sla.oncall import Team
from ..store.records import Session
from ..store.tables import Ticket, TimerRow

SENT = ("fired", "sending")
_USER = re.compile(r"[UW][A-Z0-9]{2,}")
GROUP = re.compile(r"S[A-Z0-9]{2,}")
Members = Mapping[str, frozenset[str] | None]  # a user group → its members (None: unknown)


class Groups(Protocol):
    """Who is in a Slack user group (`slabot.slack.usergroups.GroupMembers`): None when Slack
    cannot say."""

    def members(self, workspace: str, group: str) -> frozenset[str] | None: ...


class NoGroups:
    """Without Slack (the CLI, the clock): no group's members are known."""

    def members(self, workspace: str, group: str) -> frozenset[str] | None:
        return None


@dataclass(frozen=True)
class PageCopy:
    """One message of a page: ``part`` as the clock names it, and its Slack ts."""

    part: str
    ts: str

    @property
    def person(self) -> str | None:
        """The user a direct message went to (None for a thread reply or a channel post)."""
        return self.part.removeprefix("dm:") if self.part.startswith("dm:") else None

    @property
    def channel(self) -> str | None:
        """The channel a post went to (None for a thread reply or a direct message)."""
        return self.part.removeprefix("post:") if self.part.startswith("post:") else None


def sent_pages(session: Session, ticket: Ticket, level: str) -> list[TimerRow]:
    rows = session.exec(
        select(TimerRow)
        .where(
            TimerRow.c.ticket_id == ticket.id, TimerRow.c.kind == "page", TimerRow.c.level == level
        )
        .where(TimerRow.c.state.in_(SENT))
        .order_by(TimerRow.c.due_at)
    )
    return list(rows)


def copies(pages: list[TimerRow]) -> list[PageCopy]:
    """Every copy the clock recorded of ``pages`` (a copy found again after a crash has no ts
    on record, and a message shared with other pages, whose answers it still offers, is only
    redrawn when it is the one clicked: both are left as they are)."""
    found = []
    for timer in pages:
        receipt = (timer.detail or {}).get("receipt") or {}
        for part, ts in receipt.items():
            slack = part == "thread" or part.startswith(("dm:", "post:"))
            if slack and isinstance(ts, str) and ts != "found":
                found.append(PageCopy(part, ts))
    return found


def level_contacts(policy: Policy, level: str) -> tuple[str, ...]:
    """The contacts ``level`` names (none for a level a newer policy version dropped)."""
    try:
        return policy.escalation.level(level).contacts if policy.escalation else ()
    except KeyError:
        return ()


def answerers(
    session: Session,
    ticket: Ticket,
    policy: Policy,
    level: str,
    team: Team,
    now: datetime,
    groups: Members,
) -> set[str] | None:
    """Who may answer ``level``'s page of ``ticket``: the people it reached (at each page's due
    time, or ``now`` if none went out yet), and the members of each user group among the
    level's contacts (``groups``, as Slack said at the answer: a group is "those paged", its
    mention reached them all). None: anyone, because the level names nobody Slack can tell
    apart: nobody at all, a channel (whose readers slabot does not look up), or a group Slack
    could not list just then, so the page falls back to its mention alone and is not locked
    away from the people it reached."""
    escalation = policy.escalation
    try:
        spec = escalation.level(level) if escalation else None
    except KeyError:
        return None
    if spec is None or (not spec.contacts and spec.rotation is None):
        return None
    members: set[str] = set()
    for contact in spec.contacts:
        if _USER.fullmatch(contact):
            continue
        found = groups.get(contact)
        if found is None:
            return None
        members |= found
    times = [t.due_at for t in sent_pages(session, ticket, level)] or [now]
    overrides = overrides_in(session, ticket.workspace, min(times))
    people = {person for at in times for person in team.paged(spec, at, overrides)}
    return {p for p in people if _USER.fullmatch(p)} | members
