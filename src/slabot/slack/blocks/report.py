"""Block Kit for month-end figures: ``/sla report``'s summary and the Home tab's "this month".

Pure, like `blocks`: a `PolicyReport` (or a few) and ``now`` in, JSON-ready dicts out, with
the same rules for text (user text escaped and cut, every block within its limit). The chart
that goes with the summary is drawn by `chart.report_chart`.

What a support lead reads first comes first: per severity, how many targets were met; then the
breaches, worst first; then uptime and the credit owed; then maintenance whose notice broke
the contract (its minutes count as downtime).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from ...sla.figures import (
    Breach,
    Compliance,
    SeverityCompliance,
    Spell,
    TargetFigures,
    UptimeReport,
)
from ...sla.schedule import TARGET_LABELS
from .kit import (
    FALLBACK_MAX,
    MESSAGE_BLOCKS_MAX,
    SECTION_MAX,
    Block,
    context,
    divider,
    header,
    join_fitting,
    left,
    md,
    one_line,
    pack,
    section,
    slack_date,
    truncate,
)

if TYPE_CHECKING:
    from ...reports import PolicyReport

WORST = 5  # breaches listed by name; the chart and `slabot report --breaches` have them all
SEVERITIES_MAX = 30  # severity sections in one summary (policies have three to six)
NOTE_MAX = 300  # a maintenance note inside the summary
SPELLS_MAX = 10  # spells of downtime listed with their claim day; the CLI has them all


# -- numbers in words ---------------------------------------------------------------------------


def percent(value: float | None, places: int = 1) -> str:
    """``83.3%``, ``100%`` (no ``.0``), or ``–`` when there is nothing to divide."""
    if value is None:
        return "–"
    text = f"{value:.{places}f}".rstrip("0").rstrip(".") if places else f"{value:.0f}"
    return f"{text}%"


def minutes(count: int) -> str:
    """Downtime as people say it: ``0 min``, ``45 min``, ``2h 10m`` (never "2h 10m left")."""
    return f"{count} min" if count < 60 else left(timedelta(minutes=count))


def overall(compliance: Compliance, target: str) -> TargetFigures:
    """One target's figures summed over every severity of the report."""
    rows = [getattr(s, target) for s in compliance.severities]
    found = [r for r in rows if r is not None]
    return TargetFigures(
        sum(r.met for r in found), sum(r.breached for r in found), sum(r.running for r in found)
    )


def met_parts(compliance: Compliance) -> list[str]:
    """ "first response 90% met", "resolution 80% met": the targets any ticket of the report
    had (a policy without resolution targets is not shown "resolution – met")."""
    parts = []
    for name in ("first_response", "resolution"):
        figures = overall(compliance, name)
        if figures.met + figures.breached + figures.running:
            label = TARGET_LABELS.get(name, name).lower()
            parts.append(f"{label} {percent(figures.met_percent)} met")
    return parts


def _breaches(count: int) -> str:
    return f"{count} breach{'' if count == 1 else 'es'}"


def _target_line(name: str, figures: TargetFigures | None, mean: str) -> str | None:
    if figures is None:
        return None
    label = TARGET_LABELS.get(name, name)
    counts = f"{figures.met} met · {figures.breached} breached"
    if figures.running:
        counts += f" · {figures.running} running"
    line = f"{label}: {counts}"
    if figures.met + figures.breached:
        line += f" — *{percent(figures.met_percent)} met*"
    return line + mean


def _mean(wall: timedelta | None, business: timedelta | None, name: str) -> str:
    if wall is None:
        return ""
    text = f" · {name} {left(wall)}"
    if business is not None and business != wall:
        text += f" ({left(business)} of the target's clock)"
    return text


def severity_text(row: SeverityCompliance) -> str:
    """One severity's section: tickets, each target met / breached, MTTA, MTTR, the rest."""
    lines = [f"*{md(one_line(row.label), 150)}* · {row.opened} opened"]
    for line in (
        _target_line(
            "first_response", row.first_response, _mean(row.mtta_wall, row.mtta_business, "MTTA")
        ),
        _target_line("resolution", row.resolution, _mean(row.mttr_wall, row.mttr_business, "MTTR")),
    ):
        if line:
            lines.append(line)
    extra = []
    if row.updates_missed is not None:
        extra.append(f"updates missed: {row.updates_missed}")
    if row.waiting_on_customer > timedelta(0):
        extra.append(f"waiting on customer: {left(row.waiting_on_customer)}")
    if extra:
        lines.append(" · ".join(extra).capitalize())
    return join_fitting(lines, SECTION_MAX)


