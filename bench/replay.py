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

Run from the repository root, the test kit on the path:
``PYTHONPATH=tests .venv/bin/python bench/replay.py [--tickets 100000] [--runs 3]
[--policy liveops] [--postgresql]``. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import report as report_bench
from benchdb import postgres_schema

from slabot.policies import PolicyBook
from slabot.reports import monthly
from slabot.reports.replay import replay
from slabot.sla import Policy, parse_policy
from slabot.store import Store

GOAL_S = 10.0
FIRST, LAST = date(2026, 8, 1), date(2026, 10, 31)


def draft_of(name: str) -> Policy:
    text = (report_bench.POLICIES / f"{name}.yaml").read_text(encoding="utf-8")
    text = text.replace(f"name: {name}", f"name: {name}-draft", 1)
    return parse_policy(text.replace("within: 1h\n", "within: 2h\n"), "draft.yaml")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--policy", default="liveops", choices=sorted(report_bench.POLICY_SHARES))
    parser.add_argument("--postgresql", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()

    report_bench.POLICY_SHARES = {args.policy: 1.0}  # every ticket under the replayed policy
    began = time.perf_counter()
    versions, tickets, events = report_bench.generate(args.tickets)
    print(f"generated {len(tickets):,} tickets in {time.perf_counter() - began:.1f} s")
    book = PolicyBook.load(report_bench.POLICIES)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'replay.db'}")
        report_bench.load(store, versions, tickets, events)
        show("SQLite", measure(store, book, args.policy, args.runs))
        store.dispose()
    if args.postgresql:
        with postgres_schema("bench_replay") as url:
            if url is not None:
                store = Store(url)
                report_bench.load(store, versions, tickets, events)
                show("PostgreSQL", measure(store, book, args.policy, args.runs))
                store.dispose()


if __name__ == "__main__":
    main()
