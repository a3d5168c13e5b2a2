"""A generated month's report figures, to the microsecond, for every seeded policy.

The report's arithmetic is tuned for speed (bench/README.md, "report"); these figures were
written by the code before that tuning (main at 1c2bedc) and must not move. The month is March
2027 in each policy's zone: London's clocks go forward on the 28th and Good Friday and Easter
Monday are bank holidays. The histories have pauses, severity changes (into and out of outage
severities), reopenings, closures, workarounds, ETAs, agreed releases and downtime
corrections, and ``now`` falls inside the month, so some targets are still running and some
events come after it.

If a change to the report's rules moves these figures on purpose, write the file again with
``SLABOT_WRITE_FIGURES=1 pytest tests/test_report_figures.py`` and say why in the commit.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slabot.sla import Policy, load_policy
from slabot.sla.figures import compliance, month, outages_from_tickets, uptime
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

POLICIES = Path(__file__).resolve().parent.parent / "policies"
FIGURES = Path(__file__).resolve().parent / "support" / "report_figures.json"
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


def figures(policy: Policy) -> dict[str, Any]:
    period, tickets = generated_month(policy)
    done = compliance(policy, tickets, period, NOW)
    spells = outages_from_tickets(policy, tickets, period)
    up = uptime(policy, spells, period, NOW) if policy.uptime else None
    found = {
        "compliance": asdict(done),
        "outages": [asdict(o) for o in spells],
        "uptime": None if up is None else asdict(up),
    }
    return json.loads(json.dumps(found, default=str))


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    if os.environ.get("SLABOT_WRITE_FIGURES"):
        found = {name: figures(load_policy(POLICIES / f"{name}.yaml")) for name in NAMES}
        FIGURES.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return json.loads(FIGURES.read_text())


@pytest.mark.parametrize("name", NAMES)
def test_a_generated_month_gives_the_figures_it_always_gave(name, expected):
    found = figures(load_policy(POLICIES / f"{name}.yaml"))
    assert found == expected[name]


def test_the_generated_month_has_what_the_figures_are_about(expected):
    """The file is no use unless the month holds breaches, running targets, missed updates,
    pauses, downtime and corrections: check it does."""
    severities = [s for f in expected.values() for s in f["compliance"]["severities"]]
    assert sum(len(f["compliance"]["breaches"]) for f in expected.values()) > 50
    assert any((s["resolution"] or {}).get("running") for s in severities)
    assert sum(s["updates_missed"] or 0 for s in severities) > 0
    assert any(s["waiting_on_customer"] != "0:00:00" for s in severities)
    assert all(f["uptime"]["downtime_minutes"] > 0 for f in expected.values() if f["uptime"])
    outages = [o for f in expected.values() for o in f["outages"]]
    assert any(not o["counts"] for o in outages) and any(o["cause"] for o in outages)
