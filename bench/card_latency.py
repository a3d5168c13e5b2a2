"""Time from a signed ``/sla open`` to its card in the channel, through a real ``slabot serve``.

Since issue 11 no card is posted inside a request: ``/sla open`` stores the ticket with its
card owed, answers, and the clock posts the card. This measures what that costs a person
watching the channel, against the peers in the same run:

* **woken**: ``slabot serve`` with its in-process clock, woken as each change commits (the
  default);
* **clock**: ``slabot serve --no-clock`` beside ``slabot clock --interval 1`` (the separate
  clock finds the card on its next tick);
* **before** (with ``--before SRC``, e.g. ``/work/main/src``): ``slabot serve`` from another
  source tree run the same way, such as main before this change, which posted the card from
  the request's thread right after the acknowledgement.

Each server gets ``--warmup`` (5) uncounted requests, then ``--requests`` (50), one at a
time, each waiting for its card before the next is sent. Timed: from just before
``urlopen`` (``time.time``) to the fake Slack's arrival time of the card's
``chat.postMessage`` (a top-level message naming the request's title), both in this process's
clock. The fake answers at once. Nothing asserts a time; the table is the result.

``PYTHONPATH=tests:bench .venv/bin/python bench/card_latency.py [--requests 50]
[--before /work/main/src]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from slash_latency import ROOT, SECRET, TOKEN, Server, start, stop
from support import signed
from support.conversation import free_port
from support.fakeslack import FakeSlack


def channel(n: int) -> str:
    """A channel of its own for the ``n``-th open (warm-ups are negative): a person opening a
    ticket in a channel at rest. In one shared channel each card would wait behind the last
    ticket's thread note for Slack's one message a second a channel, which measures Slack's
    limit instead (the clock bench's paced run does that)."""
    return f"CCARD{n + 100:04d}"


def one(server: Server, fake: FakeSlack, n: int) -> tuple[float, float]:
    """Seconds to the acknowledgement and to the card of the ``n``-th open."""
    title = f"card latency {server.name} {n}"
    # The answer ("SLA-N opened") goes to the fake: a closed port would hold the server's
    # workers on retries and skew every figure.
    answers_to = fake.response_url(f"{server.name}-{n}")
    body = signed.slash_command(
        f"open policy:liveops p2 {title}", channel_id=channel(n), response_url=answers_to
    )
    request = urllib.request.Request(
        f"{server.url}/slack/events",
        data=body.encode(),
        headers=signed.signed_headers(SECRET, body),
        method="POST",
    )
    sent = time.time()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    acked = time.time()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for call in fake.calls_to("chat.postMessage", ok=True):
            if not call.args.get("thread_ts") and title in str(call.args.get("text")):
                return acked - sent, call.at - sent
        time.sleep(0.002)
    log = server.log.read_text()[-3000:] if server.log else ""
    raise SystemExit(f"{server.name}: no card for {title!r} within 30 s; its log ends:\n{log}")


def measure(name: str, fake: FakeSlack, cwd: Path, args: argparse.Namespace, **how: str):
    folder = cwd / name
    folder.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "SLACK_API_URL": fake.url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "DATABASE_URL": f"sqlite:///{folder / 'slabot.db'}",
        "SLABOT_POLICIES": str(ROOT / "policies"),
        **({"PYTHONPATH": how["src"]} if how.get("src") else {}),
    }
    python, port = sys.executable, free_port()
    serve = [python, "-m", "slabot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    clock = None
    if how.get("separate"):
        serve.append("--no-clock")
    server = start(name, serve, env, folder, port)
    try:
        if how.get("separate"):
            import subprocess

            log = (folder / "clock.log").open("w")
            clock = subprocess.Popen(
                [python, "-m", "slabot", "clock", "--interval", "1"],
                env=env,
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for n in range(args.warmup):
            one(server, fake, -1 - n)
        times = [one(server, fake, n) for n in range(args.requests)]
    finally:
        if clock is not None:
            clock.terminate()
            clock.wait()
        stop(server)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--before", help="another source tree's src/ to measure as a peer")
    args = parser.parse_args(argv)
    rows = []
    with FakeSlack(clock=time.time) as fake, tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        peers: list[tuple[str, dict[str, str]]] = [("woken", {}), ("clock", {"separate": "1"})]
        if args.before:
            peers.insert(0, ("before", {"src": args.before}))
        for name, how in peers:
            times = measure(name, fake, cwd, args, **how)
            rows.append((name, times))
    print(f"{args.requests} opens one at a time, load average {os.getloadavg()[0]:.1f}")
    print("| server | ack median | card median | card p90 | card max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, times in rows:
        acks = [a for a, _ in times]
        cards = sorted(c for _, c in times)
        p90 = statistics.quantiles(cards, n=10, method="inclusive")[-1]
        print(
            f"| {name} | {statistics.median(acks) * 1000:.0f} ms | "
            f"{statistics.median(cards) * 1000:.0f} ms | {p90 * 1000:.0f} ms | "
            f"{cards[-1] * 1000:.0f} ms |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
