"""Alerts end to end: a real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``,
installed by ``.ci/run``) sends its webhook to a real ``slabot serve``, which posts to
`FakeSlack`; on SQLite and PostgreSQL.

The test pushes alerts to Alertmanager's own API (``/api/v2/alerts``) as Prometheus does, so
grouping, group keys, retries and the resolved notification are Alertmanager's, not ours.
Alertmanager keeps the machine's real clock while .ci/run may move slabot's and the test's a
year ahead, so the test never writes an alert time itself: the alert starts when Alertmanager
says, and ends at that same instant (an end not after its clock's now is resolved).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.conversation import POLICIES, SECRET, clean_env, free_port
from support.fakeslack import FakeSlack
from support.properties import in_ci

from slabot.store import Store
from slabot.store.tables import Ticket

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
TOKEN = "am-e2e-shared-secret-0123456789"
BOT = "xoxb-test-0123456789-secret-token"
HOOKS = """
workspace: T0001
channel: C0ALERTS
routes:
  - match: {service: checkout}
    policy: liveops
    severity_from: {label: severity, values: {critical: P1, warning: P3}}
    resolved: resolve
"""

pytestmark = pytest.mark.skipif(
    ALERTMANAGER is None and not in_ci(),
    reason="prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)",
)


def wait_until(what: str, check: Callable[[], Any], *logs: Path, limit: float = 60) -> Any:
    deadline = time.monotonic() + limit
    while not (found := check()):
        if time.monotonic() > deadline:
            said = "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in logs)
            raise AssertionError(f"waited {limit:.0f} s for {what}\n{said}")
        time.sleep(0.2)
    return found


def http(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read()
    return json.loads(text) if text.strip() else None


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Started:
    """A process writing to a log file; killed at the end."""

    def __init__(self, args: list[str], log: Path, **kwargs: Any):
        self.log = log
        self.popen = subprocess.Popen(
            args, stdout=log.open("wb"), stderr=subprocess.STDOUT, **kwargs
        )

    def stop(self) -> None:
        self.popen.kill()
        self.popen.wait()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(clock=time.time) as fake:
        yield fake


def tickets_in(store: Store) -> list[Ticket]:
    with store.reading() as session:
        return list(session.exec(select(Ticket).order_by(Ticket.c.number)))


def test_a_real_alertmanager_opens_one_ticket_per_group_and_resolves_it(tmp_path, fake, store):
    assert ALERTMANAGER is not None, "CI installs prometheus-alertmanager: see .ci/run"
    slabot_port, am_port = free_port(), free_port()
    (tmp_path / "hooks.yaml").write_text(HOOKS)
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_BOT_TOKEN=BOT,
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=store.url.render_as_string(hide_password=False),
        SLABOT_POLICIES=str(POLICIES),
        SLABOT_HOOKS=str(tmp_path / "hooks.yaml"),
        SLABOT_ALERTMANAGER_TOKEN=TOKEN,
    )
    serve = Started(
        [
            *(sys.executable, "-m", "slabot", "serve"),  # its clock posts the card
            *("--host", "127.0.0.1", "--port", str(slabot_port)),
        ],
        tmp_path / "serve.log",
        env=env,
        cwd=tmp_path,
    )
    # Alertmanager's receiver is slabot's hook, with the secret as basic auth's password.
    config = {
        "route": {
            "receiver": "slabot",
            "group_by": ["alertname", "service"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "2s",
        },
        "receivers": [
            {
                "name": "slabot",
                "webhook_configs": [
                    {
                        "url": f"http://127.0.0.1:{slabot_port}/hooks/alertmanager",
                        "send_resolved": True,
                        "http_config": {"basic_auth": {"username": "am", "password": TOKEN}},
                    }
                ],
            }
        ],
    }
    (tmp_path / "alertmanager.yml").write_text(json.dumps(config))  # JSON is YAML
    manager = Started(
        [
            ALERTMANAGER,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",  # one instance, no gossip port
        ],
        tmp_path / "alertmanager.log",
    )
    logs = (serve.log, manager.log)
    am = f"http://127.0.0.1:{am_port}"
    labels = {"alertname": "CheckoutErrors", "service": "checkout", "severity": "critical"}
    annotations = {"summary": "Checkout fails for 12% of requests"}
    try:
        wait_until(
            "slabot serve", lambda: answers(f"http://127.0.0.1:{slabot_port}/healthz"), *logs
        )
        wait_until("Alertmanager", lambda: answers(f"{am}/-/ready"), *logs)

        http("POST", f"{am}/api/v2/alerts", [{"labels": labels, "annotations": annotations}])
        [ticket] = wait_until("the ticket", lambda: tickets_in(store), *logs)
        [alert] = http("GET", f"{am}/api/v2/alerts")
        started = datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00"))
        assert (ticket.source, ticket.severity, ticket.channel) == (
            "alertmanager",
            "p1",
            "C0ALERTS",
        )
        assert ticket.source_ref.endswith('{alertname="CheckoutErrors", service="checkout"}')
        # The clock starts when Alertmanager saw the alert (to the microsecond it stored).
        assert abs((ticket.reported_at - started).total_seconds()) < 0.001
        card = wait_until("the card", lambda: [m for m in fake.messages("C0ALERTS")], *logs)[0]
        assert "Checkout fails for 12% of requests" in card["text"]
        assert "from Alertmanager" in json.dumps(card["blocks"])

        # A second alert joins the group, and the repeat interval passes: the group is sent
        # again (visible in Alertmanager's log only as successes), and it stays one ticket.
        second = {**labels, "instance": "web-2"}
        http("POST", f"{am}/api/v2/alerts", [{"labels": second, "annotations": annotations}])
        wait_until(
            "the group sent again",
            lambda: _notifications(am) >= 3,
            *logs,
        )
        assert [t.number for t in tickets_in(store)] == [1]

        # Both end at the instant Alertmanager started them: resolved by its own clock.
        ended = [
            {
                "labels": a["labels"],
                "annotations": annotations,
                "startsAt": a["startsAt"],
                "endsAt": a["startsAt"],
            }
            for a in http("GET", f"{am}/api/v2/alerts")
        ]
        http("POST", f"{am}/api/v2/alerts", ended)
        wait_until("the resolution", lambda: tickets_in(store)[0].status == "resolved", *logs)
        [ticket] = tickets_in(store)
        assert ticket.resolved_at is not None
        note = "Alertmanager: the alert has resolved (CheckoutErrors)."
        # The thread is told after the change is stored: wait for it.
        wait_until(
            "the thread note",
            lambda: note in [m["text"] for m in fake.thread("C0ALERTS", card["ts"])],
            *logs,
        )
        assert [t.number for t in tickets_in(store)] == [1]
    finally:
        manager.stop()
        serve.stop()
    # Every delivery was answered 2xx: nothing for Alertmanager to retry or report.
    assert "Notify for alerts failed" not in manager.log.read_text()
    assert "Traceback" not in serve.log.read_text()


def _notifications(am: str) -> int:
    """How many notifications Alertmanager has sent successfully, from its own metrics."""
    with urllib.request.urlopen(f"{am}/metrics", timeout=5) as response:
        text = response.read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith('alertmanager_notifications_total{integration="webhook"}'):
            total += int(float(line.split()[-1]))
        if line.startswith('alertmanager_notifications_failed_total{integration="webhook"'):
            total -= int(float(line.split()[-1]))
    return total
