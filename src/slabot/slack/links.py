"""Links back to a ticket's card: one place every surface (list lines, App Home entries, page
DMs) builds them, so a reader of any of them is one click from the card and its thread.

A card's address is Slack's archive URL, ``https://<domain>.slack.com/archives/<channel>/
p<ts without its dot>``: what ``chat.getPermalink`` answers for a message, built here from the
workspace's domain instead. Why: a Home tab or a queue lists up to 80 tickets, and one
``chat.getPermalink`` call each would cost up to 80 calls on every opening; the domain is one
``team.info`` call per workspace for the life of the process (a workspace renamed meanwhile
still works: Slack redirects its old domain).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

from slack_sdk.errors import SlackApiError

from ..store.tables import Ticket

log = logging.getLogger(__name__)
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}", re.IGNORECASE)  # nothing that could end a link


def archive_url(domain: str, channel: str, ts: str) -> str:
    """The URL of the message ``ts`` in ``channel`` of the workspace at ``domain``."""
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


class Links:
    """Card links for one app (the web process or the clock), with each workspace's domain
    asked of Slack once and kept."""

    def __init__(self) -> None:
        self._domains: dict[str, str] = {}
        self._lock = threading.Lock()

    def card(self, client: Any, ticket: Ticket) -> str | None:
        """The link to ``ticket``'s card; None before it is posted or when Slack cannot say
        the workspace's domain (the line is shown without a link, never refused)."""
        if not ticket.channel or not ticket.message_ts:
            return None
        domain = self.domain(client, ticket.workspace)
        return archive_url(domain, ticket.channel, ticket.message_ts) if domain else None

    def cards(self, client: Any, tickets: Iterable[Ticket]) -> dict[int, str]:
        """Links by ticket number, for a list (tickets without a card are left out)."""
        found = {}
        for ticket in tickets:
            link = self.card(client, ticket)
            if link:
                found[ticket.number] = link
        return found

    def domain(self, client: Any, workspace: str) -> str | None:
        with self._lock:
            known = self._domains.get(workspace)
        if known:
            return known
        try:
            domain = client.team_info(team=workspace)["team"]["domain"]
        except (SlackApiError, OSError, KeyError, TypeError) as exc:
            log.info("no domain for workspace %s (%s): lines without links", workspace, exc)
            return None
        if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
            log.warning("workspace %s has a domain we cannot link to: %r", workspace, domain)
            return None
        with self._lock:
            self._domains[workspace] = domain
        return domain
