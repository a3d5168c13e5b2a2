"""Who is on call: rotations, hand-offs across DST, overrides, roles (the pure core)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from slabot.sla import PolicyError
from slabot.sla.loader import parse_team
from slabot.sla.oncall import Override
from slabot.sla.policy import EscalationLevel

TEAM = """
leads: [ULEAD]
rotations:
  - key: support
    label: Support on call
    people: [UANA, UBEN, UCAT]
    timezone: Europe/London
    starts: 2026-03-02          # a Monday
    handoff: "09:00"
    every: 1w
  - key: nights
    people: [UNIA]
    timezone: Asia/Kolkata
    starts: 2026-01-01
    every: 1d
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def team():
    return parse_team(TEAM, "team.yaml")


def test_weekly_turns_hand_off_at_nine_local_time(team):
    support = team.rotation("support")
    # Monday 2 March 09:00 GMT = 09:00 UTC: Ana's first week.
    assert support.shift(utc(2026, 3, 2, 9)).person == "UANA"
    assert support.shift(utc(2026, 3, 2, 8, 59)).person == "UCAT"  # the turn before, backwards
    assert support.shift(utc(2026, 3, 9, 8, 59)).person == "UANA"
    assert support.shift(utc(2026, 3, 9, 9)).person == "UBEN"
    assert support.shift(utc(2026, 3, 23, 9)).person == "UANA"  # round again


def test_hand_off_stays_at_local_nine_across_summer_time(team):
    support = team.rotation("support")
    # BST starts on 29 March 2026: Monday 30 March 09:00 London is 08:00 UTC.
    shift = support.shift(utc(2026, 3, 25, 12))
    assert shift.person == "UANA"
    assert shift.ends_at == utc(2026, 3, 30, 8)
    assert support.shift(utc(2026, 3, 30, 7, 59)).person == "UANA"
    assert support.shift(utc(2026, 3, 30, 8)).person == "UBEN"


def test_an_override_covers_its_span_and_splits_the_shift(team):
    support = team.rotation("support")
    holiday = Override(
        "support", "UBEN", utc(2026, 3, 4), utc(2026, 3, 6), "ULEAD", utc(2026, 3, 1)
    )
    assert support.shift(utc(2026, 3, 3), [holiday]).person == "UANA"
    during = support.shift(utc(2026, 3, 5), [holiday])
    assert (during.person, during.scheduled, during.override) == ("UBEN", "UANA", holiday)
    assert (during.starts_at, during.ends_at) == (utc(2026, 3, 4), utc(2026, 3, 6))
    assert support.shift(utc(2026, 3, 6), [holiday]).person == "UANA"
    spans, at = [], utc(2026, 3, 2, 9)
    while at < utc(2026, 3, 9, 9):
        shift = support.shift(at, [holiday])
        spans.append((shift.person, shift.starts_at, shift.ends_at))
        at = shift.ends_at
    assert spans == [
        ("UANA", utc(2026, 3, 2, 9), utc(2026, 3, 4)),
        ("UBEN", utc(2026, 3, 4), utc(2026, 3, 6)),
        ("UANA", utc(2026, 3, 6), utc(2026, 3, 9, 9)),
    ]


def test_the_latest_recorded_override_wins(team):
    support = team.rotation("support")
    first = Override("support", "UBEN", utc(2026, 3, 4), utc(2026, 3, 6), "ULEAD", utc(2026, 3, 1))
    later = Override("support", "UCAT", utc(2026, 3, 5), utc(2026, 3, 7), "ULEAD", utc(2026, 3, 2))
    assert support.shift(utc(2026, 3, 5, 12), [later, first]).person == "UCAT"
    assert support.shift(utc(2026, 3, 4, 12), [later, first]).person == "UBEN"


def test_a_level_pages_its_contacts_and_whoever_is_on_call(team):
    level = EscalationLevel(key="l1", label="Support", contacts=("UBOSS",), rotation="support")
    assert team.paged(level, utc(2026, 3, 10)) == ("UBOSS", "UBEN")
    unknown = EscalationLevel(key="l1", label="Support", contacts=("UBOSS",), rotation="nope")
    assert team.paged(unknown, utc(2026, 3, 10)) == ("UBOSS",)


