"""The replay's figures, to the microsecond, for every seeded policy: both sides of ``slabot
simulate --replay`` (breaches and the rest of compliance, pages per level, each month's uptime
and credit, tickets left out) as the code before its speed-up (branch final at 68f5810, 14.7 s
for a quarter of 100,000 tickets) gave them, and must keep giving them (bench/README.md,
"replay").

The tickets are `support.generated`'s month (March 2027 and a few February tickets still
open in it), some of their severities written as aliases in any case, as a draft must take
them. The terms they ran under come in two versions (every ticket but one in two under a
version with doubled targets), and the draft triples the targets, so both sides page, breach
and meet differently. The span runs from 15 February, so February is a month covered in part.

If a change to the replay's rules moves these figures on purpose, write the file again with
``SLABOT_WRITE_FIGURES=1 pytest tests/test_replay_figures.py`` and say why in the commit.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
from collections import Counter
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support.generated import NAMES, NOW, POLICIES, generated_month

from slabot.sla import Policy, load_policy, parse_policy
from slabot.sla import replay as core
from slabot.sla.figures import Period
from slabot.sla.history import Event, Opened, SeverityChanged

FIGURES = Path(__file__).resolve().parent / "support" / "replay_figures.json"
Case = tuple[Policy, Policy, Policy, Period, list[tuple[str, list[Event]]]]


def scaled(text: str, factor: int) -> str:
    """A policy's text with every ``within`` in minutes or hours ``factor`` times as long."""
    return re.sub(r"within: (\d+)([mh])\b", lambda m: f"within: {int(m[1]) * factor}{m[2]}", text)


def aliased(policy: Policy, events: list[Event], rng: random.Random) -> list[Event]:
    """``events`` with about a third of their severities written as an alias, any case."""
    out = []
    for event in events:
        if isinstance(event, Opened | SeverityChanged) and rng.random() < 0.3:
            aliases = policy.severity(event.severity).aliases
            if aliases:
                name = rng.choice(aliases)
                event = dataclasses.replace(event, severity=rng.choice((name, name.upper())))
        out.append(event)
    return out


def case(name: str) -> Case:
    """The policy, an older version of it, the draft, the span and the tickets."""
    text = (POLICIES / f"{name}.yaml").read_text(encoding="utf-8")
    policy = load_policy(POLICIES / f"{name}.yaml")
    older = parse_policy(scaled(text, 2), f"{name}.yaml")
    draft_text = scaled(text, 3).replace(f"name: {name}", f"name: {name}-draft", 1)
    draft = parse_policy(draft_text, "draft.yaml")
    rng = random.Random(f"replay-figures-{name}")
    tickets = [(ref, aliased(policy, events, rng)) for ref, events in generated_month(policy)[1]]
    tz = policy.tz
    period = Period(datetime(2027, 2, 15, tzinfo=tz), datetime(2027, 4, 1, tzinfo=tz), "span")
    return policy, older, draft, period, tickets


def as_json(compliance: Any, pages: Counter[str], months: Any, left_out: Counter[str]) -> Any:
    found = {
        "compliance": asdict(compliance),
        "pages": dict(sorted(pages.items())),
        "months": [asdict(m) for m in months],
        "left_out": dict(sorted(left_out.items())),
    }
    return json.loads(json.dumps(found, default=str))


def figures(name: str) -> dict[str, Any]:
    policy, older, draft, period, tickets = case(name)
    ran = [(policy, tickets[::2]), (older, tickets[1::2])]
    kept, left_out = core.under(draft, tickets[::2] + tickets[1::2])
    current = core.judge(policy, ran, period, [], NOW)
    drafted = core.judge(draft, [(draft, kept)], period, [], NOW)
    return {
        "current": as_json(*current, Counter()),
        "draft": as_json(*drafted, left_out),
    }


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    if os.environ.get("SLABOT_WRITE_FIGURES"):
        found = {name: figures(name) for name in NAMES}
        FIGURES.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return json.loads(FIGURES.read_text())


@pytest.mark.parametrize("name", NAMES)
def test_a_replay_gives_the_figures_it_always_gave(name, expected):
    assert figures(name) == expected[name]


def test_the_replay_has_what_the_figures_are_about(expected):
    """The file is no use unless both sides breach, page and miss updates, and differ: check
    it does."""
    sides = [f[side] for f in expected.values() for side in ("current", "draft")]
    assert all(s["compliance"]["breaches"] for s in sides)
    assert all(sum(s["pages"].values()) > 0 for f in expected.values() for s in f.values())
    severities = [s for side in sides for s in side["compliance"]["severities"]]
    assert sum(s["updates_missed"] or 0 for s in severities) > 0
    assert any(f["current"] != f["draft"] for f in expected.values())
    months = [m for side in sides for m in side["months"]]
    assert any(m["period"]["label"].endswith("*") for m in months)
    assert any(m["downtime_minutes"] > 0 for m in months)
