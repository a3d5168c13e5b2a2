"""Alertmanager webhooks into ``slabot serve``: response time and tickets per second, against
the same server's ``/healthz`` as the floor.

Issue 14 asks for 1,000 Alertmanager webhooks over 200 distinct groups, p50/p99 response time
and tickets per second, with ``/healthz`` on the same server as the floor, measured in the same
run. The server is ``python -m slabot serve`` as deployed (waitress, ``--threads`` 8, its clock
included unless ``--no-clock``), a subprocess configured only through its environment: the fake
Slack (tests/fakeslack.py, in this process) for the Web API, a new SQLite file in a temporary
directory (or ``--database URL``), the repository's policies, a hooks file whose one route
sends every group to liveops as P2 in one channel, and ``SLABOT_ALERTMANAGER_TOKEN``.

The 1,000 webhooks (``--groups`` 200, ``--repeats`` 3): each group is sent once firing (it
opens a ticket and posts its card), then ``--repeats`` times again firing (a repeat: found by
its group key, nothing written), then once resolved (the ticket is resolved, the card redrawn
and the thread told); so 200 opens, 600 repeats and 200 resolutions, in that order of phases,
bodies in Alertmanager's documented ``version: "4"`` shape with a bearer token. ``/healthz``
gets as many requests, sent in blocks of ``--block`` alternating with the webhooks' blocks, so
both see the same moments of the machine's other load.

What is timed: ``time.perf_counter`` around each ``urlopen`` to the body read, one request at a
time (``--concurrency`` client threads share a block; default 1), a new connection each.
Tickets per second: the 200 opens over the wall time of the open phase's blocks only;
webhooks per second: all 1,000 over the wall time of every webhook block.
Checks, not timed: every webhook is answered 201 (open) or 200 with the expected action, the
database has one ticket per group, all resolved, and the fake has one card per group.

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/inbound_alerts.py [--groups 200]
[--repeats 3] [--block 50] [--concurrency 1] [--threads 8] [--no-clock] [--database URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.conversation import free_port
from support.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-alertmanager-token-0123456789"
HOOKS = """workspace: T0001
channel: C0BENCH
routes:
  - match: {job: bench}
    policy: liveops
    severity: P2
"""


def payload(n: int, status: str, starts: datetime) -> bytes:
    labels = {"alertname": f"BenchAlert{n}", "job": "bench", "severity": "warning"}
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="BenchAlert{n}"}}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "slabot",
            "groupLabels": {"alertname": labels["alertname"]},
            "commonLabels": labels,
            "commonAnnotations": {"summary": f"bench alert {n} fires"},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [
                {
                    "status": status,
                    "labels": labels,
                    "annotations": {"summary": f"bench alert {n} fires"},
                    "startsAt": starts.isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example:9090/graph",
                    "fingerprint": f"{n:016x}",
                }
            ],
        }
    ).encode()


def timed(request: urllib.request.Request) -> tuple[float, int, bytes]:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return time.perf_counter() - start, status, body


def run_block(requests: list[urllib.request.Request], concurrency: int) -> list[tuple]:
    if concurrency == 1:
        return [timed(r) for r in requests]
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(timed, requests))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-clock", action="store_true")
    parser.add_argument("--database", help="DATABASE_URL (default: a new SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, FakeSlack(clock=time.time) as fake:
        work = Path(tmp)
        (work / "hooks.yaml").write_text(HOOKS)
        port = free_port()
        database = args.database or f"sqlite:///{work / 'bench.db'}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SLACK_API_URL": fake.url,
            "SLACK_BOT_TOKEN": "xoxb-bench-0123456789",
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "DATABASE_URL": database,
            "SLABOT_POLICIES": str(ROOT / "policies"),
            "SLABOT_HOOKS": str(work / "hooks.yaml"),
            "SLABOT_ALERTMANAGER_TOKEN": TOKEN,
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "slabot", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--threads", str(args.threads)]
        command += ["--no-clock"] if args.no_clock else []
        log = (work / "serve.log").open("wb")
        server = subprocess.Popen(command, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print((work / "serve.log").read_text())
                        return 1
                    time.sleep(0.2)
            print(f"slabot serve pid {server.pid} on {base}; {platform.python_version()}")
            figures = measure(args, base, fake)
        finally:
            server.kill()
            server.wait()
    report(args, figures)
    return 0


def measure(args: argparse.Namespace, base: str, fake: FakeSlack) -> dict[str, list]:
    starts = datetime.now(UTC) - timedelta(minutes=5)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    def hook(n: int, status: str) -> urllib.request.Request:
        body = payload(n, status, starts)
        return urllib.request.Request(
            f"{base}/hooks/alertmanager", data=body, headers=headers, method="POST"
        )

    phases = [("open", "firing")] + [("repeat", "firing")] * args.repeats
    phases += [("resolve", "resolved")]
    expected = {"open": "opened", "repeat": "repeat", "resolve": "resolved"}
    times: dict[str, list] = {"open": [], "repeat": [], "resolve": [], "healthz": []}
    wall = {"open": 0.0, "all": 0.0}
    # Warm both paths up (not counted): the first requests import and connect.
    for _ in range(10):
        timed(urllib.request.Request(f"{base}/healthz"))
    for phase, status in phases:
        for first in range(0, args.groups, args.block):
            numbers = range(first, min(first + args.block, args.groups))
            health = [urllib.request.Request(f"{base}/healthz") for _ in numbers]
            times["healthz"] += [t for t, _, _ in run_block(health, args.concurrency)]
            began = time.perf_counter()
            answers = run_block([hook(n, status) for n in numbers], args.concurrency)
            took = time.perf_counter() - began
            wall["all"] += took
            wall["open"] += took if phase == "open" else 0.0
            for (seconds, code, body), n in zip(answers, numbers, strict=True):
                action = json.loads(body).get("action")
                if code not in (200, 201) or action != expected[phase]:
                    raise SystemExit(f"group {n} ({phase}): HTTP {code} {body[:300]!r}")
                times[phase].append(seconds)
    cards = fake.wait_for("chat.postMessage", args.groups * 2, timeout=60)  # card + thread
    tops = [m for m in fake.messages("C0BENCH") if not m.get("thread_ts")]
    if len(tops) != args.groups:
        raise SystemExit(f"{len(tops)} cards for {args.groups} groups ({len(cards)} posts)")
    times["wall"] = [wall["open"], wall["all"]]
    return times


def report(args: argparse.Namespace, times: dict[str, list]) -> None:
    def ms(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    hooks = times["open"] + times["repeat"] + times["resolve"]
    print(
        f"{len(hooks)} webhooks over {args.groups} groups, concurrency {args.concurrency}, "
        f"threads {args.threads}, clock {'off' if args.no_clock else 'on'}"
    )
    print(f"{'requests':<28} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    rows = [
        ("/healthz (floor)", times["healthz"]),
        ("webhooks, all", hooks),
        ("  firing, opens a ticket", times["open"]),
        ("  firing again (repeat)", times["repeat"]),
        ("  resolved", times["resolve"]),
    ]
    for name, values in rows:
        p50, p99, mean = ms(values, 0.5), ms(values, 0.99), statistics.fmean(values) * 1000
        print(f"{name:<28} {len(values):>5} {p50:>8.2f} {p99:>8.2f} {mean:>8.2f}")
    open_wall, all_wall = times["wall"]
    per_second = len(times["open"]) / open_wall
    print(f"tickets opened per second (the open phase's wall time): {per_second:.1f}")
    print(f"webhooks per second (every webhook block's wall time): {len(hooks) / all_wall:.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