def test_roles(team):
    at = utc(2026, 3, 10)
    assert team.may("outage", "ULEAD", at)
    assert team.may("outage", "UBEN", at)  # on call in support
    assert team.may("outage", "UNIA", at)  # on call in nights
    assert not team.may("outage", "UANA", at)
    assert not team.may("bind_channel", "UBEN", at)
    support = team.rotation("support")
    assert team.may("oncall", "UANA", at, rotation=support)
    assert not team.may("oncall", "UNIA", at, rotation=support)
    assert team.who_may("bind_channel") == "the leads, admins"


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        (
            "rotations: [{key: a, people: [], timezone: UTC, starts: 2026-01-01}]",
            "rotations[0]",
            "people",
        ),
        ("rotations: [{key: a, people: [bob], timezone: UTC, starts: 2026-01-01}]", "people", "U0"),
        (
            "rotations: [{key: a, people: [UA1], timezone: Mars/Base, starts: 2026-01-01}]",
            "timezone",
            "IANA",
        ),
        (
            "rotations: [{key: a, people: [UA1], timezone: UTC, starts: 2026-01-01, every: 5h}]",
            "every",
            "whole days",
        ),
        (
            "rotations: [{key: a, people: [UA1], timezone: UTC, starts: 2026-01-01},"
            " {key: a, people: [UA2], timezone: UTC, starts: 2026-01-01}]",
            "rotations",
            "twice",
        ),
        ("roles: {outage: [everyone]}", "roles.outage", ""),
        (
            "rotations: [{key: a, people: [UA1], timezone: UTC, starts: 2026-01-01,"
            " announce: '#support', usergroup: U0ONE}]",
            "rotations[0].announce",
            "channel ID",
        ),
        (
            "rotations: [{key: a, people: [UA1], timezone: UTC, starts: 2026-01-01,"
            " usergroup: U0ONE}]",
            "rotations[0].usergroup",
            "user group ID",
        ),
    ],
)
def test_a_bad_team_file_says_where(text, path, words):
    with pytest.raises(PolicyError) as caught:
        parse_team(text, "team.yaml")
    assert any(path in p.path and words in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_unquoted_handoff_time_reads_as_a_time():
    team = parse_team(
        "rotations: [{key: a, people: [UA1, UA2], timezone: UTC, starts: 2026-01-01,"
        " handoff: 18:30, every: 2d}]"
    )
    rotation = team.rotation("a")
    assert rotation.handoff_at(1) == utc(2026, 1, 3, 18, 30)
    assert rotation.starts == date(2026, 1, 1)
    assert rotation.shift(utc(2026, 1, 3, 18, 30)).ends_at - utc(2026, 1, 3, 18, 30) == timedelta(
        days=2
    )


def test_a_handoff_is_a_change_of_person_not_of_shift(team):
    """Ben's week (9 March) with Ben himself "covering" part of it and Cat covering the rest:
    Ben's time runs from Monday's hand-off to Cat's cover, whatever the overrides' edges."""
    support = team.rotation("support")
    overrides = [
        Override("support", "UBEN", utc(2026, 3, 10, 9), utc(2026, 3, 11, 9)),
        Override("support", "UCAT", utc(2026, 3, 12, 9), utc(2026, 3, 13, 9)),
    ]
    handoff = support.latest_handoff(utc(2026, 3, 10, 12), overrides)
    assert (handoff.person, handoff.since, handoff.until) == (
        "UBEN",
        utc(2026, 3, 9, 9),
        utc(2026, 3, 12, 9),
    )
    assert handoff.next == "UCAT"
    after = support.latest_handoff(utc(2026, 3, 13, 9), overrides)
    assert (after.person, after.since, after.until, after.next) == (
        "UBEN",
        utc(2026, 3, 13, 9),
        utc(2026, 3, 16, 9),
        "UCAT",
    )


def test_a_rotation_of_one_person_hands_off_only_to_and_from_its_covers(team):
    nights = team.rotation("nights")
    assert nights.latest_handoff(utc(2026, 3, 10, 12)) is None
    cover = [Override("nights", "UZED", utc(2026, 3, 10, 0), utc(2026, 3, 11, 0))]
    handoff = nights.latest_handoff(utc(2026, 3, 12, 12), cover)
    assert handoff is not None
    assert (handoff.person, handoff.since) == ("UNIA", utc(2026, 3, 11, 0))
