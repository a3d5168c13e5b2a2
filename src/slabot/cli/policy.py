"""``slabot policy check FILE...``: is every policy valid, and what traps does it hold? With a
team file (``--team``, default ``SLABOT_TEAM``), the rotations are checked too: the file, each
calendar rotation's calendar, and each escalation level's rotation being one the team has."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..oncall import team_from
from ..sla import Policy, PolicyError, load_policy
from ..sla.checks import warnings
from ..sla.errors import Problem
from ..sla.oncall import Team, gaps
from .common import policies_dir, shown
from .config import settings
from .errors import CliError

GAPS_AHEAD = timedelta(days=28)  # how far ahead a rotation's gaps are looked for


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
    check.add_argument(
        "--team",
        metavar="FILE",
        type=Path,
        help="the team file whose rotations the levels name (default: $SLABOT_TEAM)",
    )


def run(args: argparse.Namespace) -> int:
    # The traps are judged from today on; only this adapter reads the wall clock.
    now = datetime.now(UTC)
    files = args.files or sorted(str(p) for p in policies_dir().glob("*.yaml"))
    if not files:
        raise CliError(f"no policy files in {policies_dir()}/: name the files to check", code=2)
    team_file = args.team or settings().slabot_team
    team, invalid = _team(team_file, now)
    warned = 0
    for file in files:
        try:
            policy = load_policy(file)
        except PolicyError as exc:
            invalid += 1
            print(exc, file=sys.stderr)
            continue
        found = list(warnings(policy, now))
        if team is not None:
            found += rotation_warnings(policy, team, team_file, now)
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
        total = len(files) + (team_file is not None)
        print(f"{invalid} of {total} files invalid", file=sys.stderr)
    if args.strict and warned:
        verb = "fails" if warned == 1 else "fail"
        print(f"{warned} of {len(files)} files {verb} --strict on warnings", file=sys.stderr)
    return 1 if invalid or (args.strict and warned) else 0


def _team(file: Path | None, now: datetime) -> tuple[Team | None, int]:
    """The team file read as `serve` reads it (calendars included), and 1 when it is invalid
    (each problem printed)."""
    if file is None:
        return None, 0
    try:
        team = team_from(file, now)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return None, 1
    print(f"{file}: ok (team: {_count(len(team.rotations), 'rotation')})")
    return team, 0


def rotation_warnings(
    policy: Policy, team: Team, team_file: Path | None, now: datetime
) -> Iterator[Problem]:
    """A level naming a rotation the team file lacks pages only its contacts; one whose
    rotation leaves nobody on call for a while in the next `GAPS_AHEAD` pages nobody then
    (unless the level has contacts): say so, with the first such span and how many."""
    for i, level in enumerate(policy.escalation.levels if policy.escalation else ()):
        if level.rotation is None:
            continue
        path = f"escalation.levels[{i}].rotation"
        try:
            rotation = team.rotation(level.rotation)
        except KeyError:
            yield Problem(
                path,
                f"{level.rotation!r} is not a rotation of {team_file}: its pages reach only "
                "the level's contacts",
            )
            continue
        found = gaps(rotation, now, now + GAPS_AHEAD)
        if found:
            (starts, ends), more = found[0], len(found) - 1
            yield Problem(
                path,
                f"nobody is on call in {level.rotation!r} from {shown(starts, rotation.tz)} to "
                f"{shown(ends, rotation.tz)}"
                + (f" (and {more} more gaps" if more else " (")
                + f" in the next {GAPS_AHEAD.days} days): "
                + (
                    "its contacts alone are paged then"
                    if level.contacts
                    else "nobody is paged then"
                ),
            )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
