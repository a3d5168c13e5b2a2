"""The business-time engine agrees with the minute-stepping reference on random calendars.

Calendars are drawn in time zones with and without daylight saving (including 30-minute DST and
45-minute offsets), with past-midnight windows, ``24:00`` ends, empty days and extra closed dates;
starts are drawn around the DST changes of 2026-2027, the engine's chunk boundaries and the
calendar's own window edges, where mistakes would hide.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from support.properties import examples
from support.reference import reference_add, reference_elapsed, reference_is_open

from slabot.sla import TARGETS, Policy, pauses
from slabot.sla.calendar import (
    ALL_HOURS,
    BATCH_MIN,
    CHUNK,
    EPOCH,
    ONE_US,
    Calendar,
    Window,
    from_us,
    to_us,
)
from slabot.sla.policy import DAYS

MINUTE = timedelta(minutes=1)
US = ONE_US
ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Lord_Howe",  # DST moves the clock by 30 minutes
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45/+13:45, changing at 02:45 local
    "America/St_Johns",  # -03:30/-02:30
    "UTC",
]
RANGE_START = datetime(2026, 1, 1, tzinfo=UTC)
RANGE_END = datetime(2028, 1, 1, tzinfo=UTC)

# Cheap enough for a 2-core shared machine: each example steps through up to a few weeks of
# minutes in the reference. Counts are the ci profile's (support.properties.examples).
SLOW = [HealthCheck.too_slow]
FEW = settings(max_examples=examples(60), deadline=None, suppress_health_check=SLOW)
MANY = settings(max_examples=examples(120), deadline=None, suppress_health_check=SLOW)


def _transitions(zone: str) -> list[datetime]:
    """The instants (to the minute) at which the zone's UTC offset changes in 2026-2027."""
    tz = ZoneInfo(zone)

    def offset(t: datetime) -> timedelta | None:
        return t.astimezone(tz).utcoffset()

    found = []
    day = RANGE_START
    while day < RANGE_END:
        lo, hi = day, day + timedelta(days=1)
        if offset(lo) != offset(hi):
            while hi - lo > MINUTE:  # the offset changes in (lo, hi]
                mid = lo + (hi - lo) // 2 // MINUTE * MINUTE
                if offset(mid) == offset(lo):
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        day += timedelta(days=1)
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}
NO_DST = ("UTC", "Asia/Kolkata", "Asia/Kathmandu")
# The engine's chunk edges, to the minute (the reference's resolution; they are not on one).
CHUNK_EDGES = [
    EPOCH + timedelta(microseconds=k * CHUNK) // MINUTE * MINUTE
    for k in range(
        (RANGE_START - EPOCH) // timedelta(microseconds=CHUNK),
        (RANGE_END - EPOCH) // timedelta(microseconds=CHUNK) + 1,
    )
]
assert all(len(TRANSITIONS[zone]) == 4 for zone in ZONES if zone not in NO_DST)

# -- strategies -------------------------------------------------------------------------------

# Window edges near the DST changes (01:00-03:45 local), midnight and the end of the day are
# the interesting ones; any minute is possible.
INTERESTING_MINUTES = [0, 30, 60, 90, 105, 120, 135, 150, 165, 180, 210, 225, 240, 1380, 1410]
minute_of_day = st.one_of(
    st.sampled_from(INTERESTING_MINUTES),
    st.integers(0, 95).map(lambda quarter: quarter * 15),
    st.integers(0, 24 * 60 - 1),
)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def window_texts(draw) -> str:
    start = draw(minute_of_day)
    end = draw(st.one_of(st.just(24 * 60), minute_of_day, st.integers(1, 24 * 60)))
    return f"{_hhmm(start)}-{_hhmm(end)}"  # end <= start runs past midnight


