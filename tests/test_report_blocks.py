"""The month-end builders without Slack: the report summary, the Home tab's month, the
announcements of outages and maintenance (`report_blocks`, `outage_blocks`) and the chart
(`chart`).

Built from real figures: the pure core's `compliance` and `uptime` over fixed histories, the
repository's policies, and `OutageRecord` and `MaintenanceRecord` rows made in memory. Every
surface goes through test_blocks' `check_limits` walker (Block Kit limits, no smuggled ``<…>``
tokens).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.months import IST, ist, leadsquared_month
from support.surfaces import all_text, check_limits, many_views, slack_sdk_accepts

from slabot.reports import PolicyReport
from slabot.reports.chart import breaches_per_day, report_chart, severity_bars
from slabot.sla import load_policy
from slabot.sla.figures import Interruption, compliance, maintenance_problems, month, uptime
from slabot.sla.history import Acknowledged, Opened
from slabot.slack.blocks.home import home_view
from slabot.slack.blocks.outage import (
    local_span,
    maintenance_announcement,
    outage_ended,
    outage_started,
)
from slabot.slack.blocks.report import (
    chart_alt_text,
    is_empty,
    month_blocks,
    month_line,
    percent,
    report_blocks,
)
from slabot.store.tables import MaintenanceRecord, OutageRecord

POLICIES = Path(__file__).resolve().parent.parent / "policies"
H, M = timedelta(hours=1), timedelta(minutes=1)
LONDON = ZoneInfo("Europe/London")
HOSTILE = "<!channel> *bold* <@U123> &amp; \u202eevil"


@pytest.fixture(scope="module")
def leadsquared():
    return load_policy(POLICIES / "leadsquared.yaml")


@pytest.fixture(scope="module")
def leadpro():
    return load_policy(POLICIES / "leadpro.yaml")


def record(
    policy, start, end, *, kind="maintenance", problems=(), note="", **kw
) -> MaintenanceRecord | OutageRecord:
    """A stored maintenance (or, with ``kind`` outage, an outage) made in memory."""
    common = {
        "workspace": "T0001",
        "policy": policy.name,
        "channel": "C1",
        "started_at": start,
        "ended_at": end,
        "note": note,
        "started_by": "U0001",
        **kw,
    }
    if kind == "outage":
        return OutageRecord(**common)
    return MaintenanceRecord(**common, announced_at=start, notice_problems=list(problems))


def leadsquared_report(policy) -> PolicyReport:
    """November 2026 for LeadSquared at 4 Nov 10:45 IST (test_reports' hand-worked month),
    with 90 minutes of unplanned downtime and two maintenance windows, one announced late."""
    period = month(IST, "2026-11")
    now = ist(4, 10, 45)
    figures = compliance(policy, leadsquared_month(), period, now)
    late_start = ist(8, 3)
    late = record(
        policy,
        late_start,
        late_start + H,
        problems=maintenance_problems(policy, late_start, H, late_start - 40 * H),
        note=HOSTILE,
    )
    fine = record(policy, ist(1, 2), ist(1, 4))
    down = [Interruption(ist(3, 10), ist(3, 11, 30), "login down")]
    up = uptime(policy, down, period, now)
    return PolicyReport(policy, period, figures, up, (fine, late))


# -- /sla report ------------------------------------------------------------------------------


def test_the_summary_has_every_figure_a_support_lead_reads(leadsquared):
    report = leadsquared_report(leadsquared)
    text, blocks = report_blocks(report, ist(4, 10, 45))
    check_limits(blocks)
    slack_sdk_accepts(blocks)
    words = all_text(blocks)
    assert blocks[0]["text"]["text"] == "SLA report · LeadSquared support · 2026-11"
    assert "1 Nov – 30 Nov 2026 (Asia/Kolkata)" in words and "the month so far" in words
    assert "*4 tickets opened* · first response 33.3% met · resolution 50% met · 3 breaches" in (
        words
    )
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    high = next(t for t in sections if t.startswith("*High"))
    assert "*High" in high and "· 2 opened" in high
    assert "First response: 1 met · 1 breached — *50% met* · MTTA 1h 45m" in high
    assert "Resolution: 1 met · 1 breached — *50% met* · MTTR 13h (7h 30m of the target's" in high
    assert "Waiting on customer: 3h" in high
    assert "No tickets: Low" in words  # a quiet severity is named, not given a section
    # Breaches, worst first: SLA-2's two are an hour late, SLA-3's 15 minutes and still open.
    lines = [line for line in words.split("\n") if line.startswith("*SLA-")]
    assert [line.split("*")[1] for line in lines] == ["SLA-2", "SLA-2", "SLA-3"]
    assert lines[-1].endswith("not met yet, 15m late")
    assert "<!date^" in lines[0]
    # Uptime: 90 minutes over LeadSquared's one-hour allowance; the target is still met.
    assert "*Uptime 99.792%* (target 99%: met ✓) · downtime 1h 30m of 43,200 minutes" in words
    assert "Unplanned downtime 1h 30m: *over* the 1h a month the policy allows" in words
    assert "No service credit owed." in words
    # The late maintenance, with why; the other is counted in a line.
    assert "Maintenance that broke the notice rule: 1" in words
    assert "announced 40 h ahead, but the policy asks for at least 48 h notice" in words
    assert "&lt;!channel&gt;" in words and "<!channel>" not in words and "\u202e" not in words
    assert "1 announced maintenance window met the notice rule" in words
    assert text.startswith("SLA report · LeadSquared support · 2026-11: 4 tickets")
    assert "*" not in text


def test_leadpro_owes_a_credit_and_says_until_when_it_can_be_claimed(leadpro):
    period = month(LONDON, "2026-11")  # 43,200 minutes
    end = datetime(2026, 12, 1, tzinfo=UTC)
    start = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    up = uptime(leadpro, [Interruption(start, start + 45 * M)], period, end)
    figures = compliance(leadpro, [("SLA-1", [Opened(start, "high")])], period, end)
    report = PolicyReport(leadpro, period, figures, up, ())
    _, blocks = report_blocks(report, end)
    words = all_text(blocks)
    assert "*Uptime 99.896%* (target 99.9%: *missed*)" in words
    assert "*Service credit owed: 10%* of the month's charges" in words
    # Seed 001: "All claims must be made within 60 days of the unavailability occurring."
    assert "the customer can claim it until Sat 9 Jan 2027, each spell of downtime:" in words
    assert "for 45m: claim by Sat 9 Jan 2027" in words  # 60 days from 10 Nov, not from 1 Dec
    assert "the month so far" not in words
    assert "Not counted" not in words and "Unplanned downtime" not in words  # no allowance


def test_a_policy_without_uptime_terms_shows_no_uptime(every_policy_report):
    report = every_policy_report("liveops")
    assert report.uptime is None
    words = all_text(report_blocks(report, report.period.end)[1])
    assert "Uptime" not in words and "credit" not in words


@pytest.fixture
def every_policy_report():
    def build(name: str) -> PolicyReport:
        policy = load_policy(POLICIES / f"{name}.yaml")
        period = month(policy.tz, "2026-11")
        key = policy.severities[0].key
        at = period.start + 3 * H
        history = [Opened(at, key), Acknowledged(at + 5 * M)]
        figures = compliance(policy, [("SLA-1", history)], period, period.end)
        up = uptime(policy, [], period, period.end) if policy.uptime else None
        return PolicyReport(policy, period, figures, up, ())

    return build


@pytest.mark.parametrize("name", ["leadsquared", "leadpro", "secpod", "liveops", "helpdesk-p1-p6"])
def test_every_seed_policy_renders_within_limits(every_policy_report, name):
    report = every_policy_report(name)
    text, blocks = report_blocks(report, report.period.end)
    check_limits(blocks)
    slack_sdk_accepts(blocks)
    assert len(text) <= 3000 and not is_empty(report)


def test_a_thousand_breaches_list_the_worst_five_within_limits(leadsquared):
    period = month(IST, "2026-11")
    now = period.end
    tickets = [(f"SLA-{i}", [Opened(ist(1 + i % 29, 11), "urgent")]) for i in range(1000)]
    figures = compliance(leadsquared, tickets, period, now)
    assert len(figures.breaches) == 2000  # first response and resolution, never met
    report = PolicyReport(leadsquared, period, figures, None, ())
    _, blocks = report_blocks(report, now)
    check_limits(blocks)
    words = all_text(blocks)
    assert "*Breaches: 2000* — the worst 5:" in words
    assert sum(line.startswith("*SLA-") for line in words.split("\n")) == 5


def test_nothing_to_report(leadsquared):
    period = month(IST, "2026-11")
    empty = compliance(leadsquared, [], period, period.end)
    report = PolicyReport(leadsquared, period, empty, uptime(leadsquared, [], period), ())
    assert is_empty(report)
    assert not is_empty(leadsquared_report(leadsquared))


def test_percent():
    assert (percent(None), percent(100.0), percent(200 / 3), percent(99.9, 3)) == (
        "–",
        "100%",
        "66.7%",
        "99.9%",
    )
    assert percent(99.96543, 3) == "99.965%"


# -- the chart --------------------------------------------------------------------------------


def test_the_chart_is_a_png_of_the_figures(leadsquared):
    report = leadsquared_report(leadsquared)
    figures = report.compliance
    assert severity_bars(figures) == [
        ("Urgent - 1", 0.0, None),
        ("High - 2", 50.0, 50.0),
        ("Medium - 3", None, None),
        ("Low - 4", None, None),
    ]
    per_day = breaches_per_day(figures, IST)
    assert len(per_day) == 30 and sum(per_day) == 3
    assert per_day[1:4] == [1, 1, 1]  # due 2, 3 and 4 November, IST
    png = report_chart(figures, IST, "SLA report · $5 $10 · 2026-11")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == report_chart(figures, IST, "SLA report · $5 $10 · 2026-11")  # no timestamp
    image = pytest.importorskip("PIL.Image").open(io.BytesIO(png))
    assert image.size == (1100, 420)
    assert "Targets met by severity (Urgent - 1: first response 0%" in chart_alt_text(report)


def test_breaches_fall_on_the_policy_zones_day():
    # Opened Tue 1 December 00:10 IST, inside Monday's window (until 02:00): its first response
    # falls due that night, still 30 November in UTC but the IST month's first day.
    policy = load_policy(POLICIES / "leadsquared.yaml")
    period = month(IST, "2026-12")
    at = ist(1, 0, 10, month=12)
    figures = compliance(policy, [("SLA-1", [Opened(at, "urgent")])], period, at + 24 * H)
    assert figures.breaches[0].due.astimezone(UTC).day == 30
    assert breaches_per_day(figures, IST)[0] == len(figures.breaches)  # due that IST day


def test_importing_the_slack_app_does_not_import_matplotlib():
    code = "import sys, slabot.slack.app, slabot.reports.chart; print('matplotlib' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.stdout.strip() == "False", found.stderr


# -- the Home tab ---------------------------------------------------------------------------


def test_month_lines_per_policy(leadsquared, every_policy_report):
    report = leadsquared_report(leadsquared)
    assert month_line(report) == (
        "*LeadSquared support* (2026-11) — first response 33.3% met · resolution 50% "
        "met · 3 breaches · uptime 99.792%"
    )
    assert "uptime" not in month_line(every_policy_report("liveops"))
    blocks = month_blocks([report, every_policy_report("liveops")])
    assert len(blocks) == 1 and "LiveOps" in all_text(blocks)
    assert "No policy in use yet" in all_text(month_blocks([]))


def test_the_home_tab_with_its_month_still_fits_100_blocks(leadsquared, every_policy_report):
    now = ist(4, 10, 45)
    reports = [leadsquared_report(leadsquared)] * 60  # cut with a note
    month = month_blocks(reports)
    assert len(month) == 2 and "more policies" in all_text(month)
    counts = {(f"p{i}", f"s{j}"): 1 for i in range(400) for j in range(6)}
    view = home_view(
        many_views(leadsquared, 200, now),
        many_views(leadsquared, 200, now),
        counts,
        now,
        month=month,
    )
    check_limits(view, max_blocks=100)
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers[-1] == "This month" and view["blocks"][-2:] == month


# -- outages and maintenance ----------------------------------------------------------------


def test_outage_announcements(leadpro):
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    started = record(leadpro, start, None, kind="outage", note=HOSTILE)
    text, blocks = outage_started(started, leadpro, HOSTILE)
    check_limits(blocks)
    words = all_text(blocks)
    assert "<@U0001> declared an outage of *LeadPro product support* from <!date^" in words
    assert "End it with `/sla outage end [note]`" in words
    assert blocks[1]["text"] == {
        "type": "plain_text",
        "text": HOSTILE.replace("\u202e", ""),
        "emoji": True,
    }
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text

    # Seed 001: "Service Credits will not be applicable for unavailability caused by Force
    # Majeure"; "not responsible for any downtime caused by ... the host servers (AWS)".
    flagged = record(leadpro, start, None, kind="outage", force_majeure=True)
    said = all_text(outage_started(flagged, leadpro, "")[1])
    assert "*Force Majeure*: it counts as downtime but earns no service credit" in said
    aws = record(leadpro, start, None, kind="outage", cause="aws")
    said = all_text(outage_started(aws, leadpro, "")[1])
    assert "*General downtime of the host servers (AWS)*: it is left out of uptime" in said

    ended = record(leadpro, start, start + 95 * M, kind="outage", ended_by="U0002")
    text, blocks = outage_ended(ended, leadpro, "carrier fixed it")
    check_limits(blocks)
    words = all_text(blocks)
    assert "<@U0002> ended the outage of *LeadPro product support*" in words
    assert "it lasted *1h 35m*" in words and "declared by <@U0001>" in words
    assert text == "Outage of LeadPro product support over after 1h 35m: carrier fixed it"


def test_maintenance_announcement_says_when_in_both_zones_and_why_the_notice_is_broken(
    leadsquared,
):
    start = ist(8, 11)  # Sunday 8 November, 11:00 IST: outside support hours
    now = start - 40 * H
    problems = maintenance_problems(leadsquared, start, 2 * H, now)
    late = record(leadsquared, start, start + 2 * H, problems=problems, note="db upgrade")
    text, blocks = maintenance_announcement(late, leadsquared, problems)
    check_limits(blocks)
    words = all_text(blocks)
    assert "*Planned maintenance of LeadSquared support* from <!date^" in words
    assert "(2h)" in words and "Sun 8 Nov 11:00–13:00 IST in the policy's time zone" in words
    assert ":warning: This maintenance breaks the notice rule of *LeadSquared" in words
    assert "announced 40 h ahead, but the policy asks for at least 48 h notice" in words
    assert "Its minutes will count as downtime." in words
    assert (
        text == "Planned maintenance of LeadSquared support, Sun 8 Nov 11:00–13:00 IST: db upgrade"
    )

    fine = record(leadsquared, start, start + 2 * H, note="db upgrade")
    words = all_text(maintenance_announcement(fine, leadsquared, [])[1])
    assert "does not count as downtime" in words and "warning" not in words
    liveops = load_policy(POLICIES / "liveops.yaml")  # no notice rule: says nothing of one
    words = all_text(maintenance_announcement(fine, liveops, [])[1])
    assert "downtime" not in words


def test_local_span_across_midnight_and_a_clock_change():
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # Sat 23:00 BST; clocks go back Sunday
    assert local_span(start, start + 4 * H, LONDON) == "Sat 24 Oct 23:00 BST – Sun 25 Oct 02:00 GMT"
    later = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert local_span(later, later + 4 * H, LONDON) == "Sat 28 Nov 22:00 – Sun 29 Nov 02:00 GMT"


def test_builders_are_json(leadsquared):
    _, blocks = report_blocks(leadsquared_report(leadsquared), ist(4, 10, 45))
    json.dumps(blocks)
