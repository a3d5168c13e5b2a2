"""The month's charts: figures in, PNG bytes out.

`report_chart`, which ``/sla report`` uploads under its summary and the customer statement
shows for a contract without uptime terms: two panels side by side, compliance by severity
(the share of decided first responses and resolutions that met their target) and a daily
breach timeline (how many deadlines fell due and were breached on each day of the month, in
the policy's zone). `uptime_chart`, which the customer statement shows for a contract with
uptime terms: the minutes down on each day of the month, those counted against the uptime and
those left out (announced maintenance, excluded causes), under the month's uptime and target.

Pure: figures in, bytes out; nothing here talks to Slack or reads the clock. matplotlib is
imported inside each drawing function, not at module level: it takes about half a second to import,
and neither ``slabot --help`` nor a slash command that draws nothing should pay for it. The
chart is drawn on a bare `matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``: pyplot keeps global state (the "current figure") that two listener threads drawing
at once would share, and it may pick an interactive backend on a desktop.
"""

from __future__ import annotations

import importlib.util
import io
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..sla.figures import Compliance, Period, UptimeReport
    from .monthly import PolicyReport

MET = "#2e7d32"  # first response
RESOLVED = "#1565c0"  # resolution
BREACH = "#c62828"
LEFT_OUT = "#9e9e9e"  # downtime left out of the uptime
DPI = 100
SIZE = (11, 4.2)  # inches: 1100 × 420 px, legible in a channel's preview


def severity_bars(compliance: Compliance) -> list[tuple[str, float | None, float | None]]:
    """(label, first response met %, resolution met %) per severity; None: nothing decided."""
    return [
        (
            s.label,
            s.first_response.met_percent if s.first_response else None,
            s.resolution.met_percent if s.resolution else None,
        )
        for s in compliance.severities
    ]


def breaches_per_day(compliance: Compliance, tz: tzinfo) -> list[int]:
    """Breaches per day of the report's period, by the day (in ``tz``) each breached deadline
    fell due; one count per day, the first day first."""
    days = _days(compliance.period, tz)
    first = days[0]
    counted = Counter((b.due.astimezone(tz).date() - first).days for b in compliance.breaches)
    return [counted.get(day, 0) for day in range(len(days))]


def downtime_per_day(up: UptimeReport, tz: tzinfo) -> tuple[list[int], list[int]]:
    """Minutes down on each day of the period (in ``tz``), the first day first: those counted
    against the uptime, and those left out of it. A spell over midnight counts on both days."""
    days = _days(up.period, tz)
    left_out = [(e.start, e.end) for e in up.excluded if e.scope == "uptime"]
    return (
        _minutes_per_day(((s.start, s.end) for s in up.downtime), days, tz),
        _minutes_per_day(left_out, days, tz),
    )


def _days(period: Period, tz: tzinfo) -> list[date]:
    first = period.start.astimezone(tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _month(period: Period, tz: tzinfo) -> str:
    """ "November 2026": the month the period starts in, as a reader says it."""
    return f"{period.start.astimezone(tz):%B %Y}"


def _minutes_per_day(
    spans: Iterable[tuple[datetime, datetime]], days: list[date], tz: tzinfo
) -> list[int]:
    # Each day's midnight in ``tz``, as UTC instants: aware datetimes sharing one zone subtract
    # by the wall clock, which would make a day of a change of clocks 24 hours long.
    after = days[-1] + timedelta(days=1)
    bounds = [datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC) for d in [*days, after]]
    spans = [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in spans]
    out = []
    for start, end in pairwise(bounds):
        down = sum(
            (min(e, end) - max(s, start) for s, e in spans if s < end and e > start),
            timedelta(),
        )
        out.append(round(down / timedelta(minutes=1)))
    return out


def available() -> bool:
    """Whether matplotlib is installed (``pip install 'slabot[chart]'``), without importing it.
    The default install leaves it out: with what it pulls in, it was most of slabot's size,
    for one picture of figures the report's text already gives."""
    return importlib.util.find_spec("matplotlib") is not None


