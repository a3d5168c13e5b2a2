"""A generated month of tickets for every seeded policy: what the golden figures of the report
(tests/test_report_figures.py) and the replay (tests/test_replay_figures.py) are worked out from.

The month is March 2027 in each policy's zone: London's clocks go forward on the 28th and Good
Friday and Easter Monday are bank holidays. The histories have pauses, severity changes (into
and out of outage severities), reopenings, closures, workarounds, ETAs, agreed releases and
downtime corrections, and ``now`` falls inside the month, so some targets are still running and
some events come after it. The draws are seeded: the same tickets every run.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from slabot.sla import Policy
from slabot.sla.figures import month
from slabot.sla.history import (
    Acknowledged,
    DowntimeCorrected,
    Event,
    Opened,
    PageAcknowledged,
    ReleaseAgreed,
    SeverityChanged,
    StatusChanged,
    UpdatePosted,
)

POLICIES = Path(__file__).resolve().parent.parent.parent / "policies"
NAMES = ("leadpro", "leadsquared", "liveops", "secpod", "helpdesk-p1-p6")
NOW = datetime(2027, 3, 29, 15, 0, tzinfo=UTC)  # Easter Monday, a day after the clocks moved
TICKETS = 160


def history(rng: random.Random, policy: Policy, opened: datetime) -> list[Event]:
    """One ticket's history: any of the things a ticket can go through, drawn at random."""
    minutes = lambda low, high: timedelta(minutes=rng.randint(low, high))  # noqa: E731
    keys = [s.key for s in policy.severities]
    pausing = sorted(policy.pausing_states) or ["open"]
    levels = [level.key for level in policy.escalation.levels] if policy.escalation else []
    causes = sorted(policy.uptime.causes) if policy.uptime else []
    at = opened
    events: list[Event] = [Opened(opened, rng.choice(keys), opened - minutes(0, 90))]
    if rng.random() < 0.15:
        at += minutes(1, 120)
        events.append(SeverityChanged(at, rng.choice(keys)))
    if rng.random() < 0.85:
        at += minutes(1, 600)
        events.append(Acknowledged(at))
    if levels and rng.random() < 0.2:
        events.append(PageAcknowledged(at + minutes(0, 30), rng.choice(levels)))
        at += minutes(0, 30)
    for _ in range(rng.randint(0, 3)):
        at += minutes(30, 900)
        eta = at + minutes(60, 3000) if rng.random() < 0.3 else None
        events.append(UpdatePosted(at, eta, rng.random() < 0.15))
    if rng.random() < 0.3:
        at += minutes(1, 240)
        events.append(StatusChanged(at, rng.choice(pausing)))
        at += minutes(30, 4000)
        events.append(StatusChanged(at, "open"))
    if rng.random() < 0.05:
        at += minutes(1, 60)
        events.append(ReleaseAgreed(at, at + timedelta(days=rng.randint(1, 20)), "UCUSTOMER"))
    if rng.random() < 0.1:
        at += minutes(1, 60)
        events.append(SeverityChanged(at, rng.choice(keys)))
    if rng.random() < 0.8:
        at += minutes(10, 6000)
        events.append(StatusChanged(at, "resolved"))
        if rng.random() < 0.15:  # reopened, and resolved again
            at += minutes(10, 600)
            events.append(StatusChanged(at, "open"))
            at += minutes(10, 600)
            events.append(StatusChanged(at, "resolved"))
        if rng.random() < 0.5:
            at += timedelta(days=3)
            events.append(StatusChanged(at, "closed"))
    if rng.random() < 0.08:
        counts = rng.choice((True, False, None))
        events.append(DowntimeCorrected(at + minutes(1, 60), counts, rng.choice([None, *causes])))
    return events


def generated_month(policy: Policy) -> tuple[Any, list[tuple[str, list[Event]]]]:
    """The policy's March 2027 and its tickets (a few opened in February, still down in March)."""
    period = month(policy.tz, "2027-03")
    rng = random.Random(f"report-figures-{policy.name}")
    span = (period.end - period.start).total_seconds()
    first = period.start - timedelta(days=3)
    tickets = []
    for number in range(1, TICKETS + 1):
        opened = first + timedelta(seconds=rng.uniform(0, span))
        tickets.append((f"SLA-{number}", history(rng, policy, opened)))
    return period, tickets
