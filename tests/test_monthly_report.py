"""`slabot.reports.monthly`: a month's report from tickets, stored outages and maintenance, on
SQLite and PostgreSQL, every figure worked out by hand.

LeadSquared (Asia/Kolkata; urgent is its outage severity; 99% uptime, at most 1 h of unplanned
downtime a month; maintenance needs 48 hours' notice, outside support hours). December 2026 has
31 days: 44,640 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slabot.outages import Outages
from slabot.reports import ReportError, monthly, workspaces

IST = ZoneInfo("Asia/Kolkata")
H = timedelta(hours=1)


def ist(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=IST).astimezone(UTC)


@pytest.fixture
def outages(store, policy_book) -> Outages:
    return Outages(store, policy_book)


@pytest.fixture
def december(tickets, outages):
    """Two overlapping outages (a ticket 10:00–11:00 and a stored one 10:30–11:30 on 3 Dec),
    maintenance announced 49 h ahead (6 Dec 02:00–04:00) and 40 h ahead (13 Dec 02:00–05:00),
    a force-majeure outage (20 Dec 12:00–14:00), all in workspace T1; noise in T2."""
    ws, lsq = "T1", "leadsquared"
    down = tickets.open(
        ws, title="site down", severity="urgent", policy=lsq, reporter="U1", now=ist(3, 10)
    ).view.ticket.number
    tickets.acknowledge(ws, down, actor="U2", now=ist(3, 10, 5))
    tickets.resolve(ws, down, actor="UADMIN", now=ist(3, 11))
    outages.start(ws, lsq, channel="C1", actor="U1", now=ist(3, 10, 30))
    outages.end(ws, lsq, actor="U1", now=ist(3, 11, 30))
    outages.plan_maintenance(ws, lsq, ist(6, 2), 2 * H, channel="C1", actor="U1", now=ist(4, 1))
    outages.plan_maintenance(ws, lsq, ist(13, 2), 3 * H, channel="C1", actor="U1", now=ist(11, 10))
    outages.start(ws, lsq, channel="C1", actor="U1", now=ist(20, 12), force_majeure=True)
    outages.end(ws, lsq, actor="U1", now=ist(20, 14))
    outages.start("T2", lsq, channel=None, actor="U9", now=ist(21, 0))
    outages.end("T2", lsq, actor="U9", now=ist(22, 0))


def test_uptime_counts_tickets_stored_outages_and_unannounced_maintenance(
    store, policy_book, december
):
    [report] = monthly(store, policy_book, ["T1"], "2026-12", policy="leadsquared", now=ist(31, 12))

    up = report.uptime
    assert report.period.minutes == 44_640
    # 3 Dec 10:00–11:30 (the ticket and the stored outage merged) = 90 min, plus the
    # maintenance announced 40 h ahead, 180 min; the other maintenance (120 min) and the force
    # majeure (120 min) are excluded.
    assert up.downtime_minutes == 90 + 180 == 270
    assert up.excluded_minutes == 120 + 120
    assert up.unplanned_minutes == 90 and up.allowance_exceeded is True
    assert up.uptime == (44_640 - 270) / 44_640
    assert up.target_met is True  # 99.395 % ≥ 99 %
    assert [(m.started_at, m.notice_problems == []) for m in report.maintenance] == [
        (ist(6, 2), True),
        (ist(13, 2), False),
    ]
    urgent = report.compliance.severity("urgent")
    assert urgent.opened == 1


def test_other_workspaces_are_not_counted_unless_asked(store, policy_book, december):
    [alone] = monthly(store, policy_book, ["T1"], "2026-12", policy="leadsquared", now=ist(31, 12))
    [both] = monthly(
        store, policy_book, ["T1", "T2"], "2026-12", policy="leadsquared", now=ist(31, 12)
    )
    assert both.uptime.downtime_minutes == alone.uptime.downtime_minutes + 24 * 60
    assert workspaces(store) == ["T1", "T2"]


def test_a_report_as_of_an_earlier_instant_counts_only_what_had_happened(
    store, policy_book, december
):
    [report] = monthly(store, policy_book, ["T1"], "2026-12", policy="leadsquared", now=ist(3, 11))
    # 3 Dec 10:00–11:00 so far; the maintenance of 13 Dec has not happened yet, but is planned
    assert report.uptime.downtime_minutes == 60
    assert len(report.maintenance) == 2


def test_no_month_means_the_month_of_now_in_each_policy_zone(store, policy_book, december):
    # 31 Dec 20:00 UTC is 1 January 01:30 in Kolkata and still 31 December in London
    now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    reports = {r.policy.name: r for r in monthly(store, policy_book, ["T1"], None, now=now)}
    assert reports["leadsquared"].period.label == "2027-01"
    assert reports["leadpro"].period.label == "2026-12"
    assert len(reports) == len(policy_book.names())


@pytest.mark.parametrize(
    ("month", "policy", "message"),
    [
        ("2026-13", None, "'2026-13' is not a month: write YYYY-MM"),
        ("December", None, "is not a month: write YYYY-MM, such as 2026-11"),
        ("2026-12", "nope", "unknown policy 'nope': use one of"),
    ],
)
def test_bad_requests_say_what_to_type(store, policy_book, month, policy, message):
    with pytest.raises(ReportError, match=message):
        monthly(store, policy_book, ["T1"], month, policy=policy, now=ist(31, 12))
