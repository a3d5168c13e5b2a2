"""``/sla outage`` backdated, listed, shown, edited and deleted, end to end (issue 13), and
``/sla report`` reading the corrected outages.

The harness of `test_slack_reports`: the real app over signed HTTP on SQLite and PostgreSQL,
`FakeSlack` for what it says. T0 is Monday 23 November 2026, 17:00 UTC, 17:00 in London
(LeadPro: 99.9% uptime, a 10% credit below it). November has 43,200 minutes.

Seed 001: "Uptime is measured using our automated systems over each calendar month. It is
calculated to the nearest minute based on the number of minutes in each month."
"""

# The harness's fixtures are imported by name, so tests' parameters shadow them: F811 is noise.
# ruff: noqa: F811

from __future__ import annotations

import json
import time

from support.conversation import (  # noqa: F401  (fixtures)
    ADMIN,
    REPORTER,
    STRANGER,
    TEAM,
    Slack,
    clock,
    fake,
    slack,
    sqlite_only,
)

from slabot.slack.blocks.outage import NOT_SEEN

LEADPRO = "C0LP"
REPORT = "SLA report · LeadPro product support · 2026-11"


def posted(slack: Slack, starts: str, count: int = 1, timeout: float = 10) -> dict:
    """The ``count``-th message in LeadPro's channel whose text starts with ``starts``."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in slack.fake.messages(LEADPRO) if m.get("text", "").startswith(starts)]
        if len(found) >= count:
            return found[count - 1]
        assert time.monotonic() < deadline, f"no {count} messages starting {starts!r}"
        time.sleep(0.02)


def words(message: dict) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def report(slack: Slack, count: int) -> str:
    """The ``count``-th report's summary, once its chart is uploaded (the work after the ack)."""
    assert slack.command("report", channel_id=LEADPRO).text == ""
    slack.fake.wait_for("files.completeUploadExternal", count, timeout=20)
    return words(posted(slack, REPORT, count))


def told_later(slack: Slack, text: str, timeout: float = 10) -> str:
    """What the app told the typer of ``text`` at its response URL, after acknowledging."""
    answer = slack.command(text, channel_id=LEADPRO)
    assert answer.text == ""
    path = answer.response_url.removeprefix(slack.fake.base)
    deadline = time.monotonic() + timeout
    while not (calls := [c for c in slack.fake.calls_to("response_url") if c.path == path]):
        assert time.monotonic() < deadline, f"nothing told at {path}"
        time.sleep(0.02)
    return calls[0].args["text"]


def command(slack: Slack, text: str, user: str = REPORTER) -> str:
    """What the app answered the typer: an ephemeral text, or "" for a bare acknowledgement."""
    answer = slack.command(text, channel_id=LEADPRO, user_id=user)
    return answer.ephemeral() if answer.text else ""


