"""Slack's per-channel limit kept by the clock (`slabot.slack.pacing.Pacer`), before any 429."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slabot.slack.pacing import FORGET, Pacer

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
SEC = timedelta(seconds=1)


def test_posts_to_one_channel_are_booked_a_second_apart_and_find_their_slot_waiting():
    pacer = Pacer()

    waits = [pacer.wait("C1", f"r{n}", T0) for n in range(4)]

    assert waits == [0, 1, 2, 3]
    # each comes back at its slot and goes, without booking another
    assert pacer.wait("C1", "r2", T0 + 2 * SEC) == 0
    assert pacer.wait("C1", "r1", T0 + 2 * SEC) == 0  # late for its slot: goes at once
    assert pacer.wait("C1", "r3", T0 + 2 * SEC) == 1  # early: still its own slot
    assert pacer.wait("C1", "r4", T0 + 2 * SEC) == 2  # a newcomer queues after r3


def test_a_full_channel_holds_only_its_own_posts():
    pacer = Pacer()
    for n in range(10):
        pacer.wait("CBUSY", f"r{n}", T0)

    assert [pacer.wait(f"C{n}", "x", T0) for n in range(5)] == [0] * 5


def test_a_burst_passes_at_once_then_the_pace_holds():
    pacer = Pacer(burst=3)

    assert [pacer.wait("C1", f"r{n}", T0) for n in range(5)] == [0, 0, 0, 1, 2]
    # a quiet channel earns its burst back
    assert [pacer.wait("C1", f"s{n}", T0 + 10 * SEC) for n in range(4)] == [0, 0, 0, 1]


def test_a_page_takes_the_earliest_slot_a_reminder_booked_and_the_reminder_queues_again():
    pacer = Pacer()
    assert [pacer.wait("C1", f"r{n}", T0) for n in range(3)] == [0, 1, 2]

    assert pacer.wait("C1", "page", T0, urgent=True) == 1  # r1's slot
    assert pacer.wait("C1", "page2", T0, urgent=True) == 2  # r2's slot, not after r1

    # r1 comes back for its old slot and learns its new one, after everything booked
    assert pacer.wait("C1", "r1", T0 + SEC) == 2
    assert pacer.wait("C1", "page", T0 + SEC) == 0
    assert pacer.wait("C1", "r3", T0 + SEC) == 4  # the line goes on after r1 and r2


def test_a_page_with_a_free_slot_bumps_nobody():
    pacer = Pacer()
    pacer.wait("C1", "r0", T0)
    pacer.wait("C1", "r1", T0)

    assert pacer.wait("C1", "page", T0 + 5 * SEC, urgent=True) == 0
    assert pacer.wait("C1", "r1", T0 + 5 * SEC) == 0


def test_a_429_moves_the_channel_past_its_retry_after_and_forgets_its_bookings():
    pacer = Pacer()
    for n in range(3):
        pacer.wait("C1", f"r{n}", T0)

    pacer.limited("C1", T0 + 30 * SEC)

    assert pacer.wait("C1", "r1", T0 + SEC) == 29  # booked again, after Slack's wait
    assert pacer.wait("C1", "r2", T0 + 2 * SEC) == 29
    assert pacer.wait("C2", "x", T0 + SEC) == 0


def test_bookings_nobody_came_back_for_are_forgotten():
    pacer = Pacer()
    for n in range(3):
        pacer.wait("C1", f"r{n}", T0)

    later = T0 + FORGET + 10 * SEC
    assert pacer.wait("C1", "new", later) == 0
    assert pacer.wait("C1", "r2", later) == 1  # its slot forgotten: queued like a newcomer


def test_a_pacer_needs_a_pace():
    with pytest.raises(ValueError, match="positive interval"):
        Pacer(burst=0)
    with pytest.raises(ValueError, match="positive interval"):
        Pacer(interval=timedelta(0))
