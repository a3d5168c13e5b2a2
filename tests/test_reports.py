"""Month-end figures (`slabot.sla.figures`) on fixed histories, every figure worked out by hand."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.months import IST, ist, leadsquared_month

from slabot.sla.figures import (
    Interruption,
    Period,
    Spell,
    compliance,
    maintenance,
    maintenance_problems,
    month,
    outages_from_tickets,
    uptime,
)
from slabot.sla.history import Acknowledged, Opened, SeverityChanged, StatusChanged, UpdatePosted

LONDON = ZoneInfo("Europe/London")
H, M = timedelta(hours=1), timedelta(minutes=1)


# -- months ---------------------------------------------------------------------------------------


def test_a_month_is_the_calendar_month_in_the_policy_zone():
    november = month(IST, "2026-11")
    assert november.start == datetime(2026, 10, 31, 18, 30, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    assert november.minutes == 30 * 1440 == 43_200
    assert month("Asia/Kolkata", "2026-12").minutes == 44_640  # 31 days
    assert month(LONDON, "2026-12").end == datetime(2027, 1, 1, tzinfo=UTC)


def test_dst_months_count_real_minutes():
    assert month(LONDON, "2026-03").minutes == 44_640 - 60 == 44_580  # clocks go forward
    assert month(LONDON, "2026-10").minutes == 44_640 + 60 == 44_700  # and back
    assert month(LONDON, "2026-03").start == datetime(2026, 3, 1, tzinfo=UTC)
    assert month(LONDON, "2026-04").start == datetime(2026, 3, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "Nov 2026", "2026-1", "", "0999-01"])
def test_a_bad_month_says_how_to_write_one(text):
    with pytest.raises(ValueError, match="is not a month: write YYYY-MM"):
        month(LONDON, text)


def test_a_period_must_be_aware_and_forward():
    with pytest.raises(ValueError, match="aware"):
        Period(datetime(2026, 11, 1), datetime(2026, 11, 2))
    with pytest.raises(ValueError, match="end after it starts"):
        Period(ist(2, 0), ist(1, 0))


# -- compliance -----------------------------------------------------------------------------------


def test_compliance_per_severity(policies):
    policy = policies["leadsquared"]
    now = ist(4, 10, 45)
    report = compliance(policy, leadsquared_month(), month(IST, "2026-11"), now)

    assert [s.severity for s in report.severities] == ["urgent", "high", "medium", "low"]
    high = report.severity("high")
    assert high.opened == 2
    assert (high.first_response.met, high.first_response.breached) == (1, 1)
    assert high.first_response.met_percent == 50.0
    assert (high.resolution.met, high.resolution.breached, high.resolution.running) == (1, 1, 0)
    assert high.mtta_wall == high.mtta_business == (30 * M + 3 * H) / 2  # 1 h 45 min
    assert high.mttr_wall == (9 * H + 17 * H) / 2  # 13 h
    assert high.mttr_business == (6 * H + 9 * H) / 2  # 7 h 30 min: the wait does not count
    assert high.waiting_on_customer == 3 * H
    assert high.updates_missed is None  # LeadSquared promises no update frequency

    urgent = report.severity("urgent")
    assert urgent.opened == 1
    assert (urgent.first_response.met, urgent.first_response.breached) == (0, 1)
    # still running at now: neither met nor breached
    assert (urgent.resolution.met, urgent.resolution.breached, urgent.resolution.running) == (
        0,
        0,
        1,
    )
    assert urgent.resolution.met_percent is None
    assert urgent.mtta_wall is None and urgent.mttr_business is None

    medium = report.severity("medium")
    assert medium.opened == 1 and medium.first_response.running == 1
    assert report.severity("low").opened == 0

    assert [(b.ref, b.target, b.due, b.met_at, b.late) for b in report.breaches] == [
        ("SLA-2", "first_response", ist(2, 22), ist(2, 23), H),
        ("SLA-2", "resolution", ist(3, 12), ist(3, 13), H),
        ("SLA-3", "first_response", ist(4, 10, 30), None, 15 * M),
    ]


@pytest.mark.parametrize("hours", [0.5, 2, 11, 26, 49, 300])
def test_states_agree_with_the_schedule(policies, hours):
    """The report decides met / breached / running as the ticket's own schedule does."""
    from slabot.sla.schedule import schedule

    policy = policies["leadsquared"]
    now = ist(2, 11) + hours * H
    tickets = [
        (ref, [e for e in events if e.at <= now])
        for ref, events in leadsquared_month()[1:]
        if events[0].at <= now
    ]
    report = compliance(policy, tickets, month(IST, "2026-11"), now)
    for severity in report.severities:
        expected = {"first_response": [0, 0, 0], "resolution": [0, 0, 0]}
        for _, events in tickets:
            plan = schedule(policy, events, now)
            if plan.severity != severity.severity:
                continue
            for d in plan.deadlines:
                if d.target in expected:
                    i = {"met": 0, "missed": 1, "breached": 1}.get(d.state, 2)
                    expected[d.target][i] += 1
        for name in expected:
            got = getattr(severity, name)
            counts = [0, 0, 0] if got is None else [got.met, got.breached, got.running]
            assert counts == expected[name], (severity, name)


