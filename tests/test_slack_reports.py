"""``/sla report``, ``/sla outage`` and ``/sla maintenance`` end to end, and the Home tab's month.

The harness of `test_slack_app`: the real app served by waitress, Slack-signed requests over
HTTP, the real use cases on SQLite and PostgreSQL, and `FakeSlack` for what the app says back
(messages, the chart's three-step upload, ephemeral answers at the response URL).

T0 is Monday 23 November 2026, 17:00 UTC: 17:00 in London (LeadPro), 22:30 in Kolkata
(LeadSquared), 09:00 in Los Angeles (LiveOps, the fixture's channel C0001).
"""

# The harness's fixtures are imported by name, so tests' parameters shadow them: F811 is noise.
# ruff: noqa: F811

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from support import signed
from support.conversation import (  # noqa: F401  (fixtures)
    ADMIN,
    CHANNEL,
    REPORTER,
    STRANGER,
    T0,
    TEAM,
    Slack,
    clock,
    fake,
    header,
    slack,
    sqlite_only,
)
from support.fakeslack import block_kit_errors, view_errors

from slabot.outages import Maintenances, Outages
from slabot.reports import monthly
from slabot.slack.blocks.outage import NOT_SEEN

LEADPRO, LEADSQUARED = "C0LP", "C0LS"


def bind(slack: Slack, channel: str, policy: str) -> None:
    slack.tickets.bind_channel(TEAM, channel, policy, actor=ADMIN, now=T0)


def posted(slack: Slack, channel: str, starts: str, timeout: float = 10) -> dict:
    """The message in ``channel`` whose text starts with ``starts``, once it has arrived."""
    deadline = time.monotonic() + timeout
    while True:
        for message in slack.fake.messages(channel):
            if message.get("text", "").startswith(starts):
                return message
        assert time.monotonic() < deadline, f"nothing starting {starts!r} in {channel}"
        time.sleep(0.02)


def words(message: dict) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def told(slack, answer) -> list:
    """What the app told the one who typed the command, later, at its response URL (``/sla
    open`` answers at its own URL: the report's asker is told nothing of it)."""
    path = answer.response_url.removeprefix(slack.fake.base)
    return [c for c in slack.fake.calls_to("response_url") if c.path == path]


# -- /sla report --------------------------------------------------------------------------------


def test_report_posts_the_summary_and_uploads_the_chart(slack):
    bind(slack, LEADPRO, "leadpro")
    slack.open("p2 exports are broken", channel_id=LEADPRO)  # SLA-1: answered in time
    slack.clock.advance(minutes=10)
    slack.open("p2 reports are slow", channel_id=LEADPRO)  # SLA-2: never answered
    slack.clock.advance(minutes=5)
    assert slack.command("ack 1", channel_id=LEADPRO).text == ""
    slack.clock.advance(minutes=5)
    slack.command("outage start checkout is down", channel_id=LEADPRO).ephemeral()
    slack.clock.advance(minutes=45)
    slack.command("outage end", channel_id=LEADPRO).ephemeral()
    posted(slack, LEADPRO, "Outage of LeadPro product support over after 45m")
    # Tuesday 12:00 in London: SLA-2's first response (3 business hours) was due at 11:30.
    slack.clock.at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    answer = slack.command("report", channel_id=LEADPRO)
    assert (answer.status, answer.text) == (200, "")  # acknowledged at once; the work after
    [complete] = slack.fake.wait_for("files.completeUploadExternal", timeout=20)
    summary = posted(slack, LEADPRO, "SLA report · LeadPro product support · 2026-11")
    assert header(summary) == "SLA report · LeadPro product support · 2026-11"
    assert block_kit_errors(summary["blocks"]) == []
    text = words(summary)
    assert "*2 tickets opened* · first response 50% met" in text
    assert "First response: 1 met · 1 breached — *50% met*" in text
    assert "*SLA-2* · Medium · first response due <!date^" in text
    assert "not met yet, 20m late" in text  # opened 17:10, due Tuesday 11:40
    assert "resolution" not in text  # LeadPro promises no resolution times
    # 45 minutes down in November's 43,200: 99.896%, under LeadPro's 99.9%: 10% credit.
    assert "*Uptime 99.896%* (target 99.9%: *missed*)" in text
    assert "*Service credit owed: 10%* of the month's charges" in text
    # Seed 001: "All claims must be made within 60 days of the unavailability occurring."
    assert "the customer can claim it until Fri 22 Jan 2027, each spell of downtime:" in text

    # The chart: uploaded as slack_sdk's files_upload_v2 does it, shared in the channel.
    assert complete.ok and complete.args["channel_id"] == LEADPRO
    [chart] = slack.fake.files(LEADPRO)
    assert chart["content"].startswith(b"\x89PNG\r\n\x1a\n")
    assert chart["filename"] == "sla-leadpro-2026-11.png"
    assert chart["title"] == "SLA report · LeadPro product support · 2026-11"
    assert chart["alt_txt"].startswith("Targets met by severity (Medium: first response 50%")
    [upload] = slack.fake.calls_to("file.upload")
    assert upload.args["content"] == chart["content"]
    assert told(slack, answer) == []  # nothing went wrong, nothing to tell


