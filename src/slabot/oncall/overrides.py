"""Reading ``oncall_overrides`` (written only by `slabot.oncall.service`), for the use cases,
the clock and the permission checks alike. Kept free of the use cases' imports so the ticket
use cases can read overrides without importing the on-call ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..sla.oncall import Override
from ..store.records import Session
from ..store.tables import OnCallOverride

LOOKBACK = timedelta(days=1)  # a late page asks who was on call when it fell due


def overrides_in(session: Session, workspace: str, since: datetime) -> list[Override]:
    """The overrides of ``workspace`` not over by ``since`` less a day (a page retried late
    still asks who was on call when it fell due), oldest recorded first."""
    rows = session.exec(
        select(OnCallOverride)
        .where(OnCallOverride.c.workspace == workspace)
        .where(OnCallOverride.c.ends_at > since - LOOKBACK)
        .order_by(OnCallOverride.c.recorded_at, OnCallOverride.c.id)
    )
    return [as_override(row) for row in rows]


def as_override(row: OnCallOverride) -> Override:
    return Override(
        row.rotation, row.person, row.starts_at, row.ends_at, row.recorded_by, row.recorded_at
    )
