"""The policy language: the fixed contract parses, and every mistake names its key path."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slabot.sla import PolicyError, load_policy, parse_duration, parse_policy
from slabot.sla.checks import warnings
from slabot.sla.durations import format_duration

CONTRACT = """
name: leadpro
timezone: Europe/London
calendars:
  business:
    hours:
      mon-fri: ["09:00-17:30"]        # a day (mon..sun) or a range; a list of windows
      sat: ["10:00-14:00"]
    holidays: {country: GB, subdiv: ENG, dates: [2026-12-24]}   # dates: extra closed days
severities:
  - key: high
    label: High
    targets:
      first_response: {within: 2h, clock: 24x7}
      resolution: {within: 8h, clock: business}
"""
LONDON = ZoneInfo("Europe/London")


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_contract_example_parses_and_computes_deadlines():
    policy = parse_policy(CONTRACT)
    opened = datetime(2026, 12, 23, 16, 0, tzinfo=LONDON)
    assert policy.deadline("high", "first_response", opened) == opened + timedelta(hours=2)
    # 1h30 on the 23rd; the 24th is an extra closed date; 25th, 26th (Saturday, Boxing Day)
    # and 28th (Boxing Day substitute) are bank holidays: 6h30 more on Tuesday the 29th.
    assert policy.deadline("high", "resolution", opened) == datetime(
        2026, 12, 29, 15, 30, tzinfo=LONDON
    )


def test_a_policy_is_immutable():
    policy = parse_policy(CONTRACT)
    with pytest.raises(ValueError, match="frozen"):
        policy.name = "other"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("30m", 1800), ("1h30m", 5400), ("2d", 172800), ("1w", 604800), ("0s", 0), ("1h 5s", 3605)],
)
def test_durations(text, parsed):
    assert parse_duration(text) == timedelta(seconds=parsed)


@pytest.mark.parametrize("text", ["", "2", "2 hours", "1.5h", "-1h", "h"])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(ValueError, match="units s, m, h, d or w"):
        parse_duration(text)


def test_durations_print_as_policy_authors_write_them():
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(days=10)) == "10d"


@pytest.mark.parametrize(
    ("mistake", "path"),
    [
        (
            ("8h, clock: business", "8 hours, clock: business"),
            "severities[0].targets.resolution.within",
        ),
        (("clock: business", "clock: biz"), "severities[0].targets.resolution.clock"),
        (('"10:00-14:00"', '"10:00-14:70"'), "calendars.business.hours.sat[0]"),
        (("sat:", "saturday:"), "calendars.business.hours"),
        (("Europe/London", "Europe/Londn"), "timezone"),
        (("label: High", "label: High\n    colour: red"), "severities[0].colour"),
        (("country: GB", "country: XX"), "calendars.business.holidays"),
        (("    label: High\n", ""), "severities[0].label"),
    ],
)
def test_each_mistake_names_its_key_path(mistake, path):
    found = problems(CONTRACT.replace(*mistake))
    assert any(p.startswith(path + ":") for p in found), found


def test_every_problem_is_reported_at_once():
    broken = CONTRACT.replace("2h, clock: 24x7", "2x, clock: 24x7").replace("8h", "8y")
    assert len(problems(broken)) == 2


def test_yaml_syntax_errors_give_the_line():
    assert problems("name: [unclosed\n")[0].startswith("line ")


def test_a_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "nope.yaml")


def test_duplicate_aliases_are_refused():
    text = (
        CONTRACT
        + """
  - key: low
    label: Low
    aliases: [High]
"""
    )
    assert any("already names severity 'high'" in p for p in problems(text))


def test_rules_must_page_a_known_level_for_known_severities():
    text = (
        CONTRACT
        + """
escalation:
  levels: [{key: support, label: Support}]
  rules:
    - {page: boss, at: breach, of: resolution, severities: [high, urgent]}
"""
    )
    found = problems(text)
    assert any(p.startswith("escalation.rules[0].page:") for p in found)
    assert any(p.startswith("escalation.rules[0].severities[1]:") for p in found)


def test_a_rule_needs_exactly_one_trigger():
    text = (
        CONTRACT
        + """
escalation:
  levels: [{key: support, label: Support}]
  rules:
    - {page: support, at: breach, after: 2h, of: resolution}
"""
    )
    assert any("exactly one of 'at'" in p for p in problems(text))


def test_a_window_past_midnight_belongs_to_its_start_day():
    policy = parse_policy(CONTRACT.replace('mon-fri: ["09:00-17:30"]', 'fri: ["22:00-02:00"]'))
    friday = datetime(2026, 11, 27, 23, 0, tzinfo=LONDON)
    # 4h from 23:00 Friday: 3h run to 02:00 Saturday, the last hour from Saturday 10:00
    due = policy.deadline("high", "resolution", friday, share=4 / 8)
    assert due == datetime(2026, 11, 28, 11, 0, tzinfo=LONDON)


def test_warnings_point_at_traps():
    text = (
        CONTRACT.replace("8h, clock: business", "2d, clock: business")
        + """
  - key: low
    label: Low
escalation:
  levels: [{key: support, label: Support}]
  rules:
    - {page: support, at: breach, of: resolution, severities: [high]}
"""
    )
    policy = parse_policy(text)
    found = [str(w) for w in warnings(policy, datetime(2026, 11, 22, tzinfo=LONDON))]
    assert any(w.startswith("severities[0].targets.resolution.within: 2d") for w in found)
    assert any(w.startswith("severities[1]: no escalation rule") for w in found)


def test_a_calendar_that_never_opens_is_a_warning():
    text = CONTRACT.replace('["09:00-17:30"]', "[]").replace('["10:00-14:00"]', "[]")
    found = [str(w) for w in warnings(parse_policy(text), datetime(2026, 11, 22, tzinfo=LONDON))]
    assert any("never opens" in w for w in found)


def test_mitigation_belongs_to_the_resolution_target():
    ok = CONTRACT.replace(
        "resolution: {within: 8h, clock: business}",
        "resolution: {within: 8h, clock: business, mitigation: true}",
    )
    assert parse_policy(ok).severity("high").targets.resolution.mitigation
    wrong = CONTRACT.replace(
        "first_response: {within: 2h, clock: 24x7}",
        "first_response: {within: 2h, clock: 24x7, mitigation: true}",
    )
    [problem] = problems(wrong)
    assert "'mitigation' goes with the resolution target, not first_response" in problem