@sqlite_only
def test_without_matplotlib_the_summary_has_every_figure_and_no_chart_follows(slack, monkeypatch):
    # The default install has no matplotlib (the chart is the `chart` extra).
    monkeypatch.setattr("slabot.slack.leads.chart_available", lambda: False)
    bind(slack, LEADPRO, "leadpro")
    slack.open("p2 exports are broken", channel_id=LEADPRO)
    slack.clock.at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # its first response breached
    answer = slack.command("report", channel_id=LEADPRO)
    assert answer.text == ""
    summary = posted(slack, LEADPRO, "SLA report · LeadPro product support · 2026-11")
    text = words(summary)
    assert "*1 ticket opened* · first response 0% met" in text
    assert "*SLA-1* · Medium · first response due <!date^" in text
    assert "`pip install 'slabot[chart]'` adds a chart" in text and "chart follows" not in text
    slack.nothing_more("files.getUploadURLExternal", 0)
    assert told(slack, answer) == []  # nothing is missing: nothing to tell


@sqlite_only
def test_a_month_and_a_policy_can_be_named(slack):
    bind(slack, LEADPRO, "leadpro")
    slack.open("p2 exports are broken", channel_id=LEADPRO)
    # From the LiveOps channel, LeadPro's November.
    assert slack.command("report 2026-11 policy:leadpro").text == ""
    slack.fake.wait_for("files.completeUploadExternal", timeout=20)
    summary = posted(slack, CHANNEL, "SLA report · LeadPro product support · 2026-11")
    assert "*1 ticket opened*" in words(summary)


@sqlite_only
@pytest.mark.parametrize(
    ("text", "kw", "expected"),
    [
        ("report 2026-13", {}, "I can't read the month '2026-13': write it as YYYY-MM"),
        ("report november", {}, "/sla report [YYYY-MM] [policy:NAME]"),
        ("report 2026-10", {}, "Nothing to report for liveops in 2026-10"),
        ("report policy:nope", {}, "unknown policy 'nope'"),
        ("report", {"channel_id": "C0888"}, "bound to no policy"),
    ],
)
def test_report_refusals_are_ephemeral_and_post_nothing(slack, text, kw, expected):
    refusal = slack.command(text, **kw).ephemeral()
    assert expected in refusal
    assert "Traceback" not in refusal
    assert slack.fake.calls_to("chat.postMessage") == []
    assert slack.fake.calls_to("files.getUploadURLExternal") == []


@sqlite_only
def test_a_channel_the_bot_is_not_in_is_explained(slack):
    slack.open("p1 checkout is down")
    slack.fake.respond("chat.postMessage", {"ok": False, "error": "not_in_channel"}, times=1)
    refusal = slack.command("report").ephemeral()
    assert refusal.startswith("I couldn't post in this channel (not_in_channel)")
    assert "/invite @slabot" in refusal
    assert slack.fake.calls_to("files.getUploadURLExternal") == []  # no chart without a summary


@sqlite_only
def test_a_refused_chart_is_explained_and_the_summary_stays(slack):
    slack.open("p1 checkout is down")
    slack.fake.respond("files.getUploadURLExternal", {"ok": False, "error": "missing_scope"})
    refusal = slack.command("report").ephemeral()
    assert refusal.startswith("The summary is posted, but Slack refused the chart (missing_scope)")
    assert "files:write" in refusal
    posted(slack, CHANNEL, "SLA report · LiveOps Support Plus · 2026-11")


@sqlite_only
def test_a_failed_upload_of_the_bytes_is_explained(slack):
    slack.open("p1 checkout is down")
    slack.fake.fail_next("file.upload", status=500)
    refusal = slack.command("report").ephemeral()
    assert refusal == "The summary is posted, but the chart's upload failed. Try again in a moment."
    assert slack.fake.calls_to("files.completeUploadExternal") == []


# -- /sla outage ----------------------------------------------------------------------------------