def breach_line(breach: Breach, labels: dict[str, str], tz: tzinfo) -> str:
    """``*SLA-2* · High · first response due <date> — 1h late`` (or still open)."""
    target = TARGET_LABELS.get(breach.target, breach.target).lower()
    severity = md(one_line(labels.get(breach.severity, breach.severity)), 80)
    late = f"{left(breach.late)} late"
    if breach.met_at is None:
        late = f"not met yet, {late}"
    return (
        f"*{md(breach.ref, 40)}* · {severity} · {target} due {slack_date(breach.due, tz)} — {late}"
    )


def uptime_lines(up: UptimeReport, tz: tzinfo) -> list[str]:
    """Uptime against the target, what was excluded, the allowance, and the credit owed."""
    figure = f"*Uptime {percent(up.uptime_percent, 3)}*"
    if up.target is not None:
        verdict = "met ✓" if up.target_met else "*missed*"
        figure += f" (target {percent(100 * up.target, 3)}: {verdict})"
    figure += f" · downtime {minutes(up.downtime_minutes)} of {up.minutes:,} minutes"
    lines = [figure]
    for left_out in up.excluded[:SPELLS_MAX]:
        of = "uptime and credits" if left_out.scope == "uptime" else "service credits"
        source = f" ({md(one_line(left_out.note), 80)})" if left_out.note else ""
        lines.append(
            f"Left out of {of}: {slack_date(left_out.start, tz)} for "
            f"{left(left_out.end - left_out.start)}{source}, {md(left_out.why, 200)}"
        )
    if up.allowance is not None:
        state = "*over*" if up.allowance_exceeded else "within"
        lines.append(
            f"Unplanned downtime {minutes(up.unplanned_minutes)}: {state} the "
            f"{left(up.allowance)} a month the policy allows"
        )
    if up.credit > 0:
        credit = f"*Service credit owed: {percent(100 * up.credit)}* of the month's charges"
        last = up.last_claim_day(tz)
        if last is not None:
            credit += f" · the customer can claim it until {_day(last)}, each spell of downtime:"
        lines.append(credit)
        claimed = [s for s in up.downtime if s.claim_by is not None]
        lines += [spell_line(s, tz) for s in claimed[:SPELLS_MAX]]
        if len(claimed) > SPELLS_MAX:
            lines.append(
                f"… and {len(claimed) - SPELLS_MAX} more: `slabot report --format csv "
                "--downtime` lists them all"
            )
    elif up.target is not None:
        lines.append("No service credit owed.")
    return lines


def spell_line(spell: Spell, tz: tzinfo) -> str:
    """A spell of downtime and the last day a credit claim for it can be made (LeadPro:
    "within 60 days of the unavailability occurring")."""
    lasted = left(spell.end - spell.start)
    line = f"• down {slack_date(spell.start, tz)} for {lasted}"
    last = spell.last_claim_day(tz)
    return line if last is None else f"{line}: claim by {_day(last)}"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def maintenance_line(record: Any, tz: tzinfo) -> str:
    """A maintenance whose notice was broken, and why (the problems kept with its record)."""
    start, end = record.started_at, record.ended_at
    when = slack_date(start, tz)
    if end is not None:
        when += f" for {left(end - start)}"
    note = f": {md(one_line(record.note), NOTE_MAX)}" if record.note else ""
    problems = "; ".join(md(one_line(p), 500) for p in record.notice_problems)
    return f"• {when}{note} — {problems}"


# -- /sla report --------------------------------------------------------------------------------


def report_title(report: PolicyReport) -> str:
    customer = f" · {report.customer}" if report.customer else ""
    return (
        f"SLA report · {report.policy.title or report.policy.name}{customer} · "
        f"{report.period.label}"
    )


