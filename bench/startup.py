"""Start-up and idle memory: ``slabot serve`` to its first ``/healthz``, ``slabot deadlines``.

The issue "Speed where people feel it": ``slabot serve`` ready in under 0.8 s and idle in
under 70 MB, ``slabot deadlines`` under 0.2 s, each beside ``python -c pass`` measured in the
same run (the machine is shared: a figure only means something next to its peer).

Each round, in turn (``--rounds``, 5; the median is shown):

* ``python -c pass``: the interpreter alone, spawn to exit;
* ``slabot deadlines leadpro --severity high --opened 2026-11-23T09:00``: spawn to exit;
* ``slabot serve`` (its clock included, as deployed) on a SQLite file already migrated, so
  no migration runs, with the policies' public holidays already kept (``slabot policy check``
  and the deadlines above run once first, in the run's own ``XDG_CACHE_HOME``): a restart,
  the usual case; against the fake Slack (``tests/support/fakeslack/``) in this process:
  spawn to the first HTTP 200 from ``/healthz`` (polled every 5 ms); then, after ``--idle``
  (2) seconds, its resident memory (``VmRSS``);
* a bare Bolt app behind the same WSGI wrapper (``bench/slash_latency.py --serve-bare``): the
  same two figures, the floor for a Slack app in Python.

With ``--against REF`` the slabot commands also run from a git ref's ``src/`` (``main``, say:
today's code), alternating with this code, on the same database, through ``PYTHONPATH``.

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/startup.py [--rounds 5] [--idle 2]
[--against main]``. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchdb import checkout
from slash_latency import SECRET, TOKEN
from support.conversation import free_port
from support.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
DEADLINES = ["deadlines", "leadpro", "--severity", "high", "--opened", "2026-11-23T09:00"]


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> tuple:
    """(seconds from spawn to exit, CPU seconds it used); the command must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def cpu_seconds(pid: int) -> float:
    """User + system CPU a running process has used so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_once(command: list[str], env: dict[str, str], cwd: Path, idle: float) -> tuple:
    """(seconds to the first /healthz 200, CPU seconds by then, resident MB after ``idle``
    seconds)."""
    port = free_port()
    log = cwd / "serve.log"
    with log.open("w") as out:
        began = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, cwd=cwd, stdout=out, stderr=out
        )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        ready = time.perf_counter() - began
                        cpu = cpu_seconds(process.pid)
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.perf_counter() - began > 60:
                raise SystemExit(f"{command} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.005)
        time.sleep(idle)
        status = Path(f"/proc/{process.pid}/status").read_text()
        rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return ready, cpu, int(rss.split()[1]) / 1024  # kB
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds before reading RSS")
    parser.add_argument("--against", metavar="REF", help="also run a git ref's code")
    args = parser.parse_args()
    python = sys.executable
    with FakeSlack() as fake, tempfile.TemporaryDirectory(prefix="slabot-startup-") as tmp:
        cwd = Path(tmp)
        codes = {"this code": ROOT / "src"}
        if args.against:
            codes[args.against] = checkout(args.against, cwd)
        base = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
        slack = {"SLACK_API_URL": fake.url, "SLACK_BOT_TOKEN": TOKEN}
        slack["SLACK_SIGNING_SECRET"] = SECRET
        settings = {
            **base,
            **slack,
            "DATABASE_URL": f"sqlite:///{cwd / 'slabot.db'}",
            "SLABOT_POLICIES": str(ROOT / "policies"),
            "XDG_CACHE_HOME": str(cwd / "cache"),  # the public holidays kept between runs
        }
        env = {label: settings | {"PYTHONPATH": str(src)} for label, src in codes.items()}
        subprocess.run(
            [python, "-m", "slabot", "db", "upgrade"], env=env["this code"], cwd=cwd, check=True
        )
        for label in codes:  # a restart finds the policies' holidays kept, where code keeps them
            run_once([python, "-m", "slabot", "policy", "check"], env[label], cwd)
            run_once([python, "-m", "slabot", *DEADLINES], env[label], cwd)  # and 2026's dates
        serve = [python, "-m", "slabot", "serve", "--host", "127.0.0.1"]
        bare = [python, str(ROOT / "bench" / "slash_latency.py"), "--serve-bare"]
        figures: dict[str, list] = {}

        def record(label: str, value: object) -> None:
            figures.setdefault(label, []).append(value)

        for _ in range(args.rounds):
            record("python -c pass", run_once([python, "-c", "pass"], base, cwd))
            for label in codes:
                cli = [python, "-m", "slabot", *DEADLINES]
                record(f"deadlines, {label}", run_once(cli, env[label], cwd))
                record(f"serve, {label}", serve_once(serve, env[label], cwd, args.idle))
            kit = {"PYTHONPATH": str(ROOT / "tests")}  # slash_latency.py signs with the kit
            record("bare Bolt app", serve_once(bare, base | slack | kit, cwd, args.idle))
        show(figures, args.rounds)


def show(figures: dict[str, list], rounds: int) -> None:
    floor = statistics.median(v[0] for v in figures["python -c pass"])
    print(f"median of {rounds} rounds; × = the time over python -c pass's in the same run;")
    print("CPU: user + system seconds of the process (to the first /healthz for serve)")
    print(f"{'':<28} {'seconds':>8} {'× pass':>7} {'CPU s':>6} {'RSS MB':>7}")
    for label, values in figures.items():
        seconds = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        rss = f"{statistics.median(v[2] for v in values):7.1f}" if len(values[0]) > 2 else ""
        print(f"{label:<28} {seconds:8.3f} {seconds / floor:7.1f} {cpu:6.2f} {rss:>7}")
    print("goals: serve ready < 0.8 s, deadlines < 0.2 s, serve idle RSS < 70 MB")


if __name__ == "__main__":
    main()
