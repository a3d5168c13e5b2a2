"""`slabot.reports.monthly`: a month's report from tickets, stored outages and maintenance, on
SQLite and PostgreSQL, every figure worked out by hand.

LeadSquared (Asia/Kolkata; urgent is its outage severity; 99% uptime, at most 1 h of unplanned
downtime a month; maintenance needs 48 hours' notice, outside support hours). December 2026 has
31 days: 44,640 minutes.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.roles import maintenances as maintenances
from support.roles import outages as outages

from slabot.policies import PolicyBook
from slabot.reports import ReportError, monthly, workspaces
from slabot.tickets import ChangeRequest, Tickets

ROOT = Path(__file__).resolve().parent.parent
# the module, which the package's `monthly` function hides
use_case = importlib.import_module("slabot.reports.monthly")
IST = ZoneInfo("Asia/Kolkata")
H, M = timedelta(hours=1), timedelta(minutes=1)


def ist(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=IST).astimezone(UTC)


@pytest.fixture
def december(tickets, outages, maintenances):
    """Two overlapping outages (a ticket 10:00–11:00 and a stored one 10:30–11:30 on 3 Dec),
    maintenance announced 49 h ahead (6 Dec 02:00–04:00) and 40 h ahead (13 Dec 02:00–05:00),
    a force-majeure outage (20 Dec 12:00–14:00), all in workspace T1; noise in T2."""
    ws, lsq = "T1", "leadsquared"
    down = tickets.open(
        ws, title="site down", severity="urgent", policy=lsq, reporter="U1", now=ist(3, 10)
    ).view.ticket.number
    tickets.acknowledge(ChangeRequest(ws, down, actor="U2", now=ist(3, 10, 5)))
    tickets.resolve(ChangeRequest(ws, down, actor="UADMIN", now=ist(3, 11)))
    outages.start(ws, lsq, channel="C1", actor="U1", now=ist(3, 10, 30))
    outages.end(ws, lsq, actor="U1", now=ist(3, 11, 30))
    maintenances.plan(ws, lsq, ist(6, 2), 2 * H, channel="C1", actor="U1", now=ist(4, 1))
    maintenances.plan(ws, lsq, ist(13, 2), 3 * H, channel="C1", actor="U1", now=ist(11, 10))
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


def test_outage_tickets_opened_in_an_earlier_month_count_while_still_down(
    store, policy_book, tickets
):
    ws, lsq = "T1", "leadsquared"

    def urgent(at: datetime) -> int:
        return tickets.open(
            ws, title="down", severity="urgent", policy=lsq, reporter="U1", now=at
        ).view.ticket.number

    # down from 30 Nov 23:00 to 1 Dec 01:00: 60 minutes in each month
    across = urgent(ist(30, 23, month=11))
    tickets.resolve(ChangeRequest(ws, across, actor="UADMIN", now=ist(1, 1)))
    # down 29 Nov 10:00–11:00: November only
    tickets.resolve(
        ChangeRequest(ws, urgent(ist(29, 10, month=11)), actor="UADMIN", now=ist(29, 11, month=11))
    )
    # urgent from 30 Nov 22:00, lowered to high at 23:30 and still open: November only
    lowered = urgent(ist(30, 22, month=11))
    tickets.change_severity(
        ChangeRequest(ws, lowered, actor="UADMIN", now=ist(30, 23, 30, month=11)), "high"
    )
    # opened high in November, raised to urgent on 2 Dec 10:00, resolved 10:30: 30 minutes
    raised = tickets.open(
        ws, title="slow", severity="high", policy=lsq, reporter="U1", now=ist(25, 10, month=11)
    ).view.ticket.number
    tickets.change_severity(ChangeRequest(ws, raised, actor="UADMIN", now=ist(2, 10)), "urgent")
    tickets.resolve(ChangeRequest(ws, raised, actor="UADMIN", now=ist(2, 10, 30)))
    # still down since 28 Nov 12:00 and never resolved: all of December up to `now`
    still = urgent(ist(28, 12, month=11))

    [december] = monthly(store, policy_book, [ws], "2026-12", policy=lsq, now=ist(5, 0))

    # December so far (to 5 Dec 00:00): 60 + 30 + the still-open one's 4 days (5,760 min),
    # which covers the other two.
    assert december.uptime.downtime_minutes == 4 * 1440
    tickets.resolve(ChangeRequest(ws, still, actor="UADMIN", now=ist(30, 23, month=11)))
    [december] = monthly(store, policy_book, [ws], "2026-12", policy=lsq, now=ist(5, 0))
    assert december.uptime.downtime_minutes == 60 + 30
    assert december.compliance.severity("urgent").opened == 0  # opened in November
    assert december.compliance.severity("high").opened == 0
    # November: the still-open one, resolved "at 30 Nov 23:00" (the hour is backdated, but
    # the use case records its last instant) runs 28 Nov 12:00–30 Nov 23:00; with 22:00–23:30
    # (lowered) and 23:00–24:00 (across) merged in, 28 Nov 12:00–1 Dec 00:00: 2½ days. The
    # 29th's 10:00–11:00 lies inside it.
    [november] = monthly(store, policy_book, [ws], "2026-11", policy=lsq, now=ist(5, 0))
    assert november.uptime.downtime_minutes == 60 * 60
    assert november.compliance.severity("urgent").opened == 4


def _old_leadsquared(folder) -> PolicyBook:
    """LeadSquared as it was: high answered within 20 minutes at peak, and an outage."""
    text = (ROOT / "policies" / "leadsquared.yaml").read_text(encoding="utf-8")
    old = text.replace("opened_in: {peak: 60m}", "opened_in: {peak: 20m}").replace(
        "      - timeout\n    targets:", "      - timeout\n    outage: true\n    targets:"
    )
    assert old.count("outage: true") == 2 and "{peak: 20m}" in old
    (folder / "leadsquared.yaml").write_text(old, encoding="utf-8")
    return PolicyBook.load(folder)


def test_each_ticket_is_judged_under_the_policy_version_it_was_opened_under(
    store, policy_book, tmp_path
):
    ws, lsq = "T1", "leadsquared"
    before = Tickets(store, _old_leadsquared(tmp_path), admins={"UADMIN"})
    now_on = Tickets(store, policy_book, admins={"UADMIN"})
    # Wed 2 Dec, peak hours. SLA-1 under the old version: answered in 30 minutes (10 late),
    # and down 11:00–12:00 (high was an outage severity then).
    one = before.open(ws, title="a", severity="high", policy=lsq, reporter="U1", now=ist(2, 11))
    before.acknowledge(ChangeRequest(ws, 1, actor="U2", now=ist(2, 11, 30)))
    before.resolve(ChangeRequest(ws, 1, actor="UADMIN", now=ist(2, 12)))
    # SLA-2 under the current one: answered in 30 minutes of 60, no downtime.
    two = now_on.open(ws, title="b", severity="high", policy=lsq, reporter="U1", now=ist(2, 14))
    now_on.acknowledge(ChangeRequest(ws, 2, actor="U2", now=ist(2, 14, 30)))
    now_on.resolve(ChangeRequest(ws, 2, actor="UADMIN", now=ist(2, 15)))
    assert one.view.ticket.policy_digest != two.view.ticket.policy_digest

    [report] = monthly(store, policy_book, [ws], "2026-12", policy=lsq, now=ist(31, 0))

    high = report.compliance.severity("high")
    assert high.opened == 2
    assert (high.first_response.met, high.first_response.breached) == (1, 1)
    [breach] = report.compliance.breaches
    assert (breach.ref, breach.target, breach.late) == ("SLA-1", "first_response", 10 * M)
    assert report.uptime.downtime_minutes == 60


def _judged_child_first(judged, pids: Path, *, then=None):
    """`monthly._judged`, writing down which process judged which policy; the report's own
    process waits to judge its first month until a child has taken one (and, with ``then``,
    done that instead of judging it: die, say), so which process takes which month is not
    a race."""
    parent, taken = os.getpid(), multiprocessing.get_context("fork").Event()

    def judge(policy, *args):
        if os.getpid() == parent:
            assert taken.wait(timeout=60), "no child took a month"
        else:
            taken.set()
            if then is not None:
                then(policy)
        with pids.open("a") as out:
            out.write(f"{policy.name} {os.getpid()}\n")
        return judged(policy, *args)

    return judge


def _forking(monkeypatch) -> None:
    from slabot.reports import forked

    if not forked.can_fork():
        pytest.skip("a single core, or no fork: the report stays in one process")
    monkeypatch.setattr(use_case, "PARALLEL_FROM", 1)


def test_the_months_are_shared_out_between_processes_alike(
    store, policy_book, december, monkeypatch, tmp_path
):
    """From `forked.PARALLEL_FROM` tickets the months are shared out between this process and
    a forked child per spare core, each reading the months it takes on connections of its own:
    the report is the one worked out in one process, each month judged once."""
    alone = monthly(store, policy_book, ["T1"], "2026-12", now=ist(31, 12))
    _forking(monkeypatch)
    pids = tmp_path / "pids"
    monkeypatch.setattr(use_case, "_judged", _judged_child_first(use_case._judged, pids))
    shared = monthly(store, policy_book, ["T1"], "2026-12", now=ist(31, 12))
    assert shared == alone
    judged_in = [line.split() for line in pids.read_text().splitlines()]
    assert sorted(name for name, _ in judged_in) == sorted(policy_book.names())
    assert {pid for _, pid in judged_in} - {str(os.getpid())}  # a child judged some


def test_one_policys_month_is_judged_here_without_counting_or_forking(
    store, policy_book, december, monkeypatch
):
    """One month cannot be shared out: no count of the months' sizes, no child to wait for."""
    alone = monthly(store, policy_book, ["T1"], "2026-12", policy="leadpro", now=ist(31, 12))
    _forking(monkeypatch)

    def refused(*args, **kwargs):
        raise AssertionError("one month was shared out")

    monkeypatch.setattr(use_case, "sizes", refused)
    monkeypatch.setattr(use_case, "Child", refused)
    assert (
        monthly(store, policy_book, ["T1"], "2026-12", policy="leadpro", now=ist(31, 12)) == alone
    )


