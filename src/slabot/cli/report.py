"""``slabot report --month 2026-11``: a month's SLA compliance and uptime, outside Slack.

For each policy (or ``--policy NAME``), the month in the policy's own time zone, in the
chosen workspaces (``--workspace``, repeatable; every workspace when left out), through the
same use case as ``/sla report``: `slabot.reports.monthly`. Its docstring says what counts: in
short, compliance of the tickets opened in the month, each judged under the policy version it
was opened under; uptime from outage tickets (also those opened earlier and still down), the
outages recorded with ``/sla outage`` and maintenance whose notice rule was broken (announced
maintenance and force majeure left out). Formats:

* ``md`` (default): per policy a compliance table, the uptime lines and the breaches.
* ``csv``: one row per policy × severity; the policy's uptime figures repeat on each of its
  rows. ``--breaches`` prints the breaches instead, one row each; ``--downtime`` the spells of
  downtime, one row each with the last day a credit claim for it can be made.
* ``json``: one object, ``{"month", "now", "policies": [...]}``; durations in minutes.

This module is the adapter: it parses, formats, and is the only place the wall clock is read
(``--now`` overrides it, to show the figures as they stood at an instant).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from ..policies import PolicyBook
from ..reports import ReportError, monthly, workspaces
from ..reports.documents import PdfUnavailable, to_html, to_pdf
from ..reports.monthly import PolicyReport
from ..reports.statement import statement
from ..sla import Policy, PolicyError, format_duration
from ..sla.figures import Compliance, Spell, TargetFigures, UptimeReport
from .common import instant, policies_dir, shown
from .errors import CliError
from .storage import open_store, reach


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", required=True, metavar="YYYY-MM", help="such as 2026-11")
    parser.add_argument("--policy", metavar="NAME", help="only this policy (default: every one)")
    parser.add_argument(
        "--workspace",
        action="append",
        metavar="ID",
        help="only this Slack workspace (T…); repeatable (default: every workspace)",
    )
    parser.add_argument(
        "--customer",
        metavar="NAME",
        help="only this customer's tickets (outages without a ticket count for every customer)",
    )
    parser.add_argument(
        "--format",
        choices=("md", "csv", "json", "html", "pdf"),
        help="md (default), csv or json; with --statement html (default) or pdf",
    )
    parser.add_argument(
        "--statement",
        action="store_true",
        help="the customer statement (with --customer) as a document to send",
    )
    parser.add_argument("--output", metavar="FILE", help="write to FILE (default: standard output)")
    parser.add_argument(
        "--breaches", action="store_true", help="with --format csv: the breaches, one row each"
    )
    parser.add_argument(
        "--downtime",
        action="store_true",
        help="with --format csv: the spells of downtime and the last day to claim each",
    )
    parser.add_argument("--now", metavar="ISO", help="figures as they stood then (default: now)")


def run(args: argparse.Namespace) -> int:
    try:
        book = PolicyBook.load(policies_dir())
    except PolicyError as exc:
        raise CliError(f"invalid policies\n{exc}") from None
    # an adapter: the only place this command reads the clock
    now = instant(args.now, ZoneInfo("UTC"), "--now") if args.now else datetime.now(UTC)
    _check_format(args)
    store = open_store()
    chosen = args.workspace or reach(store, lambda: workspaces(store))
    try:
        reports = reach(
            store,
            lambda: monthly(
                store,
                book,
                chosen,
                args.month,
                policy=args.policy,
                now=now,
                customer=args.customer,
            ),
        )
    except ReportError as exc:
        raise CliError(str(exc), code=2) from None
    if args.statement:
        _statement(args, reports, now)
        return 0
    rows = [(r.policy, r.compliance, r.uptime) for r in reports]
    if args.format == "json":
        data = {**_json(args.month, now, rows), "customer": args.customer}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        _csv(args.month, now, rows, breaches=args.breaches, downtime=args.downtime)
    else:
        _markdown(args.month, now, rows, args.customer)
    return 0


Report = tuple[Policy, Compliance, UptimeReport | None]


def _check_format(args: argparse.Namespace) -> None:
    """``--format`` as ``--statement`` allows it (and the default for each)."""
    documents = ("html", "pdf")
    if args.statement:
        if args.customer is None:
            raise CliError("a statement is a customer's: name them with --customer", code=2)
        args.format = args.format or "html"
        if args.format not in documents:
            raise CliError("a statement is written as --format html or pdf", code=2)
    else:
        args.format = args.format or "md"
        if args.format in documents:
            raise CliError(f"--format {args.format} is for --statement", code=2)


def _statement(args: argparse.Namespace, reports: list[PolicyReport], now: datetime) -> None:
    try:
        found = statement(reports, args.customer, now)
    except ValueError as exc:
        raise CliError(str(exc), code=2) from None
    try:
        body = to_pdf(found) if args.format == "pdf" else to_html(found).encode()
    except PdfUnavailable as exc:
        raise CliError(str(exc), code=2) from None
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    try:
        with open(args.output, "wb") as out:
            out.write(body)
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror}") from None


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 2)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _target(figures: TargetFigures | None) -> dict[str, Any] | None:
    if figures is None:
        return None
    return {
        "met": figures.met,
        "breached": figures.breached,
        "running": figures.running,
        "met_percent": _pct(figures.met_percent),
    }


def _uptime(up: UptimeReport | None, policy: Policy) -> dict[str, Any] | None:
    if up is None:
        return None
    last = up.last_claim_day(policy.tz)
    return {
        "minutes": up.minutes,
        "downtime_minutes": up.downtime_minutes,
        "excluded_minutes": up.excluded_minutes,
        "unplanned_minutes": up.unplanned_minutes,
        "uptime_percent": round(up.uptime_percent, 4),
        "target_percent": None if up.target is None else round(100 * up.target, 4),
        "target_met": up.target_met,
        "credit_percent": round(100 * up.credit, 4),
        "claim_by": None if up.claim_by is None else up.claim_by.isoformat(),
        "last_claim_day": None if last is None else last.isoformat(),
        "unplanned_allowance_minutes": _minutes(up.allowance),
        "allowance_exceeded": up.allowance_exceeded,
        "downtime": [_spell(spell, policy.tz) for spell in up.downtime],
        "credit_uptime_percent": round(100 * up.credit_uptime, 4),
        "excluded": [
            {
                "start": left.start.astimezone(policy.tz).isoformat(),
                "end": left.end.astimezone(policy.tz).isoformat(),
                "minutes": _minutes(left.end - left.start),
                "why": left.why,
                "left_out_of": left.scope,
                "source": left.note,
            }
            for left in up.excluded
        ],
    }


def _spell(spell: Spell, tz: tzinfo) -> dict[str, Any]:
    last = spell.last_claim_day(tz)
    return {
        "start": spell.start.astimezone(tz).isoformat(),
        "end": spell.end.astimezone(tz).isoformat(),
        "minutes": _minutes(spell.end - spell.start),
        "claim_by": None if spell.claim_by is None else spell.claim_by.isoformat(),
        "last_claim_day": None if last is None else last.isoformat(),
    }


def _json(label: str, now: datetime, reports: list[Report]) -> dict[str, Any]:
    policies = []
    for policy, figures, up in reports:
        policies.append(
            {
                "policy": policy.name,
                "title": policy.title,
                "timezone": policy.timezone,
                "start": figures.period.start.isoformat(),
                "end": figures.period.end.isoformat(),
                "severities": [
                    {
                        "severity": s.severity,
                        "label": s.label,
                        "opened": s.opened,
                        "first_response": _target(s.first_response),
                        "resolution": _target(s.resolution),
                        "updates_missed": s.updates_missed,
                        "mtta_business_minutes": _minutes(s.mtta_business),
                        "mtta_wall_minutes": _minutes(s.mtta_wall),
                        "mttr_business_minutes": _minutes(s.mttr_business),
                        "mttr_wall_minutes": _minutes(s.mttr_wall),
                        "waiting_on_customer_minutes": _minutes(s.waiting_on_customer),
                    }
                    for s in figures.severities
                ],
                "breaches": [
                    {
                        "ticket": b.ref,
                        "severity": b.severity,
                        "target": b.target,
                        "due": b.due.isoformat(),
                        "met_at": None if b.met_at is None else b.met_at.isoformat(),
                        "late_minutes": _minutes(b.late),
                    }
                    for b in figures.breaches
                ],
                "uptime": _uptime(up, policy),
            }
        )
    return {"month": label, "now": now.isoformat(), "policies": policies}


SEVERITY_COLUMNS = [
    "policy",
    "month",
    "severity",
    "opened",
    "first_response_met",
    "first_response_breached",
    "first_response_running",
    "first_response_met_percent",
    "resolution_met",
    "resolution_breached",
    "resolution_running",
    "resolution_met_percent",
    "updates_missed",
    "mtta_business_minutes",
    "mtta_wall_minutes",
    "mttr_business_minutes",
    "mttr_wall_minutes",
    "waiting_on_customer_minutes",
    "uptime_percent",
    "downtime_minutes",
    "credit_percent",
    "last_claim_day",
    "allowance_exceeded",
]
DOWNTIME_COLUMNS = ["policy", "month", "start", "end", "minutes", "claim_by", "last_claim_day"]
BREACH_COLUMNS = [
    "policy",
    "month",
    "ticket",
    "severity",
    "target",
    "due",
    "met_at",
    "late_minutes",
]


def _csv(
    label: str, now: datetime, reports: list[Report], *, breaches: bool, downtime: bool
) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    data = _json(label, now, reports)["policies"]
    if downtime:
        out.writerow(DOWNTIME_COLUMNS)
        for p in data:
            for spell in (p["uptime"] or {}).get("downtime", []):
                out.writerow([p["policy"], label, *(_cell(v) for v in spell.values())])
        return
    if breaches:
        out.writerow(BREACH_COLUMNS)
        for p in data:
            for b in p["breaches"]:
                out.writerow([p["policy"], label, *(_cell(v) for v in b.values())])
        return
    out.writerow(SEVERITY_COLUMNS)
    for p in data:
        up = p["uptime"] or {}
        for s in p["severities"]:
            fr = s["first_response"] or {}
            res = s["resolution"] or {}
            row = [
                p["policy"],
                label,
                s["severity"],
                s["opened"],
                *(fr.get(k) for k in ("met", "breached", "running", "met_percent")),
                *(res.get(k) for k in ("met", "breached", "running", "met_percent")),
                s["updates_missed"],
                s["mtta_business_minutes"],
                s["mtta_wall_minutes"],
                s["mttr_business_minutes"],
                s["mttr_wall_minutes"],
                s["waiting_on_customer_minutes"],
                up.get("uptime_percent"),
                up.get("downtime_minutes"),
                up.get("credit_percent"),
                up.get("last_claim_day"),
                up.get("allowance_exceeded"),
            ]
            out.writerow([_cell(v) for v in row])


def _cell(value: Any) -> Any:
    """Empty for "no figure", lower-case booleans: what spreadsheets and csv readers expect."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    return format_duration(value - value % timedelta(minutes=1)) if value else "0m"


