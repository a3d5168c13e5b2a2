"""A generated month's report figures, to the microsecond, for every seeded policy.

The report's arithmetic is tuned for speed (bench/README.md, "report"); these figures were
written by the code before that tuning (main at 1c2bedc) and must not move. The month and its
tickets are `support.generated`'s: March 2027, with a clock change, bank holidays, pauses,
severity changes, reopenings, workarounds, ETAs, agreed releases and downtime corrections.

If a change to the report's rules moves these figures on purpose, write the file again with
``SLABOT_WRITE_FIGURES=1 pytest tests/test_report_figures.py`` and say why in the commit.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from support.generated import NAMES, NOW, POLICIES, generated_month

from slabot.sla import Policy, load_policy
from slabot.sla.figures import compliance, outages_from_tickets, uptime

FIGURES = Path(__file__).resolve().parent / "support" / "report_figures.json"


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
