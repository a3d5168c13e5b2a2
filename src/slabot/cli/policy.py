"""``slabot policy check FILE...``: is every policy valid, and what traps does it hold?"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from ..sla import PolicyError, load_policy
from ..sla.checks import warnings
from .common import policies_dir
from .errors import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate policy files and warn about traps")
    check.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="policy files (default: every *.yaml in $SLABOT_POLICIES, or policies/)",
    )
    check.add_argument("--strict", action="store_true", help="fail on warnings too")


def run(args: argparse.Namespace) -> int:
    # The traps are judged from today on; only this adapter reads the wall clock.
    now = datetime.now(UTC)
    files = args.files or sorted(str(p) for p in policies_dir().glob("*.yaml"))
    if not files:
        raise CliError(f"no policy files in {policies_dir()}/: name the files to check", code=2)
    invalid = warned = 0
    for file in files:
        try:
            policy = load_policy(file)
        except PolicyError as exc:
            invalid += 1
            print(exc, file=sys.stderr)
            continue
        found = list(warnings(policy, now))
        warned += bool(found)
        for problem in found:
            print(f"{file}: warning: {problem}", file=sys.stderr)
        if args.strict and found:
            print(
                f"{file}: fails --strict: {_count(len(found), 'warning')} above "
                f"({policy.name}, {len(policy.severities)} severities)",
                file=sys.stderr,
            )
        else:
            print(f"{file}: ok ({policy.name}, {len(policy.severities)} severities)")
    if invalid:
        print(f"{invalid} of {len(files)} files invalid", file=sys.stderr)
    if args.strict and warned:
        verb = "fails" if warned == 1 else "fail"
        print(f"{warned} of {len(files)} files {verb} --strict on warnings", file=sys.stderr)
    return 1 if invalid or (args.strict and warned) else 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
