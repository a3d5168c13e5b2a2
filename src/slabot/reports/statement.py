"""The customer statement: the month's figures a customer is owed under their contract.

A support lead sends it to the customer at month end (issue 13, "a customer-facing monthly
statement"): for each contract the customer has, the uptime against the target, every spell of
downtime with its cause and the last day to claim it, what was left out and why, the breaches
of the customer's tickets, and the service credit owed with the contract's clause quoted
(LeadPro: "For monthly uptime Percentage less than 99.9% but equal to or greater than 99.0%,
the Client will be eligible for a Service Credit of 10% …") and how to claim it.

The figures are `monthly`'s with ``customer`` (the same use case as ``slabot report``), so the
statement and the report always agree. This module turns them into `Section`s of plain text,
in the policy's time zone: what the document says, once. `slabot.reports.documents` lays the
same sections out as HTML and as PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ..sla import Policy, format_duration
from ..sla.figures import Interruption, Spell, UptimeReport, exclusion
from .monthly import PolicyReport

TARGET_WORDS = {
    "first_response": "first response",
    "resolution": "resolution",
    "time_to_open": "time to open",
    "update_every": "update",
}


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str  # said instead of the table when it has no rows


@dataclass(frozen=True)
class Section:
    """A heading, paragraphs, a table (or what to say when it is empty), and clauses of the
    contract quoted word for word."""

    title: str
    lines: tuple[str, ...] = ()
    table: Table | None = None
    quotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contract:
    """One contract's part of the statement: a heading line and its sections, and the
    figures they were read from (a document draws its chart from them)."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    figures: PolicyReport


@dataclass(frozen=True)
class Statement:
    customer: str
    month: str
    contracts: tuple[Contract, ...]

    @property
    def title(self) -> str:
        return f"Service statement for {self.customer}, {self.month}"


def statement(reports: list[PolicyReport], customer: str, now: datetime) -> Statement:
    """The statement of ``customer`` from their month's reports (`monthly` with ``customer``),
    as they stood at ``now``: a part for each of their contracts.

    Interpretation: a customer's contracts are the policies that name them (``customers:``)
    and those their tickets of the month ran under; a policy that names no customer and had
    none of theirs is someone else's contract, and left out. ValueError when none is left.
    """
    theirs = [r for r in reports if _names(r, customer) or _opened(r)]
    if not theirs:
        raise ValueError(
            f"{customer} opened no ticket this month and no policy names them as its customer: "
            "name their contract with --policy"
        )
    first = theirs[0]
    month = f"{first.period.start.astimezone(first.policy.tz):%B %Y}"  # "November 2026"
    return Statement(customer, month, tuple(_contract(r, now) for r in theirs))


def _names(report: PolicyReport, customer: str) -> bool:
    return customer.casefold() in (c.casefold() for c in report.policy.customers)


def _opened(report: PolicyReport) -> int:
    return sum(s.opened for s in report.compliance.severities)


def _contract(report: PolicyReport, now: datetime) -> Contract:
    policy, tz = report.policy, report.policy.tz
    period = report.period
    last = period.end - timedelta(microseconds=1)
    subtitle = (
        f"{policy.source or policy.name}. The month of {_day(period.start, tz)} to "
        f"{_day(last, tz)} ({policy.timezone}), as it stood on {_at(now, tz)}."
    )
    sections = [_summary(report)]
    if report.uptime is not None:
        sections += [_downtime(report, report.uptime), _left_out(report, report.uptime)]
    sections.append(_breaches(report))
    if report.uptime is not None and policy.uptime and policy.uptime.credits:
        sections.append(_credit(report, report.uptime))
    return Contract(policy.title or policy.name, subtitle, tuple(sections), report)


def _summary(report: PolicyReport) -> Section:
    figures, up = report.compliance, report.uptime
    opened = _opened(report)
    breached = {b.ref for b in figures.breaches}
    lines = [
        f"Tickets opened: {opened}; tickets with a target breached: {len(breached)} "
        f"({len(figures.breaches)} breach{'' if len(figures.breaches) == 1 else 'es'})."
    ]
    if up is not None:
        target = "" if up.target is None else f" against a target of {_percent(up.target)}"
        verdict = "" if up.target_met is None else (": met" if up.target_met else ": missed")
        lines.append(
            f"Uptime: {up.uptime_percent:.3f} %{target}{verdict} ({up.downtime_minutes:,} of "
            f"{up.minutes:,} minutes down)."
        )
        terms = report.policy.uptime
        if terms and terms.credits:
            lines.append(f"Service credit owed: {_owed(up)}.")
        last = up.last_claim_day(report.policy.tz)
        if up.credit and last is not None:
            lines.append(f"Last day to claim it for every spell of downtime: {last:%a %d %b %Y}.")
    else:
        lines.append("This contract sets no uptime terms.")
    return Section("Summary", tuple(lines))


