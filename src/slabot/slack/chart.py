"""The chart ``/sla report`` uploads: a month's figures in, PNG bytes out.

Two panels side by side: compliance by severity (the share of decided first responses and
resolutions that met their target) and a daily breach timeline (how many deadlines fell due
and were breached on each day of the month, in the policy's zone).

Pure: figures in, bytes out; nothing here talks to Slack or reads the clock. matplotlib is
imported inside `report_chart`, not at module level: it takes about half a second to import,
and neither ``slabot --help`` nor a slash command that draws nothing should pay for it. The
chart is drawn on a bare `matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``: pyplot keeps global state (the "current figure") that two listener threads drawing
at once would share, and it may pick an interactive backend on a desktop.
"""

from __future__ import annotations

import importlib.util
import io
from collections import Counter
from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sla.figures import Compliance

MET = "#2e7d32"  # first response
RESOLVED = "#1565c0"  # resolution
BREACH = "#c62828"
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
    period = compliance.period
    first = period.start.astimezone(tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(tz).date()
    days = (last - first).days + 1
    counted = Counter((b.due.astimezone(tz).date() - first).days for b in compliance.breaches)
    return [counted.get(day, 0) for day in range(days)]


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

    out = io.BytesIO()
    # No "Software" stamp: the same figures give the same bytes.
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _plain(text: str) -> str:
    """Text matplotlib shows as typed: a ``$`` pair would otherwise start math mode."""
    return text.replace("$", r"\$")
