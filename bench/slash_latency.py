"""Time to answer a signed ``/sla open``: ``slabot serve`` against a bare Bolt app that only acks.

Issue 4 asks that slabot acknowledge inside Slack's three seconds, and sets the goal: over
1,000 signed ``/sla open`` requests sent over HTTP to ``slabot serve`` with the fake Slack, the
p99 time to the HTTP response is under 100 ms and at most 2× the p99 of a bare Bolt app that
only acks, measured in the same run.

The two servers, each a subprocess of this script, each waitress with the same thread count
(``--threads``, 8, ``slabot serve``'s default), both behind `slabot.web.wsgi_app` (the same
WSGI wrapper, signature check included), both talking to one `FakeSlack` (tests/support/fakeslack/)
that runs in this process:

* **slabot**: ``python -m slabot serve --host 127.0.0.1 --port P --threads T``, as deployed
  (its clock included, unless ``--no-clock``), configured only through its environment
  (``SLACK_API_URL`` the fake, ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``DATABASE_URL`` a
  new SQLite file in a temporary directory, ``SLABOT_POLICIES`` the repository's
  ``policies/``), with a clean environment and the temporary directory as working directory,
  so no ``.env`` is read. Each request opens a real ticket before the acknowledgement: by
  default ``open policy:liveops calls failing on trunk N``, which the classifier reads as P2
  (``--text`` changes it; ``{n}`` is the request's number). Its card and first thread reply
  are posted to the fake after the acknowledgement, as in production.
* **bare**: this script with ``--serve-bare``: ``App(signing_secret=…,
  token_verification_enabled=False, client=WebClient(base_url=fake))`` with one listener,
  ``@app.command("/sla") def _(ack): ack()``.

What is timed: ``time.perf_counter`` from just before ``urlopen`` to the response body read,
per request, in the client thread (a new connection per request, as Slack makes them). The
body is built and signed before the timer starts. Each request is a fresh slash command
(its own trigger_id, one of ten channels and ten users).

How: ``--concurrency`` client threads share each block of requests; the default, 1, sends one
request at a time (``--concurrency 4`` keeps four in flight: a closed loop that saturates the
server). Both servers first get ``--warmup`` requests (20, not counted). Then the
``--requests`` (1,000) per server are sent in blocks of ``--block`` (100), alternating bare,
slabot, bare, slabot, …, so both see the same moments of the machine's other load. After each
slabot block the script waits until the fake has that block's cards and first thread replies,
so slabot's work after the ack never spills into the bare app's next block (it does overlap
slabot's own next requests, as in production).

Since ``/sla open`` acknowledges at once and answers "SLA-N opened" through the command's
``response_url`` once the ticket is stored, each request names its own ``response_url`` on the
fake, and slabot's **answer** is timed too: from just before ``urlopen`` (``time.time``) to the
fake's arrival time of that post. That is when the person reads that the ticket exists; the
bare app has nothing to answer, so its ack is the answer's peer as well. (Until 2026-11-30 the
requests named a closed port as ``response_url``: each answer then failed, retried inside
slabot and held one of Bolt's workers, which inflated slabot's figures many times over.)

``--before SRC`` serves a third server, ``slabot serve`` with the slabot package found in SRC
(another tree's ``src/``, e.g. main's: ``git archive main src | tar -x -C /tmp/main``), in the
same way with its own database and channels, its blocks alternating with the other two, so a
change is measured against the code before it in the same run. After each slabot's block the
script waits for that slabot's cards, so neither's clock works through the other's block.
``--database postgresql`` gives each slabot a new schema on the PostgreSQL server
(``SLABOT_BENCH_POSTGRES_URL``, else the test server) instead of a new SQLite file.

The clients send their next request as soon as the ack is in, and since the ack no longer
waits for the ticket, they can send faster than slabot stores tickets: the answers then queue
(each request's answer waits for the tickets before it), which the figures show as the
answer's latency. ``--await-answer`` makes each client wait for a slabot's answer before its
next request, as a person reads "SLA-N opened" before typing again; the bare app's clients,
having no answer to wait for, go on at once.

Checks, not timed: every answer is HTTP 200 with an empty body (an ack); at the end the fake
has every card, "opened" thread reply and answer, and each database has every ticket.

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/slash_latency.py [--requests 1000]
[--concurrency 1] [--threads 8] [--block 100] [--warmup 20] [--no-clock] [--text TEXT]
[--before SRC] [--database sqlite|postgresql] [--await-answer]``.
Nothing asserts a time; the last line compares the figures with the goal. To see where
slabot's time goes, attach a sampling profiler to the ``slabot serve`` process while it runs
(its pid is printed), e.g. ``py-spy record --idle --threads --format raw -p PID``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from support import signed

if TYPE_CHECKING:
    from support.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent

SECRET = "bench-signing-secret-0123456789abcdef"
TOKEN = "xoxb-bench"
GOAL = "goal: p99 < 100 ms and ≤ 2× the bare app's p99"
CHANNELS = [f"CBENCH{i:02d}" for i in range(10)]
USERS = [f"UBENCH{i:02d}" for i in range(10)]


# -- the bare Bolt app (run as a subprocess of this script) ----------------------------------


def serve_bare(port: int, threads: int) -> None:
    import waitress
    from slack_bolt import App
    from slack_sdk import WebClient

    from slabot.web import wsgi_app

    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token_verification_enabled=False,
        client=WebClient(token=TOKEN, base_url=os.environ["SLACK_API_URL"]),
    )

    @app.command("/sla")
    def _(ack):
        ack()

    waitress.serve(wsgi_app(app), host="127.0.0.1", port=port, threads=threads, ident="bare")


# -- the client ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen | None = None
    log: Path | None = None
    times: list[float] = field(default_factory=list)  # seconds, one per counted request
    failures: list[str] = field(default_factory=list)
    sent: int = 0  # every request, warm-up included
    answers_to: str = ""  # the fake's response URLs for this server's requests, numbered
    started: dict[int, float] = field(default_factory=dict)  # time.time() of counted requests
    channels: list[str] = field(default_factory=lambda: CHANNELS)  # its own, on the shared fake
    database: str = ""  # a slabot's DATABASE_URL
    awaits: Callable[[int], None] | None = None  # with --await-answer: waits for n's answer


def port_threads(port: int, args: argparse.Namespace) -> list[str]:
    return ["--port", str(port), "--threads", str(args.threads)]


def fake_slack_env(fake: FakeSlack) -> dict[str, str]:
    """A server's whole environment: Slack is the fake, with the bench's token and secret, and
    nothing of this shell's but PATH, so no setting of the developer's leaks into a figure."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "SLACK_API_URL": fake.url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
    }


