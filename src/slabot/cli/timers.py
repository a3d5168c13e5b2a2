"""``slabot timers``: the timers still to be done, the dead ones, and sending dead ones again;
with ``--notices``, the same for the notices planned maintenance owes its channel (its
announcement and calling off, the reminders) and the announcements of outages. The flag was
``--maintenance`` before those notices took in outages' announcements; it still works."""

from __future__ import annotations

import argparse

from ..outages import notices
from ..store import Store
from ..store.queue import NotDead
from ..tickets import timers
from .arguments import positive
from .errors import CliError
from .storage import open_store, reach
from .table import print_table

ERROR = 60  # characters of the last error shown in the listing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dead", action="store_true", help="only the dead timers")
    parser.add_argument(
        "--notices",
        "--maintenance",
        dest="notices",
        action="store_true",
        help="what planned maintenance owes its channel (its announcement, the reminders, its "
        "calling off), and the announcements of outages, instead of the tickets' timers "
        "(--maintenance: the same, its older name)",
    )
    parser.add_argument(
        "--retry",
        metavar="ID|all",
        help="send dead timers again: one ID, several (1,2,3), or all of them",
    )
    parser.add_argument("--limit", type=positive, default=100, help="list at most this many (100)")


def run(args: argparse.Namespace) -> int:
    noun = "maintenance notice" if args.notices else "timer"
    which = _ids(args.retry, noun) if args.retry is not None else None
    store = open_store()
    if args.retry is not None:
        retry = notices.retry if args.notices else timers.retry
        try:
            count = reach(store, lambda: retry(store, which))
        except NotDead as exc:
            raise CliError(str(exc)) from None
        print(f"re-queued {count} dead {noun}{'' if count == 1 else 's'}")
        return 0
    if args.notices:
        return _notices(store, args)
    lines = reach(store, lambda: timers.listing(store, dead_only=args.dead, limit=args.limit))
    if not lines:
        print("no dead timers" if args.dead else "no timers to do")
        return 0
    header = [
        "ID",
        "Ticket",
        "Kind",
        "Stage",
        "#",
        "State",
        "Due (UTC)",
        "Next try",
        "Tries",
        "Last error",
    ]
    table = [
        [
            str(line.timer.id),
            line.ref,
            line.timer.kind,
            line.timer.stage,
            str(line.timer.repeat + 1),
            line.state,
            f"{line.timer.due_at:%Y-%m-%d %H:%M:%S}",
            f"{line.timer.next_attempt_at:%H:%M:%S}" if line.state == "late" else "",
            str(line.timer.attempts),
            _short(line.timer.last_error or ""),
        ]
        for line in lines
    ]
    print_table(header, table)
    return 0


def _notices(store: Store, args: argparse.Namespace) -> int:
    lines = reach(store, lambda: notices.listing(store, dead_only=args.dead, limit=args.limit))
    if not lines:
        print("no dead maintenance notices" if args.dead else "no maintenance notices to post")
        return 0
    header = ["ID", "Of", "Channel", "Stage", "State", "Due (UTC)", "Next try", "Tries"]
    table = [
        [
            str(line.notice.id),
            f"{line.subject} ({line.record.policy})",
            line.channel,
            line.notice.stage,
            line.state,
            f"{line.notice.due_at:%Y-%m-%d %H:%M:%S}",
            f"{line.notice.next_attempt_at:%H:%M:%S}" if line.state == "late" else "",
            str(line.notice.attempts),
            _short(line.notice.last_error or ""),
        ]
        for line in lines
    ]
    print_table([*header, "Last error"], table)
    return 0


def _ids(text: str, noun: str) -> list[int] | None:
    """``all`` → None (every dead one); ``7`` or ``7,9`` → [7, 9]."""
    if text.strip().lower() == "all":
        return None
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ids = []
    if not ids or any(i <= 0 for i in ids):
        raise CliError(
            f"--retry {text!r}: give a {noun} ID from `slabot timers --dead"
            f"{' --notices' if noun != 'timer' else ''}`, several separated by commas, or all",
            code=2,
        )
    return ids


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR else text[: ERROR - 1] + "…"
