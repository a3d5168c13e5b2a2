"""Hand-offs, end to end over the fake Slack: at each change of who is on call (the rotation's
own turn, an override starting or ending) the rotation's user group holds exactly the person on
call, and its channel reads one announcement, whatever happens to the clock in between: run
twice, restarted, two of them, or killed between claiming a hand-off and recording it.
SQLite and PostgreSQL.

A user relies on: ``@support-oncall`` always reaching whoever is on call, and the channel
saying each change once, never a burst of stale ones after an outage.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support.desk import DAY, HOUR, MIN, SEC, T0, Now
from support.fakeslack import FakeSlack

from slabot.cli.clockwork import build
from slabot.clock.handoffs import HandOffDuty
from slabot.oncall import OnCall
from slabot.oncall.handoffs import LEASE, HandOffs
from slabot.policies import PolicyBook
from slabot.settings import load_settings
from slabot.sla.ical import Slot
from slabot.sla.loader import parse_team
from slabot.sla.oncall import Team
from slabot.slack.handoffs import ASK_AGAIN, EVENT_TYPE, SlackHandOffs, token_workspace
from slabot.slack.keepalive import KeepAliveWebClient
from slabot.store import Store

ROOT = Path(__file__).resolve().parent.parent
ANNOUNCE, GROUP = "CONCALL", "SONCALL"
# Ben's week began Monday 16 November 09:00 in Los Angeles; Ana's begins at T0 (the 23rd).
TEAM = f"""
rotations:
  - key: support
    label: Support on call
    people: [UBEN, UANA]
    timezone: America/Los_Angeles
    starts: 2026-11-16
    handoff: "09:00"
    every: 1w
    announce: {ANNOUNCE}
    usergroup: {GROUP}
