"""Traps in a valid policy that its author probably did not mean (``slabot policy check``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from .calendar import Calendar
from .durations import Span, format_duration
from .errors import Problem
from .policy import Policy

DAY = timedelta(days=1)


def warnings(policy: Policy, now: datetime) -> Iterator[Problem]:
    """Each trap as (key path, message); ``now`` anchors "never opens" to the coming years."""
    for name in policy.calendars:
        if policy.clock(name).next_open(now) is None:
            yield Problem(
                f"calendars.{name}",
                "this calendar never opens: every target on it never runs out",
            )
    for i, severity in enumerate(policy.severities):
        for target_name, target in severity.targets.items():
            clock = policy.clock(target.clock)
            if not isinstance(clock, Calendar):
                continue
            longest = policy.calendars[target.clock].longest_day()
            for path, within in (
                ("within", target.within),
                *((f"opened_in.{c}", w) for c, w in target.opened_in.items()),
            ):
                if isinstance(within, Span) and within.in_days and longest < DAY:
                    meant = within / DAY
                    days = f"{meant:g} business day" + ("" if meant == 1 else "s")
                    yield Problem(
                        f"severities[{i}].targets.{target_name}.{path}",
                        f"{within.spelling} on calendar {target.clock!r} is "
                        f"{policy.duration_words(within, target.clock)}, not {days}: a d is "
                        f"24 hours of the calendar. For {days} write "
                        f"{format_duration(longest * meant, days=False)}",
                    )
    escalated: set[str] = set()
    if policy.escalation:
        for rule in policy.escalation.rules:
            keys = rule.severities or [s.key for s in policy.severities]
            escalated.update(
                key for key in keys if rule.of is None or _has_target(policy, key, rule.of)
            )
            for key in keys:
                if rule.of is not None and not _has_target(policy, key, rule.of):
                    i = policy.escalation.rules.index(rule)
                    yield Problem(
                        f"escalation.rules[{i}]",
                        f"never fires for {key!r}: that severity has no {rule.of} target",
                    )
    for i, severity in enumerate(policy.severities):
        if severity.key not in escalated:
            yield Problem(
                f"severities[{i}]",
                f"no escalation rule pages anyone for {severity.key!r}",
            )
    used = {t.clock for s in policy.severities for _, t in s.targets.items()}
    used |= {c for s in policy.severities for _, t in s.targets.items() for c in t.opened_in}
    if policy.escalation:
        used |= {rule.clock for rule in policy.escalation.rules}
    if policy.uptime and policy.uptime.maintenance and policy.uptime.maintenance.outside:
        used.add(policy.uptime.maintenance.outside)
    for name in policy.calendars:
        if name not in used:
            yield Problem(f"calendars.{name}", "no target, rule or notice uses this calendar")


def _has_target(policy: Policy, severity: str, target: str) -> bool:
    return getattr(policy.severity(severity).targets, target) is not None
