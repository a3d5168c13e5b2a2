"""Quiet hours: a level's pages that are not critical wait for its hours to start, and repeat
from then; critical ones never wait. Times computed by hand from the policy below (London,
weekdays 09:00–17:00; November is GMT, so London time is UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slabot.sla import PolicyError, parse_policy
from slabot.sla.history import Opened, PageAcknowledged
from slabot.sla.schedule import timeline

POLICY = """
name: quiet
timezone: Europe/London
calendars:
  office:
    hours:
      mon-fri: ["09:00-17:00"]
severities:
  - key: p1
    label: Critical
    targets:
      first_response: {within: 1h, clock: 24x7}
  - key: p2
    label: High
    targets:
      first_response: {within: 4h, clock: 24x7}
escalation:
  levels:
    - {key: manager, label: Support manager, contacts: [U0MANAGER], quiet_outside: office}
  rules:
    - {page: manager, at: open, repeat: 30m}
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # 27 Nov is a Friday


def pages(text: str, severity: str, opened: datetime, until: datetime, *events) -> list:
    policy = parse_policy(text)
    history = [Opened(opened, severity), *events]
    return [t.due_at for t in timeline(policy, history, until) if t.kind == "page"]


def test_a_page_outside_the_levels_hours_waits_for_them_and_repeats_from_there():
    # Friday 18:30: the page waits for Monday 09:00, then repeats every 30 minutes.
    assert pages(POLICY, "p2", at(27, 18, 30), at(30, 10)) == [
        at(30, 9), at(30, 9, 30), at(30, 10),
    ]  # fmt: skip


def test_a_repeat_that_falls_after_hours_waits_for_the_next_morning():
    # Monday 16:10: 16:10, 16:40; the next (17:10) waits for Tuesday 09:00, then 09:30.
    assert pages(POLICY, "p2", at(30, 16, 10), datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == [
        at(30, 16, 10), at(30, 16, 40),
        datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    ]  # fmt: skip


def test_critical_pages_never_wait():
    # P1 is the policy's first severity, critical by default: Friday night it pages at once.
    assert pages(POLICY, "p1", at(27, 18, 30), at(27, 19, 30)) == [
        at(27, 18, 30), at(27, 19), at(27, 19, 30),
    ]  # fmt: skip
    # The policy may say which are critical: here P2 too, and then P1 is not.
    both = POLICY.replace("escalation:\n", "escalation:\n  critical: [p2]\n")
    assert pages(both, "p2", at(27, 18, 30), at(27, 19)) == [at(27, 18, 30), at(27, 19)]
    assert pages(both, "p1", at(27, 18, 30), at(30, 9)) == [at(30, 9)]


def test_an_answer_before_the_hours_start_means_no_page_at_all():
    # The manager answers on Saturday: the page that was waiting for Monday is not sent.
    answered = PageAcknowledged(at(28, 11), "manager")
    assert pages(POLICY, "p2", at(27, 18, 30), at(30, 12), answered) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ("quiet_outside: office}", "escalation.levels[0].quiet_outside"),
        ("escalation:\n", "escalation.critical[0]"),
    ],
)
def test_quiet_hours_name_a_calendar_and_critical_names_severities(change, path):
    text = (
        POLICY.replace(change, "quiet_outside: nights}")
        if change.startswith("quiet")
        else POLICY.replace(change, "escalation:\n  critical: [p9]\n")
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert any(p.path == path for p in caught.value.problems), caught.value.problems
