"""``slabot tickets list|show``: read-only views of the ticket store for operators."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

from ..policies import PolicyBook
from ..sla import PolicyError, format_duration
from ..tickets import Invalid, NotFound, Tickets, parse_ref
from ..tickets.queries import story, tickets
from .arguments import positive
from .common import policies_dir, shown
from .errors import CliError
from .storage import open_store, reach

TITLE = 48


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="tickets, newest first")
    listing.add_argument("--open", action="store_true", help="only tickets not resolved or closed")
    listing.add_argument("--policy", metavar="NAME", help="only tickets under this policy")
    listing.add_argument("--workspace", metavar="ID", help="only this Slack workspace (T…)")
    listing.add_argument("--limit", type=positive, default=100, help="at most this many (100)")
    show = sub.add_parser("show", help="one ticket: history, deadlines, pending timers")
    show.add_argument("ref", metavar="SLA-42")
    show.add_argument("--workspace", metavar="ID", help="the Slack workspace (T…), if several")


def run(args: argparse.Namespace) -> int:
    store = open_store()
    if args.action == "list":
        return _list(store, args)
    return _show(store, args)


def _list(store, args: argparse.Namespace) -> int:
    rows = reach(
        store,
        lambda: tickets(
            store,
            workspace=args.workspace,
            active=True if args.open else None,
            policy=args.policy,
            limit=args.limit,
        ),
    )
    if not rows:
        print("no tickets")
        return 0
    header = [
        "ID",
        "Workspace",
        "Policy",
        "Severity",
        "Status",
        "Opened (UTC)",
        "Next due (UTC)",
        "Title",
    ]
    table = [
        [
            t.ref,
            t.workspace,
            t.policy,
            t.severity,
            t.status,
            f"{t.opened_at:%Y-%m-%d %H:%M}",
            f"{t.next_due_at:%Y-%m-%d %H:%M}" if t.next_due_at else "—",
            _short(t.title),
        ]
        for t in rows
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for line in [header, *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    return 0


def _show(store, args: argparse.Namespace) -> int:
    try:
        number = parse_ref(args.ref)
    except Invalid as exc:
        raise CliError(str(exc), code=2) from None
    workspace = args.workspace or _only_workspace(store, number)
    found = reach(store, lambda: story(store, workspace, number))
    if found is None:
        raise CliError(f"there is no ticket SLA-{number} in workspace {workspace}")
    try:
        book = PolicyBook.load(policies_dir())
    except PolicyError:
        book = PolicyBook({})  # the ticket's own policy version is stored with it
    now = datetime.now(UTC)  # an adapter: the only place this command reads the clock
    try:
        view = reach(store, lambda: Tickets(store, book).view(workspace, number, now))
    except NotFound as exc:
        raise CliError(str(exc)) from None
    ticket, policy, plan = view.ticket, view.policy, view.schedule
    tz = policy.tz
    label = policy.severity(ticket.severity).label
    print(f"{ticket.ref} · {label} · {policy.state_label(ticket.status)} — {ticket.title}")
    print(
        f"workspace {ticket.workspace} · policy {policy.name} (version {ticket.policy_digest})"
        f" · reporter {ticket.reporter} · owner {ticket.owner or 'nobody yet'}"
    )
    print(f"opened {shown(ticket.opened_at, tz)} · reported {shown(ticket.reported_at, tz)}")
    print("\nDeadlines")
    for d in plan.deadlines:
        print(f"  {d.label:<15} {shown(d.due, tz):<28} {_state(d, now)}")
    print("\nTimers")
    for timer in found.timers:
        print(
            f"  {shown(timer.due_at, tz):<28} {timer.state:<8} {timer.kind:<12} {timer.stage}"
            + (f" #{timer.repeat + 1}" if timer.repeat else "")
            + (f" → {timer.level}" if timer.level else "")
            + (f"  (last error: {timer.last_error})" if timer.last_error else "")
        )
    if not found.timers:
        print("  none")
    print("\nHistory")
    for event in found.events:
        detail = json.dumps(event.after, ensure_ascii=False) if event.after else ""
        print(f"  {shown(event.at, tz):<28} {event.actor:<12} {event.kind:<18} {detail}")
    return 0


def _state(deadline, now: datetime) -> str:
    if deadline.state == "running" and deadline.due:
        return f"running, {_minutes(deadline.due - now)} left"
    if deadline.state == "breached" and deadline.due:
        return f"BREACHED {_minutes(now - deadline.due)} ago"
    if deadline.state == "paused":
        return f"paused: {deadline.paused_by}"
    if deadline.met_at:
        return f"{deadline.state} at {deadline.met_at:%Y-%m-%d %H:%M} UTC"
    return deadline.state


def _only_workspace(store, number: int) -> str:
    from sqlalchemy import select

    from ..store.tables import Ticket

    def workspaces() -> list[str]:
        with store.reading() as session:
            query = select(Ticket.c.workspace).where(Ticket.c.number == number)
            return sorted(set(session.exec(query)))

    found = reach(store, workspaces)
    if len(found) == 1:
        return found[0]
    if not found:
        raise CliError(f"there is no ticket SLA-{number}")
    raise CliError(
        f"SLA-{number} exists in several workspaces: add --workspace {' or '.join(found)}"
    )


def _minutes(span: timedelta) -> str:
    return format_duration(span - span % timedelta(minutes=1))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE else text[: TITLE - 1] + "…"
