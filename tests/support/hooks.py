"""The inbound alert hooks served for tests: a hooks file, a moving clock, the fake Slack, and
what the hooks opened (tickets, cards), for the Alertmanager, Grafana and webhook tests."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from slabot.inbound.hookroutes import parse_hooks
from slabot.inbound.http import hook_routes
from slabot.settings import Settings
from slabot.store import Store
from slabot.store.tables import Ticket
from slabot.tickets import Tickets
from support.conversation import TestClock
from support.courier import Courier
from support.fakeslack import FakeSlack

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
TOKEN = "am-shared-secret-0123456789"
HOOKS = """
workspace: T0001
channel: C0ALERTS
routes:
  - match: {service: db}
    policy: liveops
    firing: outage
  - match: {service: checkout}
    policy: liveops
    customer: Acme
    severity_from: {label: severity, values: {critical: P1, warning: P3}}
    channel: C0CHECKOUT
  - match: {team: web}
    sources: [grafana]
    policy: liveops
    severity: P2
    resolved: update
"""


def group(
    key: str = '{}:{alertname="CheckoutErrors"}',
    status: str = "firing",
    labels: dict[str, str] | None = None,
    starts: datetime = T0 - timedelta(minutes=30),
    version: str = "4",
) -> dict[str, Any]:
    """An Alertmanager webhook body as its documentation gives it."""
    labels = labels or {
        "alertname": "CheckoutErrors",
        "service": "checkout",
        "severity": "critical",
    }
    return {
        "version": version,
        "groupKey": key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "slabot",
        "groupLabels": {"alertname": labels["alertname"]},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "Checkout fails for 12% of requests"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": "Checkout fails for 12% of requests"},
                "startsAt": starts.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z"
                if status == "firing"
                else (T0 + timedelta(hours=1)).isoformat(),
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=x",
                "fingerprint": "c6eadffa33fcdf37",
            }
        ],
    }


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


class Hooks:
    """The routes, called as a WSGI server calls them."""

    def __init__(
        self, store: Store, book: Any, fake: FakeSlack, hooks: str = HOOKS, **settings: str
    ):
        self.clock = TestClock(T0)
        self.tickets = Tickets(store, book)
        self.courier = Courier.wire(store, self.tickets, fake.url, self.clock)
        values = {"slabot_alertmanager_token": TOKEN, "slabot_grafana_token": TOKEN, **settings}
        config = Settings(**values)  # type: ignore[arg-type]
        self.routes = hook_routes(config, self.tickets, parse_hooks(hooks), "T0001", self.clock)

    def post(
        self,
        path: str,
        body: bytes | dict[str, Any],
        auth: str | None = f"Bearer {TOKEN}",
        method: str = "POST",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw),
            **({"HTTP_AUTHORIZATION": auth} if auth else {}),
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()},
        }
        answer: list[str] = []
        out = b"".join(self.routes[path](environ, lambda status, h: answer.append(status)))
        return int(answer[0].split()[0]), json.loads(out)


@pytest.fixture
def hooks(store: Store, policy_book: Any, fake: FakeSlack) -> Hooks:
    return Hooks(store, policy_book, fake)


def tickets_in(store: Store) -> list[Ticket]:
    with store.reading() as session:
        return list(session.exec(select(Ticket).order_by(Ticket.c.number)))


def cards(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel) if not m.get("thread_ts")]
