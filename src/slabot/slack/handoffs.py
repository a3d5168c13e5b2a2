"""Slack's half of a rotation's hand-off: its user group set to whoever is on call
(``usergroups.users.update``) and the hand-off announced in its channel.

The clock's duty (`slabot.clock.handoffs`) claims each hand-off, hands it here
(`SlackHandOffs.hand_off`) and records the outcome. An attempt after the first looks for the
announcement in the channel (its metadata, event ``slabot_handoff``, names the hand-off's row)
before posting, so a clock killed between claim and record never announces it twice. The group
is set first: it is idempotent, so a retry simply sets it again. A failure Slack may get over
(rate limits, 5xx, timeouts) is a retryable `DeliveryFailed`; one only a person can mend (the
bot not in the channel, no such group, a missing scope) is logged, and the other half is still
done. A calendar's gap (nobody on call) is announced, and the group is left as it was: Slack
keeps no empty group.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..notify.base import DeliveryFailed
from ..notify.slack import failure
from ..oncall.handoffs import Claim
from .blocks.oncall import handoff_text
from .workspaces import OneWorkspace, WorkspaceGone, Workspaces

log = logging.getLogger(__name__)

EVENT_TYPE = "slabot_handoff"
CLOCK_SKEW = timedelta(seconds=30)  # as for the timers' messages (`slabot.notify.slack`)
HISTORY_PAGE = 200
ASK_AGAIN = 60.0  # seconds between asks of the bot token's workspace while Slack cannot say


class SlackHandOffs:
    """Performs hand-offs in Slack: the clock's `slabot.clock.handoffs.HandOffNotifier`."""

    def __init__(self, slack: WebClient | Workspaces):
        self.workspaces = OneWorkspace(slack) if isinstance(slack, WebClient) else slack

    def hand_off(self, claim: Claim) -> str | None:
        """Set the group and post the announcement (unless an earlier attempt's is found):
        the announcement's ts, ``found``, or None when the rotation announces nowhere. A
        workspace slabot is no longer installed in fails for good."""
        try:
            slack = self.workspaces.client_for(claim.workspace)
        except WorkspaceGone as gone:
            raise DeliveryFailed(str(gone), retryable=False) from None
        if claim.rotation.usergroup and claim.handoff.person:
            self._group(slack, claim)
        if not claim.rotation.announce:
            return None
        return (self._find(slack, claim) if claim.again else None) or self._post(slack, claim)

    def _group(self, slack: WebClient, claim: Claim) -> None:
        """The group's members become whoever is on call; a refusal only a person can mend is
        logged, and the announcement still goes out."""
        group = claim.rotation.usergroup
        try:
            _call(slack.usergroups_users_update, usergroup=group, users=claim.handoff.person)
        except DeliveryFailed as failed:
            if failed.retryable:
                raise
            log.warning("rotation %s: user group %s not set: %s", claim.rotation.key, group, failed)

    def _post(self, slack: WebClient, claim: Claim) -> str:
        payload = {"handoff": claim.id, "rotation": claim.rotation.key}
        posted = _call(
            slack.chat_postMessage,
            channel=claim.rotation.announce,
            text=handoff_text(claim.rotation, claim.handoff, late=claim.late),
            metadata={"event_type": EVENT_TYPE, "event_payload": payload},
        )
        return str(posted["ts"])

    def _find(self, slack: WebClient, claim: Claim) -> str | None:
        """The announcement an earlier attempt posted ("found"), or None: looked for in the
        channel from the first claim on. A channel whose history cannot be read is posted to
        again (a duplicate risked, never a loss)."""
        oldest = claim.first_claimed_at - CLOCK_SKEW
        request: dict[str, Any] = {
            "channel": claim.rotation.announce,
            "oldest": f"{oldest.timestamp():.6f}",
            "include_all_metadata": True,
            "limit": HISTORY_PAGE,
        }
        while True:
            try:
                page = _call(slack.conversations_history, **request)
            except DeliveryFailed as failed:
                if failed.retryable:
                    raise
                log.warning("cannot look for the hand-off of %s: %s", claim.rotation.key, failed)
                return None
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == EVENT_TYPE and payload.get("handoff") == claim.id:
                    return "found"
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            request["cursor"] = cursor


def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """One Web API call; Slack's refusals and a network's failures as `DeliveryFailed`."""
    try:
        return method(**kwargs)
    except SlackApiError as exc:
        raise failure(exc) from None
    except OSError as exc:  # timeouts, refused or dropped connections: try again later
        raise DeliveryFailed(f"Slack unreachable: {exc}") from None


def token_workspace(
    slack: WebClient | Workspaces, clock: Callable[[], float] = time.monotonic
) -> Callable[[], str | None]:
    """The one bot token's workspace, asked of Slack (``auth.test``) until it answers, at most
    once every `ASK_AGAIN` seconds while it does not (the hand-off duty asks at every tick)."""
    workspaces = OneWorkspace(slack) if isinstance(slack, WebClient) else slack
    known: list[str] = []
    failed_at: list[float] = []

    def home() -> str | None:
        if known or (failed_at and clock() - failed_at[-1] < ASK_AGAIN):
            return known[0] if known else None
        try:
            known.append(str(workspaces.client_for("").auth_test()["team_id"]))
        except (SlackApiError, OSError) as exc:
            failed_at.append(clock())
            log.warning("cannot ask Slack which workspace this is (hand-offs wait): %s", exc)
            return None
        return known[0]

    return home
