"""``slabot simulate --replay`` over a quarter of 100,000 tickets: the goal is under 10 seconds.

A lead edits a draft contract and asks what last quarter would have looked like under it; the
answer has to come back while they are still editing. The tickets are ``bench/report.py``'s
(same generator, same fixed seed, same bulk load into a fresh SQLite file, or PostgreSQL with
``--postgresql``), all under one policy (``--policy``, default liveops, whose P1 pages repeat
every 15 minutes: the most pages to count), opened in October 2026 and replayed as the quarter
August–October. The draft is that policy with its name changed and every ``within: 1h``
doubled, so both sides are judged in full.

What is timed (best of ``--runs``, the first run printed too):

* replay: `slabot.reports.replay.replay`, the whole use case (read, judge as they ran and
  under the draft, pages per level, uptime per month);
* peer, in the same run: `slabot.reports.monthly` for October and the same policy, the
  month-end report ``slabot report`` makes from the same rows. A replay judges every ticket
  twice and walks each one's escalation timeline, so about twice the report and more is
  expected.

``--against REF`` times the replay side by side with the code of a git ref (``final``, say)
instead of beside the report: each code replays in a process of its own (``PYTHONPATH`` =
that code's ``src/``, the ref's taken out with ``git archive``), in ``--rounds`` alternating
rounds (ABBA), on the same database, and prints wall and CPU time (the replay's children
included: a large replay judges the draft in a forked process) and a digest of the figures
(breaches, pages, uptime and credits of both sides), which must be the same. The machine is
shared and noisy, so the ratio in the same round is the figure to trust; the load average is
printed before and after.

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/replay.py [--tickets 100000] [--runs 3]
[--policy liveops] [--postgresql] [--against final [--rounds 4]]``. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import report as report_bench
from benchdb import checkout, postgres_schema

from slabot.policies import PolicyBook
from slabot.reports import monthly
from slabot.reports.replay import replay
from slabot.sla import Policy, parse_policy
from slabot.store import Store

GOAL_S = 10.0
FIRST, LAST = date(2026, 8, 1), date(2026, 10, 31)

# What a side-by-side process runs (``--against``): only APIs that this code and the ref share.
REPLAYED = """
import hashlib, json, os, sys, time
from datetime import date, datetime
from pathlib import Path
from slabot.policies import PolicyBook
from slabot.reports.replay import replay
from slabot.sla import parse_policy
from slabot.store import Store
url, policies, name, draft, workspace, first, last, now, runs = sys.argv[1:]
store, book, times, cpu = Store(url), PolicyBook.load(policies), [], []
draft = parse_policy(Path(draft).read_text(encoding="utf-8"), "draft.yaml")
span = date.fromisoformat(first), date.fromisoformat(last)
def used():
    t = os.times()  # a forked child's time counts once it has been waited for
    return t.user + t.system + t.children_user + t.children_system
for _ in range(int(runs)):
    began, before = time.perf_counter(), used()
    found = replay(
        store, book, [workspace], *span, draft, against=book.get(name),
        now=datetime.fromisoformat(now),
    )
    times.append(time.perf_counter() - began)
    cpu.append(used() - before)
sides = [
    (t.compliance, sorted(t.pages.items()), t.months, sorted(t.left_out.items()))
    for t in (found.current, found.draft)
]
shown = repr([found.period, found.tickets, sides])
digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
print(json.dumps({"times": times, "cpu": cpu, "digest": digest}))
"""


def draft_text(name: str) -> str:
    text = (report_bench.POLICIES / f"{name}.yaml").read_text(encoding="utf-8")
    text = text.replace(f"name: {name}", f"name: {name}-draft", 1)
    return text.replace("within: 1h\n", "within: 2h\n")


def draft_of(name: str) -> Policy:
    return parse_policy(draft_text(name), "draft.yaml")


def measure(store: Store, book: PolicyBook, name: str, runs: int) -> dict[str, list[float]]:
    draft, against = draft_of(name), book.get(name)
    times: dict[str, list[float]] = {"replay": [], "report (peer)": []}
    for _ in range(runs):
        began = time.perf_counter()
        result = replay(
            store,
            book,
            [report_bench.WORKSPACE],
            FIRST,
            LAST,
            draft,
            against=against,
            now=report_bench.NOW,
        )
        times["replay"].append(time.perf_counter() - began)
        began = time.perf_counter()
        monthly(store, book, [report_bench.WORKSPACE], "2026-10", policy=name, now=report_bench.NOW)
        times["report (peer)"].append(time.perf_counter() - began)
    pages = sum(result.current.pages.values()), sum(result.draft.pages.values())
    print(f"  {result.tickets:,} tickets replayed; pages as they ran / under the draft: {pages}")
    return times


def show(database: str, times: dict[str, list[float]]) -> None:
    best = {label: min(values) for label, values in times.items()}
    print(f"{database}:")
    for label, values in times.items():
        print(f"  {label:<15} best {best[label]:6.2f} s   first {values[0]:6.2f} s")
    ratio = best["replay"] / best["report (peer)"]
    verdict = "meets" if best["replay"] < GOAL_S else "misses"
    print(f"  replay / report {ratio:.2f}x; {verdict} the {GOAL_S:.0f} s goal")


def against(
    database: str, url: str, codes: dict[str, Path], args: argparse.Namespace, draft: Path
) -> None:
    """This code's replay beside the ref's, in alternating processes (``--against``)."""
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    extra = [str(report_bench.POLICIES), args.policy, str(draft), report_bench.WORKSPACE]
    extra += [FIRST.isoformat(), LAST.isoformat(), report_bench.NOW.isoformat()]
    timed = ("replay()", REPLAYED, extra)
    report_bench.side_by_side(database, url, codes, args.runs, args.rounds, timed)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--policy", default="liveops", choices=sorted(report_bench.POLICY_SHARES))
    parser.add_argument("--postgresql", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--against", metavar="REF", help="side by side with a git ref's code")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (--against)")
    args = parser.parse_args()

    report_bench.POLICY_SHARES = {args.policy: 1.0}  # every ticket under the replayed policy
    began = time.perf_counter()
    versions, tickets, events = report_bench.generate(args.tickets)
    print(f"generated {len(tickets):,} tickets in {time.perf_counter() - began:.1f} s")
    book = PolicyBook.load(report_bench.POLICIES)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        codes = None
        if args.against:
            codes = {"this code": report_bench.REPO / "src"}
            codes[args.against] = checkout(args.against, scratch)
        draft = scratch / "draft.yaml"
        draft.write_text(draft_text(args.policy), encoding="utf-8")
        store = Store(f"sqlite:///{scratch / 'replay.db'}")
        report_bench.load(store, versions, tickets, events)
        store.dispose()
        if codes:
            against("SQLite", str(store.engine.url), codes, args, draft)
        else:
            show("SQLite", measure(store, book, args.policy, args.runs))
        store.dispose()
        if args.postgresql:
            with postgres_schema("bench_replay") as url:
                if url is not None:
                    store = Store(url)
                    report_bench.load(store, versions, tickets, events)
                    store.dispose()
                    if codes:
                        shown = url.render_as_string(hide_password=False)
                        against("PostgreSQL", shown, codes, args, draft)
                    else:
                        show("PostgreSQL", measure(store, book, args.policy, args.runs))
                    store.dispose()


if __name__ == "__main__":
    main()
