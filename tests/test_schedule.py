"""A ticket's schedule from its history: what a card shows and what the clock will send."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slabot.sla import PolicyError, parse_policy
from slabot.sla.history import (
    Acknowledged,
    Opened,
    PageAcknowledged,
    SeverityChanged,
    StatusChanged,
    UpdatePosted,
)
from slabot.sla.schedule import schedule, timeline

SECPOD_FILE = Path(__file__).parent.parent / "policies" / "secpod.yaml"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Mon 09:00 in Los Angeles


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def pages(result, level=None):
    return [t for t in result.timers if t.kind == "page" and (level is None or t.level == level)]


def test_time_to_open_counts_from_the_report(policies):
    late = schedule(policies["liveops"], [Opened(T0, "p2", reported_at=h(-5))], T0)
    in_time = schedule(policies["liveops"], [Opened(T0, "p2", reported_at=h(-3))], T0)
    assert late.deadline("time_to_open").due == h(-1)
    assert late.deadline("time_to_open").state == "missed"
    assert in_time.deadline("time_to_open").state == "met"
    unreported = schedule(policies["liveops"], [Opened(T0, "p2")], T0)
    assert unreported.deadline("time_to_open") is None


def test_first_response_runs_then_breaches_then_is_met_by_an_acknowledgement(policies):
    history = [Opened(T0, "p2")]
    assert schedule(policies["liveops"], history, h(1)).deadline("first_response").state == (
        "running"
    )
    assert schedule(policies["liveops"], history, h(5)).deadline("first_response").state == (
        "breached"
    )
    acked = schedule(policies["liveops"], [*history, Acknowledged(h(2))], h(5))
    first = acked.deadline("first_response")
    assert (first.state, first.met_at, first.due) == ("met", h(2), h(4))


def test_an_update_counts_as_the_first_response(policies):
    result = schedule(policies["liveops"], [Opened(T0, "p1"), UpdatePosted(h(0.5))], h(1))
    assert result.deadline("first_response").met_at == h(0.5)


def test_updates_are_owed_from_the_first_response_and_each_update(policies):
    liveops = policies["liveops"]
    history = [Opened(T0, "p1"), Acknowledged(h(1))]
    nudges = [t for t in schedule(liveops, history, h(1)).timers if t.kind == "update_nudge"]
    assert [(t.due_at, t.stage) for t in nudges] == [(h(5), "update_every#0")]
    history.append(UpdatePosted(h(3)))
    after = schedule(liveops, history, h(3))
    nudges = [t for t in after.timers if t.kind == "update_nudge"]
    assert [(t.due_at, t.stage) for t in nudges] == [(h(7), "update_every#1")]
    assert after.deadline("update_every").due == h(7)


def test_an_update_with_a_later_eta_moves_the_nudge_to_the_eta(policies):
    history = [Opened(T0, "p1"), Acknowledged(h(1)), UpdatePosted(h(2), eta=h(10))]
    result = schedule(policies["liveops"], history, h(2))
    assert result.deadline("update_every").due == h(10)


def test_unanswered_update_nudges_repeat(policies):
    history = [Opened(T0, "p1"), Acknowledged(h(1))]
    dues = [
        t.due_at for t in timeline(policies["liveops"], history, h(14)) if t.kind == "update_nudge"
    ]
    assert dues == [h(5), h(9), h(13)]


def test_p2_goes_to_level_2_after_8_hours_without_eta_or_workaround(policies):
    liveops = policies["liveops"]
    silent = schedule(liveops, [Opened(T0, "p2"), Acknowledged(h(1))], h(2))
    assert [t.due_at for t in pages(silent, "level_2")] == [h(8)]
    assert pages(silent, "level_2")[0].trigger == "after"
    for update in (UpdatePosted(h(3), workaround=True), UpdatePosted(h(3), eta=h(30))):
        answered = schedule(liveops, [Opened(T0, "p2"), Acknowledged(h(1)), update], h(4))
        assert pages(answered, "level_2") == []
    plain = schedule(liveops, [Opened(T0, "p2"), Acknowledged(h(1)), UpdatePosted(h(3))], h(4))
    assert [t.due_at for t in pages(plain, "level_2")] == [h(8)]


def test_p1_pages_level_2_at_once_and_repeats_until_the_page_is_acknowledged(policies):
    liveops = policies["liveops"]
    history = [Opened(T0, "p1")]
    now = T0 + timedelta(minutes=65)
    level_2 = pages(schedule(liveops, history, now), "level_2")
    # the latest one owed (already due) and the next one to come
    assert [(t.repeat, t.due_at) for t in level_2] == [
        (2, T0 + timedelta(minutes=60)),
        (3, T0 + timedelta(minutes=90)),
    ]
    answered = T0 + timedelta(minutes=70)
    history.append(PageAcknowledged(answered, "level_2"))
    assert pages(schedule(liveops, history, answered), "level_2") == []


def test_raising_the_severity_applies_the_new_targets_from_the_opening(policies):
    liveops = policies["liveops"]
    history = [Opened(T0, "p3"), SeverityChanged(h(2), "p1")]
    result = schedule(liveops, history, h(2))
    assert result.severity == "p1"
    assert result.deadline("first_response").due == h(1)
    assert result.deadline("first_response").state == "breached"
    # what was already due under the new severity falls due at the moment of the change
    assert [t.due_at for t in pages(result, "level_2")][:1] == [h(2)]


def test_waiting_on_the_customer_stops_the_clock(policies):
    secpod = policies["secpod"]
    opened = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # Tue 10:00 IST
    waiting = [
        Opened(opened, "high"),
        StatusChanged(opened + timedelta(hours=1), "waiting_on_customer"),
    ]
    paused = schedule(secpod, waiting, opened + timedelta(hours=3))
    first = paused.deadline("first_response")
    assert (first.due, first.state, first.paused_by) == (None, "paused", "Waiting on customer")
    assert [t for t in paused.timers if t.target == "first_response"] == []
    resumed = [*waiting, StatusChanged(opened + timedelta(hours=3), "pending")]
    result = schedule(secpod, resumed, opened + timedelta(hours=3))
    assert result.deadline("first_response").due == opened + timedelta(hours=8)


def test_waiting_on_the_customer_brings_follow_ups_then_solves_the_ticket(policies):
    secpod = policies["secpod"]
    since = T0 + timedelta(hours=1)
    history = [
        Opened(T0, "medium"),
        Acknowledged(since),
        StatusChanged(since, "waiting_on_customer"),
    ]
    # Seed 002: "no feedback has been received from the customer after three follow-ups or
    # more than 7 days, whichever is earlier." Interpretation (policies/secpod.yaml): daily
    # follow-ups; the third has gone unanswered a day later, on day 4, before 7 days.
    events = timeline(secpod, history, since + timedelta(days=10))
    follow_ups = [t.due_at - since for t in events if t.kind == "follow_up"]
    solves = [t.due_at - since for t in events if t.kind == "auto_solve"]
    assert follow_ups == [timedelta(days=1), timedelta(days=2), timedelta(days=3)]
    assert solves == [timedelta(days=4)]  # three follow-ups come before seven days


def test_more_than_seven_days_decides_when_the_follow_ups_are_slower(policies):
    # Seed 002: "... after three follow-ups or more than 7 days, whichever is earlier." With a
    # follow-up every 2 days the third has waited its interval on day 8: 7 days come first.
    text = SECPOD_FILE.read_text().replace("follow_up_every: 1d", "follow_up_every: 2d")
    secpod = parse_policy(text)
    since = T0 + timedelta(hours=1)
    history = [Opened(T0, "medium"), StatusChanged(since, "waiting_on_customer")]
    events = timeline(secpod, history, since + timedelta(days=10))
    assert [t.due_at - since for t in events if t.kind == "follow_up"] == [
        timedelta(days=2),
        timedelta(days=4),
        timedelta(days=6),
    ]
    assert [t.due_at - since for t in events if t.kind == "auto_solve"] == [timedelta(days=7)]


def test_a_solved_ticket_closes_itself_and_can_be_reopened_for_three_days(policies):
    secpod = policies["secpod"]
    history = [Opened(T0, "medium"), Acknowledged(h(1)), StatusChanged(h(2), "resolved")]
    result = schedule(secpod, history, h(3))
    assert [(t.kind, t.due_at) for t in result.timers] == [("auto_close", h(2 + 72))]
    assert result.reopen_until == h(2 + 72)


def test_a_resolved_ticket_owes_no_reminder_or_page(policies):
    history = [Opened(T0, "p1"), StatusChanged(h(0.5), "resolved")]
    result = schedule(policies["liveops"], history, h(0.5))
    assert result.timers == ()
    assert result.deadline("first_response").state == "met"


def test_time_between_resolving_and_reopening_does_not_count(policies):
    leadsquared = policies["leadsquared"]
    opened = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)  # Mon 11:00 IST, inside support hours
    history = [
        Opened(opened, "urgent"),
        Acknowledged(opened + timedelta(minutes=10)),
        StatusChanged(opened + timedelta(hours=1), "resolved"),
        StatusChanged(opened + timedelta(hours=3), "open"),
    ]
    result = schedule(leadsquared, history, opened + timedelta(hours=3))
    assert result.deadline("resolution").due == opened + timedelta(hours=6)
    assert result.deadline("resolution").state == "running"


def test_a_ticket_opened_outside_hours_says_when_its_clock_resumes(policies):
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    result = schedule(policies["leadpro"], [Opened(saturday, "low")], saturday)
    first = result.deadline("first_response")
    assert first.resumes_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert first.due == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


def test_next_breach_is_the_earliest_running_deadline(policies):
    result = schedule(policies["leadsquared"], [Opened(T0, "urgent")], T0)
    assert result.next_breach is result.deadline("first_response")


@pytest.mark.parametrize("name", ["leadsquared", "leadpro", "secpod", "liveops", "helpdesk-p1-p6"])
def test_timer_keys_are_unique_within_a_ticket(policies, name):
    policy = policies[name]
    for severity in policy.severities:
        history = [Opened(T0, severity.key), Acknowledged(h(30))]
        events = timeline(policy, history, h(24 * 14))
        keys = [t.key for t in events]
        assert len(keys) == len(set(keys)), severity.key


def test_each_update_cycle_has_its_own_reminder(policies):
    liveops = policies["liveops"]
    history = [Opened(T0, "p1"), Acknowledged(h(1))]
    first = [t for t in schedule(liveops, history, h(1)).timers if t.target == "update_every"]
    assert [(t.kind, t.due_at) for t in first] == [
        ("reminder", h(1 + 4 * 0.8)),
        ("update_nudge", h(5)),
    ]
    history.append(UpdatePosted(h(2)))
    second = [t for t in schedule(liveops, history, h(2)).timers if t.kind == "reminder"]
    assert [(t.stage, t.due_at) for t in second] == [("update_every#1@80%", h(2 + 4 * 0.8))]


def test_time_to_open_cannot_have_reminders():

    text = (Path(__file__).parent.parent / "policies" / "liveops.yaml").read_text()
    with pytest.raises(PolicyError, match=r"reminders\.time_to_open"):
        parse_policy(text.replace("reminders:\n", 'reminders:\n  time_to_open: ["50%"]\n'))