def report_chart(compliance: Compliance, tz: tzinfo, title: str) -> bytes:
    """The month's chart as PNG bytes (see the module's docstring for what it shows)."""
    from matplotlib.figure import Figure  # lazy: see the module docstring

    bars = severity_bars(compliance)
    per_day = breaches_per_day(compliance, tz)
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(1, 1.6))
    figure.suptitle(_plain(title), fontsize=13)

    positions = range(len(bars))
    width = 0.38
    for offset, index, color, name in (
        (-width / 2, 1, MET, "First response"),
        (width / 2, 2, RESOLVED, "Resolution"),
    ):
        xs = [p + offset for p in positions]
        values = [row[index] for row in bars]
        drawn = left.bar(xs, [v or 0 for v in values], width, color=color, label=name)
        for rect, value in zip(drawn, values, strict=True):
            label = "–" if value is None else f"{value:.0f}%"
            left.annotate(
                label,
                (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    left.set_xticks(list(positions), [_plain(row[0]) for row in bars], fontsize=8)
    left.tick_params(axis="x", labelrotation=20 if len(bars) > 3 else 0)
    left.set_ylim(0, 125)  # room above 100% for the labels and the legend
    left.set_ylabel("targets met (%)")
    left.set_title("Compliance by severity", fontsize=11)
    left.legend(loc="upper center", ncols=2, fontsize=8, frameon=False)

    days = range(1, len(per_day) + 1)
    right.bar(list(days), per_day, 0.8, color=BREACH)
    right.set_xlim(0.4, len(per_day) + 0.6)
    right.set_xticks([d for d in days if d == 1 or d % 5 == 0])
    right.set_ylim(0, max([*per_day, 1]) * 1.15)
    right.yaxis.get_major_locator().set_params(integer=True)
    right.set_xlabel(f"day of {compliance.period.label or 'the period'}")
    right.set_ylabel("deadlines breached")
    right.set_title(f"Breaches by day due ({sum(per_day)} in all)", fontsize=11)

    return _png(figure)


def uptime_chart(up: UptimeReport, tz: tzinfo, title: str) -> bytes:
    """The month's downtime by day as PNG bytes (see the module's docstring)."""
    from matplotlib.figure import Figure  # lazy: see the module docstring
    from matplotlib.ticker import MaxNLocator

    counted, left_out = downtime_per_day(up, tz)
    figure = Figure(figsize=(11, 3.6), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    figure.suptitle(_plain(title), fontsize=13)
    days = list(range(1, len(counted) + 1))
    axes.bar(days, counted, 0.8, color=BREACH, label="counted against the uptime")
    if any(left_out):
        axes.bar(days, left_out, 0.8, bottom=counted, color=LEFT_OUT, label="left out")
    axes.legend(loc="upper right", fontsize=8, frameon=False)
    axes.set_xlim(0.4, len(counted) + 0.6)
    axes.set_xticks([d for d in days if d == 1 or d % 5 == 0])
    tallest = max(c + x for c, x in zip(counted, left_out, strict=True))
    axes.set_ylim(0, max(tallest, 10) * 1.2)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(f"day of {_month(up.period, tz)}")
    axes.set_ylabel("minutes down")
    target = "" if up.target is None else f" against a target of {100 * up.target:g} %"
    axes.set_title(
        f"Uptime {up.uptime_percent:.3f} %{target}: {up.downtime_minutes:,} minutes down",
        fontsize=11,
    )
    return _png(figure)


def statement_chart(report: PolicyReport) -> tuple[bytes, str] | None:
    """The chart of a contract's part of the customer statement, and its words for a reader
    who cannot see it; None without matplotlib (the statement's text has every figure).
    The uptime chart for a contract with uptime terms, else the compliance chart."""
    if not available():
        return None
    tz = report.policy.tz
    label = _month(report.period, tz)
    title = report.policy.title or report.policy.name
    up = report.uptime
    if up is None:
        words = f"Targets met by severity, and deadlines breached on each day of {label}."
        return report_chart(report.compliance, tz, title), words
    counted, left_out = downtime_per_day(up, tz)
    words = (
        f"Minutes down on each day of {label}: {sum(counted):,} counted against the uptime on "
        f"{sum(1 for m in counted if m)} day(s), {sum(left_out):,} left out."
    )
    return uptime_chart(up, tz, title), words


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    # No "Software" stamp: the same figures give the same bytes.
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _plain(text: str) -> str:
    """Text matplotlib shows as typed: a ``$`` pair would otherwise start math mode."""
    return text.replace("$", r"\$")