def test_a_report_of_a_past_instant_ignores_later_events(policies):
    # At Mon 2 Nov 22:30 SLA-2 had not been acknowledged: breached, not yet met.
    report = compliance(
        policies["leadsquared"], leadsquared_month(), month(IST, "2026-11"), ist(2, 22, 30)
    )
    high = report.severity("high")
    assert (high.first_response.met, high.first_response.breached) == (1, 1)
    assert (high.resolution.met, high.resolution.running) == (1, 1)
    assert [(b.ref, b.met_at, b.late) for b in report.breaches] == [("SLA-2", None, 30 * M)]


def test_update_nudges_missed(policies):
    """LiveOps P1: first response 1 h, then an update every 4 h (24x7), or at the ETA given.

    * SLA-1: acknowledged 09:10 (next due 13:10); update 12:00 (due 16:00); update 17:00,
      one hour late; next due 21:00 and the ticket is resolved at 22:00 without one: 2 missed.
    * SLA-2: the 12:00 update gives an ETA of 18:00, so the 17:00 update is in time; resolved
      20:00, before 21:00: none missed.
    * SLA-3: acknowledged 09:10, nothing since: the 13:10 update is overdue, one missed cycle.
    """
    t = datetime(2026, 11, 10, 9, tzinfo=UTC)
    tickets = [
        (
            "SLA-1",
            [
                Opened(t, "p1"),
                Acknowledged(t + 10 * M),
                UpdatePosted(t + 3 * H),
                UpdatePosted(t + 8 * H),
                StatusChanged(t + 13 * H, "resolved"),
            ],
        ),
        (
            "SLA-2",
            [
                Opened(t, "p1"),
                Acknowledged(t + 10 * M),
                UpdatePosted(t + 3 * H, eta=t + 9 * H),
                UpdatePosted(t + 8 * H),
                StatusChanged(t + 11 * H, "resolved"),
            ],
        ),
        ("SLA-3", [Opened(t, "p1"), Acknowledged(t + 10 * M)]),
    ]
    november = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    report = compliance(policies["liveops"], tickets, november, t + 24 * H)
    # one cycle missed however many nudges repeated
    assert report.severity("p1").updates_missed == 2 + 0 + 1
    report = compliance(policies["liveops"], tickets, november, t + 5 * H)
    # at 14:00 only SLA-3 is late; SLA-1's update due 16:00 is not yet
    assert report.severity("p1").updates_missed == 0 + 0 + 1
    assert report.severity("p2").updates_missed == 0