def _rate(figures: TargetFigures | None) -> str:
    if figures is None:
        return "—"
    pct = figures.met_percent
    share = "—" if pct is None else f"{pct:.1f}%"
    return f"{figures.met} / {figures.breached} ({share})" + (
        f", {figures.running} running" if figures.running else ""
    )


def _spells_markdown(up: UptimeReport, tz: tzinfo) -> None:
    """Each spell of downtime, and (when the policy sets a claim window) its last claim day."""
    if not up.downtime:
        return
    claims = up.claim_by is not None
    last = up.last_claim_day(tz)
    if last is not None:
        print(
            f"Last day to claim a service credit for every spell: {last:%a %d %b %Y} "
            "(each spell's own below)."
        )
    print()
    print("| Downtime from | To | Lasted |" + (" Last day to claim |" if claims else ""))
    print("| --- | --- | ---: |" + (" --- |" if claims else ""))
    for spell in up.downtime:
        day = spell.last_claim_day(tz)
        cells = [shown(spell.start, tz), shown(spell.end, tz), _duration(spell.end - spell.start)]
        if day is not None:
            cells.append(f"{day:%a %d %b %Y}")
        print("| " + " | ".join(cells) + " |")


def _markdown(label: str, now: datetime, reports: list[Report], customer: str | None) -> None:
    for i, (policy, figures, up) in enumerate(reports):
        tz = policy.tz
        if i:
            print()
        whose = f", {customer}'s tickets" if customer else ""
        print(f"## {policy.name} — {label} ({policy.timezone}){whose}")
        print()
        print(
            f"{shown(figures.period.start, tz)} to {shown(figures.period.end, tz)}; "
            f"as of {shown(now, tz)}."
        )
        print(
            "First response and resolution: met / breached (met %); running ones count in neither."
        )
        print()
        print(
            "| Severity | Opened | First response | Resolution | Updates missed "
            "| MTTA business | MTTA wall | MTTR business | MTTR wall | Waiting on customer |"
        )
        print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for s in figures.severities:
            cells = [
                s.label,
                str(s.opened),
                _rate(s.first_response),
                _rate(s.resolution),
                "—" if s.updates_missed is None else str(s.updates_missed),
                _duration(s.mtta_business),
                _duration(s.mtta_wall),
                _duration(s.mttr_business),
                _duration(s.mttr_wall),
                _duration(s.waiting_on_customer),
            ]
            print("| " + " | ".join(cells) + " |")
        print()
        if up is not None:
            target = "" if up.target is None else f" (target {100 * up.target:g}%: "
            target += "" if up.target is None else ("met)" if up.target_met else "missed)")
            print(
                f"Uptime {up.uptime_percent:.3f}%{target}: {up.downtime_minutes} of "
                f"{up.minutes:,} minutes down (outage tickets, recorded outages and "
                f"maintenance without due notice; {up.excluded_minutes} minutes left out)."
            )
            for left in up.excluded:
                of = "uptime and credits" if left.scope == "uptime" else "credits"
                source = f" ({left.note})" if left.note else ""
                print(
                    f"- Left out of {of}: {shown(left.start, tz)} for "
                    f"{_duration(left.end - left.start)}{source}: {left.why}."
                )
            if policy.uptime and policy.uptime.credits:
                print(f"Service credit: {100 * up.credit:g}%.")
            _spells_markdown(up, tz)
            if up.allowance is not None:
                state = "exceeded" if up.allowance_exceeded else "within"
                print(
                    f"Unplanned downtime: {up.unplanned_minutes} min, {state} the allowance of "
                    f"{format_duration(up.allowance)}."
                )
            print()
        if not figures.breaches:
            print("Breaches: none.")
            continue
        print("| Ticket | Severity | Target | Due | Met | Late |")
        print("| --- | --- | --- | --- | --- | ---: |")
        for b in figures.breaches:
            met = shown(b.met_at, tz) if b.met_at else "not yet"
            print(
                f"| {b.ref} | {b.severity} | {b.target} | {shown(b.due, tz)} | {met} "
                f"| {_duration(b.late)} |"
            )
