"""The clock's second duty: remind a channel of its planned maintenance.

``/sla maintenance`` announces it when it is planned; then the channel it was announced in
hears three more times: `LEAD` before it starts, when it starts, and when it ends (its planned
end). `MaintenanceReminders.tick` runs on every tick of the leading clock, beside the timers.

**At most once.** Each reminder is claimed before it is posted, by a conditional UPDATE of its
own column (``reminded_before_at`` …): ``SET reminded_start_at = now WHERE id = … AND
reminded_start_at IS NULL``. Only the clock whose UPDATE changed the row posts, so two clocks
(a standby taking over, a restart) never both send. A Slack failure that may pass (rate
limits, 5xx, timeouts, a refused connection) gives the claim back, with the same kind of
conditional UPDATE, and the next tick tries again; a failure only a person can fix (the bot
is not in the channel, the channel is gone) keeps the claim and is logged. A clock killed
between the claim and the post loses that one reminder. That is the trade chosen: a reminder
here is a courtesy on top of the announcement the channel already has, so a rare lost one
costs little, while a repeated "maintenance starts now" is noise; the timers' exactly-once
machinery (history checks after a crash) is kept for what the contract demands.

**Late.** A clock that was down does not post stale reminders: the one before the start is
skipped once the maintenance has started, the one at the start once it has ended (each is
marked as done without a post). The end is always said, however late, since it closes the
story. No reminder before the start is owed when the maintenance was planned less than
`LEAD` ahead: the announcement itself was the warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import col, select

from ..notify.slack import failure
from ..policies import PolicyBook
from ..slack.blocks.kit import escape, slack_date, truncate
from ..slack.workspaces import OneWorkspace, WorkspaceGone, Workspaces
from ..store import Store
from ..store.tables import OutageRecord

log = logging.getLogger(__name__)

# An hour ahead: enough to finish or park work in progress and tell anyone on a call, and
# close enough to the start that nobody has forgotten it again by then. (The announcement
# came at least the policy's notice earlier, 48 hours for LeadSquared.)
LEAD = timedelta(hours=1)
BATCH = 100
NOTE_MAX = 1000
EVENT_TYPE = "slabot_maintenance"
Stage = Literal["before", "start", "end"]
Outcome = Literal["sent", "retry", "gave_up", "skipped"]
COLUMNS: dict[Stage, str] = {
    "before": "reminded_before_at",
    "start": "reminded_start_at",
    "end": "reminded_end_at",
}


class MaintenanceReminders:
    """Posts the reminders of planned maintenance that are due; one instance per clock."""

    def __init__(
        self,
        store: Store,
        slack: WebClient | Workspaces,
        policies: PolicyBook,
        *,
        lead: timedelta = LEAD,
    ):
        """``slack``: each workspace's client, or the one client of a single-token
        deployment."""
        self.store = store
        self.workspaces = OneWorkspace(slack) if isinstance(slack, WebClient) else slack
        self.policies = policies
        self.lead = lead

    def tick(self, now: datetime) -> int:
        """Post what is due at ``now``; how many reminders were posted."""
        posted = 0
        for record in self._due(now):
            for stage, send in self._stages(record, now):
                if not self._claim(record, stage, now):
                    continue  # another clock has it
                outcome = self._post(record, stage) if send else "skipped"
                if outcome == "retry":
                    self._release(record, stage, now)
                    break  # the later stages wait their turn
                posted += outcome == "sent"
        return posted

    # -- what is due -------------------------------------------------------------------------

    def _due(self, now: datetime) -> list[OutageRecord]:
        """Maintenance with a channel, starting within the lead, whose end is not yet said."""
        query = (
            select(OutageRecord)
            .where(
                OutageRecord.kind == "maintenance",
                OutageRecord.reminded_end_at.is_(None),  # type: ignore[union-attr]
                OutageRecord.cancelled_at.is_(None),  # type: ignore[union-attr]
                OutageRecord.started_at <= now + self.lead,
                OutageRecord.channel.is_not(None),  # type: ignore[union-attr]
            )
            .order_by(col(OutageRecord.started_at), col(OutageRecord.id))
            .limit(BATCH)
        )
        with self.store.reading() as session:
            return list(session.exec(query))

    def _stages(self, record: OutageRecord, now: datetime) -> Iterator[tuple[Stage, bool]]:
        """The stages still open at ``now``, in order, each with whether to post it (False:
        stale or not owed, only marked done)."""
        start, end = record.started_at, record.ended_at or record.started_at
        if record.reminded_before_at is None:
            announced = record.announced_at or start
            owed = announced < start - self.lead and now < start
            yield "before", owed
        if record.reminded_start_at is None and now >= start:
            yield "start", now < end
        if now >= end:
            yield "end", True

    # -- claims ------------------------------------------------------------------------------

    def _claim(self, record: OutageRecord, stage: Stage, now: datetime) -> bool:
        column = getattr(OutageRecord, COLUMNS[stage])
        claim = (
            update(OutageRecord)
            .where(OutageRecord.id == record.id, column.is_(None))  # type: ignore[arg-type]
            .values({COLUMNS[stage]: now})
        )
        with self.store.writing() as session:
            return session.execute(claim).rowcount == 1  # type: ignore[attr-defined]

    def _release(self, record: OutageRecord, stage: Stage, now: datetime) -> None:
        column = getattr(OutageRecord, COLUMNS[stage])
        give_back = (
            update(OutageRecord)
            .where(OutageRecord.id == record.id, column == now)  # type: ignore[arg-type]
            .values({COLUMNS[stage]: None})
        )
        with self.store.writing() as session:
            session.execute(give_back)

    # -- Slack -------------------------------------------------------------------------------

    def _post(self, record: OutageRecord, stage: Stage) -> Outcome:
        """Post: ``sent``, ``retry`` (on a later tick) or ``gave_up`` (only a person can fix
        what Slack said)."""
        assert record.channel is not None  # `due` reads only records with a channel
        try:
            self.workspaces.client_for(record.workspace).chat_postMessage(
                channel=record.channel,
                text=self.text(record, stage),
                metadata={
                    "event_type": EVENT_TYPE,
                    "event_payload": {"outage": record.id, "stage": stage},
                },
            )
        except SlackApiError as exc:
            failed = failure(exc)
            if failed.retryable:
                log.info("maintenance %s %s reminder: %s; later", record.id, stage, failed)
                return "retry"
            log.warning(
                "maintenance %s %s reminder not sent to %s: %s",
                record.id,
                stage,
                record.channel,
                failed,
            )
            return "gave_up"
        except WorkspaceGone as gone:
            log.warning("maintenance %s %s reminder not sent: %s", record.id, stage, gone)
            return "gave_up"
        except OSError as exc:  # timeouts, refused connections
            log.info("maintenance %s %s reminder: %s; later", record.id, stage, exc)
            return "retry"
        return "sent"

    def text(self, record: OutageRecord, stage: Stage) -> str:
        """The reminder: what, when (a date token each reader sees in their own zone), the
        note, and whether its minutes count as downtime."""
        tz: tzinfo | str
        try:
            policy = self.policies.get(record.policy)
            title, tz = policy.title or policy.name, policy.tz
        except KeyError:
            title, tz = record.policy, "UTC"
        start = slack_date(record.started_at, tz)
        end = slack_date(record.ended_at or record.started_at, tz)
        name = f"planned maintenance of *{escape(title)}*"
        if stage == "before":
            text = f":construction: Reminder: {name} starts {start} and runs until {end}."
        elif stage == "start":
            text = f":construction: The {name} starts now; it runs until {end}."
        else:
            text = f":white_check_mark: The {name} ({start} to {end}) is over."
        if record.note:
            lines = escape(truncate(record.note, NOTE_MAX)).splitlines()
            text += "".join(f"\n> {line}" for line in lines)
        if record.notice_problems and stage != "end":
            text += "\nIt was announced without the notice the contract asks for, so it counts "
            text += "as downtime."
        return text
