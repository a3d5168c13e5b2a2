"""Durations and shares as policy authors write them: ``1h30m``, ``2d``, ``75%``.

Durations are deliberately not ISO 8601 (``PT1H30M``): support contracts say "4 hours" and
"2 business days", and the policy file should read the same way. A ``d`` is 24 hours and a ``w``
seven days *of the clock the target runs on*, so ``2d`` on a calendar open 00:00–24:00 on working
days is two business days, while on an 8-hour calendar it is six business days (which is why
``slabot policy check`` warns about that combination).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"(?:\d+[wdhms])+")
_SHARE = re.compile(r"(\d+(?:\.\d+)?)%")
_BUSINESS = re.compile(r"(\d+) business (day|week)s?")
_DAY_END = re.compile(r"(?:by )?(?:the )?end of (?:the )?(next )?business day")


class Span(timedelta):
    """A duration that remembers how the policy spelled it, so checks can tell 1d from 24h."""

    spelling: str = ""

    @property
    def in_days(self) -> bool:
        return any(unit in self.spelling for unit in "dw")


class BusinessTime(Span):
    """A target's time counted in the open days of its calendar, as contracts say it:
    ``3 business days``, ``1 business week`` or ``end of the next business day``
    (`slabot.sla.days`). Its value is the whole days it adds; a week's days depend on the
    calendar (its open weekdays), so `Policy` resolves them; "end of" adds the rest of the day
    the ticket is received on as well."""

    count: int = 0
    weeks: bool = False
    to_day_end: bool = False

    @property
    def in_days(self) -> bool:
        return False  # counted in days of the calendar on purpose: nothing for checks to warn

    def words(self, days_a_week: int) -> str:
        """How the contract says it: "3 business days", "1 business week (5 business days)",
        "end of the next business day"."""
        if self.to_day_end:
            return f"end of the {'next ' if self.count else ''}business day"
        unit = "week" if self.weeks else "day"
        text = f"{self.count} business {unit}" + ("" if self.count == 1 else "s")
        if self.weeks:
            days = self.count * days_a_week
            text += f" ({days} business day{'' if days == 1 else 's'})"
        return text


def _business(phrase: str, count: int, *, weeks: bool, to_day_end: bool) -> BusinessTime:
    span = BusinessTime(days=count * (7 if weeks else 1))
    span.spelling, span.count, span.weeks, span.to_day_end = phrase, count, weeks, to_day_end
    return span


def parse_target_time(text: object) -> Span:
    """A target's ``within``: a duration (`parse_duration`) or business days
    (`BusinessTime`), such as ``"3 business days"`` or ``"end of the next business day"``."""
    if isinstance(text, str):
        phrase = " ".join(text.lower().split())
        counted, day_end = _BUSINESS.fullmatch(phrase), _DAY_END.fullmatch(phrase)
        if counted is not None:
            count = int(counted.group(1))
            if count == 0:
                raise ValueError(f"{text!r}: count at least 1 business day")
            return _business(phrase, count, weeks=counted.group(2) == "week", to_day_end=False)
        if day_end is not None:
            return _business(phrase, int(bool(day_end.group(1))), weeks=False, to_day_end=True)
    try:
        return parse_duration(text)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(
            f"{exc}; or business days: '3 business days', '1 business week', "
            "'end of the business day', 'end of the next business day'"
        ) from None


def parse_duration(text: str) -> Span:
    """Read ``"1h30m"`` as a timedelta; raise ValueError saying how to write one."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration such as '4h', '30m' or '1h30m', got {text!r}")
    compact = text.strip().replace(" ", "").lower()
    if not _WHOLE.fullmatch(compact):
        raise ValueError(
            f"{text!r} is not a duration: write whole numbers with units s, m, h, d or w, "
            "such as '30m', '4h', '1h30m' or '2d'"
        )
    seconds = sum(int(n) * UNIT_SECONDS[unit] for n, unit in _PART.findall(compact))
    span = Span(seconds=seconds)
    span.spelling = compact
    return span


def format_duration(value: timedelta, *, days: bool = True) -> str:
    """The shortest policy spelling of a duration (``5400s`` → ``1h30m``); ``0s`` for zero.
    ``days=False`` stops at hours (``72h``), for clocks whose days are not 24 hours long."""
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in UNIT_SECONDS.items():
        if unit == "w" or (unit == "d" and not days):
            continue  # "10d" reads better than "1w3d" in reminders and tables
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")


def duration_words(within: timedelta, days: Sequence[timedelta] = ()) -> str:
    """A target's time as people should read it on its clock; ``days`` is how long the clock
    is open on each day of its week (empty for ``24x7``).

    On a clock open less than 24 hours a day, "1d" would read as one of its days while it is
    24 of its hours: two days of a 12-hour calendar. So such a time is spelled in hours, with
    how many of the calendar's days it spans: ``24h (2 days of 12h)``. `slabot simulate`,
    ``/sla policy`` and ``policy check``'s warning all say it this way, so they cannot disagree.
    """
    open_days = [day for day in days if day > timedelta(0)]
    longest = max(open_days, default=timedelta(0))
    if not days or longest >= timedelta(days=1):
        return format_duration(within)
    text = format_duration(within, days=False)
    if longest and within >= longest:
        count = f"{within / longest:.3g}"
        if min(open_days) == longest:
            text += f" ({count} days of {format_duration(longest, days=False)})"
        else:
            text += f" (at least {count} days, open at most {format_duration(longest, days=False)})"
    return text


def format_share(share: float) -> str:
    """A share as a policy spells it: 0.999 → ``99.9%``."""
    return f"{share * 100:.6g}%"


def parse_share(value: object) -> float:
    """Read ``"75%"`` as 0.75; a share of a target must lie in (0%, 100%].

    A bare number is refused whatever its YAML type: ``target: 99.95`` could mean 99.95% or
    (as a share) 9995%, and the second reading makes every month owe a credit. Money should
    never hang on a guess, so the author is asked to write the percent sign.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            f"{value!r} is a bare number: write it as a percentage with its sign, "
            f"such as '{value:g}%' (quoted or not), so it cannot be read as a fraction"
        )
    match = _SHARE.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a share: write a percentage such as '75%'")
    # Decimal, so "99.9%" is exactly the float nearest 0.999 (float division gives 0.99900…01)
    share = float(Decimal(match.group(1)) / 100)
    if not 0 < share <= 1:
        raise ValueError(f"{value!r} must be more than 0% and at most 100%")
    return share


def clock_words(name: str) -> str:
    """A clock's name as people read it: ``support`` → "support hours", ``business_hours`` →
    "business hours", ``working_days`` → "working days", ``24x7`` stays."""
    if name == "24x7":
        return name
    words = name.replace("_", " ")
    return words if words.endswith(("hours", "days")) else f"{words} hours"