def test_outage_start_and_end_are_announced_and_refused_when_they_make_no_sense(slack):
    bind(slack, LEADPRO, "leadpro")
    started = slack.command("outage start force-majeure datacentre flooded", channel_id=LEADPRO)
    assert started.ephemeral() == (
        f"Outage #1 is recorded; it will be announced in <#{LEADPRO}> as soon as Slack answers. "
        f"{NOT_SEEN}"
    )
    announcement = posted(slack, LEADPRO, "Outage of LeadPro product support declared")
    assert announcement["text"].endswith(": datacentre flooded")
    text = words(announcement)
    assert f"<@{REPORTER}> declared an outage of *LeadPro product support* from <!date^" in text
    # Seed 001: "Service Credits will not be applicable for unavailability caused by Force
    # Majeure" — the policy's force_majeure cause counts as downtime but earns no credit.
    assert "Caused by *Force Majeure*: it counts as downtime but earns no service credit" in text

    again = slack.command("outage start", channel_id=LEADPRO).ephemeral()
    assert "already running" in again and "/sla outage end" in again
    # When it started, as a date token each reader sees in their own zone, not raw UTC.
    assert "already running since <!date^" in again and " UTC " not in again
    for text in ("outage start", "outage end", "maintenance sat 22:00 2h upgrade"):
        refused = slack.command(text, channel_id=LEADPRO, user_id=STRANGER).ephemeral()
        assert refused.startswith("you may not ") and f"Ask <@{REPORTER}>" in refused

    slack.clock.advance(hours=2, minutes=5)
    ended = slack.command("outage end power back", channel_id=LEADPRO).ephemeral()
    assert ended.startswith("Outage #1 is ended; it will be announced in")
    over = posted(slack, LEADPRO, "Outage of LeadPro product support over after 2h 5m")
    assert "it lasted *2h 5m*" in words(over) and "earns no service credit" in words(over)

    nothing = slack.command("outage end", channel_id=LEADPRO).ephemeral()
    assert "no outage of leadpro is running" in nothing

    [row] = Outages(slack.tickets.store, slack.tickets.policies).records(
        [TEAM], "leadpro", T0 - timedelta(days=1), T0 + timedelta(days=1)
    )
    assert (row.started_at, row.ended_at) == (T0, T0 + timedelta(hours=2, minutes=5))
    assert (row.force_majeure, row.started_by, row.channel) == (True, REPORTER, LEADPRO)
    assert len(slack.fake.messages(LEADPRO)) == 2

    # Seed 001: "LeadPro is not responsible for any downtime caused by general downtime to the
    # host servers (AWS)": an outage started with that cause is left out of uptime.
    slack.command("outage start cause:aws eu-west-1 down", channel_id=LEADPRO).ephemeral()
    aws = posted(slack, LEADPRO, "Outage of LeadPro product support declared: eu-west-1 down")
    assert "*General downtime of the host servers (AWS)*: it is left out of uptime" in words(aws)
    slack.command("outage end", channel_id=LEADPRO).ephemeral()
    unknown = slack.command("outage start cause:meteor", channel_id=LEADPRO).ephemeral()
    assert "unknown cause 'meteor'" in unknown and "aws, force_majeure" in unknown


def test_a_lead_corrects_a_tickets_downtime_and_the_thread_keeps_why(slack):
    # Seed 001: "LeadPro is not responsible for any downtime caused by general downtime to the
    # host servers (AWS)". A High ticket counts as downtime until a lead says what it was.
    bind(slack, LEADPRO, "leadpro")
    number = slack.open("high the platform is down", channel_id=LEADPRO)
    refused = slack.command(
        f"correct {number} cause:aws AWS incident", channel_id=LEADPRO, user_id=STRANGER
    ).ephemeral()
    assert "you may not correct the downtime of" in refused
    said = slack.command(
        f"correct {number} cause:aws AWS eu-west-2 incident", channel_id=LEADPRO, user_id=ADMIN
    )
    assert said.text == ""
    note = slack.wait_thread(number, 2)[-1]
    assert "corrected the downtime of" in note
    assert "was caused by General downtime of the host servers (AWS)" in note
    assert "Why: AWS eu-west-2 incident" in note
    [event] = slack.events_of(number, "downtime_corrected")
    assert (event.actor, event.after["cause"], event.after["counts"]) == (ADMIN, "aws", None)
    not_one = slack.command(
        f"correct {number} not-outage a slow page", channel_id=LEADPRO, user_id=STRANGER
    )
    assert "you may not" in not_one.ephemeral()  # neither a lead nor in the matrix
    assert "Say why" in slack.command(f"correct {number} not-outage").ephemeral()
    assert "which cause?" in slack.command(f"correct {number} because").ephemeral()


