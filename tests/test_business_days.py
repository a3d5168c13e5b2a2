"""Targets in business days, whatever the calendar's hours (issue 13, clause 5).

Seed 004: "P4 | Normal Priority | 3 Business day response | 8×5 Availability" and
"P5 | Low Priority | 1 Week response | 8×5 Availability". A policy says them as the contract
does ("3 business days", "1 business week", "end of the next business day"), and they mean a
count of the calendar's open days: on a 12-hour calendar, on one whose Saturday is shorter,
across a DST change and a holiday alike. Every expected time below is worked out by hand in
the comment beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slabot.cli import main
from slabot.sla import PolicyError, parse_policy
from slabot.sla.days import DAY, BusinessDays
from slabot.sla.history import Opened, StatusChanged
from slabot.sla.schedule import schedule
from slabot.slack.blocks.policy import policy_blocks

LONDON = ZoneInfo("Europe/London")
IST = ZoneInfo("Asia/Kolkata")

POLICY = """
name: days
timezone: Europe/London
calendars:
  twelve:            # 08:00-20:00 on weekdays, English bank holidays closed
    hours: {mon-fri: ["08:00-20:00"]}
    holidays: {country: GB, subdiv: ENG}
  split:             # a lunch break: two windows make one day
    hours: {mon-fri: ["09:00-12:00", "13:00-17:00"]}
severities:
  - key: normal
    label: Normal
    targets:
      first_response: {within: 2 business days, clock: twelve}
      resolution: {within: end of the next business day, clock: twelve}
  - key: low
    label: Low
    targets:
      first_response: {within: end of the business day, clock: split}
      resolution: {within: 1 business week, clock: twelve}
states:
  waiting_on_customer: {label: Waiting on customer, pauses: true}
"""

SHORT_SATURDAY = """
name: saturday
timezone: Asia/Kolkata
calendars:
  support:           # LeadSquared's: weekdays 10:00 → 02:00, Saturday 10:00-18:00
    hours: {mon-fri: ["10:00-02:00"], sat: ["10:00-18:00"]}
    holidays: {annual: ["01-26", "08-15", "10-02"]}
severities:
  - key: medium
    label: Medium
    targets:
      resolution: {within: 1 business day, clock: support}
