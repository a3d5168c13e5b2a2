"""Outages without a ticket and planned maintenance (`slabot.outages`), on SQLite and PostgreSQL.

LeadSquared (Asia/Kolkata) is the policy with a notice rule: 48 hours ahead, outside its support
hours (Mon–Fri 10:00–02:00 next day, Sat 10:00–18:00). December 2026 starts on a Tuesday, so
Sunday 6 December 02:00–04:00 IST is outside them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError
from support.roles import maintenances as maintenances
from support.roles import outages as outages

from slabot.outages.maintenance import as_spell
from slabot.refusals import AlreadyDone, Invalid, NotFound
from slabot.sla.figures import Interruption, month
from slabot.store.tables import MaintenanceRecord, OutageRecord

IST = ZoneInfo("Asia/Kolkata")
H, M = timedelta(hours=1), timedelta(minutes=1)


def ist(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=IST).astimezone(UTC)


def test_an_outage_runs_from_start_to_end(outages):
    started = outages.start(
        "T1", "leadsquared", channel="COPS", actor="U1", now=ist(3, 10), note="api 502s"
    )
    assert isinstance(started, OutageRecord)
    assert (started.started_at, started.ended_at) == (ist(3, 10), None)
    assert (started.channel, started.started_by, started.force_majeure) == ("COPS", "U1", False)

    ended = outages.end("T1", "leadsquared", actor="U2", now=ist(3, 11, 30), note="rolled back")

    assert ended.id == started.id
    assert (ended.ended_at, ended.ended_by) == (ist(3, 11, 30), "U2")
    assert ended.note == "api 502s\nrolled back"
    assert outages.between(["T1"], "leadsquared", ist(1, 0), ist(31, 0)) == [
        Interruption(ist(3, 10), ist(3, 11, 30), "api 502s\nrolled back")
    ]


def test_a_second_outage_cannot_start_while_one_runs_but_others_may(outages):
    outages.start("T1", "leadsquared", channel=None, actor="U1", now=ist(3, 10))

    with pytest.raises(
        AlreadyDone, match=r"already running since \d{4}-\d\d-\d\d \d\d:\d\d UTC .*end it with /sla"
    ):
        outages.start("T1", "leadsquared", channel="C2", actor="U2", now=ist(3, 10, 5))

    # another policy, or another workspace, has its own outage
    outages.start("T1", "leadpro", channel=None, actor="U1", now=ist(3, 10, 5))
    outages.start("T2", "leadsquared", channel=None, actor="U1", now=ist(3, 10, 5))
    outages.end("T1", "leadsquared", actor="U1", now=ist(3, 11))
    # once ended, a new one may start
    again = outages.start("T1", "leadsquared", channel=None, actor="U1", now=ist(3, 12))
    assert again.started_at == ist(3, 12)


def test_the_database_refuses_two_running_outages_even_past_the_use_case(store, outages):
    outages.start("T1", "leadsquared", channel=None, actor="U1", now=ist(3, 10))
    with pytest.raises(IntegrityError), store.writing() as session:
        session.add(
            OutageRecord(
                workspace="T1",
                policy="leadsquared",
                started_at=ist(3, 10, 1),
                started_by="U2",
            )
        )
        session.flush()
    # maintenance is not an outage: any number of windows may overlap the running one
    with store.writing() as session:
        for minute in (1, 2):
            session.add(
                MaintenanceRecord(
                    workspace="T1",
                    policy="leadsquared",
                    started_at=ist(3, 10, minute),
                    ended_at=ist(3, 12),
                    announced_at=ist(1, 0),
                    started_by="U2",
                )
            )


def test_ending_with_nothing_running_says_how_to_start(outages):
    with pytest.raises(NotFound, match=r"no outage of leadsquared is running.*/sla outage start"):
        outages.end("T1", "leadsquared", actor="U1", now=ist(3, 10))
    outages.start("T1", "leadsquared", channel=None, actor="U1", now=ist(3, 10))
    with pytest.raises(Invalid, match="cannot end before it started"):
        outages.end("T1", "leadsquared", actor="U1", now=ist(3, 9))


def test_an_unknown_policy_lists_the_known_ones(outages, maintenances):
    with pytest.raises(Invalid, match=r"unknown policy 'nope': use one of .*leadsquared"):
        outages.start("T1", "nope", channel=None, actor="U1", now=ist(3, 10))
    with pytest.raises(Invalid, match="unknown policy 'nope'"):
        maintenances.plan("T1", "nope", ist(6, 2), 2 * H, channel=None, actor="U1", now=ist(1, 0))


def test_maintenance_announced_49_hours_ahead_at_night_meets_the_notice_rule(maintenances):
    record, problems = maintenances.plan(
        "T1",
        "leadsquared",
        ist(6, 2),
        2 * H,
        channel="COPS",
        actor="U1",
        now=ist(4, 1),  # Fri 01:00: 49 hours before Sun 02:00
        note="database upgrade",
    )
    assert problems == [] and record.notice_problems == []
    assert isinstance(record, MaintenanceRecord)
    assert (record.started_at, record.ended_at) == (ist(6, 2), ist(6, 4))
    assert (record.announced_at, record.note, record.channel) == (
        ist(4, 1),
        "database upgrade",
        "COPS",
    )
    [outage] = map(as_spell, maintenances.records(["T1"], "leadsquared", ist(1, 0), ist(31, 0)))
    assert outage.planned and outage.notice_met is True and outage.excluded


def test_maintenance_announced_40_hours_ahead_is_recorded_with_the_reason(maintenances):
    record, problems = maintenances.plan(
        "T1",
        "leadsquared",
        ist(13, 2),
        3 * H,
        channel=None,
        actor="U1",
        now=ist(11, 10),  # Fri 10:00: 40 hours before Sun 02:00
    )
    assert problems == [
        "announced 40 h ahead, but the policy asks for at least 48 h notice "
        "(Any Scheduled / Planned downtimes will be informed/notified 48hrs prior.)"
    ]
    assert record.notice_problems == problems and record.id is not None
    [outage] = map(as_spell, maintenances.records(["T1"], "leadsquared", ist(1, 0), ist(31, 0)))
    assert outage.notice_met is False and not outage.excluded


@pytest.mark.parametrize(
    ("start", "duration", "message"),
    [
        (ist(3, 9), 2 * H, "that start is in the past"),
        (ist(6, 2), timedelta(0), "must last longer than zero"),
        (ist(6, 2), -H, "must last longer than zero"),
        (ist(6, 2), timedelta(days=8), "check the duration"),
    ],
)
def test_maintenance_in_the_past_or_without_length_is_refused(
    maintenances, start, duration, message
):
    with pytest.raises(Invalid, match=message):
        maintenances.plan(
            "T1", "leadsquared", start, duration, channel=None, actor="U1", now=ist(3, 10)
        )
    assert maintenances.records(["T1"], "leadsquared", ist(1, 0), ist(31, 0)) == []


def test_between_reads_only_what_overlaps_in_the_workspaces_and_policy(outages):
    december = month(IST, "2026-12")
    outages.start("T1", "leadsquared", channel=None, actor="U", now=ist(20, 0, month=11))
    outages.end("T1", "leadsquared", actor="U", now=ist(20, 1, month=11))  # before December
    outages.start("T1", "leadsquared", channel=None, actor="U", now=ist(30, 23, month=11))
    outages.end("T1", "leadsquared", actor="U", now=ist(1, 1))  # across December's start
    outages.start("T1", "leadsquared", channel=None, actor="U", now=ist(31, 23), force_majeure=True)
    outages.start("T2", "leadsquared", channel=None, actor="U", now=ist(5, 0))  # other workspace
    outages.start("T1", "leadpro", channel=None, actor="U", now=ist(5, 0))  # other policy

    found = outages.between(["T1"], "leadsquared", december.start, december.end)

    assert [(o.start, o.end, o.force_majeure) for o in found] == [
        (ist(30, 23, month=11), ist(1, 1), False),
        (ist(31, 23), None, True),
    ]
    both = outages.between(["T1", "T2"], "leadsquared", december.start, december.end)
    assert len(both) == 3
