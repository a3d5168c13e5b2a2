"""``slabot simulate --replay FROM..TO DRAFT [--against NAME]``: last quarter under a draft.

Prints, for the real tickets of a span, what they came to under the terms they ran under and
what they would have come to under the draft: breaches per severity, pages per escalation
level, and each month's uptime and service credit. The database and the figures are imported
only when a replay runs, so ``slabot simulate`` for one ticket stays light.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .common import instant, policy_from
from .errors import CliError

if TYPE_CHECKING:
    from ..policies import PolicyBook
    from ..reports.replay import Replay, Terms
    from ..sla.figures import SeverityCompliance, TargetFigures, UptimeReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("replay real tickets under FILE (a draft policy)")
    group.add_argument(
        "--replay",
        metavar="FROM..TO",
        help="the tickets opened in these days or months, such as 2026-07..2026-09",
    )
    group.add_argument(
        "--against",
        metavar="NAME",
        help="the policy whose tickets to replay (default: the one FILE names)",
    )
    group.add_argument(
        "--workspace",
        action="append",
        metavar="T…",
        help="only this Slack workspace; repeatable (default: every workspace)",
    )
    group.add_argument("--now", metavar="ISO", help="replay as things stood then (default: now)")


def run(args: argparse.Namespace) -> int:
    from ..reports import ReportError, workspaces
    from ..reports.replay import replay
    from .config import settings
    from .storage import open_store, reach

    first, last = span(args.replay)
    draft = policy_from(args.file)
    now = instant(args.now, ZoneInfo("UTC"), "--now") if args.now else datetime.now(UTC)
    store = open_store()
    book = _book(settings().slabot_policies)
    try:
        against = book.get(args.against or draft.name)
    except KeyError as exc:
        raise CliError(f"--against: {exc.args[0]}", code=2) from None
    chosen = args.workspace or reach(store, lambda: workspaces(store))
    try:
        result = reach(
            store,
            lambda: replay(store, book, chosen, first, last, draft, against=against, now=now),
        )
    except ReportError as exc:
        raise CliError(str(exc), code=2) from None
    print(render(result, args.file))
    return 0


def span(text: str) -> tuple[date, date]:
    """``FROM..TO``, both ends included: days (2026-07-01..2026-09-30) or months
    (2026-07..2026-09, from the first day of the one to the last of the other)."""
    first, dots, last = text.partition("..")
    if not dots:
        raise CliError(
            f"--replay {text!r}: write FROM..TO, such as 2026-07..2026-09 or "
            "2026-07-01..2026-09-30",
            code=2,
        )
    return _day(first, text, end=False), _day(last, text, end=True)


def _day(text: str, whole: str, *, end: bool) -> date:
    text = text.strip()
    try:
        if len(text) == 7:  # YYYY-MM
            year, month = int(text[:4]), int(text[5:])
            if not end:
                return date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"--replay {whole!r}: {text!r} is not a day (2026-07-01) or a month (2026-07)",
            code=2,
        ) from None


def _book(folder: Path) -> PolicyBook:
    from ..policies import PolicyBook
    from ..sla import PolicyError

    try:
        return PolicyBook.load(folder)
    except PolicyError as exc:
        raise CliError(f"invalid policy\n{exc}", code=2) from None


# -- rendering ----------------------------------------------------------------------------------


def render(result: Replay, draft_file: str) -> str:
    now, draft = result.current, result.draft
    tz = now.policy.tz
    period = result.period
    lines = [
        f"Replay of the {result.tickets} {now.policy.name} tickets opened "
        f"{period.start.astimezone(tz):%d %b %Y} – {_last(period.end, tz):%d %b %Y} "
        f"({tz.key}), as of {now.compliance.now.astimezone(tz):%d %b %Y %H:%M}",
        f"{'':<34}{'as they ran':>16}  {'under ' + draft.policy.name + ' (draft)':>24}",
    ]
    lines += _severities(now, draft)
    lines += _pages(now, draft)
    lines += _uptime(now, draft)
    if draft.left_out:
        lines.append("")
        lines += [
            f"Left out of the draft: {n} ticket{'' if n == 1 else 's'} of severity {s!r}, "
            f"which {draft_file} does not define"
            for s, n in sorted(draft.left_out.items())
        ]
    return "\n".join(lines)


def _last(end: datetime, tz: ZoneInfo) -> date:
    return date.fromordinal(end.astimezone(tz).date().toordinal() - 1)


def _severities(now: Terms, draft: Terms) -> list[str]:
    lines = ["", "Breaches (of targets decided)"]
    keys = [s.severity for s in now.compliance.severities]
    keys += [s.severity for s in draft.compliance.severities if s.severity not in keys]
    for key in keys:
        a, b = _severity(now, key), _severity(draft, key)
        opened = max(a.opened if a else 0, b.opened if b else 0)
        if opened == 0:
            continue
        label = next(s.label for s in (a, b) if s is not None)
        lines.append(f"  {label} ({opened} opened)")
        for name, words in (("first_response", "first response"), ("resolution", "resolution")):
            if all(s is None or getattr(s, name) is None for s in (a, b)):
                continue
            lines.append(f"    {words:<30}{_breaches(a, name):>16}  {_breaches(b, name):>24}")
    return lines


def _severity(terms: Terms, key: str) -> SeverityCompliance | None:
    return next((s for s in terms.compliance.severities if s.severity == key), None)


def _breaches(severity: SeverityCompliance | None, name: str) -> str:
    """``3 (25%)`` of the tickets whose target was decided; ``—`` where the policy has no such
    severity (its tickets were left out), ``no target`` where the severity sets none."""
    if severity is None:
        return "—"
    figures: TargetFigures | None = getattr(severity, name)
    if figures is None:
        return "no target"
    share = figures.breached_percent
    return f"{figures.breached}" + ("" if share is None else f" ({share:.0f}%)")


def _pages(now: Terms, draft: Terms) -> list[str]:
    lines = ["", "Pages (repeats included)"]
    levels = _levels(now) + [k for k in _levels(draft) if k not in _levels(now)]
    if not levels:
        return [*lines, "  none: neither policy pages anyone"]
    for key in levels:
        label = (now if key in _levels(now) else draft).policy.level_label(key)
        lines.append(f"  {label:<32}{now.pages[key]:>16}  {draft.pages[key]:>24}")
    return lines


def _levels(terms: Terms) -> list[str]:
    escalation = terms.policy.escalation
    return [] if escalation is None else [level.key for level in escalation.levels]


def _uptime(now: Terms, draft: Terms) -> list[str]:
    if not now.months and not draft.months:
        return []
    lines = ["", "Uptime and service credit per month (* a month the span covers in part)"]
    count = max(len(now.months), len(draft.months))
    for i in range(count):
        left = now.months[i] if i < len(now.months) else None
        right = draft.months[i] if i < len(draft.months) else None
        label = next(r.period.label for r in (left, right) if r is not None)
        lines.append(f"  {label:<32}{_month(left):>16}  {_month(right):>24}")
    return lines


def _month(report: UptimeReport | None) -> str:
    if report is None:
        return "no uptime terms"
    return f"{report.uptime_percent:.3f}%, credit {report.credit:.0%}"