@pytest.mark.parametrize(
    "then",
    [lambda _: os._exit(1), lambda _: time.sleep(120)],
    ids=["died", "stuck"],
)
def test_the_months_a_child_took_and_never_answered_are_read_and_judged_here(
    store, policy_book, december, monkeypatch, tmp_path, then
):
    """A child that dies on a month, or is stuck on it for good (on a lock it inherited), and
    so is given up on once far slower than the report's own process (at least
    `monthly.PATIENCE`), leaves its months to be done here: the report comes out the same."""
    alone = monthly(store, policy_book, ["T1"], "2026-12", now=ist(31, 12))
    _forking(monkeypatch)
    monkeypatch.setattr(use_case, "PATIENCE", 0.5)
    pids = tmp_path / "pids"
    judge = _judged_child_first(use_case._judged, pids, then=then)
    monkeypatch.setattr(use_case, "_judged", judge)
    again = monthly(store, policy_book, ["T1"], "2026-12", now=ist(31, 12))
    assert again == alone
    judged_here = sorted(pids.read_text().splitlines())
    assert judged_here == sorted(f"{name} {os.getpid()}" for name in policy_book.names())


def test_a_failure_in_the_second_process_reaches_the_caller(
    store, policy_book, december, monkeypatch, tmp_path
):
    def failing(policy):
        raise ReportError(f"policy {policy.name}: no such version")

    _forking(monkeypatch)
    judge = _judged_child_first(use_case._judged, tmp_path / "pids", then=failing)
    monkeypatch.setattr(use_case, "_judged", judge)
    with pytest.raises(ReportError, match="no such version"):
        monthly(store, policy_book, ["T1"], "2026-12", now=ist(31, 12))
