"""``slabot deadlines FILE --severity KEY --opened ISO...``: a policy's deadlines, on demand.

One result per ``--opened``, in order: as JSON lines for scripts, or a table for people.
"""

from __future__ import annotations

import argparse
import json

from ..sla import Target, format_duration
from ..sla.durations import BusinessTime
from ..sla.policy import TARGET_LABELS  # not from schedule: the engine is not needed here
from .common import add_ticket_arguments, instant, iso, pause, policy_from, severity_key, shown

# Targets that run from the opening; time to open runs from the report, update_every from
# the first response, so neither has a deadline knowable from the opening alone.
TARGETS_SHOWN = ("first_response", "resolution")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_ticket_arguments(parser, many=True)
    parser.add_argument(
        "--pause",
        action="append",
        default=[],
        metavar="START/END",
        help="a span in which the clock stops (repeatable); START/ for one still going on",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    policy = policy_from(args.file)
    tz = policy.tz
    severity = severity_key(policy, args.severity)
    openings = [instant(text, tz, "--opened") for text in args.opened]
    pauses = [pause(text, tz) for text in args.pause]
    every = policy.severity(severity).targets.update_every
    # One batch per target (numpy only for many openings), then one row per opening.
    per_target = [policy.deadlines(severity, t, openings, pauses) for t in TARGETS_SHOWN]
    results = list(zip(openings, zip(*per_target, strict=True), strict=True))
    if args.json:
        for opened, dues in results:
            row = {"opened": iso(opened, tz), "severity": severity, "policy": policy.name}
            row.update((t, iso(due, tz)) for t, due in zip(TARGETS_SHOWN, dues, strict=True))
            row["update_every"] = None if every is None else _spelled(every)
            print(json.dumps(row))
        return 0
    header = ["Opened", "Severity", *(TARGET_LABELS[t] for t in TARGETS_SHOWN)]
    table = [
        [shown(opened, tz), severity, *(shown(d, tz) for d in dues)] for opened, dues in results
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for line in [header, *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    if every:
        owed = policy.target_words(every)
        print(f"Updates are owed every {owed} after the first response.")
    return 0


def _spelled(target: Target) -> str:
    """A target's time as the policy spells it, for machines: ``4h``, ``1 business day``."""
    within = target.within
    return within.spelling if isinstance(within, BusinessTime) else format_duration(within)