def _downtime(report: PolicyReport, up: UptimeReport) -> Section:
    tz = report.policy.tz
    claims = any(s.claim_by for s in up.downtime)
    header = ("From", "To", "Lasted", "Cause") + (("Last day to claim",) if claims else ())
    rows = []
    for spell in up.downtime:
        row = (
            _at(spell.start, tz),
            _at(spell.end, tz),
            _lasted(spell.end - spell.start),
            _causes(report, spell),
        )
        day = spell.last_claim_day(tz)
        rows.append(row + ((f"{day:%a %d %b %Y}",) if claims and day else ()))
    return Section(
        "Downtime",
        ("Each spell of downtime counted against the uptime, overlapping spells merged.",),
        Table(header, tuple(rows), "No downtime counted this month."),
    )


def _left_out(report: PolicyReport, up: UptimeReport) -> Section:
    tz = report.policy.tz
    rows = tuple(
        (
            _at(left.start, tz),
            _lasted(left.end - left.start),
            left.note,
            left.why,
            "uptime and credit" if left.scope == "uptime" else "credit only",
        )
        for left in up.excluded
    )
    return Section(
        "Left out, and why",
        (),
        Table(("From", "Lasted", "Ticket or note", "Why", "Left out of"), rows, "Nothing."),
    )


def _breaches(report: PolicyReport) -> Section:
    policy, tz = report.policy, report.policy.tz
    labels = {s.severity: s.label for s in report.compliance.severities}
    rows = tuple(
        (
            b.ref,
            labels.get(b.severity, b.severity),
            TARGET_WORDS.get(b.target, b.target),
            _at(b.due, tz),
            _at(b.met_at, tz) if b.met_at else "not yet",
            _lasted(b.late),
        )
        for b in report.compliance.breaches
    )
    clauses = tuple(
        dict.fromkeys(
            clause
            for b in report.compliance.breaches
            if (clause := _target_clause(policy, b.severity, b.target))
        )
    )
    return Section(
        "Breaches",
        ("Targets of the month's tickets met late, or still unmet after their deadline.",),
        Table(("Ticket", "Severity", "Target", "Due", "Met", "Late by"), rows, "None."),
        clauses,
    )


def _credit(report: PolicyReport, up: UptimeReport) -> Section:
    terms = report.policy.uptime
    assert terms is not None  # only asked of a policy with credits
    band = terms.credit_band(up.credit_uptime)
    lines = [f"Service credit owed: {_owed(up)}."]
    if up.credit_uptime != up.uptime:
        lines.append(
            f"Read from an uptime of {100 * up.credit_uptime:.3f} %: downtime that earns no "
            "credit left out (see above)."
        )
    quotes = [c for c in (terms.clause, band.clause if band else None) if c]
    if up.credit and terms.claim_clause:
        quotes.append(terms.claim_clause)
    return Section("Service credit", tuple(lines), None, tuple(quotes))


def _owed(up: UptimeReport) -> str:
    if not up.credit:
        return "none"
    return f"{_percent(up.credit)} of the month's charges"


def _causes(report: PolicyReport, spell: Spell) -> str:
    """What was down within ``spell``: each counted outage that overlaps it (its ticket or
    note), with the cause the policy names for it."""
    causes = report.policy.uptime.causes if report.policy.uptime else {}
    named = []
    for outage in report.outages:
        if not _overlaps(outage, spell) or _left_out_of_uptime(report, outage):
            continue
        what = outage.note or "recorded outage"
        if outage.planned:
            what = f"maintenance without due notice: {what}"
        cause = causes.get(outage.cause) if outage.cause else None
        named.append(f"{what} ({cause.label})" if cause else what)
    return "; ".join(dict.fromkeys(named)) or "—"


def _overlaps(outage: Interruption, spell: Spell) -> bool:
    return outage.start < spell.end and (outage.end is None or outage.end > spell.start)


def _left_out_of_uptime(report: PolicyReport, outage: Interruption) -> bool:
    reason = exclusion(report.policy, outage)
    return reason is not None and reason[1] == "uptime"


def _target_clause(policy: Policy, severity: str, target: str) -> str | None:
    try:
        spec = getattr(policy.severity(severity).targets, target, None)
    except KeyError:
        return None
    return spec.clause if spec is not None else None


def _percent(share: float) -> str:
    return f"{100 * share:g} %"


def _lasted(value: timedelta) -> str:
    whole = value - value % timedelta(minutes=1)
    return format_duration(whole) if whole else "under a minute"


def _at(instant: datetime, tz: tzinfo) -> str:
    return f"{instant.astimezone(tz):%a %d %b %Y %H:%M}"


def _day(instant: datetime, tz: tzinfo) -> str:
    return f"{instant.astimezone(tz):%a %d %b %Y}"
