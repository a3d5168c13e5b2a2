"""Business-time edge cases users rely on, each checked against a hand-worked answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slabot.sla import pauses
from slabot.sla.calendar import ALL_HOURS, CHUNK, EPOCH, Calendar, Window

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
US = timedelta(microseconds=1)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def calendar(
    week: dict[int, list[str]] | list[str],
    tz: str = "UTC",
    closed: Iterable[date] = (),
) -> Calendar:
    """Windows for some weekdays (0 = Monday), or the same windows every day."""
    days = week if isinstance(week, dict) else dict.fromkeys(range(7), week)
    closed = frozenset(closed)
    return Calendar(
        "test",
        ZoneInfo(tz),
        [[Window.parse(text) for text in days.get(weekday, [])] for weekday in range(7)],
        closed=closed.__contains__,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)


WEEKDAYS = {day: ["09:00-17:00"] for day in range(5)}
OFFICE = calendar(WEEKDAYS)  # UTC, Monday to Friday 09:00-17:00
MONDAY = date(2026, 3, 2)
FRIDAY_NIGHT = {4: ["22:00-02:00"]}  # 2026-03-06 is a Friday


# -- windows ----------------------------------------------------------------------------------


def test_window_text_round_trips_and_past_midnight_ends_exceed_a_day():
    assert Window.parse("09:00-17:30") == Window(540, 1050)
    assert Window.parse("22:00-02:00") == Window(1320, 1560)
    assert Window.parse("16:00-24:00") == Window(960, 1440)
    assert Window.parse("00:00-00:00") == Window(0, 1440)
    for text in ("09:00-17:30", "22:00-02:00", "16:00-24:00"):
        assert str(Window.parse(text)) == text


@pytest.mark.parametrize("text", ["24:00-02:00", "9-17", "09:60-10:00", "25:00-26:00", "x"])
def test_bad_window_text_is_refused(text):
    with pytest.raises(ValueError):
        Window.parse(text)


def test_past_midnight_window_belongs_to_the_day_it_starts_on():
    nights = calendar(FRIDAY_NIGHT)
    assert nights.add(utc(2026, 3, 6, 21), 3 * HOUR) == utc(2026, 3, 7, 1)
    assert nights.is_open(utc(2026, 3, 7, 1))
    assert not nights.is_open(utc(2026, 3, 7, 2))
    assert not nights.is_open(utc(2026, 3, 7, 22))  # Saturday has no window of its own
    assert nights.elapsed(utc(2026, 3, 6), utc(2026, 3, 9)) == 4 * HOUR


def test_a_holiday_closes_the_night_window_that_starts_on_it():
    nights = calendar(FRIDAY_NIGHT, closed=[date(2026, 3, 6)])
    assert not nights.is_open(utc(2026, 3, 6, 23))
    assert not nights.is_open(utc(2026, 3, 7, 1))
    assert nights.add(utc(2026, 3, 6, 21), HOUR) == utc(2026, 3, 13, 23)


def test_a_holiday_the_next_day_does_not_cut_the_previous_nights_window():
    nights = calendar(FRIDAY_NIGHT, closed=[date(2026, 3, 7)])
    assert nights.is_open(utc(2026, 3, 7, 1))
    assert nights.add(utc(2026, 3, 6, 21), 4 * HOUR) == utc(2026, 3, 7, 2)


def test_a_window_may_end_at_midnight_written_24_00():
    evenings = calendar(["16:00-24:00"])
    assert evenings.add(utc(2026, 3, 2, 23), HOUR) == utc(2026, 3, 3, 0)
    assert not evenings.is_open(utc(2026, 3, 3, 0))
    assert evenings.add(utc(2026, 3, 2, 23), 2 * HOUR) == utc(2026, 3, 3, 17)


def test_round_the_clock_windows_join_across_midnight():
    always = calendar(["00:00-24:00"])
    start = utc(2026, 3, 2, 12, 34, 56)
    assert always.add(start, 100 * HOUR) == start + 100 * HOUR
    assert always.open_intervals(start, start + 72 * HOUR) == [(start, start + 72 * HOUR)]


def test_due_exactly_at_closing_time_not_at_the_next_opening():
    assert OFFICE.add(utc(2026, 3, 2, 16), HOUR) == utc(2026, 3, 2, 17)
    assert OFFICE.add(utc(2026, 3, 2, 9), 8 * HOUR) == utc(2026, 3, 2, 17)
    assert OFFICE.add(utc(2026, 3, 6, 9), 8 * HOUR) == utc(2026, 3, 6, 17)  # not Monday
    assert OFFICE.add(utc(2026, 3, 2, 16), HOUR + US) == utc(2026, 3, 3, 9) + US


def test_opened_outside_hours_starts_counting_at_the_next_opening():
    assert OFFICE.add(utc(2026, 3, 2, 18), HOUR) == utc(2026, 3, 3, 10)
    assert OFFICE.add(utc(2026, 3, 7, 12), 30 * MINUTE) == utc(2026, 3, 9, 9, 30)
    assert OFFICE.add(utc(2026, 3, 2, 5), timedelta(0)) == utc(2026, 3, 2, 9)
    assert OFFICE.next_open(utc(2026, 3, 7, 12)) == utc(2026, 3, 9, 9)
    assert OFFICE.elapsed(utc(2026, 3, 2, 18), utc(2026, 3, 3, 9)) == timedelta(0)


def test_open_instants_are_their_own_next_opening():
    assert OFFICE.is_open(utc(2026, 3, 2, 9))
    assert OFFICE.next_open(utc(2026, 3, 2, 12)) == utc(2026, 3, 2, 12)
    assert OFFICE.add(utc(2026, 3, 2, 12), timedelta(0)) == utc(2026, 3, 2, 12)
    assert not OFFICE.is_open(utc(2026, 3, 2, 17))  # a window is open up to its end
    assert OFFICE.is_open(utc(2026, 3, 2, 17) - US)


def test_several_windows_a_day_skip_the_gaps_between_them():
    split = calendar({0: ["13:00-17:00", "09:00-12:00"]})
    assert split.add(utc(2026, 3, 2, 11), 2 * HOUR) == utc(2026, 3, 2, 14)
    assert split.add(utc(2026, 3, 2, 11), HOUR) == utc(2026, 3, 2, 12)
    assert split.elapsed(utc(2026, 3, 2, 8), utc(2026, 3, 2, 18)) == 7 * HOUR
    assert split.next_open(utc(2026, 3, 2, 12, 30)) == utc(2026, 3, 2, 13)


def test_overlapping_windows_count_once():
    overlapping = calendar({0: ["09:00-12:00", "11:00-13:00", "10:00-10:30"]})
    assert overlapping.elapsed(utc(2026, 3, 2), utc(2026, 3, 3)) == 4 * HOUR
    assert overlapping.add(utc(2026, 3, 2, 9), 4 * HOUR) == utc(2026, 3, 2, 13)


def test_windows_follow_the_local_clock_of_their_time_zone():
    kathmandu = calendar(WEEKDAYS, "Asia/Kathmandu")  # +05:45
    assert kathmandu.next_open(utc(2026, 3, 2)) == utc(2026, 3, 2, 3, 15)
    assert kathmandu.add(utc(2026, 3, 2), 8 * HOUR) == utc(2026, 3, 2, 11, 15)


# -- daylight saving ---------------------------------------------------------------------------
# London 2026: clocks go forward at 01:00 GMT on Sunday 29 March (01:00 -> 02:00) and back at
# 01:00 GMT on Sunday 25 October (02:00 -> 01:00). New York 2026: forward at 02:00 EST on
# Sunday 8 March (07:00 UTC) and back at 02:00 EDT on Sunday 1 November (06:00 UTC).


def test_london_spring_forward_shortens_a_window_containing_the_change():
    sundays = calendar({6: ["00:00-04:00"]}, "Europe/London")
    assert sundays.open_intervals(utc(2026, 3, 28), utc(2026, 3, 30)) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))
    ]
    assert sundays.add(utc(2026, 3, 29, 0), 3 * HOUR) == utc(2026, 3, 29, 3)
    assert sundays.add(utc(2026, 3, 29, 0), 3 * HOUR + MINUTE) == utc(2026, 4, 5, 0, 1) - HOUR


def test_london_fall_back_lengthens_a_window_containing_the_change():
    sundays = calendar({6: ["00:00-04:00"]}, "Europe/London")
    assert sundays.open_intervals(utc(2026, 10, 24), utc(2026, 10, 26)) == [
        (utc(2026, 10, 24, 23), utc(2026, 10, 25, 4))
    ]
    assert sundays.elapsed(utc(2026, 10, 24), utc(2026, 10, 26)) == 5 * HOUR


def test_london_window_starting_inside_the_spring_forward_gap_opens_at_the_jump():
    sundays = calendar({6: ["01:30-03:00"]}, "Europe/London")
    # 01:30 never shows on 29 March: the window opens when the clock jumps, 01:00 GMT.
    assert sundays.next_open(utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 1)
    assert sundays.elapsed(utc(2026, 3, 29), utc(2026, 3, 30)) == HOUR


def test_london_window_starting_in_the_repeated_hour_opens_at_its_first_occurrence():
    sundays = calendar({6: ["01:30-03:00"]}, "Europe/London")
    # 01:30 BST is 00:30 UTC; 03:00 GMT is 03:00 UTC.
    assert sundays.next_open(utc(2026, 10, 25, 0)) == utc(2026, 10, 25, 0, 30)
    assert sundays.elapsed(utc(2026, 10, 25), utc(2026, 10, 26)) == 2 * HOUR + 30 * MINUTE


def test_london_night_window_across_the_spring_forward_is_an_hour_shorter():
    saturday_night = calendar({5: ["22:00-06:00"]}, "Europe/London")
    assert saturday_night.open_intervals(utc(2026, 3, 28), utc(2026, 3, 30)) == [
        (utc(2026, 3, 28, 22), utc(2026, 3, 29, 5))
    ]


def test_new_york_spring_forward_and_fall_back_windows():
    sundays = calendar({6: ["01:00-05:00"]}, "America/New_York")
    assert sundays.open_intervals(utc(2026, 3, 8), utc(2026, 3, 9)) == [
        (utc(2026, 3, 8, 6), utc(2026, 3, 8, 9))  # 01:00 EST to 05:00 EDT: three hours
    ]
    assert sundays.open_intervals(utc(2026, 11, 1), utc(2026, 11, 2)) == [
        (utc(2026, 11, 1, 5), utc(2026, 11, 1, 10))  # 01:00 EDT to 05:00 EST: five hours
    ]


def test_new_york_window_starting_inside_the_gap_opens_at_the_jump():
    sundays = calendar({6: ["02:30-04:00"]}, "America/New_York")
    assert sundays.next_open(utc(2026, 3, 8)) == utc(2026, 3, 8, 7)  # 03:00 EDT
    assert sundays.elapsed(utc(2026, 3, 8), utc(2026, 3, 9)) == HOUR
    assert sundays.next_open(utc(2026, 11, 1)) == utc(2026, 11, 1, 7, 30)  # 02:30 EST
    assert sundays.elapsed(utc(2026, 11, 1), utc(2026, 11, 2)) == 90 * MINUTE


def test_office_hours_keep_to_the_local_clock_across_a_dst_weekend():
    office = calendar(WEEKDAYS, "America/New_York")
    friday_4pm = local(NEW_YORK, 2026, 3, 6, 16)
    due = office.add(friday_4pm, 2 * HOUR)
    assert due == local(NEW_YORK, 2026, 3, 9, 10)  # Monday 10:00 EDT
    assert due == utc(2026, 3, 9, 14)
    london = calendar(WEEKDAYS, "Europe/London")
    assert london.add(local(LONDON, 2026, 10, 23, 16), 2 * HOUR) == utc(2026, 10, 26, 10)


# -- the year boundary and the engine's chunks ------------------------------------------------


def test_a_night_window_and_a_target_run_from_one_year_into_the_next():
    nights = calendar(["22:00-02:00"], "America/New_York", closed=[date(2027, 1, 1)])
    start = local(NEW_YORK, 2026, 12, 31, 21)
    assert nights.add(start, 3 * HOUR) == local(NEW_YORK, 2027, 1, 1, 1)
    # New Year's Day is closed, so the next night to count is 2 January's.
    assert nights.add(start, 5 * HOUR) == local(NEW_YORK, 2027, 1, 2, 23)
    assert (
        nights.elapsed(local(NEW_YORK, 2026, 12, 31, 12), local(NEW_YORK, 2027, 1, 2, 12))
        == 4 * HOUR
    )


def test_targets_cross_the_engines_chunk_boundary_exactly():
    # Chunks are 2**45 µs long, so this boundary falls inside a working day, off the minute.
    boundary = EPOCH + timedelta(microseconds=51 * CHUNK)
    assert boundary == utc(2026, 11, 11, 13, 16, 16, 530432)
    to_boundary = boundary - utc(2026, 11, 11, 9)
    days = calendar(["09:00-17:00"])
    assert days.add(utc(2026, 11, 11, 12), 2 * HOUR) == utc(2026, 11, 11, 14)
    assert days.add(utc(2026, 11, 11, 9), to_boundary) == boundary
    assert days.add(utc(2026, 11, 10, 16), HOUR + to_boundary) == boundary
    assert days.add(utc(2026, 11, 10, 16), HOUR + to_boundary + US) == boundary + US
    assert days.is_open(boundary)
    assert days.is_open(boundary - US)
    assert days.next_open(boundary) == boundary
    assert days.elapsed(utc(2026, 11, 11, 13), utc(2026, 11, 11, 14)) == HOUR
    assert days.elapsed(utc(2026, 11, 10), utc(2026, 11, 13)) == 24 * HOUR
    assert days.add(utc(2026, 11, 10, 16), 8 * HOUR) == utc(2026, 11, 11, 16)
    assert days.add(utc(2026, 11, 11, 16), 2 * HOUR) == utc(2026, 11, 12, 10)
    nights = calendar(["20:00-04:00"])
    assert nights.next_open(boundary) == utc(2026, 11, 11, 20)
    assert nights.add(utc(2026, 11, 11, 3), 2 * HOUR) == utc(2026, 11, 11, 21)
    assert nights.elapsed(utc(2026, 11, 11), utc(2026, 11, 12)) == 8 * HOUR


def test_very_long_targets_stay_exact():
    start = utc(2026, 1, 5, 9)  # a Monday; 2000 hours is 250 eight-hour days, 50 weeks
    assert OFFICE.add(start, 2000 * HOUR) == utc(2026, 12, 18, 17)
    assert OFFICE.add(start, 2000 * HOUR + US) == utc(2026, 12, 21, 9) + US
    assert OFFICE.elapsed(start, utc(2026, 12, 18, 17)) == 2000 * HOUR
    london = calendar(WEEKDAYS, "Europe/London")  # both 2026 changes on the way, GMT again
    assert london.add(start, 2000 * HOUR) == utc(2026, 12, 18, 17)
    # 20,000 hours is 500 weeks: Friday 3 August 2035 at 17:00 in London (BST then).
    assert london.add(start, 20_000 * HOUR) == local(LONDON, 2035, 8, 3, 17)
    assert london.elapsed(start, local(LONDON, 2035, 8, 3, 17)) == 20_000 * HOUR


# -- calendars that never open, naive datetimes, 24x7 -----------------------------------------


def test_a_calendar_that_never_opens_has_no_deadline():
    always_closed = Calendar(
        "closed", ZoneInfo("UTC"), [[Window.parse("09:00-17:00")]] * 7, closed=lambda d: True
    )
    assert always_closed.add(utc(2026, 3, 2), HOUR) is None
    assert always_closed.add(utc(2026, 3, 2), timedelta(0)) is None
    assert always_closed.next_open(utc(2026, 3, 2)) is None
    assert not always_closed.is_open(utc(2026, 3, 2, 12))
    assert always_closed.elapsed(utc(2026, 1, 1), utc(2027, 1, 1)) == timedelta(0)
    assert pauses.deadline(always_closed, utc(2026, 3, 2), HOUR) is None
    no_windows = calendar({})
    assert no_windows.add(utc(2026, 3, 2), HOUR) is None


def test_a_week_must_have_seven_days():
    with pytest.raises(ValueError):
        Calendar("short", ZoneInfo("UTC"), [[]] * 6)


NAIVE = datetime(2026, 3, 2, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: OFFICE.add(NAIVE, HOUR),
        lambda: OFFICE.elapsed(NAIVE, utc(2026, 3, 3)),
        lambda: OFFICE.elapsed(utc(2026, 3, 1), NAIVE),
        lambda: OFFICE.next_open(NAIVE),
        lambda: OFFICE.is_open(NAIVE),
        lambda: ALL_HOURS.add(NAIVE, HOUR),
        lambda: ALL_HOURS.elapsed(NAIVE, NAIVE),
        lambda: ALL_HOURS.next_open(NAIVE),
        lambda: ALL_HOURS.is_open(NAIVE),
        lambda: pauses.deadline(OFFICE, NAIVE, HOUR),
        lambda: pauses.deadline(OFFICE, utc(2026, 3, 2), HOUR, [(NAIVE, None)]),
        lambda: pauses.elapsed(OFFICE, utc(2026, 3, 2), utc(2026, 3, 3), [(NAIVE, NAIVE)]),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="time zone"):
        call()


def test_all_hours_counts_real_time():
    start = local(LONDON, 2026, 3, 2, 10)
    due = ALL_HOURS.add(start, 30 * HOUR + US)
    assert due == utc(2026, 3, 3, 16) + US
    assert due.tzinfo is UTC
    assert ALL_HOURS.elapsed(start, due) == 30 * HOUR + US
    assert ALL_HOURS.elapsed(due, start) == timedelta(0)
    assert ALL_HOURS.next_open(start) == start and ALL_HOURS.is_open(start)
    assert ALL_HOURS.open_intervals(start, due) == [(utc(2026, 3, 2, 10), due)]
    assert pauses.deadline(ALL_HOURS, start, 2 * HOUR, [(start + HOUR, start + 2 * HOUR)]) == (
        start + 3 * HOUR
    )
    assert pauses.deadline(ALL_HOURS, start, 2 * HOUR, [(start + HOUR, None)]) is None
    assert pauses.elapsed(ALL_HOURS, start, due, [(start + HOUR, start + 90 * MINUTE)]) == (
        30 * HOUR + US - 30 * MINUTE
    )


def test_all_hours_counts_real_time_across_dst_changes_in_the_starts_zone():
    # Python adds and subtracts datetimes sharing a tzinfo by wall clock; 24x7 must not.
    before_spring = local(LONDON, 2026, 3, 29, 0, 30)  # 00:30 GMT
    assert ALL_HOURS.add(before_spring, 2 * HOUR) == utc(2026, 3, 29, 2, 30)
    assert ALL_HOURS.elapsed(before_spring, local(LONDON, 2026, 3, 29, 3, 30)) == 2 * HOUR
    before_fall = local(LONDON, 2026, 10, 25, 0, 30)  # 00:30 BST, 23:30 UTC
    second_one_thirty = local(LONDON, 2026, 10, 25, 1, 30, fold=1)  # 01:30 GMT
    assert ALL_HOURS.add(before_fall, 2 * HOUR) == utc(2026, 10, 25, 1, 30)
    assert ALL_HOURS.elapsed(before_fall, second_one_thirty) == 2 * HOUR
    first_one_thirty = local(LONDON, 2026, 10, 25, 1, 30)  # 01:30 BST
    assert ALL_HOURS.elapsed(second_one_thirty, first_one_thirty) == timedelta(0)
    assert ALL_HOURS.open_intervals(second_one_thirty, first_one_thirty) == []


def test_results_are_utc_whatever_zone_the_start_is_in():
    start = local(NEW_YORK, 2026, 3, 2, 9)
    for result in (
        OFFICE.add(start, HOUR),
        OFFICE.next_open(start),
        pauses.deadline(OFFICE, start, HOUR, [(start, start + HOUR)]),
    ):
        assert result.tzinfo is UTC
    assert OFFICE.add(start, HOUR) == utc(2026, 3, 2, 15)


# -- pauses ------------------------------------------------------------------------------------
# OFFICE on Monday 2 March 2026: open 09:00-17:00 UTC.


def at(hour: int, minute: int = 0) -> datetime:
    return utc(2026, 3, 2, hour, minute)


def test_a_pause_stops_the_clock():
    assert pauses.deadline(OFFICE, at(9), 4 * HOUR, [(at(10), at(11))]) == at(14)
    assert pauses.elapsed(OFFICE, at(9), at(17), [(at(10), at(11))]) == 7 * HOUR


def test_a_pause_outside_hours_changes_nothing():
    overnight = [(at(18), utc(2026, 3, 3, 8))]
    assert pauses.deadline(OFFICE, at(16), 2 * HOUR, overnight) == utc(2026, 3, 3, 10)


def test_overlapping_and_unsorted_pauses_count_once():
    overlapping = [(at(10, 30), at(11, 30)), (at(15), at(15)), (at(10), at(11))]
    assert pauses.deadline(OFFICE, at(9), 4 * HOUR, overlapping) == at(14, 30)
    assert pauses.deadline(OFFICE, at(9), 4 * HOUR, overlapping[::-1]) == at(14, 30)
    assert pauses.elapsed(OFFICE, at(9), at(17), overlapping) == 6 * HOUR + 30 * MINUTE


def test_an_ongoing_pause_leaves_a_later_deadline_unknown():
    assert pauses.deadline(OFFICE, at(9), 4 * HOUR, [(at(11), None)]) is None
    # Time that runs out exactly as the pause begins is due then.
    assert pauses.deadline(OFFICE, at(9), 4 * HOUR, [(at(13), None)]) == at(13)
    assert pauses.deadline(OFFICE, at(9), 3 * HOUR, [(at(13), None)]) == at(12)
    assert pauses.elapsed(OFFICE, at(9), at(17), [(at(13), None)]) == 4 * HOUR


def test_a_pause_covering_the_start_delays_the_start():
    assert pauses.deadline(OFFICE, at(10), 2 * HOUR, [(at(9), at(12))]) == at(14)
    assert pauses.deadline(OFFICE, at(10), timedelta(0), [(at(9), at(12))]) == at(12)
    assert pauses.deadline(OFFICE, at(10), HOUR, [(at(9), None)]) is None


def test_zero_length_and_finished_pauses_are_ignored():
    ignored = [(at(10), at(10)), (at(7), at(8)), (utc(2026, 2, 27, 10), utc(2026, 2, 27, 12))]
    assert pauses.deadline(OFFICE, at(9), 4 * HOUR, ignored) == at(13)
    assert pauses.elapsed(OFFICE, at(9), at(17), ignored) == 8 * HOUR


def test_a_zero_duration_waits_for_a_pause_that_begins_as_the_calendar_opens():
    # Nothing counts at 09:00 (the pause has begun), so the clock next runs at 10:00.
    assert pauses.deadline(OFFICE, at(8), timedelta(0), [(at(9), at(10))]) == at(10)
    assert pauses.deadline(OFFICE, at(8), timedelta(0), [(at(9), None)]) is None
    assert pauses.deadline(OFFICE, at(8), timedelta(0), [(at(9, 30), None)]) == at(9)


def test_pauses_across_days_and_weekends():
    friday_to_tuesday = [(utc(2026, 3, 6, 12), utc(2026, 3, 10, 12))]
    due = pauses.deadline(OFFICE, utc(2026, 3, 6, 9), 8 * HOUR, friday_to_tuesday)
    assert due == utc(2026, 3, 10, 17)


# -- sub-second precision ----------------------------------------------------------------------


def test_microseconds_in_the_start_are_kept_exactly():
    start = at(10).replace(microsecond=123_456)
    assert OFFICE.add(start, HOUR) == at(11).replace(microsecond=123_456)
    assert OFFICE.elapsed(start, OFFICE.add(start, HOUR)) == HOUR
    assert OFFICE.add(at(17) - US, US) == at(17)
    assert OFFICE.add(at(17) - US, 2 * US) == utc(2026, 3, 3, 9) + US
    assert OFFICE.add(at(16, 59) + 500 * US, 7 * HOUR) == utc(2026, 3, 3, 15, 59, 0, 500)
    # Counting starts at the opening, so a start outside hours loses its fraction.
    assert OFFICE.add(utc(2026, 3, 7, 12, 0, 0, 999_999), HOUR) == utc(2026, 3, 9, 10)
    assert pauses.deadline(OFFICE, start, HOUR, [(at(10, 30), at(10, 30) + 7 * US)]) == (
        start + HOUR + 7 * US
    )
