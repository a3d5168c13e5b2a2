"""The clock's third duty: at each hand-off of a rotation, have its group hold whoever is on
call and its channel told (who is on call now and until when, who is next).

Each hand-off is owed work claimed, performed and recorded once (`slabot.oncall.handoffs`):
this duty claims what is due, hands each claim to a `HandOffNotifier` (the chat's adapter,
given by whoever builds the clock: it sets the group and posts, after looking for an earlier
attempt's announcement) and records what came of it: done, retried after a backoff when the
failure is one the far end may get over, or given up when only a person can mend it. The duty
speaks no chat: it knows rotations, claims and outcomes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from ..notify.base import DeliveryFailed
from ..oncall.handoffs import Claim, HandOffs
from ..sla.oncall import Rotation, Team

log = logging.getLogger(__name__)


class HandOffNotifier(Protocol):
    def hand_off(self, claim: Claim) -> str | None:
        """Perform ``claim`` (unless an earlier attempt is found to have): what to record of
        it (where it was announced, or "found"), or None when the rotation announces nowhere.
        Raises `DeliveryFailed`: ``retryable``, or for good."""
        ...


class HandOffDuty:
    """Performs the hand-offs that are due; one instance per clock."""

    def __init__(
        self,
        handoffs: HandOffs,
        team: Team,
        notifier: HandOffNotifier,
        home: Callable[[], str | None],
    ):
        """``home``: the workspace of a rotation that names none (the one bot token's), or
        None when slabot is installed in several and the rotation must say."""
        self.handoffs = handoffs
        self.team = team
        self.notifier = notifier
        self.home = home
        self._unplaced: set[str] = set()  # rotations already said to lack a workspace

    def tick(self, now: datetime) -> int:
        """Perform the hand-offs due at ``now``; how many were performed."""
        by_workspace: dict[str, list[Rotation]] = {}
        for rotation in self.team.rotations:
            if not (rotation.announce or rotation.usergroup):
                continue
            workspace = rotation.workspace or self.home()
            if workspace is not None:
                by_workspace.setdefault(workspace, []).append(rotation)
            elif rotation.key not in self._unplaced:
                self._unplaced.add(rotation.key)
                log.error(
                    "rotation %s: no workspace known for its hand-offs yet (installed in "
                    "several workspaces? name it with `workspace:`); they wait until there is one",
                    rotation.key,
                )
        performed = 0
        for workspace, rotations in by_workspace.items():
            for claim in self.handoffs.claim(workspace, rotations, now):
                performed += self._perform(claim, now)
        return performed

    def _perform(self, claim: Claim, now: datetime) -> bool:
        """Perform ``claim`` and record how it went: done, to retry, or given up."""
        key = claim.rotation.key
        try:
            announced = self.notifier.hand_off(claim)
        except DeliveryFailed as failed:
            if failed.retryable:
                log.info("hand-off of %s: %s; later", key, failed)
                self.handoffs.retry(claim, now, failed.reason)
            else:
                log.warning("hand-off of %s not announced: %s", key, failed)
                self.handoffs.give_up(claim, now, failed.reason)
            return False
        self.handoffs.done(claim, now, announced)
        return True