@sqlite_only
def test_outage_usage_errors(slack):
    assert slack.command("outage").ephemeral().startswith("Start or end?")
    assert "bound to no policy" in slack.command("outage start", channel_id="C0888").ephemeral()
    assert slack.fake.calls_to("chat.postMessage") == []


# -- /sla maintenance ----------------------------------------------------------------------------


def test_maintenance_breaking_the_notice_rule_warns_and_says_why_in_the_announcement(slack):
    bind(slack, LEADSQUARED, "leadsquared")
    # Wednesday 25 November 14:30 IST: 40 hours ahead, and inside business hours.
    warning = slack.command("maintenance +40h 1h network change", channel_id=LEADSQUARED)
    text = warning.ephemeral()
    assert text.startswith(":warning: This maintenance breaks the notice rule of *LeadSquared")
    assert "announced 40 h ahead, but the policy asks for at least 48 h notice" in text
    assert "it falls inside business hours (Wed 25 Nov 14:30–15:30 IST)" in text
    assert (
        f"Maintenance #1 is recorded; it will be announced in <#{LEADSQUARED}>, with the "
        "reason, as soon as Slack answers." in text
    )

    announcement = posted(slack, LEADSQUARED, "Planned maintenance of LeadSquared support")
    assert announcement["text"] == (
        "Planned maintenance of LeadSquared support, Wed 25 Nov 14:30–15:30 IST: network change"
    )
    shown = words(announcement)
    assert "from <!date^" in shown and "(1h)" in shown
    assert "Wed 25 Nov 14:30–15:30 IST in the policy's time zone" in shown
    assert "announced 40 h ahead, but the policy asks for at least 48 h notice" in shown
    assert "Its minutes will count as downtime." in shown


def test_maintenance_with_notice_is_announced_without_a_warning(slack):
    bind(slack, LEADSQUARED, "leadsquared")
    answer = slack.command("maintenance sat 22:00 2h database upgrade", channel_id=LEADSQUARED)
    assert answer.ephemeral() == (
        f"Maintenance #1 is recorded; it will be announced in <#{LEADSQUARED}> as soon as Slack "
        f"answers. {NOT_SEEN}"
    )
    announcement = posted(slack, LEADSQUARED, "Planned maintenance of LeadSquared support")
    assert "Sat 28 Nov 22:00 – Sun 29 Nov 00:00 IST" in announcement["text"]
    assert "does not count as downtime" in words(announcement)
    assert "warning" not in words(announcement)
    start = datetime(2026, 11, 28, 16, 30, tzinfo=UTC)  # 22:00 IST
    [row] = Maintenances(slack.tickets.store, slack.tickets.policies).records(
        [TEAM], "leadsquared", T0, T0 + timedelta(days=7)
    )
    assert (row.started_at, row.ended_at, row.notice_problems) == (
        start,
        start + timedelta(hours=2),
        [],
    )
    assert (row.note, row.announced_at, row.channel) == ("database upgrade", T0, LEADSQUARED)


def test_maintenance_announced_while_slack_fails_is_recorded_and_posted_once_when_it_answers(
    slack,
):
    """Issue 11: Slack answers 500 to every post for a while. The lead is told at once, and
    truly, that the maintenance is recorded and will be announced; the clock posts the
    announcement once Slack answers, once."""
    bind(slack, LEADSQUARED, "leadsquared")
    slack.fake.fail_next("chat.postMessage", status=500, times=3)

    answer = slack.command("maintenance sat 22:00 2h database upgrade", channel_id=LEADSQUARED)

    assert answer.ephemeral().startswith("Maintenance #1 is recorded; it will be announced in")
    assert slack.fake.messages(LEADSQUARED) == []  # tried once, Slack failed: not yet
    for _ in range(5):
        slack.clock.advance(minutes=6)  # past any backoff
        slack.deliver()
    [announcement] = slack.fake.messages(LEADSQUARED)
    assert announcement["text"].startswith("Planned maintenance of LeadSquared support")
    assert [c.status for c in slack.fake.calls_to("chat.postMessage")] == [500] * 3 + [200]


def test_a_preview_says_whether_the_notice_rule_is_met_and_records_nothing(slack):
    # Issue 13: "the notice-rule check shown before announcing …, so a typo does not become
    # contract downtime". LeadSquared: "informed/notified 48hrs prior", outside business hours.
    bind(slack, LEADSQUARED, "leadsquared")
    short = slack.command("maintenance preview +40h 1h network change", channel_id=LEADSQUARED)
    text = short.ephemeral()
    assert text.startswith(":warning: Announced now, maintenance Wed 25 Nov 14:30–15:30 IST")
    assert "announced 40 h ahead, but the policy asks for at least 48 h notice" in text
    assert "Nothing is recorded." in text
    fine = slack.command("maintenance preview sat 22:00 2h upgrade", channel_id=LEADSQUARED)
    assert "meets the policy's notice rule" in fine.ephemeral()
    maintenances = Maintenances(slack.tickets.store, slack.tickets.policies)
    assert maintenances.upcoming(TEAM, "leadsquared", T0) == []
    assert slack.fake.messages(LEADSQUARED) == []  # nothing announced


