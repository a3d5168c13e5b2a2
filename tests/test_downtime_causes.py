"""Causes of downtime, what they leave out, and a lead's corrections (issue 13, clause 8).

Seed 001 (LeadPro): "LeadPro is not responsible for any downtime caused by general downtime to
the host servers (AWS)", "Service Credits will not be applicable for unavailability caused by
Force Majeure", and 99.9 % a month with 10 % below it, 30 % below 99.0 %. November 2026 has
43,200 minutes (London is on GMT all month); each figure below is worked out in the comment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slabot.reports.monthly import monthly
from slabot.sla import load_policy
from slabot.sla.figures import Interruption, month, outages_from_tickets, uptime
from slabot.sla.history import Acknowledged, DowntimeCorrected, Opened, StatusChanged
from slabot.tickets import ChangeRequest, Forbidden, Invalid

LEADPRO = load_policy(Path(__file__).resolve().parent.parent / "policies/leadpro.yaml")
NOVEMBER = month("Europe/London", "2026-11")
START = datetime(2026, 11, 2, 10, tzinfo=UTC)
H, M = timedelta(hours=1), timedelta(minutes=1)


def test_aws_downtime_is_left_out_of_uptime_and_credits():
    # 60 min caused by AWS and 30 min of LeadPro's own: 30 counted, 43,170 / 43,200 =
    # 99.93 %, above 99.9 %: no credit. Counted as before, 90 min would be 99.79 %: 10 %.
    outages = [
        Interruption(START, START + H, "eu-west-1", cause="aws"),
        Interruption(START + 5 * H, START + 5 * H + 30 * M, "deploy"),
    ]
    up = uptime(LEADPRO, outages, NOVEMBER)
    assert (up.downtime_minutes, up.excluded_minutes) == (30, 60)
    assert up.target_met and up.credit == 0
    [left] = up.excluded
    assert (left.why, left.scope, left.note) == (
        "General downtime of the host servers (AWS)",
        "uptime",
        "eu-west-1",
    )
    assert uptime(LEADPRO, [Interruption(START, START + 90 * M)], NOVEMBER).credit == pytest.approx(
        0.1
    )


def test_force_majeure_counts_against_uptime_but_earns_no_credit():
    # 60 min of force majeure and 50 min of LeadPro's own: uptime counts 110 min, 99.745 %
    # (target missed); the credit is read from 50 min, 99.884 %: still below 99.9 %, 10 %.
    outages = [
        Interruption(START, START + H, "flood", force_majeure=True),
        Interruption(START + 3 * H, START + 3 * H + 50 * M),
    ]
    up = uptime(LEADPRO, outages, NOVEMBER)
    assert up.downtime_minutes == 110 and not up.target_met
    assert up.credit_uptime == pytest.approx((43_200 - 50) / 43_200)
    assert up.credit == pytest.approx(0.10)
    # The flood alone: uptime 99.861 % (missed), but no credit at all.
    alone = uptime(LEADPRO, outages[:1], NOVEMBER)
    assert not alone.target_met and alone.credit == 0
    assert [(e.why, e.scope) for e in alone.excluded] == [("Force Majeure", "credits")]


def high_ticket(*more):
    """A High ticket (an outage by default) opened at START and resolved two hours later."""
    return [
        Opened(START, "high"),
        Acknowledged(START + 10 * M),
        StatusChanged(START + 2 * H, "resolved"),
        *more,
    ]


def test_a_leads_correction_says_a_ticket_was_no_outage_or_names_its_cause():
    later = START + 3 * H
    plain = outages_from_tickets(LEADPRO, [("SLA-1", high_ticket())], NOVEMBER)
    assert uptime(LEADPRO, plain, NOVEMBER).downtime_minutes == 120
    # "a 'major disruption' that is not an outage"
    corrected = high_ticket(DowntimeCorrected(later, False, None))
    up = uptime(LEADPRO, outages_from_tickets(LEADPRO, [("SLA-1", corrected)], NOVEMBER), NOVEMBER)
    assert up.downtime_minutes == 0
    assert [(e.why, e.note) for e in up.excluded] == [
        ("not an outage (a lead's correction)", "SLA-1")
    ]
    # "it was AWS"
    aws = high_ticket(DowntimeCorrected(later, None, "aws"))
    up = uptime(LEADPRO, outages_from_tickets(LEADPRO, [("SLA-1", aws)], NOVEMBER), NOVEMBER)
    assert up.downtime_minutes == 0 and up.excluded[0].why.endswith("(AWS)")
    # A Medium ticket (no outage by default) that was one after all: its two hours count.
    medium = [Opened(START, "medium"), StatusChanged(START + 2 * H, "resolved")]
    was_one = [*medium, DowntimeCorrected(later, True, None)]
    assert outages_from_tickets(LEADPRO, [("SLA-2", medium)], NOVEMBER) == []
    found = outages_from_tickets(LEADPRO, [("SLA-2", was_one)], NOVEMBER)
    assert uptime(LEADPRO, found, NOVEMBER).downtime_minutes == 120
    # The latest correction counts: back to "as its severity says".
    undone = high_ticket(
        DowntimeCorrected(later, False, None), DowntimeCorrected(later, None, None)
    )
    found = outages_from_tickets(LEADPRO, [("SLA-1", undone)], NOVEMBER)
    assert uptime(LEADPRO, found, NOVEMBER).downtime_minutes == 120


# -- through the store: the audit trail and the month's report, SQLite and PostgreSQL ------------


def test_a_correction_is_audited_and_the_report_shows_what_it_left_out(tickets):
    lead = "ULEAD"
    tickets.open(
        "T1", title="platform down", severity="high", policy="leadpro", reporter="UREP", now=START
    )
    tickets.acknowledge(ChangeRequest("T1", 1, actor="UOWN", now=START + 10 * M))
    tickets.resolve(ChangeRequest("T1", 1, actor="UOWN", now=START + 2 * H))
    now = START + 3 * H
    with pytest.raises(Forbidden, match="correct the downtime"):
        tickets.correct_downtime(
            ChangeRequest("T1", 1, actor=lead, now=now), counts=False, cause=None, reason="x"
        )
    with pytest.raises(Invalid, match=r"unknown cause 'meteor'.*aws, force_majeure"):
        tickets.correct_downtime(
            ChangeRequest("T1", 1, actor="UADMIN", now=now), counts=None, cause="meteor", reason="x"
        )
    with pytest.raises(Invalid, match="say why"):
        tickets.correct_downtime(
            ChangeRequest("T1", 1, actor="UADMIN", now=now), counts=None, cause="aws", reason=" "
        )
    tickets.correct_downtime(
        ChangeRequest("T1", 1, actor="UADMIN", now=now),
        counts=None,
        cause="aws",
        reason="AWS eu-west-2 outage",
    )
    from slabot.tickets.queries import story

    found = story(tickets.store, "T1", 1)
    [event] = [e for e in found.events if e.kind == "downtime_corrected"]
    assert (event.actor, event.after["reason"], event.after["cause"]) == (
        "UADMIN",
        "AWS eu-west-2 outage",
        "aws",
    )
    [report] = monthly(
        tickets.store, tickets.policies, ["T1"], "2026-11", policy="leadpro", now=now
    )
    assert report.uptime is not None and report.uptime.downtime_minutes == 0
    [left] = report.uptime.excluded
    assert left.why == "General downtime of the host servers (AWS)" and left.note == "SLA-1"
    assert left.end - left.start == 2 * H


def test_a_ticket_corrected_to_an_outage_is_still_down_in_the_next_months_report(tickets):
    # A Medium ticket (not an outage severity) opened on 30 Oct 2026 10:00 UTC, which a lead
    # says was an outage after all, and resolved on 2 Nov 10:00: November's report counts
    # 1 Nov 00:00 – 2 Nov 10:00 GMT, 34 h = 2,040 minutes, as downtime carried over.
    opened = datetime(2026, 10, 30, 10, tzinfo=UTC)
    tickets.open(
        "T1", title="exports fail", severity="medium", policy="leadpro", reporter="U1", now=opened
    )
    tickets.correct_downtime(
        ChangeRequest("T1", 1, actor="UADMIN", now=opened),
        counts=True,
        cause=None,
        reason="no one could log in",
    )
    tickets.acknowledge(ChangeRequest("T1", 1, actor="UOWN", now=opened + H))
    tickets.resolve(ChangeRequest("T1", 1, actor="UOWN", now=START))
    [report] = monthly(
        tickets.store, tickets.policies, ["T1"], "2026-11", policy="leadpro", now=START + H
    )
    assert report.uptime is not None
    assert report.uptime.downtime_minutes == 34 * 60
    [spell] = report.uptime.downtime
    assert (spell.start, spell.end) == (NOVEMBER.start, START)