def report_blocks(
    report: PolicyReport, now: datetime, *, chart: bool = True
) -> tuple[str, list[Block]]:
    """``/sla report``'s summary in the channel: ``(fallback text, blocks)``; ``chart``: a
    chart follows it (matplotlib is installed)."""
    policy, period, figures = report.policy, report.period, report.compliance
    tz = policy.tz
    first = period.start.astimezone(tz)
    last = (period.end - timedelta(microseconds=1)).astimezone(tz)
    span = f"{first.day} {first:%b} – {last.day} {last:%b %Y} ({policy.timezone})"
    so_far = " · *the month so far*" if now < period.end else ""
    blocks: list[Block] = [
        header(report_title(report)),
        context(f"`{md(policy.name, 64)}` · {span} · as of {slack_date(now, tz)}{so_far}"),
    ]
    opened = sum(s.opened for s in figures.severities)
    parts = [
        f"*{opened} ticket{'' if opened == 1 else 's'} opened*",
        *met_parts(figures),
        _breaches(len(figures.breaches)),
    ]
    summary = " · ".join(parts)
    blocks.append(section(summary))

    quiet = [s for s in figures.severities if s.opened == 0]
    busy = [s for s in figures.severities if s.opened]
    blocks += [section(severity_text(s)) for s in busy[:SEVERITIES_MAX]]
    if quiet:
        names = ", ".join(md(one_line(s.label), 80) for s in quiet)
        blocks.append(context(truncate(f"No tickets: {names}", SECTION_MAX)))

    if figures.breaches:
        labels = {s.severity: s.label for s in figures.severities}
        worst = sorted(figures.breaches, key=lambda b: (-b.late, b.due, b.ref))[:WORST]
        lines = [f"*Breaches: {len(figures.breaches)}*"]
        if len(worst) < len(figures.breaches):
            lines[0] += f" — the worst {len(worst)}:"
        lines += [breach_line(b, labels, tz) for b in worst]
        blocks += [divider(), section(join_fitting(lines, SECTION_MAX))]

    if report.uptime is not None:
        blocks += [divider(), section(join_fitting(uptime_lines(report.uptime, tz), 3000))]
    broken = [m for m in report.maintenance if m.notice_problems]
    kept = len(report.maintenance) - len(broken)
    if broken:
        lines = [
            f"*:warning: Maintenance that broke the notice rule: {len(broken)}* "
            "(its minutes count as downtime)"
        ]
        lines += [maintenance_line(m, tz) for m in broken]
        blocks.append(section(join_fitting(lines, SECTION_MAX)))
    if kept:
        blocks.append(
            context(
                f"{kept} announced maintenance window{'' if kept == 1 else 's'} met the notice "
                "rule: not counted as downtime."
            )
        )
    blocks.append(
        context(
            "The chart follows · `slabot report` has every breach"
            if chart
            else "`slabot report` has every breach · `pip install 'slabot[chart]'` adds a chart"
        )
    )
    fallback = f"{report_title(report)}: {summary.replace('*', '')}"
    return truncate(fallback, FALLBACK_MAX), blocks[:MESSAGE_BLOCKS_MAX]


def is_empty(report: PolicyReport) -> bool:
    """Nothing to report: no ticket opened, no downtime, no maintenance in the period."""
    opened = sum(s.opened for s in report.compliance.severities)
    down = report.uptime is not None and report.uptime.downtime_minutes > 0
    return not opened and not down and not report.maintenance


def chart_alt_text(report: PolicyReport) -> str:
    """What the chart shows, for screen readers and clients that show no images."""
    figures = report.compliance
    bars = "; ".join(
        f"{s.label}: first response {percent(_met(s.first_response))}, "
        f"resolution {percent(_met(s.resolution))}"
        for s in figures.severities
        if s.opened
    )
    text = f"Targets met by severity ({bars or 'no tickets'}). "
    text += f"{len(figures.breaches)} breaches in {report.period.label}, by the day each was due."
    return truncate(text, 1000)


def _met(figures: TargetFigures | None) -> float | None:
    return figures.met_percent if figures else None


# -- the Home tab: this month -------------------------------------------------------------------

HOME_MONTH_MAX = 2  # blocks: one section of lines and, when cut, a "… and N more" note


def month_line(report: PolicyReport) -> str:
    """ "*LeadPro* — first response 90% met · resolution 80% met · 3 breaches · uptime 99.95%"."""
    figures = report.compliance
    name = md(one_line(report.policy.title or report.policy.name), 100)
    parts = [*met_parts(figures), _breaches(len(figures.breaches))]
    if report.uptime is not None:
        parts.append(f"uptime {percent(report.uptime.uptime_percent, 3)}")
    return f"*{name}* ({report.period.label}) — " + " · ".join(parts)


def month_blocks(reports: Sequence[PolicyReport]) -> list[Block]:
    """The Home tab's "this month": one line per policy in use, in at most two blocks."""
    if not reports:
        return [section("_No policy in use yet: bind a channel with `/sla policy NAME`._")]
    lines = [month_line(r) for r in reports]
    [first, *_] = pack(lines, 1) or [[]]
    blocks = [section("\n".join(first))]
    if len(first) < len(lines):
        blocks.append(context(f"… and {len(lines) - len(first)} more policies"))
    return blocks[:HOME_MONTH_MAX]