"""
COVER_FROM, COVER_TO = T0 + 2 * DAY, T0 + 3 * DAY  # Cat covers Ana Wednesday to Thursday
NEXT_WEEK = T0 + 7 * DAY  # Ben again


NOW = Now()  # the fake's clock: its messages' ts are the test's instants, not today's


@pytest.fixture
def fake() -> Any:
    with FakeSlack(clock=NOW.seconds) as fake:
        fake.groups[GROUP] = ["USOMEONE"]
        yield fake


@pytest.fixture
def team() -> Team:
    return parse_team(TEAM)


class Duty(HandOffDuty):
    """The hand-off duty, moving the fake's clock to each tick's instant."""

    def tick(self, now: datetime) -> int:
        NOW.value = now
        return super().tick(now)


def duty(
    store: Store, team: Team, fake: FakeSlack, name: str = "clock-a", timeout: float = 30
) -> Duty:
    """The clock's hand-off duty as `slabot.cli.clockwork.build` makes it (a fresh one: a
    restarted clock keeps nothing in memory), with the fake's clock at each tick's instant;
    over the clock's own client, waiting ``timeout`` seconds for Slack's answers."""
    client = KeepAliveWebClient(
        token="xoxb-test", base_url=fake.url, timeout=timeout, retry_handlers=[]
    )
    return Duty(HandOffs(store, name), team, SlackHandOffs(client), lambda: "T1")


def announcements(fake: FakeSlack) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.messages(ANNOUNCE)
        if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    ]


def cover(
    store: Store, team: Team, person: str, start: datetime, end: datetime, workspace: str = "T1"
) -> None:
    OnCall(store, team, admins={"UADMIN"}).override(
        workspace, "support", person, starts_at=start, ends_at=end, actor="UADMIN", now=T0 - HOUR
    )


def test_each_handoff_of_a_weekly_rotation_with_an_override_sets_the_group_and_is_said_once(
    store, team, fake
):
    cover(store, team, "UCAT", COVER_FROM, COVER_TO)
    steps = [
        (T0 + SEC, "UANA", "UCAT"),  # Ana's week; Cat is next (covering)
        (COVER_FROM + SEC, "UCAT", "UANA"),  # the cover starts
        (COVER_TO + SEC, "UANA", "UBEN"),  # it ends: Ana again until Monday
        (NEXT_WEEK + SEC, "UBEN", "UANA"),  # Ben's week
    ]
    for count, (at, person, then) in enumerate(steps, start=1):
        clock = duty(store, team, fake, name=f"clock-{count}")  # a restart before each
        clock.tick(at)
        clock.tick(at + MIN)  # and the same clock again a minute on
        duty(store, team, fake, name="standby").tick(at + 2 * MIN)  # and a second replica
        assert fake.members(GROUP) == [person], at
        said = announcements(fake)
        assert len(said) == count, [m["text"] for m in said]
        assert said[-1]["text"].startswith(f":arrows_counterclockwise: <@{person}> is on call")
        assert f"next: <@{then}>" in said[-1]["text"]
        assert "late" not in said[-1]["text"]
    updates = fake.calls_to("usergroups.users.update", ok=True)
    assert [c.args["users"] for c in updates] == ["UANA", "UCAT", "UANA", "UBEN"]


def test_a_clock_killed_between_claim_and_record_is_not_announced_twice(store, team, fake):
    """Clock A claims Ana's hand-off, sets the group and posts, then dies before recording it;
    clock B takes the claim over after the lease, finds A's post in the channel (its metadata
    names the hand-off) and records it without posting again."""
    a = duty(store, team, fake, name="clock-a")
    [claim] = a.handoffs.claim("T1", team.rotations, T0 + SEC)
    NOW.value = T0 + SEC
    a.notifier.hand_off(claim)  # performed, never recorded: killed here
    assert len(announcements(fake)) == 1

    duty(store, team, fake, name="clock-b").tick(T0 + 2 * SEC)  # within the lease: A's still
    duty(store, team, fake, name="clock-b").tick(T0 + LEASE + 2 * SEC)
    duty(store, team, fake, name="clock-c").tick(T0 + LEASE + 3 * MIN)

    assert len(announcements(fake)) == 1
    assert fake.members(GROUP) == ["UANA"]
    histories = fake.calls_to("conversations.history", ok=True)
    assert [c.args["channel"] for c in histories] == [ANNOUNCE]  # B looked, C had no need


def test_a_clock_killed_before_posting_announces_once_after_the_lease(store, team, fake):
    a = duty(store, team, fake, name="clock-a")
    assert a.handoffs.claim("T1", team.rotations, T0 + SEC)  # then dies
    duty(store, team, fake, name="clock-b").tick(T0 + LEASE + 2 * SEC)
    duty(store, team, fake, name="clock-b").tick(T0 + LEASE + 3 * SEC)
    assert len(announcements(fake)) == 1
    assert fake.members(GROUP) == ["UANA"]


def test_a_clock_down_for_more_than_a_shift_announces_only_the_latest_saying_it_is_late(
    store, team, fake
):
    """The clock was down from before Ana's week to after Ben's began: Ana's hand-off was
    missed by more than a shift and is never said; Ben's is, once, as late."""
    duty(store, team, fake).tick(NEXT_WEEK + 3 * HOUR)
    duty(store, team, fake).tick(NEXT_WEEK + 4 * HOUR)
    [said] = announcements(fake)
    assert said["text"].startswith(":arrows_counterclockwise: <@UBEN> is on call")
    assert "Announced late" in said["text"]
    assert fake.members(GROUP) == ["UBEN"]


def test_an_announcement_slack_made_without_answering_is_found_not_posted_again(store, team, fake):
    """Slack performs the post and never answers: the clock cannot tell whether it arrived, so
    the next attempt reads the channel first and finds it."""
    fake.hang(None, "chat.postMessage", channel=ANNOUNCE)
    duty(store, team, fake, timeout=0.5).tick(T0 + SEC)
    fake.heal()
    assert len(announcements(fake)) == 1  # it arrived, though nobody was told
    duty(store, team, fake).tick(T0 + MIN)  # after the backoff
    duty(store, team, fake).tick(T0 + 10 * MIN)
    assert len(announcements(fake)) == 1
    assert len(fake.calls_to("conversations.history", ok=True)) == 1


def test_slack_failing_the_announcement_is_retried_later_and_said_once(store, team, fake):
    fake.fail_next("chat.postMessage", status=500)
    duty(store, team, fake).tick(T0 + SEC)
    assert announcements(fake) == []
    duty(store, team, fake).tick(T0 + 5 * SEC)  # the backoff still runs: nothing
    duty(store, team, fake).tick(T0 + MIN)
    duty(store, team, fake).tick(T0 + 2 * MIN)
    assert len(announcements(fake)) == 1
    assert fake.members(GROUP) == ["UANA"]


