"""Running slabot as a service: /metrics after a scripted day, /readyz through a database
outage, JSON logs without secrets, and the clock's own metrics port.

The day and the outage run in one real ``slabot serve`` process (HTTP, with its clock) on a
PostgreSQL schema of its own reached through `TcpProxy`, so the test can take the database
away and give it back without touching the server. Slack is `FakeSlack`; figures are read
from ``/metrics`` with prometheus_client's own parser. Waits are bounded polls.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from support import signed
from support.conversation import POLICIES, ROOT, SECRET, clean_env, free_port
from support.databases import postgres_schema
from support.fakeslack import FakeSlack
from support.hooks import HOOKS, group
from support.hooks import TOKEN as HOOK_TOKEN
from support.processes import Process, wait_until
from support.tcpproxy import TcpProxy

from slabot.ops import logs
from slabot.ops.metrics import Metrics
from slabot.ops.probes import Heartbeat, Readiness
from slabot.store import Store, StoreError

TOKEN = "xoxb-test-0123456789-secret-token"
Figures = dict[tuple[str, frozenset[tuple[str, str]]], float]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def figures(base: str) -> Figures:
    status, text = get(f"{base}/metrics")
    assert status == 200, text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def figure(found: Figures, name: str, **labels: str) -> float:
    """One sample's value; 0 when it was never counted."""
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: Figures, name: str, **labels: str) -> float:
    """The sum of ``name`` over every sample whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in found.items() if n == name and wanted <= have)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(clock=time.time) as fake:
        yield fake


@pytest.fixture
def outage_db(request: pytest.FixtureRequest) -> Iterator[tuple[Store, TcpProxy]]:
    """An empty PostgreSQL schema of its own, and a proxy in front of the server."""
    server = request.getfixturevalue("postgres_server")
    with postgres_schema(server, "o") as store, TcpProxy((server.host, server.port)) as proxy:
        yield store, proxy


@pytest.mark.postgresql
def test_metrics_after_a_day_and_readiness_through_a_database_outage(tmp_path, fake, outage_db):
    store, proxy = outage_db
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = store.url.set(port=proxy.port).render_as_string(hide_password=False)
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=url,
        SLABOT_POLICIES=str(POLICIES),
        SLABOT_ADMINS="U0001",  # the reporter, so that it may resolve
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        SLABOT_HOOKS=str(tmp_path / "hooks.yaml"),
    )
    (tmp_path / "hooks.yaml").write_text(HOOKS)
    serve = Process(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path)
    try:
        wait_until("/readyz", lambda: _answers(f"{base}/readyz") == 200, serve.output)

        # The day: a P1 (paged at once to level 2) and a P3 open, one rate limit on the way,
        # the P1 is resolved, and one request arrives with a bad signature.
        fake.fail_next("chat.postMessage", status=429, times=1)
        for text, severity in (("checkout is down", "p1"), ("typo", "p3")):
            body = signed.slash_command(
                f"open policy:liveops {severity} {text}", channel_id="C0042"
            )
            assert signed.post(f"{base}/slack/events", body, SECRET)[0] == 200
            wait_until(  # the P1 is SLA-1
                f"the {severity} ticket",
                lambda s=severity: (
                    figure(figures(base), "slabot_open_tickets", policy="liveops", severity=s) == 1
                ),
                serve.output,
            )

        def paged() -> bool:
            return any(
                ":page:" in c.args.get("metadata", {}).get("event_payload", {}).get("timer", "")
                for c in fake.calls_to("chat.postMessage", ok=True)
            )

        wait_until("the page", paged, serve.output)
        resolve = signed.slash_command("resolve SLA-1 fixed", channel_id="C0042")
        assert signed.post(f"{base}/slack/events", resolve, SECRET)[0] == 200
        assert signed.post(f"{base}/slack/events", resolve, "wrong-secret")[0] == 401

        def p1_closed() -> bool:
            found = figures(base)
            return figure(found, "slabot_open_tickets", policy="liveops", severity="p1") == 0

        wait_until("SLA-1 resolved", p1_closed, serve.output)
        found = figures(base)
        assert figure(found, "slabot_requests_total", surface="command", outcome="ok") == 3
        assert figure(found, "slabot_requests_total", surface="command", outcome="refused") == 1
        assert figure(found, "slabot_request_duration_seconds_count", surface="command") == 4
        assert figure(found, "slabot_open_tickets", policy="liveops", severity="p3") == 1
        assert figure(found, "slabot_pages_total", level="level_2") == 1
        assert figure(found, "slabot_clock_deliveries_total", kind="page", outcome="sent") == 1
        assert figure(found, "slabot_clock_lag_seconds_count", kind="page") == 1
        assert total(found, "slabot_clock_timers_total", outcome="on_time") >= 1
        # Every retried timer is one failed delivery; no timer died.
        assert total(found, "slabot_clock_timers_total", outcome="retried") == total(
            found, "slabot_clock_deliveries_total", outcome="failed"
        )
        assert total(found, "slabot_clock_timers_total", outcome="dead") == 0
        # The 429 held its message to Slack's limit: paced, not failed.
        assert total(found, "slabot_clock_deliveries_total", outcome="paced") >= 1
        # Slack's answers as Slack gave them: the one 429, and every message it took.
        posts = fake.calls_to("chat.postMessage")
        assert figure(found, "slabot_slack_calls_total", method="chat.postMessage", outcome="ok")
        assert figure(
            found, "slabot_slack_calls_total", method="chat.postMessage", outcome="ok"
        ) == len([c for c in posts if c.ok])
        ratelimited = figure(
            found, "slabot_slack_calls_total", method="chat.postMessage", outcome="ratelimited"
        )
        assert ratelimited == 1
        assert total(found, "slabot_clock_leader") == 1
        assert figure(found, "slabot_clock_ticks_total") >= 1

        # The hooks and the HTTP API are counted beside Slack's surfaces; unknown paths not.
        hook = urllib.request.Request(f"{base}/hooks/alertmanager", data=b"{}", method="POST")
        assert _code(hook) == 404  # served, and off: no SLABOT_ALERTMANAGER_TOKEN
        assert _code(urllib.request.Request(f"{base}/api/v1/tickets")) == 401  # no token
        assert get(f"{base}/api/v1/openapi.json")[0] == 200
        assert get(f"{base}/no/such/path")[0] == 404
        found = figures(base)
        for surface, outcome in [
            ("hook_alertmanager", "refused"),
            ("api", "refused"),
            ("api", "ok"),
        ]:
            assert figure(found, "slabot_requests_total", surface=surface, outcome=outcome) == 1
        assert figure(found, "slabot_request_duration_seconds_count", surface="api") == 2
        assert {
            dict(labels).get("surface") for name, labels in found if name == "slabot_requests_total"
        } == {"command", "hook_alertmanager", "api"}

        # The database goes away: not ready (alive all the same), then ready again.
        proxy.cut()
        wait_until("/readyz to fail", lambda: _answers(f"{base}/readyz") == 503, serve.output)
        status, text = get(f"{base}/readyz")
        assert status == 503 and "the database is unreachable" in text
        assert get(f"{base}/healthz") == (200, "ok\n")
        assert get(f"{base}/metrics")[0] == 200  # without the ticket figures
        proxy.restore()
        wait_until("/readyz again", lambda: _answers(f"{base}/readyz") == 200, serve.output)
    finally:
        serve.stop()

    # Every log line is one JSON object; the delivery's lines name the ticket and its timer;
    # the request's name the workspace; and no secret is in any of them, even at DEBUG.
    output = serve.output()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    assert any(line.get("ticket") == "SLA-1" and "timer" in line for line in lines), output
    assert any(line.get("workspace") == signed.TEAM_ID for line in lines), output
    assert TOKEN not in output and SECRET not in output
    assert TOKEN.removeprefix("xoxb-") not in output


def _code(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _answers(url: str) -> int:
    try:
        return get(url)[0]
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def test_slabot_clock_serves_its_probes_and_metrics(tmp_path, fake):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_BOT_TOKEN=TOKEN,
        DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
        SLABOT_POLICIES=str(POLICIES),
        METRICS_PORT=str(port),
    )
    clock = Process(["clock", "--interval", "0.2", "--metrics-host", "127.0.0.1"], env, tmp_path)
    try:
        wait_until("/readyz", lambda: _answers(f"{base}/readyz") == 200, clock.output)
        assert get(f"{base}/healthz") == (200, "ok\n")
        assert get(f"{base}/readyz") == (200, "ready\n")
        wait_until(
            "the first tick",
            lambda: figure(figures(base), "slabot_clock_ticks_total") > 0,
            clock.output,
        )
        found = figures(base)
        [(name, labels)] = [k for k in found if k[0] == "slabot_clock_leader"]
        assert found[(name, labels)] == 1 and dict(labels)["clock"]
        assert get(f"{base}/nowhere")[0] == 404
    finally:
        clock.stop()


def test_a_taken_metrics_port_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "slabot", "clock", "--metrics-host", "127.0.0.1"],
            env=clean_env(
                SLACK_BOT_TOKEN=TOKEN,
                DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
                SLABOT_POLICIES=str(POLICIES),
                METRICS_PORT=str(port),
            ),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"slabot clock: cannot serve metrics on 127.0.0.1:{port} (")
    assert line.endswith("choose another with --metrics-port")


# -- readiness, checked directly ----------------------------------------------------------------


def test_readiness_names_missing_migrations(blank_store):
    problems = Readiness(blank_store).problems()
    assert len(problems) == 1 and "lacks" in problems[0] and "slabot db upgrade" in problems[0]


def test_readiness_is_fine_on_a_migrated_database(store):
    assert Readiness(store).problems() == []


def test_a_clock_that_stops_ticking_is_not_ready(store):
    now = [1000.0]
    heartbeat = Heartbeat(interval=1.0, clock=lambda: now[0])
    readiness = Readiness(store, heartbeat)
    assert readiness.problems() == []  # just started: given time for its first tick
    now[0] += heartbeat.stale_after + 1
    [problem] = readiness.problems()
    assert "has not finished a tick yet" in problem
    heartbeat.beat()
    assert readiness.problems() == []
    now[0] += heartbeat.stale_after + 1
    [problem] = readiness.problems()
    assert "last finished a tick" in problem


# -- a lean install ----------------------------------------------------------------------------


def test_a_postgresql_url_without_its_driver_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on an install without the extra
    with pytest.raises(StoreError, match=r"pip install 'slabot\[postgres\]'"):
        Store("postgres://slabot@db.example.internal:5432/slabot")


def test_the_default_install_needs_neither_dateutil_nor_matplotlib_nor_psycopg():
    from importlib.metadata import requires

    needed = {
        re.match(r"[\w.-]+", r)[0].lower()  # type: ignore[index]
        for r in requires("slabot") or []
        if "extra ==" not in r
    }
    assert not needed & {"python-dateutil", "matplotlib", "psycopg"}, needed


def test_one_shot_commands_log_at_log_level_and_in_log_format(tmp_path):
    def upgrade(database: str, **env: str) -> subprocess.CompletedProcess[str]:
        # A new database each time: on a current schema nothing runs, so nothing logs.
        return subprocess.run(
            [sys.executable, "-m", "slabot", "db", "upgrade"],
            env=clean_env(DATABASE_URL=f"sqlite:///{tmp_path / database}", **env),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    quiet = upgrade("quiet.db")  # WARNING by default: the command's answer is on stdout
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout
    told = upgrade("told.db", LOG_LEVEL="info", LOG_FORMAT="json")
    lines = [json.loads(line) for line in told.stderr.splitlines()]
    assert told.returncode == 0 and lines, told.stderr
    assert {line["level"] for line in lines} == {"INFO"}
    assert any(line["logger"].startswith("alembic") for line in lines)


def test_slack_sdk_formats_its_debug_lines_only_at_debug(monkeypatch):
    """slack_sdk tests its own logger's level, not the effective one, before it formats a
    request's whole body into a debug line: `logs.configure` sets it, so a clock logging at
    INFO no longer pays for a line per Web API call that nobody logs."""
    sdk = logging.getLogger(logs.SLACK_SDK_WEB)
    monkeypatch.setattr(sdk, "level", sdk.level)  # restored after the test
    monkeypatch.setattr(logging.getLogger(), "level", logging.getLogger().level)
    formatted: list[str] = []
    monkeypatch.setattr(sdk, "debug", lambda message, *args, **kw: formatted.append(message))
    with FakeSlack(clock=time.time) as fake:
        client = WebClient(token=TOKEN, base_url=fake.url)
        logs.configure("INFO")
        client.chat_postMessage(channel="C1", text="at info")
        assert formatted == []
        logs.configure("DEBUG")
        client.chat_postMessage(channel="C1", text="at debug")
        assert any("at debug" in line for line in formatted)
    logs.configure("WARNING")


# -- the Grafana dashboard ----------------------------------------------------------------------


def test_the_dashboard_queries_only_metrics_slabot_exposes(store):
    metrics = Metrics()
    metrics.watch_tickets(store)
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
    exposed = {
        family.name + suffix
        for family in metrics.registry.collect()
        for suffix in suffixes[family.type]
    }
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "slabot.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    queries.append(dashboard["templating"]["list"][1]["query"]["query"])
    used = {name for q in queries for name in re.findall(r"\bslabot_\w+", q)}
    assert len(queries) >= 15 and used, queries
    assert used <= exposed, used - exposed


# -- Socket Mode ----------------------------------------------------------------------------------


def test_socket_mode_still_serves_the_api_the_hooks_and_the_probes_over_http(tmp_path):
    """``serve --socket`` takes Slack's requests over the socket (here a Socket Mode URL that
    refuses, which Bolt keeps retrying), and still answers on PORT what other systems reach
    over HTTP: the probes, the metrics, the HTTP API and the hooks."""
    app_token = "xapp-1-A0001-socket-mode"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp_path / "hooks.yaml").write_text(HOOKS)
    with FakeSlack(clock=time.time, tokens={TOKEN, app_token}) as fake:
        nowhere = f"ws://127.0.0.1:{free_port()}/link"
        fake.respond("apps.connections.open", {"url": nowhere})
        env = clean_env(
            SLACK_API_URL=fake.url,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_APP_TOKEN=app_token,
            DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
            SLABOT_POLICIES=str(POLICIES),
            SLABOT_HOOKS=str(tmp_path / "hooks.yaml"),
            SLABOT_ALERTMANAGER_TOKEN=HOOK_TOKEN,
        )
        args = ["serve", "--socket", "--host", "127.0.0.1", "--port", str(port)]
        serve = Process(args, env, tmp_path)
        try:
            wait_until("/readyz", lambda: _answers(f"{base}/readyz") == 200, serve.output)
            assert get(f"{base}/healthz") == (200, "ok\n")
            assert get(f"{base}/api/v1/openapi.json")[0] == 200
            assert _code(urllib.request.Request(f"{base}/api/v1/tickets")) == 401
            alert = urllib.request.Request(
                f"{base}/hooks/alertmanager",
                data=json.dumps(group()).encode(),
                headers={"Authorization": f"Bearer {HOOK_TOKEN}"},
                method="POST",
            )
            assert _code(alert) == 201  # a ticket opened ...
            wait_until(  # ... with its card
                "the card", lambda: fake.messages("C0CHECKOUT"), serve.output
            )
            events = signed.slash_command("help")
            assert signed.post(f"{base}/slack/events", events, SECRET)[0] == 404
            assert fake.calls_to("apps.connections.open")  # Slack's side goes over the socket
            found = figures(base)
            assert figure(found, "slabot_requests_total", surface="hook_alertmanager", outcome="ok")
        finally:
            serve.stop()