@st.composite
def scenarios(draw):
    """A calendar, a start near something interesting and a duration, as a dict."""
    zone = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone)
    anchor = draw(st.sampled_from(TRANSITIONS[zone] + CHUNK_EDGES))
    days = draw(
        st.lists(
            st.one_of(st.just([]), st.lists(window_texts(), min_size=1, max_size=3)),
            min_size=7,
            max_size=7,
        )
    )
    if draw(st.booleans()):
        weekday, text = draw(_aimed_window(tz, anchor))
        days[weekday] = [*days[weekday][:2], text]
    assume(any(days))
    week = [[Window.parse(text) for text in day] for day in days]

    start = draw(st.one_of(_starts(tz, [anchor], week), _starts(tz, TRANSITIONS[zone], week)))
    closed_offsets = draw(st.sets(st.integers(-3, 21), max_size=4))
    closed = frozenset(start.date() + timedelta(days=n) for n in closed_offsets)
    calendar = Calendar("random", tz, week, closed=closed.__contains__)

    # Keep the reference's walk to a few weeks: at most about two weeks of nominal open time.
    weekly = sum(w.end - w.start for day in week for w in day)
    cap = min(40 * 60, 2 * weekly)
    lengths = sorted({w.end - w.start for day in week for w in day if w.end - w.start <= cap})
    minutes = draw(
        st.one_of(
            st.integers(0, cap),
            st.sampled_from([0, 1, *lengths]),
            st.integers(0, min(cap, 90)),
        )
    )
    return {
        "zone": zone,
        "calendar": calendar,
        "start": start,
        "duration": minutes * MINUTE,
        "week": days,
        "closed": sorted(closed),
    }


@st.composite
def _aimed_window(draw, tz: ZoneInfo, anchor: datetime) -> tuple[int, str]:
    """A window (weekday, text) that opens or closes at a wall time near ``anchor``.

    Near a DST change that means inside (or just beside) the skipped or repeated hour.
    """
    before = (anchor - MINUTE).astimezone(tz).replace(tzinfo=None) + MINUTE
    after = anchor.astimezone(tz).replace(tzinfo=None)
    low, high = min(before, after), max(before, after)
    span = (high - low) // MINUTE
    edge = low + draw(st.integers(-30, span + 30)) * MINUTE
    day, minute = edge.date(), edge.hour * 60 + edge.minute
    other = draw(st.one_of(minute_of_day, st.sampled_from([(minute + 60) % 1440, 0])))
    if draw(st.booleans()):
        end = other if other != 0 else 24 * 60
        return day.weekday(), f"{_hhmm(minute)}-{_hhmm(end)}"
    # Ends at the edge: a window starting at or after the edge runs past midnight, so it
    # belongs to the day before.
    owner = day if other < minute else day - timedelta(days=1)
    return owner.weekday(), f"{_hhmm(other)}-{_hhmm(minute)}"


def _starts(tz: ZoneInfo, transitions: list[datetime], week: list[list[Window]]):
    """Minute-aligned UTC instants, biased to DST changes, chunk edges and window edges."""
    anchors = transitions + CHUNK_EDGES
    near = st.one_of(
        st.sampled_from([-61, -60, -31, -30, -1, 0, 1, 30, 59, 60]),
        st.integers(-3 * 24 * 60, 3 * 24 * 60),
    )
    around_anchor = st.builds(
        lambda anchor, minutes: anchor + minutes * MINUTE, st.sampled_from(anchors), near
    )
    edges = sorted({m % (24 * 60) for day in week for w in day for m in (w.start, w.end)})
    around_edge = st.builds(
        lambda anchor, days, edge, delta, fold: _wall_to_utc(
            anchor.astimezone(tz).date() + timedelta(days=days), edge + delta, tz, fold
        ),
        st.sampled_from(anchors),
        st.integers(-2, 2),
        st.sampled_from(edges or [0]),
        st.sampled_from([-1, 0, 0, 1]),
        st.sampled_from([0, 1]),
    )
    anywhere = st.integers(0, (RANGE_END - RANGE_START) // MINUTE).map(
        lambda n: RANGE_START + n * MINUTE
    )
    return st.one_of(around_anchor, around_edge, anywhere)


