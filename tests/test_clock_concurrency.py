"""How many tickets the clock performs at once: few when its CPU is the limit, up to the cap
when it waits on a slow Slack, and exactly one when it is told one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from support.desk import T0, dispatcher, open_ticket, tick
from support.desk import book as book
from support.desk import desk as desk
from support.desk import fake as fake
from support.desk import now as now

from slabot.clock.concurrency import START, WINDOW, Concurrency

LATE = 0.25  # seconds Slack takes to answer each call


def run(concurrency: Concurrency, loads: list[float]) -> list[int]:
    """The numbers wanted after each window, the process using ``load`` cores in each."""
    elapsed = cpu = 0.0
    concurrency.begin(elapsed, cpu)
    wanted = []
    step = WINDOW * 1.001  # each window just long enough, whatever the rounding
    for load in loads:
        elapsed += step
        cpu += load * step
        wanted.append(concurrency.observe(elapsed, cpu))
    return wanted


def test_a_slow_slack_gets_the_cap_within_a_second():
    """Threads waiting on Slack leave the CPU idle: the count doubles each window."""
    assert run(Concurrency(32), [0.1, 0.15, 0.3, 0.5]) == [8, 16, 32, 32]


def test_a_cpu_bound_clock_sheds_threads_down_to_two():
    assert run(Concurrency(32, wanted=32), [1.0] * 12)[-1] == 2
    assert run(Concurrency(32, wanted=32), [1.0, 1.0, 1.0]) == [24, 18, 14]


def test_between_the_two_bounds_the_count_holds():
    assert run(Concurrency(32, wanted=6), [0.7, 0.85, 0.75]) == [6, 6, 6]


def test_it_is_judged_once_a_window():
    concurrency = Concurrency(32)
    concurrency.begin(0.0, 0.0)
    assert concurrency.observe(WINDOW / 2, 0.0) == 4  # too soon to judge an idle CPU
    assert concurrency.observe(WINDOW, 0.0) == 8


def test_the_time_between_batches_is_not_judged():
    """Idle between two ticks is not a slow Slack: each batch begins a window."""
    concurrency = Concurrency(32)
    concurrency.begin(0.0, 0.0)
    concurrency.observe(0.1, 0.1)
    concurrency.begin(60.0, 0.1)  # the next batch, a minute later
    assert concurrency.observe(60.0 + WINDOW, 0.1 + 0.7 * WINDOW) == 4  # not doubled


@given(
    most=st.integers(1, 64),
    loads=st.lists(st.floats(0, 2, allow_nan=False), max_size=40),
)
def test_the_count_stays_within_one_and_the_cap(most, loads):
    wanted = run(Concurrency(most), loads)
    assert all(1 <= n <= most for n in wanted)
    if most == 1:
        assert set(wanted) <= {1}


def test_a_dispatcher_with_a_slow_slack_has_more_tickets_in_flight_than_it_starts_with(
    store, desk, fake, now
):
    """End to end through `Dispatcher.tick`: every call to Slack waits, the CPU idles, and
    more calls are in flight at once than the four threads it starts with could make."""
    for n in range(60):
        open_ticket(desk, fake, title=f"outage {n}")
    fake.delay(LATE)
    clock = dispatcher(store, desk, fake, workers=32)
    began = len(fake.calls)

    assert tick(clock, now, T0).sent == 60

    arrivals = [call.at for call in fake.calls[began:]]
    # a call arriving before an earlier one was answered was in flight with it
    assert max(sum(1 for a in arrivals if t - LATE < a <= t) for t in arrivals) > START
