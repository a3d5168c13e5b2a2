"""`slabot report`: tickets worked through the use cases, then the month's figures, on SQLite and
PostgreSQL, in Markdown, CSV and JSON."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.roles import recorders

from slabot.cli import main
from slabot.outages import Maintenances, Outages
from slabot.tickets import ChangeRequest

ROOT = Path(__file__).resolve().parent.parent
IST = ZoneInfo("Asia/Kolkata")
NOW = "2026-11-04T10:45+05:30"


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=IST).astimezone(UTC)


@pytest.fixture
def worked(store, tickets, monkeypatch):
    """LeadSquared tickets in November 2026 (see tests/test_reports.py for the arithmetic):

    SLA-1 high, opened Mon 2 Nov 11:00 IST, acknowledged 11:30, waiting on the customer
    12:00–15:00, resolved 20:00. SLA-2 high, opened 20:00, acknowledged 23:00 (1 h late),
    resolved Tue 13:00 (1 h late). SLA-3 urgent, opened Wed 4 Nov 10:00, unanswered at 10:45.
    """
    ws = "T1"
    one = tickets.open(
        ws,
        title="reports slow",
        severity="high",
        policy="leadsquared",
        reporter="U1",
        now=ist(2, 11),
    ).view.ticket.number
    tickets.acknowledge(ChangeRequest(ws, one, actor="U2", now=ist(2, 11, 30)))
    tickets.set_status(ChangeRequest(ws, one, actor="U2", now=ist(2, 12)), "waiting_on_customer")
    tickets.set_status(ChangeRequest(ws, one, actor="U2", now=ist(2, 15)), "open")
    tickets.resolve(ChangeRequest(ws, one, actor="UADMIN", now=ist(2, 20)))
    two = tickets.open(
        ws,
        title="exports slow",
        severity="high",
        policy="leadsquared",
        reporter="U1",
        now=ist(2, 20),
    ).view.ticket.number
    tickets.acknowledge(ChangeRequest(ws, two, actor="U2", now=ist(2, 23)))
    tickets.resolve(ChangeRequest(ws, two, actor="UADMIN", now=ist(3, 13)))
    tickets.open(
        ws,
        title="service down",
        severity="urgent",
        policy="leadsquared",
        reporter="U1",
        now=ist(4, 10),
    )
    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SLABOT_POLICIES", str(ROOT / "policies"))
    return store


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json(capsys, worked):
    code, out, err = run(
        capsys,
        "report",
        "--month",
        "2026-11",
        "--policy",
        "leadsquared",
        "--format",
        "json",
        "--now",
        NOW,
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["month"] == "2026-11"
    (policy,) = data["policies"]
    assert policy["policy"] == "leadsquared"
    assert policy["start"] == "2026-10-31T18:30:00+00:00"
    high = next(s for s in policy["severities"] if s["severity"] == "high")
    assert high["opened"] == 2
    assert high["first_response"] == {"met": 1, "breached": 1, "running": 0, "met_percent": 50.0}
    assert high["resolution"] == {"met": 1, "breached": 1, "running": 0, "met_percent": 50.0}
    assert high["mtta_business_minutes"] == high["mtta_wall_minutes"] == 105
    assert high["mttr_business_minutes"] == 450 and high["mttr_wall_minutes"] == 780
    assert high["waiting_on_customer_minutes"] == 180
    urgent = policy["severities"][0]
    assert urgent["first_response"] == {"met": 0, "breached": 1, "running": 0, "met_percent": 0.0}
    assert urgent["resolution"]["running"] == 1
    assert [(b["ticket"], b["target"], b["late_minutes"]) for b in policy["breaches"]] == [
        ("SLA-2", "first_response", 60),
        ("SLA-2", "resolution", 60),
        ("SLA-3", "first_response", 15),
    ]
    assert policy["breaches"][2]["met_at"] is None
    up = policy["uptime"]
    # SLA-3 (urgent: an outage severity) has been down 45 minutes of November's 43,200
    assert up["minutes"] == 43_200 and up["downtime_minutes"] == 45
    assert up["uptime_percent"] == round(100 * (43_200 - 45) / 43_200, 4)
    assert up["target_met"] is True and up["allowance_exceeded"] is False


def test_csv_rows_and_breaches(capsys, worked):
    code, out, err = run(capsys, "report", "--month", "2026-11", "--format", "csv", "--now", NOW)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["policy"] for r in rows} == {
        "helpdesk-p1-p6",
        "leadpro",
        "leadsquared",
        "liveops",
        "secpod",
    }
    high = next(r for r in rows if r["policy"] == "leadsquared" and r["severity"] == "high")
    assert high["opened"] == "2" and high["first_response_breached"] == "1"
    assert high["mttr_business_minutes"] == "450.0" and high["uptime_percent"] == "99.8958"
    assert high["allowance_exceeded"] == "false"
    leadpro = next(r for r in rows if r["policy"] == "leadpro")
    assert leadpro["opened"] == "0" and leadpro["mtta_wall_minutes"] == ""
    assert leadpro["last_claim_day"] == ""  # no downtime: nothing to claim

    code, out, _ = run(
        capsys,
        "report",
        "--month",
        "2026-11",
        "--format",
        "csv",
        "--breaches",
        "--now",
        NOW,
        "--workspace",
        "T1",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["policy"], r["ticket"], r["target"], r["late_minutes"]) for r in rows] == [
        ("leadsquared", "SLA-2", "first_response", "60.0"),
        ("leadsquared", "SLA-2", "resolution", "60.0"),
        ("leadsquared", "SLA-3", "first_response", "15.0"),
    ]
    assert rows[2]["met_at"] == ""


def test_markdown(capsys, worked):
    code, out, err = run(
        capsys, "report", "--month", "2026-11", "--policy", "leadsquared", "--now", NOW
    )
    assert code == 0, err
    assert out.startswith("## leadsquared — 2026-11 (Asia/Kolkata)")
    assert (
        "| High - 2 | 2 | 1 / 1 (50.0%) | 1 / 1 (50.0%) | — | 1h45m | 1h45m | 7h30m | 13h | 3h |"
        in out
    )
    assert "| Urgent - 1 | 1 | 0 / 1 (0.0%) | 0 / 0 (—), 1 running |" in out
    assert "Uptime 99.896% (target 99%: met): 45 of 43,200 minutes down" in out
    assert "Unplanned downtime: 45 min, within the allowance of 1h." in out
    assert "| SLA-3 | urgent | first_response | Wed 04 Nov 2026 10:30 IST | not yet | 15m |" in out


def test_an_empty_month(capsys, worked):
    code, out, _ = run(capsys, "report", "--month", "2026-09", "--policy", "leadpro", "--now", NOW)
    assert code == 0
    assert "Uptime 100.000% (target 99.9%: met)" in out
    assert "Service credit: 0%." in out
    assert "claim" not in out  # no downtime: nothing to claim
    assert "Breaches: none." in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--month", "2026-13"], "'2026-13' is not a month: write YYYY-MM"),
        (["--month", "2026-11", "--policy", "nope"], "unknown policy 'nope'"),
        (["--month", "2026-11", "--now", "yesterday"], "--now 'yesterday' is not an ISO 8601"),
    ],
)
def test_bad_input_is_one_clear_line(capsys, worked, argv, message):
    code, out, err = run(capsys, "report", *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_recorded_outages_and_maintenance_count_in_uptime(capsys, worked, tickets, policy_book):
    """On top of SLA-3's 45 minutes (4 Nov 10:00, resolved 10:45): an outage recorded 5 Nov
    09:00–09:30 and maintenance on Sun 8 Nov 03:00–05:00 announced only an hour ahead (both
    count), and a force-majeure outage 6 Nov 12:00–13:00 (left out)."""
    tickets.resolve(ChangeRequest("T1", 3, actor="UADMIN", now=ist(4, 10, 45)))
    outages = Outages(worked, policy_book, roles=recorders(worked))
    outages.start("T1", "leadsquared", channel=None, actor="U1", now=ist(5, 9))
    outages.end("T1", "leadsquared", actor="U1", now=ist(5, 9, 30))
    outages.start("T1", "leadsquared", channel=None, actor="U1", now=ist(6, 12), force_majeure=True)
    outages.end("T1", "leadsquared", actor="U1", now=ist(6, 13))
    Maintenances(worked, policy_book, roles=recorders(worked)).plan(
        "T1", "leadsquared", ist(8, 3), timedelta(hours=2), channel=None, actor="U1", now=ist(8, 2)
    )
    argv = ["report", "--month", "2026-11", "--policy", "leadsquared", "--format", "json"]

    code, out, err = run(capsys, *argv, "--now", "2026-11-10T00:00+05:30")

    assert code == 0, err
    up = json.loads(out)["policies"][0]["uptime"]
    assert up["downtime_minutes"] == 45 + 30 + 120
    assert up["excluded_minutes"] == 60
    assert up["unplanned_minutes"] == 45 + 30 and up["allowance_exceeded"] is True


def test_each_spell_of_downtime_shows_its_own_last_day_to_claim(capsys, worked, policy_book):
    """Seed 001: "The client must provide the dates and times of each unavailability incident
    that the Client is claiming. All claims must be made within 60 days of the unavailability
    occurring." LeadPro outages recorded Mon 2 Nov 10:00–11:00 and Fri 20 Nov 14:00–14:30
    (London, GMT): 90 minutes of November's 43,200, under 99.9%, a 10% credit. Each spell can
    be claimed until the day it began plus 60 days: 1 Jan and 19 Jan 2027 (the month's end
    plus 60 days, 29 Jan, was shown before for both)."""
    outages = Outages(worked, policy_book, roles=recorders(worked))
    for start, end in ((datetime(2026, 11, 2, 10), 60), (datetime(2026, 11, 20, 14), 30)):
        start = start.replace(tzinfo=UTC)
        outages.start("T1", "leadpro", channel=None, actor="U1", now=start)
        outages.end("T1", "leadpro", actor="U1", now=start + timedelta(minutes=end))
    base = ["report", "--month", "2026-11", "--policy", "leadpro", "--now", "2026-12-01T09:00Z"]

    code, out, err = run(capsys, *base, "--format", "json")
    assert code == 0, err
    up = json.loads(out)["policies"][0]["uptime"]
    assert (up["downtime_minutes"], up["credit_percent"]) == (90, 10)
    assert [(d["start"], d["minutes"], d["last_claim_day"]) for d in up["downtime"]] == [
        ("2026-11-02T10:00:00+00:00", 60, "2027-01-01"),
        ("2026-11-20T14:00:00+00:00", 30, "2027-01-19"),
    ]
    assert up["last_claim_day"] == "2027-01-01"  # the earliest: a claim covering every spell

    code, out, err = run(capsys, *base, "--format", "csv", "--downtime")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["policy"], r["minutes"], r["last_claim_day"]) for r in rows] == [
        ("leadpro", "60.0", "2027-01-01"),
        ("leadpro", "30.0", "2027-01-19"),
    ]

    code, out, err = run(capsys, *base)
    assert code == 0, err
    assert "| Mon 02 Nov 2026 10:00 GMT | Mon 02 Nov 2026 11:00 GMT | 1h | Fri 01 Jan 2027 |" in out
    assert (
        "| Fri 20 Nov 2026 14:00 GMT | Fri 20 Nov 2026 14:30 GMT | 30m | Tue 19 Jan 2027 |" in out
    )
    assert "Last day to claim a service credit for every spell: Fri 01 Jan 2027" in out


def test_the_report_shows_what_was_left_out_and_why(capsys, worked, policy_book):
    """Seed 001: "LeadPro is not responsible for any downtime caused by general downtime to the
    host servers (AWS)" and "Service Credits will not be applicable for unavailability caused
    by Force Majeure". Recorded Mon 2 Nov 10:00–11:00 (AWS) and Fri 20 Nov 14:00–15:30 (force
    majeure), London on GMT: the AWS hour is not downtime; the 90 minutes of force majeure
    count against uptime (43,110 of 43,200, 99.79 %: target missed) but earn no credit."""
    outages = Outages(worked, policy_book, roles=recorders(worked))
    for start, minutes, cause in (
        (datetime(2026, 11, 2, 10, tzinfo=UTC), 60, "aws"),
        (datetime(2026, 11, 20, 14, tzinfo=UTC), 90, "force_majeure"),
    ):
        outages.start("T1", "leadpro", channel=None, actor="U1", now=start, cause=cause)
        outages.end("T1", "leadpro", actor="U1", now=start + timedelta(minutes=minutes))
    base = ["report", "--month", "2026-11", "--policy", "leadpro", "--now", "2026-12-01T09:00Z"]

    code, out, err = run(capsys, *base, "--format", "json")
    assert code == 0, err
    up = json.loads(out)["policies"][0]["uptime"]
    assert (up["downtime_minutes"], up["target_met"], up["credit_percent"]) == (90, False, 0)
    assert [(e["why"], e["left_out_of"], e["minutes"]) for e in up["excluded"]] == [
        ("General downtime of the host servers (AWS)", "uptime", 60),
        ("Force Majeure", "credits", 90),
    ]

    code, out, err = run(capsys, *base)
    assert code == 0, err
    assert (
        "- Left out of uptime and credits: Mon 02 Nov 2026 10:00 GMT for 1h: "
        "General downtime of the host servers (AWS)." in out
    )
    assert "- Left out of credits: Fri 20 Nov 2026 14:00 GMT for 1h30m: Force Majeure." in out
