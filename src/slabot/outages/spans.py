"""Whether a spell of downtime can be recorded as it is typed: the checks a start, an end, a
backdated one and a lead's edit share.

Seed 001 (LeadPro): "Uptime is measured using our automated systems over each calendar month.
It is calculated to the nearest minute". The minutes counted are those between the recorded
start and end, so a start typed late is backdated (``at:``) to when monitoring saw the service
go down, rather than costing the customer the minutes between.

Interpretation: the contract is silent on what a recorded spell may be. Three rules keep a
typo from becoming contract downtime, each refused with what to do instead:

* nothing is recorded in the future: downtime still to come is planned maintenance;
* an outage does not end before it starts;
* two recorded outages of one policy do not overlap: one spell of downtime is one outage, so
  a second would hide a mistake (the month's figures would merge them and count it once).
  Tickets marked as outages and planned maintenance may still overlap an outage; the figures
  merge those, as they always have.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from ..refusals import Invalid
from ..store.records import Session
from ..store.tables import OutageRecord


def check_span(
    session: Session,
    record: OutageRecord,
    start: datetime,
    end: datetime | None,
    now: datetime,
) -> None:
    """Refuse (`Invalid`) the spell ``start``–``end`` (``end`` None: still running) for
    ``record``'s workspace and policy, ``record`` itself aside."""
    if end is not None and end < start:
        raise Invalid(
            "an outage cannot end before it started: the end ({end}) is before the start "
            "({start}); give a later end, or correct the start with /sla outage edit ID start:…",
            times={"start": start, "end": end},
        )
    if start > now:
        raise Invalid(
            "that start ({start}) is still to come: an outage is recorded once it has begun "
            "(announce downtime planned ahead with /sla maintenance)",
            times={"start": start},
        )
    if end is not None and end > now:
        raise Invalid(
            "that end ({end}) is still to come: end an outage once it is over",
            times={"end": end},
        )
    other = _overlapping(session, record, start, end)
    if other is None:
        return
    times = {"from": other.started_at}
    if other.ended_at is None:
        span = "running since {from}"
    else:
        span, times["to"] = "recorded from {from} to {to}", other.ended_at
    raise Invalid(
        f"that would overlap outage #{other.id}, {span}: one spell of downtime is one outage, "
        f"so correct #{other.id} instead (/sla outage edit {other.id} start:… end:…), or give "
        "times outside it",
        times=times,
    )


def _overlapping(
    session: Session, record: OutageRecord, start: datetime, end: datetime | None
) -> OutageRecord | None:
    query = select(OutageRecord).where(
        OutageRecord.c.workspace == record.workspace,
        OutageRecord.c.policy == record.policy,
        OutageRecord.c.deleted_at.is_(None),
        or_(OutageRecord.c.ended_at.is_(None), OutageRecord.c.ended_at > start),
    )
    if record.id is not None:
        query = query.where(OutageRecord.c.id != record.id)
    if end is not None:
        query = query.where(OutageRecord.c.started_at < end)
    return session.exec(query.order_by(OutageRecord.c.started_at)).first()