def slabot_env(fake: FakeSlack, database: str, src: str | None) -> dict[str, str]:
    """``slabot serve``'s environment: the fake Slack, its database, the seed policies; with
    ``src``, the slabot package found there (another tree's code, such as main's)."""
    env = fake_slack_env(fake) | {
        "DATABASE_URL": database,
        "SLABOT_POLICIES": str(ROOT / "policies"),
    }
    return env | ({"PYTHONPATH": src} if src else {})


def start(name: str, command: list[str], env: dict[str, str], cwd: Path, port: int) -> Server:
    log = cwd / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


def stop(server: Server) -> None:
    if server.process is None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def one_request(server: Server, n: int, text: str) -> tuple[float, float, str | None]:
    """Seconds to the HTTP response, the ``time.time()`` the request left, and what was wrong
    with the response, if anything."""
    body = signed.slash_command(
        text.format(n=n),
        channel_id=server.channels[n % len(server.channels)],
        user_id=USERS[n % len(USERS)],
        response_url=f"{server.answers_to}{n}",
    )
    request = urllib.request.Request(
        f"{server.url}/slack/events",
        data=body.encode(),
        headers=signed.signed_headers(SECRET, body),
        method="POST",
    )
    sent, started = time.time(), time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        text, status = error.read(), error.code
    elapsed = time.perf_counter() - started
    problem = None if (status, text) == (200, b"") else f"HTTP {status}: {text[:200]!r}"
    return elapsed, sent, problem


def run_block(server: Server, count: int, args: argparse.Namespace, counted: bool) -> None:
    jobs: queue.SimpleQueue[int] = queue.SimpleQueue()
    for _ in range(count):
        jobs.put(server.sent)
        server.sent += 1
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                n = jobs.get_nowait()
            except queue.Empty:
                return
            elapsed, sent, problem = one_request(server, n, args.text)
            if server.awaits is not None:
                server.awaits(n)
            with lock:
                if counted:
                    server.times.append(elapsed)
                    server.started[n] = sent
                if problem:
                    server.failures.append(problem)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def percentile(times: list[float], p: int) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# -- the comparison --------------------------------------------------------------------------


