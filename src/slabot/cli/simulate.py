"""``slabot simulate FILE --severity KEY --opened ISO``: a ticket's whole timeline, in advance.

What a support lead reads before deploying a policy: every deadline, and every reminder,
update nudge and page (with whom it reaches: the level's contacts, and whoever the team file's
rotation has on call when the page falls due, overrides from Slack not counted) that a ticket
would get if nobody acted. With
``--replay FROM..TO`` it replays real tickets under FILE instead (`slabot.cli.replay`).
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..oncall import team_from
from ..sla import Policy, PolicyError, format_duration, parse_duration
from ..sla.history import Acknowledged, Event, Opened
from ..sla.oncall import Team
from ..sla.schedule import TARGET_LABELS, Timer, schedule, timeline
from . import replay
from .common import add_ticket_arguments, instant, policy_from, severity_key, shown
from .config import settings
from .errors import CliError

DEFAULT_TAIL = timedelta(days=1)
DEFAULT_SPAN = timedelta(days=7)
MAX_SPAN = timedelta(days=366)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_ticket_arguments(parser, many=False, required=False)
    parser.add_argument(
        "--reported", metavar="ISO", help="when the problem was reported (for time to open)"
    )
    parser.add_argument(
        "--acknowledged",
        metavar="ISO|+DURATION",
        help="when someone acknowledges, such as +20m (update nudges start then)",
    )
    parser.add_argument(
        "--for",
        dest="span",
        metavar="DURATION",
        help="how far to look ahead, such as 3d (default: a day past the last deadline)",
    )
    parser.add_argument(
        "--team",
        metavar="FILE",
        type=Path,
        help="the team file whose rotations the levels name (default: $SLABOT_TEAM)",
    )
    replay.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.replay:
        return replay.run(args)
    if not (args.severity and args.opened):
        raise CliError(
            "give --severity and --opened (one ticket's timeline), or --replay FROM..TO "
            "(real tickets under FILE's terms)",
            code=2,
        )
    policy = policy_from(args.file)
    tz = policy.tz
    severity = severity_key(policy, args.severity)
    opened = instant(args.opened, tz, "--opened")
    reported = instant(args.reported, tz, "--reported") if args.reported else None
    if reported is not None and reported > opened:
        raise CliError("--reported must not be after --opened", code=2)
    try:
        team = team_from(args.team or settings().slabot_team, opened)
    except PolicyError as exc:
        raise CliError(str(exc), code=2) from None
    history: list[Event] = [Opened(opened, severity, reported)]
    if args.acknowledged:
        history.append(Acknowledged(_acknowledged(args.acknowledged, opened, tz)))
    now = schedule(policy, history, opened)
    dues = [d.due for d in now.deadlines if d.due is not None]
    if args.span:
        try:
            span = parse_duration(args.span)
        except ValueError as exc:
            raise CliError(f"--for: {exc}", code=2) from None
        if span > MAX_SPAN:
            raise CliError(f"--for: look at most {format_duration(MAX_SPAN)} ahead", code=2)
        until = opened + span
    else:
        until = max(dues) + DEFAULT_TAIL if dues else opened + DEFAULT_SPAN
    label = policy.severity(severity).label
    print(f"{policy.title or policy.name}: {label} ({severity}) opened {shown(opened, tz)}")
    print("\nDeadlines")
    if not now.deadlines:
        print("  none: this severity has no timed target")
    targets = policy.severity(severity).targets
    for d in now.deadlines:
        met = f", met {shown(d.met_at, tz)}" if d.met_at else ""
        words = policy.target_words(getattr(targets, d.target), d.within)
        print(f"  {d.label:<15} {shown(d.due, tz):<28} {words} on {d.clock}{met}")
        if d.clause:
            print(f"{'':<18}“{d.clause}”")
    print(f"\nTimeline to {shown(until, tz)}, if nobody acts")
    events = timeline(policy, history, until)
    if not events:
        print("  nothing: no reminder, nudge or page falls due")
    if policy.severity(severity).targets.update_every and not args.acknowledged:
        print("  (update nudges start with the first response: add --acknowledged +30m)")
    repeats = Counter((t.kind, t.stage) for t in events)
    for timer in events:
        if timer.repeat == 0:
            print("  " + _line(policy, team, timer, opened, repeats[timer.kind, timer.stage] - 1))
    return 0


def _acknowledged(text: str, opened: datetime, tz: ZoneInfo) -> datetime:
    if text.startswith("+"):
        try:
            return opened + parse_duration(text[1:])
        except ValueError as exc:
            raise CliError(f"--acknowledged: {exc}", code=2) from None
    at = instant(text, tz, "--acknowledged")
    if at < opened:
        raise CliError("--acknowledged must not be before --opened", code=2)
    return at


def _line(policy: Policy, team: Team, timer: Timer, opened: datetime, again: int) -> str:
    offset = "+" + format_duration(timer.due_at - opened)
    line = f"{shown(timer.due_at, policy.tz):<28} {offset:>8}  {_what(policy, team, timer)}"
    if again and timer.every:
        every = policy.duration_words(timer.every, timer.every_clock)
        on = "" if timer.every_clock == "24x7" else f" of {timer.every_clock} time"
        line += f", again every {every}{on} until answered ({again} more)"
    return line + (f"\n{'':<40}“{timer.clause}”" if timer.clause else "")


def _what(policy: Policy, team: Team, timer: Timer) -> str:
    target = TARGET_LABELS.get(timer.target or "", "")
    if timer.kind == "reminder":
        return f"reminder to the owner: {target} {timer.share:.0%} used"
    if timer.kind == "update_nudge":
        return "update nudge to the owner: an update is due"
    if timer.kind == "page":
        level = policy.escalation.level(timer.level)  # type: ignore[union-attr, arg-type]
        whom = list(level.contacts)
        if level.rotation is not None:
            whom.append(_on_call(team, level.rotation, timer.due_at))
        return (
            f"PAGE {level.label} ({', '.join(whom) or 'no contacts configured yet'}): "
            + {
                "open": "at opening",
                "breach": f"{target} breached",
                "share": f"{target} {timer.share or 0:.0%} used",
                "after": "no ETA or workaround yet",
            }[timer.trigger or "open"]
        )
    return {
        "follow_up": "follow-up to the customer",
        "auto_solve": "ticket solved automatically (no reply from the customer)",
        "auto_close": "ticket closed automatically",
    }[timer.kind]


def _on_call(team: Team, key: str, at: datetime) -> str:
    """Whom rotation ``key`` pages at ``at``, in words."""
    try:
        person = team.rotation(key).shift(at).person
    except KeyError:
        return f"rotation {key}, not in the team file (SLABOT_TEAM, --team)"
    return f"{person or 'nobody'} on call in {key}"
