"""Events API deliveries already taken in, by Slack's ``event_id``, shared by every replica.

Slack redelivers an event it thinks was lost (``X-Slack-Retry-Num``), with the same
``event_id``. Remembering the ids taken in, rather than skipping every retry, handles a retry
whose first delivery never arrived and skips one whose first delivery did, on any replica and
across restarts. Slack retries for minutes, not days: ids older than `KEEP` are pruned as new
ones arrive, so the table stays the size of a day's events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from .db import Store
from .tables import SlackEvent

KEEP = timedelta(days=1)


def first_delivery(store: Store, event_id: str, now: datetime) -> bool:
    """Record ``event_id`` as taken in at ``now``; False when it had been already."""
    with store.writing() as session:
        added = session.execute(
            store.insert_if_new(SlackEvent)
            .values(event_id=event_id, received_at=now)
            .returning(SlackEvent.c.event_id)
        ).first()
        session.execute(delete(SlackEvent).where(SlackEvent.c.received_at < now - KEEP))
    return added is not None