def test_a_severity_change_files_the_ticket_under_its_new_severity(policies):
    t = ist(2, 11)
    tickets = [("SLA-1", [Opened(t, "low"), SeverityChanged(t + H, "urgent")])]
    report = compliance(policies["leadsquared"], tickets, month(IST, "2026-11"), t + 2 * H)
    assert report.severity("urgent").opened == 1 and report.severity("low").opened == 0


# -- uptime ---------------------------------------------------------------------------------------


def test_a_31_day_month_with_overlaps_and_maintenance(policies):
    """LeadSquared, December 2026 (31 days, 44,640 minutes).

    * Two unplanned outages on Thu 3 Dec, 10:00–10:40 and 10:30–11:10 IST: one of 70 minutes.
    * Maintenance on Sun 6 Dec 02:00–05:00 IST, announced 49 h ahead, outside support hours:
      the notice rule is met, so its 180 minutes do not count.
    * Maintenance on Sun 13 Dec 03:00–04:00 IST announced only 40 h ahead: its 60 minutes count.
    Downtime 130 minutes: uptime 44,510 / 44,640 = 99.709 %, above the 99 % target. Unplanned
    downtime is 70 minutes, over LeadSquared's one-hour allowance.
    """
    policy = policies["leadsquared"]
    december = month(IST, "2026-12")
    assert december.minutes == 44_640
    first = ist(6, 2, month=12)
    second = ist(13, 3, month=12)
    outages = [
        Interruption(ist(3, 10, month=12), ist(3, 10, 40, month=12), "login down"),
        Interruption(ist(3, 10, 30, month=12), ist(3, 11, 10, month=12), "API down"),
        maintenance(policy, first, 3 * H, first - 49 * H, "database upgrade"),
        maintenance(policy, second, H, second - 40 * H, "network change"),
    ]
    assert [o.notice_met for o in outages[2:]] == [True, False]
    report = uptime(policy, outages, december)
    assert report.minutes == 44_640
    assert report.downtime_minutes == 130
    assert report.excluded_minutes == 180
    assert report.unplanned_minutes == 70
    assert report.uptime == 44_510 / 44_640
    assert round(report.uptime_percent, 3) == 99.709
    assert report.target_met is True
    assert report.credit == 0.0 and report.claim_by is None
    assert report.allowance == H and report.allowance_exceeded is True
    assert report.downtime == (  # LeadSquared sets no claim window
        Spell(ist(3, 10, month=12), ist(3, 11, 10, month=12), None),
        Spell(second, second + H, None),
    )


def test_within_the_allowance_and_force_majeure(policies):
    policy = policies["leadsquared"]
    december = month(IST, "2026-12")
    start = ist(3, 10, month=12)
    outages = [
        Interruption(start, start + 60 * M),
        Interruption(start + 2 * H, start + 5 * H, "flood", force_majeure=True),
    ]
    report = uptime(policy, outages, december)
    assert report.downtime_minutes == 60 and report.excluded_minutes == 180
    assert report.allowance_exceeded is False  # one hour is within "1 hour per Month"


def test_an_excluded_spell_removes_its_minutes_from_an_overlapping_outage(policies):
    policy = policies["leadpro"]
    start = datetime(2026, 11, 8, 2, tzinfo=UTC)
    outages = [
        Interruption(start, start + 2 * H),
        Interruption(start + H, start + 3 * H, planned=True, notice_met=True),
    ]
    assert uptime(policy, outages, month(LONDON, "2026-11")).downtime_minutes == 60


def test_outages_are_clipped_and_an_ongoing_one_counts_to_now_or_the_end(policies):
    policy = policies["leadpro"]
    november = month(LONDON, "2026-11")  # GMT: UTC midnight to midnight
    outages = [
        Interruption(
            datetime(2026, 10, 31, 23, 30, tzinfo=UTC), datetime(2026, 11, 1, 0, 20, tzinfo=UTC)
        ),
        Interruption(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), None),
    ]
    assert uptime(policy, outages, november).downtime_minutes == 20 + 60
    now = datetime(2026, 11, 30, 23, 15, tzinfo=UTC)
    assert uptime(policy, outages, november, now).downtime_minutes == 20 + 15