def test_maintenance_is_listed_and_a_lead_calls_it_off_which_leaves_the_uptime(slack):
    bind(slack, LEADSQUARED, "leadsquared")
    slack.command("maintenance +40h 1h network change", channel_id=LEADSQUARED)  # short notice
    posted(slack, LEADSQUARED, "Planned maintenance of LeadSquared support")
    listed = slack.command("maintenance list", channel_id=LEADSQUARED)
    assert listed.ephemeral() == "1 planned maintenance window"
    shown = json.dumps(listed.json["blocks"], ensure_ascii=False)
    assert "*#1*" in shown and "network change" in shown and "counts as downtime" in shown

    refused = slack.command("maintenance cancel 1", channel_id=LEADSQUARED, user_id=STRANGER)
    assert "maintenance" in refused.ephemeral()  # not a lead: refused, naming who may
    maintenances = Maintenances(slack.tickets.store, slack.tickets.policies)
    assert len(maintenances.upcoming(TEAM, "leadsquared", T0)) == 1

    answer = slack.command("maintenance cancel 1", channel_id=LEADSQUARED)
    assert answer.ephemeral() == (
        f"Maintenance #1 is called off; that will be announced in <#{LEADSQUARED}> as soon as "
        f"Slack answers. {NOT_SEEN}"
    )
    off = posted(slack, LEADSQUARED, "Maintenance of LeadSquared support called off")
    assert f"<@{REPORTER}> called off the planned maintenance" in words(off)
    again = slack.command("maintenance cancel 1", channel_id=LEADSQUARED).ephemeral()
    assert "was called off already" in again
    assert slack.command("maintenance list", channel_id=LEADSQUARED).ephemeral() == (
        "No maintenance of LeadSquared support is planned."
    )
    # Its row stays, with who called it off and when; it counts nowhere any more.
    assert maintenances.records([TEAM], "leadsquared", T0, T0 + timedelta(days=7)) == []
    [report] = monthly(
        slack.tickets.store,
        slack.tickets.policies,
        [TEAM],
        "2026-11",
        policy="leadsquared",
        now=T0 + timedelta(days=3),
    )
    assert report.uptime is not None and report.uptime.downtime_minutes == 0
    assert report.maintenance == ()


@sqlite_only
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maintenance someday 2h upgrade", "I can't read the start 'someday'"),
        ("maintenance sat 22:00 4 hours upgrade", "I can't read the duration '4'"),
        ("maintenance 2026-11-01T10:00 1h upgrade", "that start is in the past"),
        ("maintenance +1d 8d upgrade", "not a maintenance window"),
        ("maintenance +1d 1h", "Say what the maintenance is"),
    ],
)
def test_maintenance_refusals_are_ephemeral(slack, text, expected):
    bind(slack, LEADSQUARED, "leadsquared")
    assert expected in slack.command(text, channel_id=LEADSQUARED).ephemeral()
    assert slack.fake.calls_to("chat.postMessage") == []


# -- the Home tab ---------------------------------------------------------------------------------


def test_the_home_tab_shows_this_months_figures_per_policy_in_use(slack):
    bind(slack, LEADPRO, "leadpro")
    slack.open("p1 checkout is down")  # LiveOps
    slack.command("outage start", channel_id=LEADPRO)
    posted(slack, LEADPRO, "Outage of LeadPro")
    slack.clock.advance(hours=1)

    assert slack.event(signed.app_home_opened(REPORTER)).status == 200
    slack.fake.wait_for("views.publish")
    home = slack.fake.home_view(REPORTER)
    assert home is not None and view_errors(home) == []
    text = json.dumps(home["blocks"], ensure_ascii=False)
    month = text[text.index("This month") :]
    # LeadPro: no ticket, an hour down (still going) of 43,200 minutes.
    assert "*LeadPro product support* (2026-11) — 0 breaches · uptime 99.861%" in month
    # LiveOps: one ticket whose first response is still running; no uptime terms.
    assert "*LiveOps Support Plus* (2026-11) — first response – met · 0 breaches" in month
    assert "LeadSquared" not in month  # no channel, no ticket: not in use