def compare(args: argparse.Namespace) -> int:
    # Here, not at the top: the bare app is this script too, and the fake's kit (with the
    # conversation driver) imports slabot, which would make the floor measure slabot's imports.
    from support.conversation import free_port
    from support.fakeslack import FakeSlack

    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(FakeSlack())
        cwd = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="slabot-bench-")))
        python = sys.executable
        peers = [("before", args.before)] if args.before else []
        slabots: list[Server] = []
        servers: list[Server] = []
        try:
            for name, src in [*peers, ("slabot", None)]:
                database = stack.enter_context(bench_database(args.database, name, cwd))
                port = free_port()
                command = [python, "-m", "slabot", "serve", "--host", "127.0.0.1"]
                server = start(
                    name,
                    command + port_threads(port, args) + (["--no-clock"] if args.no_clock else []),
                    slabot_env(fake, database, src),
                    cwd,
                    port,
                )
                server.answers_to = fake.response_url(f"{name}-")
                if args.await_answer:
                    server.awaits = answer_awaited(fake, server)
                server.channels = [f"C{name.upper()}{i:02d}" for i in range(10)]
                server.database = database
                print(f"{name} serve is pid {server.process.pid}", flush=True)  # type: ignore[union-attr]
                slabots.append(server)
                servers.append(server)
            port = free_port()
            bare = start(
                "bare",
                [python, str(Path(__file__).resolve()), "--serve-bare", *port_threads(port, args)],
                fake_slack_env(fake) | {"PYTHONPATH": str(ROOT / "tests")},  # it imports the kit
                cwd,
                port,
            )
            bare.answers_to = fake.response_url("bare-")
            servers.append(bare)
            posted = 0

            def drained(server: Server, expected: int) -> float:
                """Wait until a slabot has answered ``expected`` requests and (with its clock)
                posted their cards and first replies, so that its work never spills into the
                next server's block."""
                started = time.perf_counter()
                while min(published(fake, server)[: 1 if args.no_clock else 3]) < expected:
                    if time.perf_counter() - started > 300:
                        raise SystemExit(f"{server.name} never posted {expected} cards")
                    time.sleep(0.005)
                return time.perf_counter() - started

            posted += args.warmup
            for server in (bare, *slabots):
                run_block(server, args.warmup, args, counted=False)
                if server is not bare:
                    drained(server, posted)

            started = time.perf_counter()
            drain = 0.0
            left = args.requests
            while left > 0:
                count = min(args.block, left)
                posted += count
                for server in (bare, *slabots):
                    run_block(server, count, args, counted=True)
                    if server is not bare:
                        drain += drained(server, posted)
                left -= count
            wall = time.perf_counter() - started
        finally:
            for server in servers:
                stop(server)
        stored = {server.name: tickets_in(server.database) for server in slabots}
        report(args, bare, slabots, fake, wall, drain, stored)
    return 0


