"""The five seed SLAs as policy files, checked against deadlines worked out by hand.

Each expectation below comes straight from a seed's table and can be checked with a calendar
and a pencil; the comment next to it shows the sum. Times are written in the policy's own
time zone; `deadline` answers in UTC, and aware datetimes compare by instant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slabot.sla import load_policy
from slabot.sla.figures import compliance, maintenance_problems, month
from slabot.sla.history import Acknowledged, Opened, UpdatePosted
from slabot.sla.schedule import schedule, timeline

POLICIES = Path(__file__).resolve().parent.parent / "policies"
SEEDS = {
    "leadsquared": "leadsquared.yaml",
    "leadpro": "leadpro.yaml",
    "secpod": "secpod.yaml",
    "liveops": "liveops.yaml",
    "helpdesk-p1-p6": "helpdesk-p1-p6.yaml",
}
STATE_KEYS = {
    "open",
    "pending",
    "waiting_on_customer",
    "waiting_on_third_party",
    "resolved",
    "closed",
}

IST = ZoneInfo("Asia/Kolkata")
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
LONDON = ZoneInfo("Europe/London")
LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")


def load(name: str):
    return load_policy(POLICIES / SEEDS[name])


LEADSQUARED = load("leadsquared")
LEADPRO = load("leadpro")
SECPOD = load("secpod")
LIVEOPS = load("liveops")
HELPDESK = load("helpdesk-p1-p6")


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def la(*args: int) -> datetime:
    return datetime(*args, tzinfo=LA)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def check(policy, severity: str, target: str, start: datetime, expected: datetime | None):
    due = policy.deadline(severity, target, start)
    if expected is None:
        assert due is None
        return
    assert due is not None, f"{policy.name} {severity} {target}: no deadline"
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    assert due == expected, (
        f"{policy.name} {severity} {target} from {start.isoformat()}: "
        f"got {due.astimezone(expected.tzinfo).isoformat()}, expected {expected.isoformat()}"
    )


# -- every policy file -------------------------------------------------------------------------


def test_the_five_seed_policies_are_there():
    assert {p.name for p in POLICIES.glob("*.yaml")} >= set(SEEDS.values())


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.name)
def test_policy_file_loads_and_is_complete(path: Path):
    text = path.read_text(encoding="utf-8")
    # No e-mail addresses (personal or otherwise): contacts are supplied per deployment.
    assert not re.search(r"[\w.+-]+@[\w-]+(\.[\w-]+)*", text), "an e-mail address in the file"
    assert "@" not in text
    assert "Interpretation:" in text, "every seed needs at least one stated interpretation"

    policy = load_policy(path)
    assert policy.name == path.stem
    assert policy.title and policy.source
    for severity in policy.severities:
        assert severity.definition.strip(), f"{severity.key} has no definition"
        assert severity.keywords, f"{severity.key} has no keywords"
        assert all(k == k.lower().strip() and k for k in severity.keywords)
        for name, target in severity.targets.items():
            assert target.clause, f"{severity.key}.{name} has no clause"
    # A keyword points at one severity only, or the classifier cannot choose.
    owners: dict[str, str] = {}
    for severity in policy.severities:
        for keyword in severity.keywords:
            assert keyword not in owners, f"{keyword!r} on {owners.get(keyword)} and {severity.key}"
            owners[keyword] = severity.key
    assert set(policy.states) == STATE_KEYS
    assert all(state.label and state.definition for state in policy.states.values())
    assert policy.escalation is not None
    for level in policy.escalation.levels:
        assert level.contacts == (), "contacts are supplied per deployment"
    for rule in policy.escalation.rules:
        assert rule.clause, f"a rule paging {rule.page} has no clause"
    # Reminders only for targets some severity actually has.
    present = {name for s in policy.severities for name, _ in s.targets.items()}
    assert set(policy.reminders) <= present


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (LEADSQUARED, {"waiting_on_customer"}),
        (LEADPRO, {"waiting_on_customer"}),
        (SECPOD, {"waiting_on_customer"}),
        (LIVEOPS, {"waiting_on_customer"}),
        (HELPDESK, {"waiting_on_customer"}),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_only_waiting_on_customer_pauses(policy, expected):
    assert policy.pausing_states == expected


@pytest.mark.parametrize(
    ("policy", "alias", "key"),
    [
        (LEADSQUARED, "sev1", "urgent"),
        (LEADSQUARED, "P1", "urgent"),
        (LEADSQUARED, "1", "urgent"),
        (LEADSQUARED, "Critical", "urgent"),
        (LEADSQUARED, "sev2", "high"),
        (LEADSQUARED, "normal", "medium"),
        (LEADSQUARED, "4", "low"),
        (LEADPRO, "sev1", "high"),
        (LEADPRO, "urgent", "high"),
        (LEADPRO, "2", "medium"),
        (LEADPRO, "sev3", "low"),
        (SECPOD, "sev1", "critical"),
        (SECPOD, "urgent", "critical"),
        (SECPOD, "p2", "high"),
        (SECPOD, "3", "medium"),
        (SECPOD, "minor", "low"),
        (LIVEOPS, "sev1", "p1"),
        (LIVEOPS, "critical", "p1"),
        (LIVEOPS, "Priority 2", "p2"),
        (LIVEOPS, "low", "p3"),
        (HELPDESK, "sev1", "p1"),
        (HELPDESK, "2", "p2"),
        (HELPDESK, "high", "p3"),
        (HELPDESK, "normal", "p4"),
        (HELPDESK, "low", "p5"),
        (HELPDESK, "sev6", "p6"),
    ],
)
def test_severity_aliases(policy, alias, key):
    assert policy.severity(alias).key == key


def test_unknown_severity_names_the_valid_ones():
    with pytest.raises(KeyError, match="urgent"):
        LEADSQUARED.severity("sev9")


@pytest.mark.parametrize(
    ("policy", "outages"),
    [
        (LEADSQUARED, {"urgent"}),
        (LEADPRO, {"high"}),
        (SECPOD, {"critical"}),
        (LIVEOPS, {"p1"}),
        (HELPDESK, {"p1", "p2"}),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_outage_severities(policy, outages):
    assert {s.key for s in policy.severities if s.outage} == outages


# -- LeadSquared: 10:00–02:00 weekdays, Saturday 10:00–18:00, peak Mon–Fri 10:00–19:00 ------


def test_leadsquared_urgent_peak_vs_off_peak():
    # Monday 2026-06-08. Peak: 30 min. Off-peak: 60 min.
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 6, 8, 11), ist(2026, 6, 8, 11, 30))
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 6, 8, 20), ist(2026, 6, 8, 21))


def test_leadsquared_high_peak_vs_off_peak():
    check(LEADSQUARED, "high", "first_response", ist(2026, 6, 8, 11), ist(2026, 6, 8, 12))
    check(LEADSQUARED, "high", "first_response", ist(2026, 6, 8, 20), ist(2026, 6, 8, 22))


def test_leadsquared_peak_edges():
    # 18:59 is peak (30 min, running on past 19:00 on the support clock); 19:00 is off-peak.
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 6, 8, 18, 59), ist(2026, 6, 8, 19, 29))
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 6, 8, 19), ist(2026, 6, 8, 20))
    # 10:00 sharp is peak.
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 6, 8, 10), ist(2026, 6, 8, 10, 30))


def test_leadsquared_medium_and_low_same_at_peak_and_off_peak():
    check(LEADSQUARED, "medium", "first_response", ist(2026, 6, 8, 11), ist(2026, 6, 8, 15))
    check(LEADSQUARED, "medium", "first_response", ist(2026, 6, 8, 20), ist(2026, 6, 9, 0))
    # Low 8h from Mon 20:00: 6h to Tue 02:00, then 2h from Tue 10:00.
    check(LEADSQUARED, "low", "first_response", ist(2026, 6, 8, 20), ist(2026, 6, 9, 12))


def test_leadsquared_window_runs_past_midnight():
    # High off-peak 2h from Mon 23:30: the Monday window is open until Tue 02:00.
    check(LEADSQUARED, "high", "first_response", ist(2026, 6, 8, 23, 30), ist(2026, 6, 9, 1, 30))


def test_leadsquared_opened_after_midnight_in_mondays_window():
    # Tue 01:30 is inside Monday's 10:00–02:00 window and off-peak: 60 min.
    # 30 min run to 02:00, the rest from Tue 10:00.
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 6, 9, 1, 30), ist(2026, 6, 9, 10, 30))


def test_leadsquared_opened_after_the_window_closed():
    # Tue 03:00: support is closed until 10:00; 03:00 is not peak, so 60 min from 10:00.
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 6, 9, 3), ist(2026, 6, 9, 11))


def test_leadsquared_saturday_runs_into_monday():
    # Sat 2026-06-13 17:30: Saturday is not peak. 30 min to 18:00, closed Sunday.
    check(
        LEADSQUARED, "urgent", "first_response", ist(2026, 6, 13, 17, 30), ist(2026, 6, 15, 10, 30)
    )
    # Low 8h: 30 min on Saturday, 7h30 from Mon 10:00.
    check(LEADSQUARED, "low", "first_response", ist(2026, 6, 13, 17, 30), ist(2026, 6, 15, 17, 30))


def test_leadsquared_friday_night_runs_into_saturday():
    # Fri 2026-06-12 23:00, urgent resolution 4h: 3h to Sat 02:00, 1h from Sat 10:00.
    check(LEADSQUARED, "urgent", "resolution", ist(2026, 6, 12, 23), ist(2026, 6, 13, 11))


def test_leadsquared_republic_day_is_closed():
    # Mon 2026-01-26 is Republic Day: Monday's window (to Tue 02:00) is cancelled, and the
    # peak calendar is closed too, so urgent gets the off-peak 60 min from Tue 10:00.
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 1, 26, 11), ist(2026, 1, 27, 11))
    check(LEADSQUARED, "urgent", "first_response", ist(2026, 1, 27, 1), ist(2026, 1, 27, 11))
    check(LEADSQUARED, "medium", "first_response", ist(2026, 1, 26, 11), ist(2026, 1, 27, 14))
    # Low opened Sat 2026-01-24 17:30: 30 min Saturday, Monday closed, 7h30 from Tue 10:00.
    check(LEADSQUARED, "low", "first_response", ist(2026, 1, 24, 17, 30), ist(2026, 1, 27, 17, 30))


def test_leadsquared_resolution_on_support_hours():
    # High 8h from Sat 2026-06-13 15:00: 3h Saturday, 5h from Mon 10:00.
    check(LEADSQUARED, "high", "resolution", ist(2026, 6, 13, 15), ist(2026, 6, 15, 15))
    # Urgent 4h from Mon 11:00: same evening.
    check(LEADSQUARED, "urgent", "resolution", ist(2026, 6, 8, 11), ist(2026, 6, 8, 15))


def test_leadsquared_medium_resolution_is_ten_business_days():
    # Seed 000: "Medium - 3 | 10 business days, or specific release".
    # Mon 2025-08-11 14:00 is 4h into Monday's 16h business day (10:00 → 02:00). Business days
    # after it: Tue 12, Wed 13, Thu 14, (Fri 15 Aug is Independence Day, then a weekend),
    # Mon 18, Tue 19, Wed 20, Thu 21, Fri 22, Mon 25, Tue 26: 4h into Tuesday, 14:00.
    check(LEADSQUARED, "medium", "resolution", ist(2025, 8, 11, 14), ist(2025, 8, 26, 14))
    # Opened on a Saturday: received at Monday's opening (10:00), ten whole business days
    # Mon 15 … Fri 26 June, due when Friday's window closes: Saturday 27 June 02:00 IST.
    check(LEADSQUARED, "medium", "resolution", ist(2026, 6, 13, 12), ist(2026, 6, 27, 2))


def test_leadsquared_low_has_no_resolution_target():
    check(LEADSQUARED, "low", "resolution", ist(2026, 6, 8, 11), None)


def test_leadsquared_escalation_shares():
    # Support manager at 75% of an urgent resolution (4h → 3h) opened Mon 11:00.
    due = LEADSQUARED.deadline("urgent", "resolution", ist(2026, 6, 8, 11), share=0.75)
    assert due == ist(2026, 6, 8, 14)
    # Support team at 50% of an off-peak urgent first response (60 min → 30 min).
    due = LEADSQUARED.deadline("urgent", "first_response", ist(2026, 6, 8, 20), share=0.5)
    assert due == ist(2026, 6, 8, 20, 30)


def test_leadsquared_repeated_pages_count_support_hours_only():
    # Seed 000, "Escalation Matrix": 1 Support Team, 2 Support Manager, 3 Chief Operating
    # Officer. Interpretation: a repeated page counts support hours, so a Medium ticket whose
    # initial response is missed on a Friday night re-pages the manager when support opens
    # again (Saturday 10:00 IST), not every half hour of the night and the weekend.
    opened, monday = ist(2026, 11, 27, 20), ist(2026, 11, 30, 10)  # Friday 20:00 → Monday
    pages = [
        t for t in timeline(LEADSQUARED, [Opened(opened, "medium")], monday) if t.kind == "page"
    ]
    manager = [t.due_at for t in pages if t.level == "support_manager"]
    assert manager[0] == ist(2026, 11, 28, 0)  # 4 support hours after Friday 20:00
    assert manager[1] == ist(2026, 11, 28, 0, 30) and manager[4] == ist(2026, 11, 28, 2)
    assert manager[5] == ist(2026, 11, 28, 10, 30)  # nothing while support is closed
    assert max(manager) == ist(2026, 11, 28, 18)  # nor after Saturday's 18:00, until Monday
    assert len(manager) == 21  # it was 117 when repeats ran on real time


def test_leadsquared_a_workaround_in_time_meets_the_resolution_target():
    # Seed 000: "Target Resolution or Mitigation — Urgent - 1: 4 hours". A workaround posted
    # two hours in meets it: no breach, no COO page, no more resolution reminders, even though
    # the ticket is resolved only the next day. (It breached and paged the COO every hour.)
    opened = ist(2026, 11, 23, 11)  # Monday 11:00, four support hours → 15:00
    history = [
        Opened(opened, "urgent"),
        Acknowledged(opened + 10 * MINUTE),
        UpdatePosted(opened + 2 * HOUR, workaround=True),
    ]
    later = ist(2026, 11, 24, 11)
    resolution = schedule(LEADSQUARED, history, now=later).deadline("resolution")
    assert (resolution.state, resolution.met_at) == ("met", opened + 2 * HOUR)
    after = [t for t in timeline(LEADSQUARED, history, later) if t.due_at > opened + 2 * HOUR]
    assert [t for t in after if t.target == "resolution"] == []
    period = month(IST, "2026-11")
    figures = compliance(LEADSQUARED, [("SLA-1", history)], period, later).severity("urgent")
    assert (figures.resolution.met, figures.resolution.breached) == (1, 0)
    # An update that is not a workaround does not count, and first response knows no
    # mitigation: the word belongs to the resolution target only.
    plain = [*history[:2], UpdatePosted(opened + 2 * HOUR)]
    assert schedule(LEADSQUARED, plain, now=later).deadline("resolution").state == "breached"


def test_leadsquared_missed_resolution_pages_the_matrix():
    # Seed 000: "Target Resolution or Mitigation: High - 2: 8 hours; Medium - 3: 10 business
    # days". Interpretation: a missed High resolution pages the COO (as an Urgent one does), a
    # missed Medium one the support manager; both paged nobody before.
    opened = ist(2026, 11, 23, 11)  # Monday 11:00, acknowledged at once, never resolved
    for severity, level, breach in (
        ("high", "coo", ist(2026, 11, 23, 19)),
        ("medium", "support_manager", ist(2026, 12, 7, 11)),
    ):
        history = [Opened(opened, severity), Acknowledged(opened + timedelta(minutes=5))]
        pages = timeline(LEADSQUARED, history, breach + timedelta(hours=1))
        [first] = [t for t in pages if t.level == level and t.target == "resolution"][:1]
        assert (first.due_at, first.trigger) == (breach, "breach")


def test_leadsquared_uptime_and_maintenance():
    uptime = LEADSQUARED.uptime
    assert uptime is not None
    assert uptime.target == pytest.approx(0.99)
    assert uptime.unplanned_downtime_max == timedelta(hours=1)
    assert uptime.maintenance is not None
    assert uptime.maintenance.notice == timedelta(hours=48)
    assert uptime.maintenance.outside == "business_hours"
    assert uptime.credit_for(0.95) == 0.0  # no service credits in the SOP


def test_leadsquared_maintenance_may_be_on_a_saturday_outside_business_hours():
    # Seed 000: "Scheduled Downtime will be in Non Business Hours (Usually on Weekends)" and
    # "Support Coverage – 16*5 – weekdays". Interpretation: Saturday's coverage is support, not
    # business hours, so Saturday 12:00–16:00 announced 72 hours ahead meets the rule (it was
    # refused and counted as downtime); the same window on a Friday does not.
    saturday = ist(2026, 11, 28, 12)
    assert (
        maintenance_problems(LEADSQUARED, saturday, timedelta(hours=4), saturday - 72 * HOUR) == []
    )
    friday = ist(2026, 11, 27, 12)
    [problem] = maintenance_problems(LEADSQUARED, friday, timedelta(hours=4), friday - 72 * HOUR)
    assert "Fri 27 Nov 12:00–16:00 IST" in problem
    # The support clock still counts Saturday's coverage: an urgent ticket opened then runs.
    assert LEADSQUARED.deadline("urgent", "resolution", saturday) == ist(2026, 11, 28, 16)


# -- LeadPro: business hours 09:00–17:30 London, England bank holidays; high on all hours ----


def test_leadpro_high_is_all_hours_over_a_weekend():
    # Fri 2026-06-05 23:00 BST + 2h real time.
    check(LEADPRO, "high", "first_response", london(2026, 6, 5, 23), london(2026, 6, 6, 1))


def test_leadpro_high_all_hours_across_the_clock_change():
    # Sun 2026-03-29 00:30 GMT; clocks go forward at 01:00. Two real hours later it is 03:30 BST.
    due = LEADPRO.deadline("high", "first_response", london(2026, 3, 29, 0, 30))
    assert due == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert due == london(2026, 3, 29, 3, 30)


def test_leadpro_christmas_bank_holidays():
    # Thu 2026-12-24 16:00: 1h30 that day. Fri 25 is Christmas Day, Sat 26 Boxing Day, whose
    # substitute is Mon 28; next business day is Tue 29.
    # Medium 3h → 1h30 on Tue 29 from 09:00; low 4h → 2h30.
    check(
        LEADPRO, "medium", "first_response", london(2026, 12, 24, 16), london(2026, 12, 29, 10, 30)
    )
    check(LEADPRO, "low", "first_response", london(2026, 12, 24, 16), london(2026, 12, 29, 11, 30))
    # High ignores the holidays: 2 real hours.
    check(LEADPRO, "high", "first_response", london(2026, 12, 24, 16), london(2026, 12, 24, 18))


def test_leadpro_low_opened_late_in_the_day():
    # Wed 2026-06-10 17:00: 30 min that day, 3h30 from Thu 09:00.
    check(LEADPRO, "low", "first_response", london(2026, 6, 10, 17), london(2026, 6, 11, 12, 30))


def test_leadpro_low_opened_before_hours():
    # Wed 07:15: nothing runs until 09:00.
    check(LEADPRO, "low", "first_response", london(2026, 6, 10, 7, 15), london(2026, 6, 10, 13))


def test_leadpro_due_at_closing_time_not_next_morning():
    # Low opened 13:30: 4h run out exactly at 17:30, when the window closes.
    check(
        LEADPRO, "low", "first_response", london(2026, 6, 10, 13, 30), london(2026, 6, 10, 17, 30)
    )


def test_leadpro_opened_at_closing_time_or_on_a_weekend():
    # Medium opened at 17:30 sharp: nothing left today, 3h from Thu 09:00.
    check(LEADPRO, "medium", "first_response", london(2026, 6, 10, 17, 30), london(2026, 6, 11, 12))
    # Low opened Sat 2026-06-13: 4h from Mon 09:00.
    check(LEADPRO, "low", "first_response", london(2026, 6, 13, 10), london(2026, 6, 15, 13))


def test_leadpro_low_across_the_spring_clock_change():
    # Fri 2026-03-27 16:00 GMT: 1h30 that day. Clocks go forward Sun 29. 2h30 from Mon 09:00 BST.
    due = LEADPRO.deadline("low", "first_response", london(2026, 3, 27, 16))
    assert due == london(2026, 3, 30, 11, 30)
    assert due == datetime(2026, 3, 30, 10, 30, tzinfo=UTC)


def test_leadpro_has_no_resolution_or_update_targets():
    for severity in ("high", "medium", "low"):
        check(LEADPRO, severity, "resolution", london(2026, 6, 10, 10), None)
        check(LEADPRO, severity, "update_every", london(2026, 6, 10, 10), None)


def test_leadpro_service_credits():
    uptime = LEADPRO.uptime
    assert uptime is not None
    assert uptime.credit_for(0.9995) == 0.0
    assert uptime.credit_for(0.999) == 0.0  # exactly the target: met
    assert uptime.credit_for(0.995) == pytest.approx(0.10)
    assert uptime.credit_for(0.990) == pytest.approx(0.10)  # "equal to or greater than 99.0%"
    assert uptime.credit_for(0.985) == pytest.approx(0.30)
    assert uptime.claim_within == timedelta(days=60)


# -- SecPod: 24h Monday–Friday less holidays; critical on all hours ----------------------------


def test_secpod_low_is_two_working_days():
    # Fri 2026-06-05 10:00: 14h Friday, all of Monday, 10h Tuesday.
    check(SECPOD, "low", "first_response", ist(2026, 6, 5, 10), ist(2026, 6, 9, 10))


def test_secpod_critical_runs_over_the_weekend():
    check(SECPOD, "critical", "first_response", ist(2026, 6, 6, 23), ist(2026, 6, 7, 1))


def test_secpod_weekend_requests_wait_for_the_next_working_day():
    # High opened Sat 2026-06-06 11:00: 6h from Mon 00:00.
    check(SECPOD, "high", "first_response", ist(2026, 6, 6, 11), ist(2026, 6, 8, 6))
    # Medium 12h from Fri 20:00: 4h Friday, 8h Monday.
    check(SECPOD, "medium", "first_response", ist(2026, 6, 5, 20), ist(2026, 6, 8, 8))


def test_secpod_gandhi_jayanti_is_closed():
    # Thu 2026-10-01 20:00, high 6h: 4h Thursday; Fri 2 Oct closed, weekend; 2h Monday.
    check(SECPOD, "high", "first_response", ist(2026, 10, 1, 20), ist(2026, 10, 5, 2))


def test_secpod_waiting_on_customer_pauses_the_clock():
    # Low opened Mon 2026-06-08 10:00 (due Wed 10:00 unpaused); waiting on the customer from
    # Mon 12:00 to Tue 12:00 stops 24 working hours, so it is due Thu 10:00.
    start = ist(2026, 6, 8, 10)
    assert SECPOD.deadline("low", "first_response", start) == ist(2026, 6, 10, 10)
    pauses = [(ist(2026, 6, 8, 12), ist(2026, 6, 9, 12))]
    assert SECPOD.deadline("low", "first_response", start, pauses) == ist(2026, 6, 11, 10)


def test_secpod_has_no_resolution_targets():
    for severity in ("critical", "high", "medium", "low"):
        check(SECPOD, severity, "resolution", ist(2026, 6, 8, 10), None)


def test_secpod_states_and_lifecycle():
    assert SECPOD.state_label("resolved") == "Solved"
    assert not SECPOD.states["pending"].pauses
    assert not SECPOD.states["waiting_on_third_party"].pauses
    life = SECPOD.lifecycle
    assert life.follow_up_every == timedelta(days=1)  # so three follow-ups can come first
    assert life.auto_solve is not None
    assert life.auto_solve.follow_ups == 3
    assert life.auto_solve.after == timedelta(days=7)
    assert life.reopen_within == timedelta(days=3)
    assert life.close_after == timedelta(days=3)


# -- LiveOps: everything 24x7 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "time_to_open", "first_response", "update_every"),
    [
        ("p1", la(2026, 6, 10, 10), la(2026, 6, 10, 10), la(2026, 6, 10, 13)),
        ("p2", la(2026, 6, 10, 13), la(2026, 6, 10, 13), la(2026, 6, 12, 9)),
        ("p3", la(2026, 6, 10, 17), la(2026, 6, 10, 17), la(2026, 6, 15, 9)),
    ],
)
def test_liveops_targets(severity, time_to_open, first_response, update_every):
    # Opened Wed 2026-06-10 09:00 PDT: 1h/1h/4h, 4h/4h/48h, 8h/8h/120h.
    start = la(2026, 6, 10, 9)
    check(LIVEOPS, severity, "time_to_open", start, time_to_open)
    check(LIVEOPS, severity, "first_response", start, first_response)
    check(LIVEOPS, severity, "update_every", start, update_every)
    check(LIVEOPS, severity, "resolution", start, None)


def test_liveops_real_time_across_the_fall_back():
    # Sat 2026-10-31 12:00 PDT + 48 real hours; clocks go back an hour on Sun 1 Nov,
    # so the wall clock shows 11:00 PST on Monday.
    check(LIVEOPS, "p2", "update_every", la(2026, 10, 31, 12), la(2026, 11, 2, 11))


def test_liveops_weekend_is_not_special():
    # P3 opened Sat 2026-06-13 22:00: 8h later, Sunday 06:00.
    check(LIVEOPS, "p3", "first_response", la(2026, 6, 13, 22), la(2026, 6, 14, 6))


def test_liveops_elevation_rules():
    rules = LIVEOPS.escalation.rules
    # "Elevate immediately to Level 2" (P1) and "if no ETA/workaround w/in 8 hours" (P2).
    p1 = [r for r in rules if r.page == "level_2" and r.applies_to("p1")]
    assert [(r.at, r.repeat) for r in p1] == [("open", timedelta(minutes=30))]
    p2 = [r for r in rules if r.page == "level_2" and r.applies_to("p2")]
    assert [(r.after, set(r.unless)) for r in p2] == [(timedelta(hours=8), {"eta", "workaround"})]
    # "Upgrade priority upon request only": nothing elevates a P3 on its own.
    assert not [r for r in rules if r.page == "level_2" and r.applies_to("p3")]


# -- Help desk P1–P6: P1–P3 24x7, P4–P5 on 8×5 (09:00–17:00 New York, US federal holidays) --


def test_helpdesk_p1_immediate_response_is_met_by_an_answer_within_15_minutes():
    # Seed 004: "P1 | Global Outage | Immediate response | 24×7 Availability".
    # Interpretation: immediate is 15 minutes at any hour; an answer a second after the opening
    # is met (it was a breach when "immediate" was a zero-length target), one after 16 minutes
    # is not.
    start = ny(2026, 6, 13, 3, 17)  # a Saturday night
    check(HELPDESK, "p1", "first_response", start, ny(2026, 6, 13, 3, 32))
    for answered, state in ((timedelta(seconds=1), "met"), (timedelta(minutes=16), "missed")):
        history = [Opened(start, "p1"), Acknowledged(start + answered)]
        result = schedule(HELPDESK, history, now=start + timedelta(hours=1))
        assert result.deadline("first_response").state == state


def test_helpdesk_p2_p3_are_all_hours():
    start = ny(2026, 6, 13, 22)  # Saturday 22:00
    check(HELPDESK, "p2", "first_response", start, ny(2026, 6, 13, 22, 30))
    check(HELPDESK, "p3", "first_response", start, ny(2026, 6, 14, 2))


def test_helpdesk_p4_three_business_days_across_thanksgiving():
    # Wed 2026-11-25 10:00: 7h Wed, Thu 26 is Thanksgiving, 8h Fri 27, 8h Mon 30, 1h Tue 1 Dec.
    check(HELPDESK, "p4", "first_response", ny(2026, 11, 25, 10), ny(2026, 12, 1, 10))


def test_helpdesk_p5_one_week_due_at_closing_time():
    # Mon 2026-11-23 09:00: 8h Mon, Tue, Wed; Thanksgiving; 8h Fri; 8h Mon 30 → 17:00 Mon 30,
    # the moment the window closes (not Tuesday 09:00).
    check(HELPDESK, "p5", "first_response", ny(2026, 11, 23, 9), ny(2026, 11, 30, 17))


def test_helpdesk_p4_opened_on_a_weekend():
    # Sat 2026-06-13: 24h of 8×5 from Mon 09:00 is Wednesday at 17:00.
    check(HELPDESK, "p4", "first_response", ny(2026, 6, 13, 12), ny(2026, 6, 17, 17))


def test_helpdesk_p4_across_the_spring_forward():
    # Fri 2026-03-06 15:00 EST: 2h Friday; clocks go forward Sun 8 Mar; 8h Mon, 8h Tue,
    # 6h Wed → Wed 15:00 EDT (19:00 UTC, not 20:00).
    due = HELPDESK.deadline("p4", "first_response", ny(2026, 3, 6, 15))
    assert due == ny(2026, 3, 11, 15)
    assert due == datetime(2026, 3, 11, 19, tzinfo=UTC)


def test_helpdesk_p6_is_user_scheduled():
    check(HELPDESK, "p6", "first_response", ny(2026, 6, 10, 10), None)
    check(HELPDESK, "p6", "resolution", ny(2026, 6, 10, 10), None)
