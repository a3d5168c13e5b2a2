"""An agreed release stands for the resolution target (issue 13, clause 2).

Seed 000 (LeadSquared): "Medium - 3 | ... | 10 business days, or specific release". An ETA
never moved the deadline, so a Medium ticket whose fix was agreed for a release 40 days out
breached on day 10 and paged the manager. Now the release, recorded with who agreed it,
becomes the resolution's due date where the policy allows it (``agreed_release: true``).
Engine cases are worked out by hand; the use case runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slabot.sla import load_policy
from slabot.sla.figures import compliance, month
from slabot.sla.history import Acknowledged, Opened, ReleaseAgreed, StatusChanged
from slabot.sla.schedule import schedule, timeline
from slabot.tickets import ChangeRequest, Forbidden, Invalid

IST = ZoneInfo("Asia/Kolkata")
POLICIES = Path(__file__).resolve().parent.parent / "policies"
LEADSQUARED = load_policy(POLICIES / "leadsquared.yaml")
OPENED = datetime(2026, 6, 1, 14, tzinfo=IST)  # Monday 14:00 IST, 4h into the business day
# Ten business days (Mon 1 June 14:00): Tue 2 … Fri 5, Mon 8 … Fri 12, Mon 15 June 14:00.
TEN_DAYS = datetime(2026, 6, 15, 14, tzinfo=IST)
RELEASE = datetime(2026, 7, 11, tzinfo=IST)  # the release agreed: 40 days after opening


def history(*more):
    return [Opened(OPENED, "medium"), *more]


def agreed(release=RELEASE, at=OPENED + timedelta(days=2)):
    return ReleaseAgreed(at, release, "Priya (Acme IT), by e-mail")


def test_without_a_release_medium_is_due_in_ten_business_days():
    deadline = schedule(LEADSQUARED, history(), OPENED).deadline("resolution")
    assert deadline is not None and deadline.due == TEN_DAYS


def test_a_later_agreed_release_becomes_the_due_date_and_says_who_agreed():
    plan = schedule(LEADSQUARED, history(agreed()), OPENED + timedelta(days=12))
    deadline = plan.deadline("resolution")
    assert deadline is not None
    assert deadline.due == RELEASE and deadline.state == "running"  # day 12: not breached
    assert deadline.release_agreed_by == "Priya (Acme IT), by e-mail"


def test_an_earlier_release_changes_nothing():
    # Interpretation: "10 business days, or specific release" — meeting either meets it.
    early = datetime(2026, 6, 5, tzinfo=IST)
    deadline = schedule(LEADSQUARED, history(agreed(early)), OPENED).deadline("resolution")
    assert deadline is not None and deadline.due == TEN_DAYS
    assert deadline.release_agreed_by is None


def test_reminders_and_the_breach_page_follow_the_release():
    # The owner's reminders at 50% and 80% of the resolution fall at those shares of the
    # real time from the opening to the release (40 days: days 20 and 32); the manager's
    # breach page comes at the release, not on day 10.
    timers = timeline(LEADSQUARED, history(agreed()), RELEASE + timedelta(hours=1))
    reminders = [t.due_at for t in timers if t.kind == "reminder" and t.target == "resolution"]
    span = RELEASE - OPENED
    assert reminders == [OPENED + span * 0.5, OPENED + span * 0.8]
    pages = [t for t in timers if t.kind == "page" and t.target == "resolution"]
    assert pages and pages[0].due_at == RELEASE


def test_a_policy_without_agreed_release_ignores_one():
    # Urgent's resolution (4 hours, "Target Resolution or Mitigation") allows no release.
    opened = [Opened(OPENED, "urgent"), agreed()]
    deadline = schedule(LEADSQUARED, opened, OPENED).deadline("resolution")
    assert deadline is not None and deadline.due == datetime(2026, 6, 1, 18, tzinfo=IST)


def test_the_month_report_counts_the_release_as_the_due_date():
    # Resolved on day 30, before the agreed release: met, not a breach of day 10.
    resolved = StatusChanged(OPENED + timedelta(days=30), "resolved")
    answered = Acknowledged(OPENED + timedelta(minutes=20))
    tickets = [("SLA-1", history(answered, agreed(), resolved))]
    report = compliance(LEADSQUARED, tickets, month(LEADSQUARED.tz, "2026-06"), RELEASE)
    assert report.breaches == ()
    resolution = report.severity("medium").resolution
    assert resolution is not None and (resolution.met, resolution.breached) == (1, 0)


# -- the use case, on SQLite and PostgreSQL -------------------------------------------------------


def open_medium(tickets):
    result = tickets.open(
        "T1",
        title="export partially failing",
        severity="medium",
        policy="leadsquared",
        reporter="UREP",
        now=OPENED,
    )
    tickets.acknowledge(ChangeRequest("T1", result.view.ticket.number, actor="UOWN", now=OPENED))
    return result.view.ticket.number


def test_recording_a_release_moves_the_due_date_and_keeps_who_agreed(tickets):
    number = open_medium(tickets)
    now = OPENED + timedelta(days=2)
    view = tickets.agree_release(
        ChangeRequest("T1", number, actor="UOWN", now=now), RELEASE, agreed_by="Priya (Acme IT)"
    )
    resolution = view.schedule.deadline("resolution")
    assert resolution is not None and resolution.due == RELEASE
    assert view.ticket.next_due_at != TEN_DAYS
    with tickets.store.reading() as session:
        from sqlalchemy import select

        from slabot.store.tables import TicketEvent

        [event] = session.exec(select(TicketEvent).where(TicketEvent.c.kind == "release_agreed"))
    assert (event.actor, event.after["agreed_by"]) == ("UOWN", "Priya (Acme IT)")
    assert datetime.fromisoformat(event.after["release_at"]) == RELEASE


def test_a_release_is_refused_where_it_cannot_stand_for_the_target(tickets):
    number = open_medium(tickets)
    now = OPENED + timedelta(hours=1)
    with pytest.raises(Invalid, match="already past"):
        tickets.agree_release(
            ChangeRequest("T1", number, actor="UOWN", now=now), OPENED, agreed_by="Priya"
        )
    with pytest.raises(Invalid, match="say who agreed"):
        tickets.agree_release(
            ChangeRequest("T1", number, actor="UOWN", now=now), RELEASE, agreed_by="  "
        )
    with pytest.raises(Forbidden, match="record an agreed release"):
        tickets.agree_release(
            ChangeRequest("T1", number, actor="UX", now=now), RELEASE, agreed_by="Priya"
        )
    urgent = tickets.open(
        "T1", title="down", severity="urgent", policy="leadsquared", reporter="UREP", now=now
    ).view.ticket.number
    with pytest.raises(Invalid, match="post the date as an ETA"):
        tickets.agree_release(
            ChangeRequest("T1", urgent, actor="UADMIN", now=now), RELEASE, agreed_by="Priya"
        )
    view = tickets.view("T1", number, now)
    assert view.schedule.deadline("resolution").due == TEN_DAYS  # nothing was written