def hundred_minutes_down(policy, down: timedelta, minutes: int = 1000):
    start = datetime(2026, 11, 2, tzinfo=UTC)
    period = Period(start, start + minutes * M)
    return uptime(policy, [Interruption(start, start + down)], period)


@pytest.mark.parametrize(
    ("down", "percent", "credit"),
    [
        (1 * M, 99.9, 0.0),  # exactly 99.9 %: "less than 99.9 %" earns nothing
        (2 * M, 99.8, 0.10),  # just below
        (10 * M, 99.0, 0.10),  # exactly 99.0 %: "less than 99.9 % but equal to or greater"
        (11 * M, 98.9, 0.30),  # just below 99.0 %
    ],
)
def test_leadpro_credit_band_edges(policies, down, percent, credit):
    report = hundred_minutes_down(policies["leadpro"], down)  # a period of 1,000 minutes
    assert round(report.uptime_percent, 6) == percent
    assert report.credit == credit


@pytest.mark.parametrize(
    ("down", "credit"),
    [
        (43 * M, 0.0),  # 43,157 / 43,200 = 99.9005 %
        (43 * M + 29 * timedelta(seconds=1), 0.0),  # rounds to 43 minutes
        (43 * M + 30 * timedelta(seconds=1), 0.10),  # rounds to 44: 99.8981 %
        (432 * M, 0.10),  # 99.0 % exactly
        (433 * M, 0.30),
    ],
)
def test_leadpro_credit_in_a_30_day_month_to_the_nearest_minute(policies, down, credit):
    november = month(LONDON, "2026-11")
    start = datetime(2026, 11, 10, tzinfo=UTC)
    assert (
        uptime(policies["leadpro"], [Interruption(start, start + down)], november).credit == credit
    )


def test_leadpro_each_spell_of_downtime_has_its_own_claim_date(policies):
    # Seed 001: "The client must provide the dates and times of each unavailability incident
    # that the Client is claiming. All claims must be made within 60 days of the
    # unavailability occurring." Interpretation: a spell occurs on the day it begins, and can
    # be claimed until that day plus 60 days, all of it.
    november = month(LONDON, "2026-11")
    first = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # Mon 2 Nov, 23:30 GMT
    second = datetime(2026, 11, 20, 9, tzinfo=UTC)
    report = uptime(
        policies["leadpro"],
        [Interruption(second, second + H), Interruption(first, first + H)],
        november,
    )
    assert [s.last_claim_day(LONDON) for s in report.downtime] == [
        date(2027, 1, 1),  # 60 days from 2 Nov (the month's end gave 29 Jan)
        date(2027, 1, 19),
    ]
    assert report.downtime[0] == (first, first + H, datetime(2027, 1, 2, tzinfo=UTC))
    # a claim made for the month as a whole must come by the earliest spell's day
    assert report.claim_by == datetime(2027, 1, 2, tzinfo=UTC)
    assert report.last_claim_day(LONDON) == date(2027, 1, 1)
    # the month's figures are those of before: 120 minutes down, 10% credit
    assert report.downtime_minutes == 120 and report.credit == 0.10


def test_a_spell_carried_over_from_last_month_is_claimed_from_this_months_start(policies):
    # Interpretation: November's credit is for November's minutes, which began on 1 Nov.
    start = datetime(2026, 10, 31, 22, tzinfo=UTC)
    report = uptime(
        policies["leadpro"], [Interruption(start, start + 4 * H)], month(LONDON, "2026-11")
    )
    [spell] = report.downtime
    assert spell.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert spell.last_claim_day(LONDON) == date(2026, 12, 31)


def test_a_month_without_downtime_has_nothing_to_claim(policies):
    report = uptime(policies["leadpro"], [], month(LONDON, "2026-11"))
    assert report.uptime == 1.0 and report.credit == 0.0 and report.target_met
    assert report.downtime == () and report.claim_by is None
    assert report.allowance is None and report.allowance_exceeded is None