"""


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)


@pytest.fixture(scope="module")
def policy():
    return parse_policy(POLICY)


def test_two_business_days_of_a_twelve_hour_calendar(policy):
    # Mon 2026-11-23 10:00 is 2h into Monday's 12h day; two open days later, Wednesday, at the
    # same point: 10:00. (As 24h of the calendar it would have been Thursday 10:00.)
    due = policy.deadline("normal", "first_response", london(2026, 11, 23, 10))
    assert due == london(2026, 11, 25, 10)


def test_business_days_skip_a_bank_holiday_and_keep_the_time_of_day_across_dst(policy):
    # Thu 2026-12-24 15:00: Fri 25 (Christmas) and Mon 28 (Boxing Day substitute) are bank
    # holidays, so two business days are Tue 29 and Wed 30: Wednesday 15:00.
    assert policy.deadline("normal", "first_response", london(2026, 12, 24, 15)) == london(
        2026, 12, 30, 15
    )
    # Fri 2026-03-27 09:00 GMT; the clocks go forward on Sunday 29 March. Two business days:
    # Mon 30 and Tue 31, due at 09:00 local (BST), which is 08:00 UTC.
    due = policy.deadline("normal", "first_response", london(2026, 3, 27, 9))
    assert due == datetime(2026, 3, 31, 8, tzinfo=UTC)


def test_a_request_made_while_closed_counts_from_the_next_opening(policy):
    # Interpretation (sla/days.py): Saturday 2026-11-28 counts as received Monday 08:00; two
    # whole business days Mon 30 and Tue 1 Dec: due when Tuesday closes, 20:00.
    due = policy.deadline("normal", "first_response", london(2026, 11, 28, 12))
    assert due == london(2026, 12, 1, 20)


def test_end_of_the_next_business_day(policy):
    # Mon 10:00 → the close of Tuesday.
    assert policy.deadline("normal", "resolution", london(2026, 11, 23, 10)) == london(
        2026, 11, 24, 20
    )
    # Mon 21:00, after Monday's close, counts as received Tuesday: due at Wednesday's close.
    assert policy.deadline("normal", "resolution", london(2026, 11, 23, 21)) == london(
        2026, 11, 25, 20
    )
    # Mon 08:00 sharp, the opening itself: Monday is the day, Tuesday the next.
    assert policy.deadline("normal", "resolution", london(2026, 11, 23, 8)) == london(
        2026, 11, 24, 20
    )
    # Thu 2026-12-24 19:00: the next business day after Christmas Eve is Tue 29 (25 and 28
    # are bank holidays, then a weekend): its close.
    assert policy.deadline("normal", "resolution", london(2026, 12, 24, 19)) == london(
        2026, 12, 29, 20
    )


def test_end_of_the_business_day_with_a_lunch_break(policy):
    # Opened 11:00 on a 09:00-12:00 + 13:00-17:00 day: due that day at 17:00; opened during
    # lunch, the same; opened at 18:00, the close of the next day.
    for hour, day in ((11, 23), (12, 23), (18, 24)):
        opened = london(2026, 11, 23, hour) + timedelta(minutes=30 if hour == 12 else 0)
        assert policy.deadline("low", "first_response", opened) == london(2026, 11, day, 17)
    # Half of it (a reminder at 50%) from 09:00 is half the day's 7 open hours: 12:30 falls in
    # lunch, so 3.5h of the day have run at 13:30.
    half = policy.deadline("low", "first_response", london(2026, 11, 23, 9), share=0.5)
    assert half == london(2026, 11, 23, 13, 30)


def test_a_business_week_is_the_calendars_working_week(policy):
    # Five open days a week: Mon 2026-11-23 10:00 → Mon 30 Nov 10:00.
    assert policy.deadline("low", "resolution", london(2026, 11, 23, 10)) == london(
        2026, 11, 30, 10
    )


def test_a_shorter_saturday_is_still_one_business_day():
    # Fri 2026-06-12 14:00 IST is 4h into Friday's 16h day (a quarter). One business day later
    # is a quarter into Saturday's 8h day: 12:00. Saturday 16:00 (three quarters) → three
    # quarters into Monday's 16h day: 22:00.
    policy = parse_policy(SHORT_SATURDAY)
    assert policy.deadline("medium", "resolution", ist(2026, 6, 12, 14)) == ist(2026, 6, 13, 12)
    assert policy.deadline("medium", "resolution", ist(2026, 6, 13, 16)) == ist(2026, 6, 15, 22)
    # Fri 2026-08-14 23:00 (13h of 16h into Friday, a window past midnight); Saturday 15 Aug
    # is Independence Day, so the next day is Monday: 13h into it, 23:00.
    assert policy.deadline("medium", "resolution", ist(2026, 8, 14, 23)) == ist(2026, 8, 17, 23)


def test_waiting_on_the_customer_stops_business_days(policy):
    # Opened Mon 10:00 (due Wed 10:00); waiting on the customer all of Tuesday's open hours
    # stops one whole business day: due Thursday 10:00.
    opened = london(2026, 11, 23, 10)
    history = [
        Opened(opened, "normal"),
        StatusChanged(london(2026, 11, 24, 7), "waiting_on_customer"),
        StatusChanged(london(2026, 11, 24, 21), "open"),
    ]
    deadline = schedule(policy, history, london(2026, 11, 25)).deadline("first_response")
    assert deadline is not None and deadline.due == london(2026, 11, 26, 10)


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 3 * 366 * 86_400),
    days=st.integers(1, 60 * 86_400),
    calendar=st.sampled_from(["twelve", "split"]),
)
def test_elapsed_business_days_agree_with_adding_them(policy, start, days, calendar):
    """Over three years (chunk edges, DST changes, holidays): the due instant is the earliest
    at which the time has run, as on every other clock."""
    clock = BusinessDays(policy.clock(calendar))
    s = 1_767_225_600_000_000 + start * 1_000_000  # from 2026-01-01 UTC
    d = days * 1_000_000
    due = clock.add_us(s, d)
    assert due is not None
    assert clock.elapsed_us(s, due) >= d > clock.elapsed_us(s, due - 1)


def test_the_policy_language_refuses_business_days_without_a_calendar():
    text = POLICY.replace(
        "clock: twelve}\n      resolution: {within: end",
        "clock: 24x7}\n      resolution: {within: end",
    )
    with pytest.raises(PolicyError) as error:
        parse_policy(text)
    assert "counts the open days of a calendar" in str(error.value)
    assert "severities[0].targets.first_response.within" in str(error.value)
    with pytest.raises(PolicyError) as error:
        parse_policy(POLICY.replace("2 business days", "0 business days"))
    assert "at least 1 business day" in str(error.value)
    with pytest.raises(PolicyError) as error:
        parse_policy(POLICY.replace("2 business days", "2 business fortnights"))
    assert "'end of the next business day'" in str(error.value)  # says how to write it


def test_policy_and_simulate_say_business_days_as_the_contract_does(policy, capsys, tmp_path):
    # Seed 004: "3 Business day response", "1 Week response" (P4 and P5, 8×5).
    path = tmp_path / "days.yaml"
    path.write_text(POLICY)
    assert (
        main(["simulate", str(path), "--severity", "normal", "--opened", "2026-11-23T10:00"]) == 0
    )
    out = capsys.readouterr().out
    assert "Wed 25 Nov 2026 10:00 GMT    2 business days on twelve" in out
    assert "end of the next business day on twelve" in out
    text = str(policy_blocks(policy))
    assert "First response 2 business days (twelve hours)" in text
    assert "Resolution 1 business week (5 business days) (twelve hours)" in text
    assert "First response end of the business day (split hours)" in text


def test_the_help_desk_seed_says_p4_and_p5_as_its_matrix_does(capsys):
    # Seed 004: "P4 | Normal Priority | 3 Business day response", "P5 | Low Priority | 1 Week
    # response". `/sla policy` showed "1d (eight by five hours)" and "1d16h" before.
    from pathlib import Path

    from slabot.sla import load_policy

    seed = load_policy(Path(__file__).resolve().parent.parent / "policies/helpdesk-p1-p6.yaml")
    text = str(policy_blocks(seed))
    assert "First response 3 business days (eight by five hours)" in text
    assert "First response 1 business week (5 business days) (eight by five hours)" in text
    assert DAY == 86_400_000_000
