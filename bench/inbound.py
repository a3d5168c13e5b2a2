"""Tickets from outside Slack: 1,000 API opens against ``slabot serve``, beside the same
server's ``/healthz`` as the floor.

Issue 14 asks for p50/p99 response time and tickets per second of inbound sources, measured
against the same server's ``/healthz`` (what any request costs there: waitress, the WSGI
wrapper, the network stack) in the same run.

One ``slabot serve`` (``python -m slabot serve``, a subprocess, configured only through its
environment: the fake Slack of tests/fakeslack.py in this process, a new SQLite file, the
repository's policies; its clock runs unless ``--no-clock``), and one token made with
``slabot tokens create`` on its database. Then, per workload, ``--requests`` (1,000) requests
in blocks of ``--block`` (100), alternating with a block of ``/healthz``, so both see the same
moments of the machine's other load; ``--warmup`` (20) of each first, not counted (the API is
imported on its first request). ``--concurrency`` client threads share a block (1: one
request at a time; more: a closed loop that saturates the server).

Workloads are entries of `WORKLOADS`: a name and a function from the request's number to
(path, JSON body, headers); each answer must be 2xx. The "api-open" workload opens a new
ticket per request (``POST /api/v1/tickets``, P2 under liveops, its own Idempotency-Key and
channel one of ten). Another source can be a second entry; the Alertmanager half of the
issue's benchmark is ``bench/inbound_alerts.py``.

Timed: ``time.perf_counter`` around each request, in the client thread, a new connection per
request. Tickets per second: the workload's counted requests divided by the time its blocks
took, client side. Checks, not timed: every answer is 2xx, the database has every ticket, the
fake has every card (waited for after the run). Nothing asserts a time.

Run from the repository root, the test kit on the path: ``PYTHONPATH=tests .venv/bin/python
bench/inbound.py [--requests 1000] [--concurrency 1] [--threads 8] [--block 100] [--warmup 20]
[--no-clock]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from slash_latency import ms, percentile, slabot_env, start, stop
from support.conversation import free_port
from support.fakeslack import FakeSlack

# (path, body or None for a GET, headers)
Request = tuple[str, dict | None, dict[str, str]]
CHANNELS = [f"CBENCH{i:02d}" for i in range(10)]
TOKEN_ARGS = ["--workspace", "TBENCH", "--scope", "tickets:write"]


def api_open(n: int, token: str) -> Request:
    body = {
        "title": f"calls failing on trunk {n}",
        "severity": "p2",
        "policy": "liveops",
        "channel": CHANNELS[n % len(CHANNELS)],
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    return "/api/v1/tickets", body, headers


def healthz(n: int, token: str) -> Request:
    return "/healthz", None, {}


WORKLOADS: dict[str, Callable[[int, str], Request]] = {"api-open": api_open}
FLOOR = "healthz"


@dataclass
class Figures:
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    busy: float = 0.0  # seconds its counted blocks took
    sent: int = 0


def one(base: str, request: Request) -> tuple[float, str | None]:
    path, body, headers = request
    data = None if body is None else json.dumps(body).encode()
    headers = {**headers, "Content-Type": "application/json"} if data else headers
    http = urllib.request.Request(base + path, data, headers, method="POST" if data else "GET")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(http, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
        return time.perf_counter() - started, f"HTTP {status}: {text[:200]!r}"
    return time.perf_counter() - started, None if 200 <= status < 300 else f"HTTP {status}"


def block(
    base: str,
    make: Callable[[int, str], Request],
    token: str,
    figures: Figures,
    count: int,
    args: argparse.Namespace,
    counted: bool,
) -> None:
    requests = [make(figures.sent + i, token) for i in range(count)]
    figures.sent += count
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        answers = list(pool.map(lambda request: one(base, request), requests))
    if counted:
        figures.busy += time.perf_counter() - started
        figures.times += [elapsed for elapsed, _ in answers]
    figures.failures += [problem for _, problem in answers if problem]


def run(args: argparse.Namespace) -> int:
    with FakeSlack() as fake, tempfile.TemporaryDirectory(prefix="slabot-bench-") as tmp:
        cwd = Path(tmp)
        database = cwd / "slabot.db"
        env = slabot_env(fake, database)
        port = free_port()
        command = [sys.executable, "-m", "slabot", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--threads", str(args.threads)]
        server = start(
            "slabot", command + (["--no-clock"] if args.no_clock else []), env, cwd, port
        )
        try:
            made = subprocess.run(
                [sys.executable, "-m", "slabot", "tokens", "create", "bench", *TOKEN_ARGS],
                env=env,
                cwd=cwd,
                capture_output=True,
                text=True,
                check=True,
            )
            token = made.stdout.strip()
            figures = {name: Figures() for name in [FLOOR, *WORKLOADS]}
            makers = {FLOOR: healthz, **WORKLOADS}
            for name, make in makers.items():
                block(server.url, make, token, figures[name], args.warmup, args, counted=False)
            started = time.perf_counter()
            for name, make in WORKLOADS.items():
                left = args.requests
                while left > 0:
                    count = min(args.block, left)
                    block(server.url, healthz, token, figures[FLOOR], count, args, counted=True)
                    block(server.url, make, token, figures[name], count, args, counted=True)
                    left -= count
            wall = time.perf_counter() - started
            expected = figures["api-open"].sent
            deadline = time.monotonic() + 300
            while len(_cards(fake)) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop(server)
        with sqlite3.connect(database) as db:
            tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
        cards = len(_cards(fake))
    report(args, figures, wall, tickets, cards, expected)
    return 0


def _cards(fake: FakeSlack) -> list:
    return [
        c
        for c in fake.calls_to("chat.postMessage", ok=True)
        if "thread_ts" not in c.args and c.args.get("text", "").startswith("SLA-")
    ]


def report(args, figures: dict[str, Figures], wall, tickets, cards, expected) -> None:
    print(
        f"inbound: {args.requests} requests per workload over HTTP to one slabot serve "
        f"(waitress, {args.threads} threads{', no clock' if args.no_clock else ', clock on'}), "
        f"{args.concurrency} client thread(s), blocks of {args.block} alternating with "
        f"/healthz, {args.warmup} warm-up each"
    )
    print(f"Python {platform.python_version()} on {os.cpu_count()} CPU(s); run took {wall:.1f} s")
    print()
    print(f"{'workload':<10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'per s':>8} {'failed':>7}")
    for name, f in figures.items():
        rate = len(f.times) / f.busy if f.busy else 0.0
        print(
            f"{name:<10} {ms(percentile(f.times, 50)):>8} {ms(percentile(f.times, 99)):>8} "
            f"{ms(max(f.times)):>8} {rate:>8.1f} {len(f.failures):>7}"
        )
    print()
    print(f"tickets in the database: {tickets} (expected {expected}); cards in the fake: {cards}")
    for name, f in figures.items():
        for problem in f.failures[:3]:
            print(f"  {name} failed: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--no-clock", action="store_true")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