def test_the_claim_window_counts_days_of_the_policy_calendar(policies):
    # Sat 26 Sep 23:30 BST (22:30 UTC); 60 days on, past the clocks going back on 25 Oct, is
    # Wed 25 Nov: claims until Thu 26 Nov 00:00 GMT, not an hour before
    start = datetime(2026, 9, 26, 22, 30, tzinfo=UTC)
    report = uptime(policies["leadpro"], [Interruption(start, start + H)], month(LONDON, "2026-09"))
    assert report.claim_by == datetime(2026, 11, 26, tzinfo=UTC)
    assert report.last_claim_day(LONDON) == date(2026, 11, 25)


def test_outages_from_tickets_of_outage_severities(policies):
    policy = policies["leadsquared"]
    t = ist(3, 10)
    tickets = [
        # reported 10 min before it was opened; resolved after 2 h
        (
            "SLA-1",
            [Opened(t, "urgent", reported_at=t - 10 * M), StatusChanged(t + 2 * H, "resolved")],
        ),
        # not an outage severity
        ("SLA-2", [Opened(t, "high"), StatusChanged(t + H, "resolved")]),
        # raised to urgent at 11:00, lowered at 11:30, never resolved
        (
            "SLA-3",
            [
                Opened(t, "high"),
                SeverityChanged(t + H, "urgent"),
                SeverityChanged(t + 90 * M, "high"),
            ],
        ),
        # still down
        ("SLA-4", [Opened(t + 5 * H, "1")]),
    ]
    outages = outages_from_tickets(policy, tickets, month(IST, "2026-11"))
    assert outages == [
        Interruption(t - 10 * M, t + 2 * H, "SLA-1"),
        Interruption(t + H, t + 90 * M, "SLA-3"),
        Interruption(t + 5 * H, None, "SLA-4"),
    ]
    now = t + 6 * H
    report = uptime(policy, outages, month(IST, "2026-11"), now)
    assert report.downtime_minutes == 130 + 60  # SLA-3 lies inside SLA-1's spell


# -- planned maintenance --------------------------------------------------------------------------


def test_maintenance_announced_48_hours_ahead_outside_support_hours_is_fine(policies):
    policy = policies["leadsquared"]
    start = ist(29, 3)  # Sunday 29 Nov 03:00 IST: no support on Sundays
    assert maintenance_problems(policy, start, 2 * H, start - 48 * H) == []
    assert maintenance_problems(policies["leadpro"], start, 2 * H, start) == []  # no rule


def test_maintenance_announced_too_late(policies):
    start = ist(29, 3)
    problems = maintenance_problems(policies["leadsquared"], start, 2 * H, start - 40 * H)
    assert problems == [
        "announced 40 h ahead, but the policy asks for at least 48 h notice "
        "(Any Scheduled / Planned downtimes will be informed/notified 48hrs prior.)"
    ]
    late = maintenance_problems(policies["leadsquared"], start, 2 * H, start + M)
    assert late[0].startswith("announced after it starts")


def test_maintenance_inside_support_hours_says_when(policies):
    policy = policies["leadsquared"]
    monday = ist(23, 9)  # Mon 23 Nov 09:00–11:00: support opens at 10:00
    assert maintenance_problems(policy, monday, 2 * H, monday - 72 * H) == [
        "it falls inside business hours (Mon 23 Nov 10:00–11:00 IST); planned downtime must be "
        "held outside them"
    ]
    # Friday's window runs past midnight to Sat 02:00
    night = ist(28, 1)
    problems = maintenance_problems(policy, night, 2 * H, night - 40 * H)
    assert len(problems) == 2
    assert "(Sat 28 Nov 01:00–02:00 IST)" in problems[1]


def test_maintenance_needs_a_duration(policies):
    with pytest.raises(ValueError, match="longer than zero"):
        maintenance_problems(policies["leadsquared"], ist(29, 3), timedelta(0), ist(20, 0))
