"""`Policy.deadline` and its batch `Policy.deadlines`, as callers use them: any spelling of a
severity, clear errors for bad input, and many openings at once giving the same instants."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slabot.sla import Calendar, Window, load_policy
from slabot.sla.calendar import BATCH_MIN, from_us, to_us

POLICIES = Path(__file__).resolve().parent.parent / "policies"
LEADPRO = load_policy(POLICIES / "leadpro.yaml")
HELPDESK = load_policy(POLICIES / "helpdesk-p1-p6.yaml")
LEADSQUARED = load_policy(POLICIES / "leadsquared.yaml")
HOUR = timedelta(hours=1)
MONDAY_NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_severity_is_found_by_key_or_alias_in_any_case_and_spacing():
    due = LEADPRO.deadline("low", "first_response", MONDAY_NOON)
    assert due == utc(2026, 11, 23, 16)
    for name in ("LOW", " low ", "p3", "P3", "\tSev3\n", "3"):
        assert LEADPRO.deadline(name, "first_response", MONDAY_NOON) == due
        assert LEADPRO.deadlines(name, "first_response", [MONDAY_NOON]) == [due]
        assert LEADPRO.severity(name).key == "low"


def test_unknown_severities_and_targets_are_named_with_what_to_use_instead():
    with pytest.raises(KeyError, match=r"unknown severity 'p9' for policy leadpro: use one of "):
        LEADPRO.deadline("p9", "first_response", MONDAY_NOON)
    with pytest.raises(KeyError, match=r"high \(1, p1, sev1, urgent, critical\)"):
        LEADPRO.deadlines("lowest", "first_response", [MONDAY_NOON])
    with pytest.raises(KeyError, match=r"unknown target 'response': use one of time_to_open, "):
        LEADPRO.deadline("low", "response", MONDAY_NOON)
    # An unknown target is named first, whatever the severity.
    with pytest.raises(KeyError, match="unknown target"):
        LEADPRO.deadline("p9", "response", MONDAY_NOON)
    with pytest.raises(KeyError, match="unknown target"):
        LEADPRO.deadlines_us("low", "response", [])


def test_a_start_without_a_time_zone_is_refused_with_a_reason():
    naive = datetime(2026, 11, 23, 12)
    for call in (
        lambda: LEADPRO.deadline("low", "first_response", naive),
        lambda: LEADPRO.deadlines("low", "first_response", [MONDAY_NOON, naive]),
        lambda: LEADPRO.within("low", "first_response", naive),
    ):
        with pytest.raises(ValueError, match="has no time zone: instants must be aware"):
            call()


def test_a_severity_without_the_target_has_no_deadline_one_or_many():
    assert LEADPRO.deadline("low", "resolution", MONDAY_NOON) is None
    starts = [MONDAY_NOON + n * HOUR for n in range(BATCH_MIN + 1)]
    assert LEADPRO.deadlines("low", "resolution", starts) == [None] * len(starts)
    assert LEADPRO.deadlines("low", "first_response", []) == []


def test_the_whole_target_share_and_pauses_give_the_same_answers_one_or_many():
    # LeadSquared allows less when a ticket opens in peak hours, so each start has its own.
    ist = ZoneInfo("Asia/Kolkata")
    starts = [datetime(2026, 6, 8, tzinfo=ist) + n * 17 * timedelta(minutes=1) for n in range(300)]
    pauses = [(datetime(2026, 6, 9, 10, tzinfo=ist), datetime(2026, 6, 9, 14, tzinfo=ist))]
    for severity in ("urgent", "high", "medium", "low"):
        for target in ("first_response", "resolution"):
            for share in (1.0, 0.75):
                for paused in ([], pauses):
                    one = [
                        LEADSQUARED.deadline(severity, target, s, paused, share=share)
                        for s in starts
                    ]
                    assert (
                        LEADSQUARED.deadlines(severity, target, starts, paused, share=share) == one
                    )
    first = LEADSQUARED.deadlines("urgent", "first_response", starts)
    assert len(set(first)) > 100  # peak and off-peak openings both among them


def test_a_calendar_shut_for_longer_than_a_chunk_gives_the_same_deadlines_many_at_once():
    # Open 09:00-17:00 UTC on weekdays, but shut from June 2026 to the end of May 2028: more
    # than one of the engine's chunks (about 407 days), so the batch leaves those to add_us.
    shut = (date(2026, 6, 1), date(2028, 6, 1))
    office = Calendar(
        "office",
        ZoneInfo("UTC"),
        [[Window.parse("09:00-17:00")]] * 5 + [[], []],
        closed=lambda day: shut[0] <= day < shut[1],
    )
    friday = utc(2026, 5, 29, 9)
    starts = [friday + n * timedelta(minutes=7) for n in range(BATCH_MIN)]
    starts += [utc(2029, 3, 1, 10), utc(2026, 5, 1, 9)]  # chunks that do not follow on
    instants = [to_us(s) for s in starts]
    many = office.add_many_us(instants, 16 * HOUR // timedelta(microseconds=1))
    assert many == [office.add_us(s, 16 * HOUR // timedelta(microseconds=1)) for s in instants]
    # Friday 29 May: 8 hours; then shut until Thursday 1 June 2028: 8 more.
    assert from_us(many[0]) == utc(2028, 6, 1, 17)
    assert from_us(many[-2]) == utc(2029, 3, 5, 10)  # Thursday 7h, Friday 8h, Monday 1h
    assert from_us(many[-1]) == utc(2026, 5, 4, 17)  # Friday 8h, Monday 8h


def test_helpdesk_half_a_target_on_the_24x7_clock_is_exact_one_or_many():
    start = utc(2026, 3, 6, 15, 0, 0, 7)
    half = HELPDESK.deadline("p1", "first_response", start, share=0.5)
    assert (
        HELPDESK.deadlines("critical", "first_response", [start] * BATCH_MIN, share=0.5)
        == [half] * BATCH_MIN
    )


def test_without_numpy_a_batch_is_added_one_by_one_with_the_same_instants(monkeypatch):
    # numpy is the "fast" extra: a default install has none, and lists of deadlines still work.
    starts = [MONDAY_NOON + n * 7 * timedelta(minutes=1) for n in range(BATCH_MIN * 2)]
    expected = [LEADPRO.deadline("low", "first_response", s) for s in starts]
    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now fails
    monkeypatch.delitem(sys.modules, "slabot.sla.batch", raising=False)
    assert LEADPRO.deadlines("low", "first_response", starts) == expected
    assert "slabot.sla.batch" not in sys.modules
