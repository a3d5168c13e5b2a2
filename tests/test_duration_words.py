"""A target's time said the same honest way by `simulate`, ``/sla policy`` and `policy check`.

On a calendar open 12 hours a day, 24 hours of the calendar are two of its days: showing
``1d on business`` reads as one business day, and a ticket would be due a day later than the
reader thinks.
"""

from datetime import UTC, datetime, timedelta

from slabot.cli import main
from slabot.sla import parse_policy
from slabot.sla.checks import warnings
from slabot.sla.durations import duration_words
from slabot.slack.blocks.policy import policy_blocks, rule_words

SHORT = """
name: short
timezone: Europe/London
calendars:
  business:
    hours: {mon-fri: ["08:00-20:00"]}
severities:
  - key: high
    label: High
    targets:
      first_response: {within: 4h, clock: business}
      resolution: {within: 24h, clock: business}
  - key: low
    label: Low
    targets:
      resolution: {within: 1d, clock: business}
escalation:
  levels: [{key: lead, label: Lead}]
  rules:
    - {page: lead, after: 36h, clock: business}
"""
HONEST = "24h (2 days of 12h)"


def test_days_of_a_short_calendar_are_spelled_in_its_hours():
    twelve = [timedelta(hours=12)] * 5 + [timedelta(0)] * 2
    assert duration_words(timedelta(hours=24), twelve) == HONEST
    assert duration_words(timedelta(hours=4), twelve) == "4h"  # less than one of its days
    assert duration_words(timedelta(hours=30), twelve) == "30h (2.5 days of 12h)"
    uneven = [timedelta(hours=8)] * 5 + [timedelta(hours=4), timedelta(0)]
    assert duration_words(timedelta(hours=16), uneven) == "16h (at least 2 days, open at most 8h)"
    # 24x7, or a calendar open all day: a d is a day
    assert duration_words(timedelta(hours=24)) == "1d"
    assert duration_words(timedelta(days=10), [timedelta(days=1)] * 5 + [timedelta(0)] * 2) == (
        "10d"
    )


def test_simulate_shows_a_day_of_a_short_calendar_as_its_hours(capsys, tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text(SHORT)
    code = main(["simulate", str(path), "--severity", "high", "--opened", "2026-11-23T09:00"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{HONEST} on business" in out
    assert "1d on business" not in out


def test_the_policy_view_in_slack_says_it_the_same_way():
    policy = parse_policy(SHORT)
    words = "\n".join(b["text"]["text"] for b in policy_blocks(policy) if "text" in b)
    assert f"Resolution {HONEST} (business hours)" in words
    assert "1d" not in words
    assert rule_words(policy.escalation.rules[0], policy).startswith(
        "36h (3 days of 12h) after opening"
    )


def test_the_warning_says_it_the_same_way():
    policy = parse_policy(SHORT)
    found = [str(w) for w in warnings(policy, datetime(2026, 11, 23, tzinfo=UTC))]
    assert (
        "severities[1].targets.resolution.within: 1d on calendar 'business' is "
        f"{HONEST}, not 1 business day: a d is 24 hours of the calendar. For 1 business day "
        "write 12h"
    ) in found