def _wall_to_utc(day, minutes: int, tz: ZoneInfo, fold: int) -> datetime:
    """Some instant near a local wall time (zoneinfo's reading of it, whether or not it exists)."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)


@st.composite
def pause_lists(draw, calendar: Calendar, start: datetime):
    """0-3 finite pauses (maybe overlapping, unsorted, empty) and maybe one ongoing.

    Pauses often begin or end at an opening or a closing, where off-by-one mistakes hide.
    """
    edges = [
        edge
        for span in calendar.open_intervals(start - timedelta(days=2), start + timedelta(days=10))
        for edge in span
    ]
    somewhere = st.integers(-2 * 24 * 60, 10 * 24 * 60).map(lambda n: start + n * MINUTE)
    instant = st.one_of(somewhere, st.sampled_from(edges)) if edges else somewhere
    found = []
    for _ in range(draw(st.integers(0, 3))):
        begins = draw(instant)
        ends = draw(
            st.one_of(
                st.integers(0, 120).map(lambda n, b=begins: b + n * MINUTE),
                st.integers(1, 3 * 24 * 60).map(lambda n, b=begins: b + n * MINUTE),
                instant.filter(lambda e, b=begins: e >= b),
            )
        )
        found.append((begins, ends))
    if draw(st.booleans()):
        found.append((draw(instant), None))
    return draw(st.permutations(found))


def _utc(instant: datetime | None) -> None:
    assert instant is None or (instant.tzinfo is UTC and instant.utcoffset() == timedelta(0))


# -- properties -------------------------------------------------------------------------------


def _describe(case: dict) -> None:
    note(f"zone={case['zone']} week={case['week']} closed={case['closed']}")
    note(f"start={case['start'].isoformat()} duration={case['duration']}")


@MANY
@given(scenarios())
def test_add_matches_the_reference(case):
    _describe(case)
    calendar, start, duration = case["calendar"], case["start"], case["duration"]
    due = calendar.add(start, duration)
    _utc(due)
    assert due == reference_add(calendar, start, duration)


@MANY
@given(scenarios(), st.integers(0, 21 * 24 * 60), st.integers(-24 * 60, 0))
def test_elapsed_matches_the_reference(case, span, before):
    _describe(case)
    calendar, start = case["calendar"], case["start"]
    end = start + span * MINUTE
    assert calendar.elapsed(start, end) == reference_elapsed(calendar, start, end)
    assert calendar.elapsed(start, start + before * MINUTE) == timedelta(0)


@FEW
@given(scenarios())
def test_the_time_between_start_and_due_is_the_duration(case):
    _describe(case)
    calendar, start, duration = case["calendar"], case["start"], case["duration"]
    due = calendar.add(start, duration)
    assert due is not None and due >= start
    assert calendar.elapsed(start, due) == duration
    if duration:
        # ... and it is the earliest such instant: a minute earlier is not enough.
        assert calendar.elapsed(start, due - MINUTE) < duration
    else:
        assert due == calendar.next_open(start)


@FEW
@given(scenarios(), st.integers(0, 3 * 24 * 60), st.integers(0, 8 * 60))
def test_add_is_monotone_in_start_and_duration(case, later_by, more):
    _describe(case)
    calendar, start, duration = case["calendar"], case["start"], case["duration"]
    due = calendar.add(start, duration)
    assert calendar.add(start + later_by * MINUTE, duration) >= due
    assert calendar.add(start, duration + more * MINUTE) >= due
    if more:
        assert calendar.add(start, duration + more * MINUTE) > due


@MANY
@given(scenarios(), st.integers(-24 * 60, 24 * 60))
def test_next_open_and_is_open_agree_with_the_reference(case, shift):
    _describe(case)
    calendar = case["calendar"]
    at = case["start"] + shift * MINUTE
    is_open = calendar.is_open(at)
    opening = calendar.next_open(at)
    _utc(opening)
    assert is_open == reference_is_open(calendar, at)
    assert opening == reference_add(calendar, at, timedelta(0))
    assert (opening == at) == is_open
    assert opening >= at
    assert calendar.is_open(opening)
    assert calendar.elapsed(at, opening) == timedelta(0)


@MANY
@given(st.data())
def test_deadline_with_pauses_matches_the_reference(data):
    case = data.draw(scenarios())
    _describe(case)
    calendar, start, duration = case["calendar"], case["start"], case["duration"]
    paused = data.draw(pause_lists(calendar, start))
    note(f"pauses={paused}")
    due = pauses.deadline(calendar, start, duration, paused)
    _utc(due)
    assert due == reference_add(calendar, start, duration, paused)
    if due is not None:
        assert pauses.elapsed(calendar, start, due, paused) == duration
    # Zero: the first instant at which the clock runs (open and not paused), if ever.
    first = pauses.deadline(calendar, start, timedelta(0), paused)
    assert first == reference_add(calendar, start, timedelta(0), paused)


@FEW
@given(st.data())
def test_elapsed_with_pauses_matches_the_reference(data):
    case = data.draw(scenarios())
    _describe(case)
    calendar, start = case["calendar"], case["start"]
    paused = data.draw(pause_lists(calendar, start))
    end = start + data.draw(st.integers(0, 21 * 24 * 60)) * MINUTE
    note(f"pauses={paused} end={end.isoformat()}")
    assert pauses.elapsed(calendar, start, end, paused) == reference_elapsed(
        calendar, start, end, paused
    )


ROUND_THE_CLOCK = Calendar("always", ZoneInfo("UTC"), [[Window.parse("00:00-24:00")]] * 7)


@FEW
@given(st.data())
def test_24x7_counts_real_time_whatever_zone_the_instants_are_in(data):
    zone = ZoneInfo(data.draw(st.sampled_from(ZONES)))
    start = data.draw(_starts(zone, TRANSITIONS[zone.key], []))
    duration = data.draw(st.integers(0, 3 * 24 * 60)) * MINUTE
    paused = data.draw(pause_lists(ROUND_THE_CLOCK, start))
    end = start + data.draw(st.integers(0, 3 * 24 * 60)) * MINUTE

    def in_zone(instant: datetime | None) -> datetime | None:
        return None if instant is None else instant.astimezone(zone)

    local_pauses = [(in_zone(s), in_zone(e)) for s, e in paused]
    note(f"zone={zone.key} start={start.isoformat()} pauses={paused} end={end.isoformat()}")
    due = ALL_HOURS.add(in_zone(start), duration)
    _utc(due)
    assert due == start + duration
    assert ALL_HOURS.elapsed(in_zone(start), in_zone(end)) == end - start
    assert ALL_HOURS.next_open(in_zone(start)) == start
    due = pauses.deadline(ALL_HOURS, in_zone(start), duration, local_pauses)
    _utc(due)
    assert due == reference_add(ROUND_THE_CLOCK, start, duration, paused)
    assert pauses.elapsed(ALL_HOURS, in_zone(start), in_zone(end), local_pauses) == (
        reference_elapsed(ROUND_THE_CLOCK, start, end, paused)
    )


# -- many at once -----------------------------------------------------------------------------


@st.composite
def many_starts(draw, start: datetime) -> list[datetime]:
    """Enough starts for the batch to go through numpy: around ``start`` over a few weeks, in
    no order, some repeated, and maybe a few years away (chunks that do not follow on)."""
    near = st.one_of(st.integers(-3 * 24 * 60, 21 * 24 * 60), st.sampled_from([-1, 0, 1, 60]))
    minutes = draw(st.lists(near, min_size=BATCH_MIN, max_size=BATCH_MIN + 40))
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from([-800, 400, 1100]), min_size=1, max_size=3))
        minutes += [day * 24 * 60 for day in days]
    return [start + m * MINUTE for m in minutes]


@FEW
@given(st.data())
def test_add_many_is_add_one_by_one_and_the_reference(data):
    case = data.draw(scenarios())
    _describe(case)
    calendar, duration = case["calendar"], case["duration"]
    starts = data.draw(many_starts(case["start"]))
    note(f"starts={[s.isoformat() for s in starts]}")
    instants = [to_us(s) for s in starts]
    one_by_one = [calendar.add_us(s, duration // US) for s in instants]
    assert calendar.add_many_us(instants, duration // US) == one_by_one
    assert from_us(one_by_one[0]) == reference_add(calendar, starts[0], duration)
    minutes = data.draw(st.lists(st.integers(0, 40 * 60), min_size=len(starts)))[: len(starts)]
    each = [m * MINUTE // US for m in minutes] + [0] * (len(starts) - len(minutes))
    assert calendar.add_many_us(instants, each) == [
        calendar.add_us(s, d) for s, d in zip(instants, each, strict=True)
    ]


@FEW
@given(st.data())
def test_24x7_adds_many_as_it_adds_one(data):
    start = data.draw(_starts(ZoneInfo("UTC"), TRANSITIONS["Europe/London"], []))
    instants = [to_us(s) for s in data.draw(many_starts(start))]
    durations = [m * MINUTE // US for m in range(-2, len(instants) - 2)]
    positive = [max(d, 0) for d in durations]
    real = [s + d for s, d in zip(instants, positive, strict=True)]
    assert ALL_HOURS.add_many_us(instants, durations) == real
    assert ROUND_THE_CLOCK.add_many_us(instants, positive) == real
    assert ROUND_THE_CLOCK.add_many_us(instants, 90 * MINUTE // US) == [
        s + 90 * MINUTE // US for s in instants
    ]


def _random_policy(case: dict) -> Policy:
    """A policy over the scenario's calendar: one severity with a target on it, one on 24x7
    and one that allows less when it opens in peak hours, of the scenario's duration."""
    within = f"{case['duration'] // MINUTE}m"
    return Policy.model_validate(
        {
            "name": "random",
            "timezone": case["zone"],
            "calendars": {
                "hours": {
                    "hours": {DAYS[i]: day for i, day in enumerate(case["week"]) if day},
                    "holidays": {"dates": case["closed"]},
                },
                "peak": {"hours": {"mon-fri": ["10:00-12:00"]}},
            },
            "severities": [
                {
                    "key": "s1",
                    "label": "S1",
                    "aliases": ["P1"],
                    "targets": {
                        "first_response": {"within": within, "clock": "hours"},
                        "resolution": {"within": within, "clock": "24x7"},
                        "update_every": {
                            "within": within,
                            "clock": "hours",
                            "opened_in": {"peak": "30m"},
                        },
                    },
                }
            ],
        }
    )


@FEW
@given(st.data())
def test_policy_deadlines_are_deadline_for_each_start_and_the_reference(data):
    case = data.draw(scenarios())
    _describe(case)
    policy = _random_policy(case)
    hours = policy.clock("hours")
    starts = data.draw(many_starts(case["start"]))
    share = data.draw(st.sampled_from([1.0, 0.999, 0.75, 0.5]))
    paused = data.draw(st.one_of(st.just([]), pause_lists(hours, case["start"])))
    note(f"starts={[s.isoformat() for s in starts]} share={share} pauses={paused}")
    for target in TARGETS:
        single = [policy.deadline("P1", target, s, paused, share=share) for s in starts]
        assert policy.deadlines("s1", target, starts, paused, share=share) == single
        instants = [to_us(s) for s in starts]
        assert policy.deadlines_us("p1", target, instants, paused, share=share) == [
            None if due is None else to_us(due) for due in single
        ]
    due = policy.deadlines("s1", "first_response", starts[:1] * BATCH_MIN, paused)[0]
    assert due == reference_add(hours, starts[0], case["duration"], paused)