@contextlib.contextmanager
def bench_database(kind: str, name: str, folder: Path) -> Iterator[str]:
    """A new, empty database for the server ``name``: a SQLite file in ``folder``, or a
    PostgreSQL schema of its own (dropped at the end)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    from benchdb import postgres_schema

    with postgres_schema(f"slash_{name}") as url:
        if url is None:
            raise SystemExit("no PostgreSQL server answers: see SLABOT_BENCH_POSTGRES_URL")
        yield url.render_as_string(hide_password=False)


def tickets_in(database: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM tickets")).scalar_one()
    finally:
        engine.dispose()


def answer_awaited(fake: FakeSlack, server: Server) -> Callable[[int], None]:
    """Waiting for the answer to request ``n`` at the fake, as a person reads it before
    typing again (``--await-answer``)."""
    prefix = server.answers_to.removeprefix(fake.base)

    def awaits(n: int) -> None:
        path, started = f"{prefix}{n}", time.perf_counter()
        while not any(call.path == path for call in fake.calls_to("response_url")):
            if time.perf_counter() - started > 60:
                raise SystemExit(f"{server.name} never answered request {n}")
            time.sleep(0.001)

    return awaits


def answer_times(fake: FakeSlack, server: Server) -> list[float]:
    """Seconds from each counted request to the arrival of its answer at the fake."""
    prefix = server.answers_to.removeprefix(fake.base)
    times = []
    for call in fake.calls_to("response_url"):
        if call.path.startswith(prefix):
            sent = server.started.get(int(call.path.removeprefix(prefix)))
            if sent is not None:
                times.append(call.at - sent)
    return times


def published(fake: FakeSlack, server: Server) -> tuple[int, int, int, int]:
    """A slabot's answers through response URLs, cards posted, "opened" thread replies, and
    any other message in its channels (its clock's pages)."""
    prefix = server.answers_to.removeprefix(fake.base)
    answered = sum(call.path.startswith(prefix) for call in fake.calls_to("response_url"))
    cards = replies = others = 0
    for call in fake.calls_to("chat.postMessage", ok=True):
        if call.args.get("channel") not in server.channels:
            continue
        text = call.args.get("text", "")
        if "thread_ts" in call.args and " opened SLA-" in text:
            replies += 1
        elif "thread_ts" not in call.args and text.startswith("SLA-"):
            cards += 1
        else:
            others += 1
    return answered, cards, replies, others


def report(args, bare: Server, slabots: list[Server], fake, wall, drain, stored) -> None:
    print(
        f"slash latency: {args.requests} signed /sla open per server over HTTP, "
        f"{args.concurrency} client thread(s), waitress with {args.threads} threads each, "
        f"blocks of {args.block} alternating, {args.warmup} warm-up requests each, "
        f"{args.database}" + (", each answer awaited" if args.await_answer else "")
    )
    print(
        f"Python {platform.python_version()} on {os.cpu_count()} CPU(s), load average "
        f"{os.getloadavg()[0]:.1f}; run took {wall:.1f} s, of which {drain:.1f} s waiting for "
        "the slabots' cards after their blocks"
    )
    print()
    print(
        f"{'server':<16} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'mean ms':>8} "
        f"{'max ms':>8} {'failed':>7} {'p99 ÷ bare':>10}"
    )
    p99_bare = percentile(bare.times, 99)
    rows = [(bare.name, bare.times, bare.failures)]
    for server in slabots:
        answers = answer_times(fake, server)
        rows.append((f"{server.name} ack", server.times, server.failures))
        missing = ["missing"] * (len(server.times) - len(answers))
        rows.append((f"{server.name} answer", answers, missing))
    for name, times, failures in rows:
        print(
            f"{name:<16} {ms(percentile(times, 50)):>8} {ms(percentile(times, 90)):>8} "
            f"{ms(percentile(times, 99)):>8} {ms(statistics.fmean(times)):>8} "
            f"{ms(max(times)):>8} {len(failures):>7} "
            f"{percentile(times, 99) / p99_bare:>9.2f}×"
        )
    for server in (bare, *slabots):
        for problem in sorted(set(server.failures))[:5]:
            print(f"  {server.name} failure: {problem}")
    print()
    expected = args.requests + args.warmup
    for server in slabots:
        answered, cards, replies, others = published(fake, server)
        print(
            f"{server.name} stored {stored[server.name]} tickets, answered {answered} and "
            f"posted {cards} cards and {replies} thread replies (expected {expected} of each), "
            f"and {others} other messages (its clock's pages)"
        )
        p99 = percentile(server.times, 99)
        met = p99 < 0.100 and p99 <= 2 * p99_bare and not bare.failures and not server.failures
        print(f"  {GOAL}: {'met' if met else 'MISSED'} (p99 {ms(p99)} ms, bare {ms(p99_bare)} ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=1000, help="per server (1000)")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="client threads (1: one request at a time)"
    )
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (8)")
    parser.add_argument("--block", type=int, default=100, help="requests per block (100)")
    parser.add_argument("--warmup", type=int, default=20, help="uncounted requests (20)")
    parser.add_argument(
        "--no-clock", action="store_true", help="run slabot serve without its clock"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="a new SQLite file (sqlite, the default) or PostgreSQL schema for each slabot "
        "(SLABOT_BENCH_POSTGRES_URL, else the test server)",
    )
    parser.add_argument(
        "--await-answer",
        action="store_true",
        help="each client waits for a slabot's answer (SLA-N opened) before its next request, "
        "as a person would, so the requests never come faster than slabot stores tickets",
    )
    parser.add_argument(
        "--before",
        metavar="SRC",
        help="also serve the slabot package found in SRC (another tree's src/, such as "
        "main's), alternating with this one",
    )
    parser.add_argument(
        "--text",
        default="open policy:liveops calls failing on trunk {n}",
        help="the command's text; {n} is the request's number",
    )
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare(args.port, args.threads)
        return 0
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