def test_a_group_slack_does_not_know_is_logged_and_the_handoff_still_announced(store, team, fake):
    del fake.groups[GROUP]
    duty(store, team, fake).tick(T0 + SEC)
    assert len(announcements(fake)) == 1
    [update] = fake.calls_to("usergroups.users.update")
    assert update.response["error"] == "no_such_subteam"


def test_the_clock_as_built_performs_handoffs_in_the_bot_tokens_workspace(store, team, fake):
    """`slabot clock` and `serve` build the duty in: a rotation naming no workspace is the bot
    token's (asked of Slack once), whose covers count."""
    cover(store, team, "UCAT", T0, T0 + DAY, workspace=fake.team_id)
    settings = load_settings(
        _env_file=None,
        slack_signing_secret="test-signing-secret",
        slack_bot_token="xoxb-test",
        slack_api_url=fake.url,
    )
    clock = build(settings, store, PolicyBook.load(ROOT / "policies"), team=team)
    for at in (T0 + SEC, T0 + 2 * SEC):
        NOW.value = at
        clock.now = lambda at=at: at
        clock.run()
    clock.stop()
    [said] = announcements(fake)
    assert said["text"].startswith(":arrows_counterclockwise: <@UCAT> is on call")
    assert fake.members(GROUP) == ["UCAT"]
    assert len(fake.calls_to("auth.test")) == 1


def test_a_handoff_is_said_once_however_long_ago_the_cover_before_it_ended(store, team, fake):
    """Cat covers from 11:00 on Ana's first day (the clock came up just before); Ana takes
    over on Tuesday, said once: not again on Thursday or Sunday, when Cat's cover is days old
    (Ana's week would then seem to run from Monday, a hand-off never said)."""
    cover(store, team, "UCAT", T0 + 2 * HOUR, T0 + DAY)
    for at in (T0 + 2 * HOUR + SEC, T0 + DAY + SEC, T0 + 3 * DAY, T0 + 6 * DAY):
        duty(store, team, fake).tick(at)
    assert [m["text"].split(" is on call")[0] for m in announcements(fake)] == [
        ":arrows_counterclockwise: <@UCAT>",
        ":arrows_counterclockwise: <@UANA>",
    ]
    assert fake.members(GROUP) == ["UANA"]


CALENDAR = f"""
rotations:
  - key: platform
    timezone: UTC
    ical: {{url: platform.ics}}
    announce: {ANNOUNCE}
    usergroup: {GROUP}
"""


def test_a_calendar_rotations_events_are_handoffs_and_a_gap_is_said_as_nobody(store, fake):
    calendar = parse_team(CALENDAR)
    day = T0.replace(hour=0)
    calendar.rotation("platform").use_calendar(
        (
            Slot(day + 10 * HOUR, day + 18 * HOUR, "UANA"),
            Slot(day + 18 * HOUR, day + 22 * HOUR, "UBEN"),
        )
    )
    for hours in (8, 8.001, 10.001, 18.001, 22.001, 23):  # from before the first event on
        duty(store, calendar, fake).tick(day + hours * HOUR)
    said = [m["text"] for m in announcements(fake)]
    assert [t.split(" is on call")[0] for t in said] == [
        ":arrows_counterclockwise: <@UANA>",
        ":arrows_counterclockwise: <@UBEN>",
        ":arrows_counterclockwise: Nobody",
    ]
    assert fake.members(GROUP) == ["UBEN"]  # Slack keeps no empty group: left as it was


def test_the_bot_tokens_workspace_is_asked_once_and_not_at_every_tick_while_slack_fails(fake):
    seconds = [0.0]
    client = KeepAliveWebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    home = token_workspace(client, clock=lambda: seconds[0])
    fake.fail_next("auth.test", status=500)
    assert home() is None
    seconds[0] = ASK_AGAIN - 1
    assert home() is None  # not asked again yet
    seconds[0] = ASK_AGAIN + 1
    assert home() == home() == fake.team_id
    assert len(fake.calls_to("auth.test")) == 2