def test_a_backdated_outage_edited_then_deleted_moves_the_report_and_keeps_its_trail(slack):
    slack.tickets.bind_channel(TEAM, LEADPRO, "leadpro", actor=ADMIN, now=slack.clock.at)
    # Typed at 17:00; monitoring saw checkout go down at 16:15 (London).
    said = command(slack, "outage start at:16:15 checkout is down")
    assert said == (
        "Start read as Mon 23 Nov 16:15 (Europe/London). Outage #1 is recorded; it will be "
        f"announced in <#{LEADPRO}> as soon as Slack answers. {NOT_SEEN}"
    )
    declared = posted(slack, "Outage of LeadPro product support declared: checkout is down")
    assert "<!date^1795450500^" in words(declared)  # 16:15 UTC, not 17:00
    slack.clock.advance(minutes=20)
    ended = command(slack, "outage end at:-5m")
    assert ended.startswith("End read as Mon 23 Nov 17:15 (Europe/London). Outage #1 is ended;")
    posted(slack, "Outage of LeadPro product support over after 1h")

    answer = slack.command("outage list", channel_id=LEADPRO)
    answer.ephemeral()  # within Block Kit's limits
    listed = answer.json
    assert listed["text"] == "The latest 1 outage of LeadPro product support"
    assert "*#1* <!date^1795450500^" in json.dumps(listed["blocks"])

    # 60 minutes: 99.861%, so 10% is owed.
    first = report(slack, 1)
    assert "*Uptime 99.861%* (target 99.9%: *missed*)" in first
    assert "*Service credit owed: 10%*" in first

    # Only a lead (or an admin) corrects it; the refusal names who may.
    refused = command(slack, "outage edit 1 end:16:40 reason:status page", user=STRANGER)
    assert refused.startswith("you may not edit or delete a recorded outage: the leads, admins")
    assert f"Ask <@{REPORTER}>" in refused

    # The status page says checkout was back at 16:40: 25 minutes, 99.942%, no credit.
    edited = command(slack, "outage edit 1 end:2026-11-23 16:40 reason:status page says 16:40")
    assert edited.startswith(f"Outage #1 is corrected; that will be announced in <#{LEADPRO}>")
    corrected = words(posted(slack, "Outage #1 of LeadPro product support corrected"))
    assert f"<@{REPORTER}> changed end <!date^1795454100^" in corrected  # 17:15 before …
    assert "→ <!date^1795452000^" in corrected  # … 16:40 after
    assert "why: status page says 16:40" in corrected
    second = report(slack, 2)
    assert "*Uptime 99.942%* (target 99.9%: met ✓)" in second
    assert "No service credit owed." in second

    # It was a drill: deleted, it counts nowhere, and the month has nothing left to report.
    deleted = command(slack, "outage delete 1 reason:a monitoring drill")
    assert deleted.startswith("Outage #1 is deleted; that will be announced in")
    gone = posted(slack, "Outage #1 of LeadPro product support deleted")
    assert "It no longer counts in uptime or service credits" in words(gone)
    assert told_later(slack, "report").startswith("Nothing to report for leadpro in 2026-11")
    assert command(slack, "outage list") == "No outage of LeadPro product support is recorded."

    # The trail keeps every change, deleted or not: who, when, from what to what, why.
    answer = slack.command("outage show 1", channel_id=LEADPRO)
    answer.ephemeral()
    shown = answer.json
    trail = json.dumps(shown["blocks"], ensure_ascii=False)
    assert shown["text"] == "Outage #1 of LeadPro product support and its changes"
    assert "*counts nowhere*" in trail
    entries = [
        f"<@{REPORTER}> recorded it (backdated): start <!date^1795450500^",
        f"<@{REPORTER}> ended it: end <!date^1795454100^",
        f"<@{REPORTER}> changed end <!date^1795454100^",
        f"<@{REPORTER}> deleted it (it counts nowhere since) · why: a monitoring drill",
    ]
    positions = [trail.index(entry) for entry in entries]
    assert positions == sorted(positions)


@sqlite_only
def test_outage_times_and_corrections_refused_with_what_to_do(slack):
    slack.tickets.bind_channel(TEAM, LEADPRO, "leadpro", actor=ADMIN, now=slack.clock.at)
    future = command(slack, "outage start at:2026-11-24 09:00 planned work")
    assert "is still to come: an outage is recorded once it has begun" in future
    assert "/sla maintenance" in future
    unread = command(slack, "outage start at:soon")
    assert unread.startswith("I can't read at:soon: write at:-20m, at:14:05")
    assert "in Europe/London" in unread
    assert command(slack, "outage start at:16:00").startswith("Start read as")  # said back
    before = command(slack, "outage end at:15:00")
    assert "cannot end before it started" in before and "/sla outage edit ID start:" in before
    assert "Which outage?" in command(slack, "outage edit one start:16:00")
    assert "What should change?" in command(slack, "outage edit 1 reason:because")
    assert "Say why, for the audit trail" in command(slack, "outage delete 1")
    assert "no outage #7 of leadpro" in command(slack, "outage delete 7 reason:typo")
    assert slack.fake.calls_to("chat.postMessage") != []  # only the one start was announced
    assert len(slack.fake.messages(LEADPRO)) == 1
