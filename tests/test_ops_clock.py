"""The clock's metrics, counted where `slabot.cli.clockwork.build` counts them: around the
notifier (deliveries by kind, their lag, pages, dead timers), in the pagers' HTTP transport and
in the Slack client's retry handlers. The dispatcher is the real one, on the harness of
`test_clock_dispatch` (a fake Slack, a test clock); the pagers' far end is an httpx
MockTransport standing in for PagerDuty and a webhook."""

# The harness's fixtures are imported by name, so tests' parameters shadow them: F811 is noise.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import httpx
from support.desk import (  # noqa: F401  (fixtures)
    ENV,
    HOUR,
    MIN,
    SEC,
    T0,
    book,
    desk,
    fake,
    now,
    open_ticket,
    tick,
)

from slabot.clock.dispatch import Dispatcher
from slabot.notify import Fanout
from slabot.notify.pagers import Pagers
from slabot.notify.slack import SlackNotifier
from slabot.ops.metrics import Metrics
from slabot.ops.observers import ClockWatch, ObservedNotifier, count_slack_calls
from slabot.ops.pager_calls import PagerCalls
from slabot.ops.probes import Heartbeat
from slabot.store import Store
from slabot.tickets import Tickets


def observed(
    store: Store, desk: Tickets, fake: Any, metrics: Metrics, answer: Any = None
) -> Dispatcher:
    """A dispatcher whose notifier, Slack client and pagers are counted as in production."""
    from slack_sdk import WebClient

    client = count_slack_calls(
        WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[]), metrics
    )
    far_end = httpx.MockTransport(answer or (lambda request: httpx.Response(202)))
    pagers = Pagers(httpx.Client(transport=PagerCalls(metrics, far_end)), env=ENV)
    notifier = ObservedNotifier(Fanout([SlackNotifier(client), pagers]), metrics)
    return Dispatcher(store, desk, notifier, name="clock-a")


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_page_to_pagers_is_counted_by_kind_level_lag_and_far_end(store, desk, fake, now):
    metrics = Metrics()
    answers = iter([httpx.Response(202), httpx.Response(429, headers={"Retry-After": "30"})])

    def far_end(request: httpx.Request) -> httpx.Response:
        return next(answers)

    open_ticket(desk, fake, policy="pagerdemo")  # P1: level 2 is paged at open
    before = len(fake.calls_to("chat.postMessage", ok=True))  # the card and its first reply
    report = tick(observed(store, desk, fake, metrics, far_end), now, T0 + 2 * MIN)

    assert report.retried == 1  # the webhook's 429: the page is tried again later
    assert value(metrics, "slabot_pager_calls_total", host="events.pagerduty.com", outcome="2xx")
    assert value(metrics, "slabot_pager_calls_total", host="hooks.example.com", outcome="429")
    assert value(metrics, "slabot_clock_deliveries_total", kind="page", outcome="failed") == 1
    assert value(metrics, "slabot_pages_total", level="level_2") == 0  # not delivered yet
    sent = value(metrics, "slabot_slack_calls_total", method="chat.postMessage", outcome="ok")
    assert sent == len(fake.calls_to("chat.postMessage", ok=True)) - before > 0


def test_a_delivered_page_counts_its_level_and_lag(store, desk, fake, now):
    metrics = Metrics()
    open_ticket(desk, fake)  # LiveOps P1, paged at open
    tick(observed(store, desk, fake, metrics), now, T0 + 30 * SEC)  # within the grace: on time

    assert value(metrics, "slabot_clock_deliveries_total", kind="page", outcome="sent") == 1
    assert value(metrics, "slabot_pages_total", level="level_2") == 1
    assert value(metrics, "slabot_clock_lag_seconds_count", kind="page") == 1
    assert value(metrics, "slabot_clock_lag_seconds_sum", kind="page") == 30.0
    # Two minutes late, the next ticket's page is counted late.
    open_ticket(desk, fake, at=T0 + MIN)
    tick(observed(store, desk, fake, metrics), now, T0 + 3 * MIN)
    assert value(metrics, "slabot_clock_deliveries_total", kind="page", outcome="late") == 1
    assert value(metrics, "slabot_clock_lag_seconds_sum", kind="page") == 150.0


def test_a_timer_slack_refuses_is_counted_refused_and_dead(store, desk, fake, now):
    metrics = Metrics()
    open_ticket(desk, fake, severity="p3")
    fake.respond("chat.postMessage", {"ok": False, "error": "not_in_channel"}, times=1)

    report = tick(observed(store, desk, fake, metrics), now, T0 + 4 * HOUR)

    assert report.dead == 1
    assert value(metrics, "slabot_clock_deliveries_total", kind="reminder", outcome="refused")
    assert value(metrics, "slabot_clock_dead_timers_total", kind="reminder") == 1
    assert value(
        metrics, "slabot_slack_calls_total", method="chat.postMessage", outcome="not_in_channel"
    )


def test_an_unreachable_pager_is_counted_as_connection(store, desk, fake, now):
    metrics = Metrics()

    def far_end(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    open_ticket(desk, fake, policy="pagerdemo")
    tick(observed(store, desk, fake, metrics, far_end), now, T0 + 2 * MIN)

    assert value(
        metrics, "slabot_pager_calls_total", host="events.pagerduty.com", outcome="connection"
    )


def test_timers_are_counted_by_kind_and_outcome_dropped_ones_too(store, desk, fake, now):
    """A clock down for two hours: the page's earlier repeats are dropped (superseded), the
    latest go out late, and each is counted under its own kind."""
    metrics = Metrics()
    watch = ClockWatch(metrics, Heartbeat(1.0))
    open_ticket(desk, fake)  # LiveOps P1: paged at open, repeating
    clock = observed(store, desk, fake, metrics)
    for at in (T0 + 2 * HOUR + 5 * MIN, T0 + 2 * HOUR + 6 * MIN):
        watch.tick(tick(clock, now, at))

    dropped = value(metrics, "slabot_clock_timers_total", kind="page", outcome="dropped")
    assert dropped >= 1
    assert value(metrics, "slabot_clock_timers_total", kind="page", outcome="late") >= 1
    assert value(metrics, "slabot_clock_timers_total", kind="page", outcome="on_time") == 0
    counted = {
        (s.labels["kind"], s.labels["outcome"])
        for family in metrics.registry.collect()
        if family.name == "slabot_clock_timers"
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert ("page", "dropped") in counted and all(kind for kind, _ in counted)


def test_the_pagers_client_is_made_at_the_first_page_and_only_once(store, desk, fake, now):
    """The clock hands the pagers a maker, so httpx waits for the first page (start-up)."""
    from slack_sdk import WebClient

    made, sent = [], []

    def far_end(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.host)
        return httpx.Response(202)

    def client() -> httpx.Client:
        made.append(1)
        return httpx.Client(transport=httpx.MockTransport(far_end))

    pagers = Pagers(client, env=ENV)
    slack = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    dispatcher = Dispatcher(store, desk, Fanout([SlackNotifier(slack), pagers]), name="clock-a")
    tick(dispatcher, now, T0)  # nothing due yet: no page, no client
    assert made == []

    open_ticket(desk, fake, policy="pagerdemo")  # P1: level 2 is paged at open
    tick(dispatcher, now, T0 + 2 * MIN)

    assert sorted(sent) == ["events.pagerduty.com", "hooks.example.com"]
    assert made == [1]
