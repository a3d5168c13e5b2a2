"""Who is in a Slack user group (``usergroups.users.list``), for the ticket use cases: a page
to a level whose contact is a group ``S…`` may be answered by the group's members
(`slabot.tickets.page_copies.answerers`).

Members change rarely and a click must answer within Slack's three seconds, so each group's
members are kept for `TTL` after they were read. A group that cannot be read (Slack down, no
such group, the ``usergroups:read`` scope missing) is not kept: the next click asks again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .workspaces import OneWorkspace, WorkspaceGone, Workspaces

log = logging.getLogger(__name__)
TTL = 60.0  # seconds a group's members are believed


class GroupMembers:
    def __init__(
        self,
        slack: WebClient | Workspaces,
        *,
        ttl: float = TTL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.workspaces = OneWorkspace(slack) if isinstance(slack, WebClient) else slack
        self.ttl = ttl
        self.clock = clock
        self._known: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, workspace: str, group: str) -> frozenset[str] | None:
        """The members of ``group`` in ``workspace``, or None when Slack cannot say."""
        key = (workspace, group)
        with self._lock:
            known = self._known.get(key)
        if known is not None and self.clock() - known[0] < self.ttl:
            return known[1]
        try:
            answer = self.workspaces.client_for(workspace).usergroups_users_list(usergroup=group)
        except (SlackApiError, OSError, WorkspaceGone) as exc:
            log.warning("cannot read the members of user group %s: %s", group, exc)
            return None
        members = frozenset(str(user) for user in answer.get("users") or [])
        with self._lock:
            self._known[key] = (self.clock(), members)
        return members
