"""The Prometheus metrics of one slabot process, in a registry of its own.

Each process (``slabot serve``, ``slabot clock``) counts what it did itself: its requests,
its clock's ticks, its calls to Slack and the pagers. ``serve`` is one process with threads,
so one registry per process is right; several replicas are several scrape targets, and
Prometheus adds them up with ``sum`` (README, "Running it as a service"). The ticket figures
(open and overdue tickets) are read from the database at each scrape, so every replica shows
the same, whole figure: take ``max``, not ``sum``, of those.

Names follow Prometheus's conventions: a ``slabot_`` prefix, base units (seconds), ``_total``
on counters (prometheus_client adds it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from ..store import Store
from ..store.tables import Ticket

log = logging.getLogger(__name__)

# From a quick slash command (tens of milliseconds) to Slack's 3-second acknowledgement limit.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
# A timer's lag, due to sent: within a tick on a healthy clock, minutes behind a Slack outage.
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class Metrics:
    """Every instrument of one process. A fresh registry each, so tests (and two apps in one
    process) never see each other's figures."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "slabot_requests",
            "HTTP requests by surface (from Slack: command, interaction, event; the hooks: "
            "hook_alertmanager, hook_grafana, hook_inbound; the HTTP API: api) and outcome",
            ["surface", "outcome"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "slabot_request_duration_seconds",
            "Time to answer a request, by surface",
            ["surface"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.ticks = Counter(
            "slabot_clock_ticks", "Runs of the clock's tick job that finished", registry=r
        )
        self.last_tick = Gauge(
            "slabot_clock_last_tick_timestamp_seconds",
            "When the clock last finished a tick (Unix time)",
            registry=r,
        )
        self.leader = Gauge(
            "slabot_clock_leader",
            "1 while this clock (named by the label) leads and dispatches, else 0",
            ["clock"],
            registry=r,
        )
        self.timers = Counter(
            "slabot_clock_timers",
            "Timers the clock recorded, by kind and outcome: "
            "on_time, late, dropped, retried, dead, paced",
            ["kind", "outcome"],
            registry=r,
        )
        self.deliveries = Counter(
            "slabot_clock_deliveries",
            "Attempts at delivering a timer, by kind and outcome: sent, late, failed "
            "(retryable), refused (only a person can fix it), paced (held to Slack's limits)",
            ["kind", "outcome"],
            registry=r,
        )
        self.gave_up = Counter(
            "slabot_clock_dead_timers",
            "Timers given up on (dead), by kind",
            ["kind"],
            registry=r,
        )
        self.lag = Histogram(
            "slabot_clock_lag_seconds",
            "From a timer's due time to its delivery, by kind",
            ["kind"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.pages = Counter(
            "slabot_pages",
            "Escalation pages delivered, by level",
            ["level"],
            registry=r,
        )
        self.slack_calls = Counter(
            "slabot_slack_calls",
            "Slack Web API answers by method and outcome: ok, Slack's error code, "
            "ratelimited (429), http_5xx, connection",
            ["method", "outcome"],
            registry=r,
        )
        self.pager_calls = Counter(
            "slabot_pager_calls",
            "HTTP calls to pagers (PagerDuty, webhooks) by host and outcome: 2xx, 4xx, 429, "
            "5xx, connection",
            ["host", "outcome"],
            registry=r,
        )

    def watch_tickets(self, store: Store, now: Callable[[], datetime] | None = None) -> None:
        """Add the open and overdue tickets, read from ``store`` at each scrape."""
        self.registry.register(TicketCollector(store, now or (lambda: datetime.now(UTC))))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class TicketCollector(Collector):
    """Open tickets, and those past a running deadline, by policy and severity.

    Read at scrape time rather than counted, so a restart loses nothing and every replica
    agrees. An unreachable database leaves the figures out of that scrape (the readiness probe
    says why) rather than failing the whole scrape."""

    def __init__(self, store: Store, now: Callable[[], datetime]):
        self.store = store
        self.now = now

    def describe(self) -> Iterable[Any]:
        return []  # the families are only known by reading the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["policy", "severity"]
        opened = GaugeMetricFamily("slabot_open_tickets", "Open tickets", labels=labels)
        overdue = GaugeMetricFamily(
            "slabot_overdue_tickets",
            "Open tickets whose nearest running deadline has passed (breached, not yet met)",
            labels=labels,
        )
        now = self.now()
        late = case((Ticket.c.next_due_at <= now, 1), else_=0)
        query = (
            select(Ticket.c.policy, Ticket.c.severity, func.count(), func.sum(late))
            .where(Ticket.c.active)
            .group_by(Ticket.c.policy, Ticket.c.severity)
        )
        try:
            with self.store.reading() as session:
                rows = session.exec(query).all()
        except Exception as exc:
            log.warning("no ticket figures in this scrape: %s", str(exc).splitlines()[0])
            return
        for policy, severity, count, overdue_count in rows:
            opened.add_metric([policy, severity], count)
            overdue.add_metric([policy, severity], overdue_count or 0)
        yield opened
        yield overdue


def exposition_app(metrics: Metrics) -> Callable[..., Iterable[bytes]]:
    """``/metrics`` as a WSGI app."""

    def app(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [metrics.exposition()]

    return app
