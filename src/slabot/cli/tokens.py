"""``slabot tokens``: create, list and revoke the HTTP API's bearer tokens."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ..inbound.tokens import SCOPES, TokenError, create, listing, revoke
from .errors import CliError
from .storage import open_store, reach
from .table import print_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    made = sub.add_parser("create", help="make a token and print it (the only time it is shown)")
    made.add_argument("name", help="what uses it, such as zendesk (lower-case, up to 24)")
    made.add_argument("--workspace", required=True, help="the Slack workspace ID (T…)")
    made.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=list(SCOPES),
        help="what it may do; repeat for several: "
        + "; ".join(f"{k}: {v}" for k, v in SCOPES.items()),
    )
    made.add_argument("--channel", help="the channel (C…) its tickets go to when none is sent")
    shown = sub.add_parser("list", help="the tokens (names, scopes, never the tokens)")
    shown.add_argument("--workspace", help="only this workspace's")
    gone = sub.add_parser("revoke", help="stop a token from working, at once")
    gone.add_argument("name")
    gone.add_argument("--workspace", required=True, help="the Slack workspace ID (T…)")


def run(args: argparse.Namespace) -> int:
    store = open_store()
    now = datetime.now(UTC)
    try:
        if args.action == "create":
            token = reach(
                store,
                lambda: create(
                    store,
                    args.name,
                    workspace=args.workspace,
                    scopes=args.scope,
                    channel=args.channel,
                    now=now,
                ),
            )
            print(token)
            return 0
        if args.action == "revoke":
            reach(store, lambda: revoke(store, args.name, workspace=args.workspace, now=now))
            print(f"revoked {args.name} in {args.workspace}")
            return 0
    except TokenError as exc:
        raise CliError(str(exc), code=2) from None
    rows = reach(store, lambda: listing(store, args.workspace))
    if not rows:
        print("no tokens: create one with `slabot tokens create NAME --workspace T… --scope …`")
        return 0
    header = ["Workspace", "Name", "Scopes", "Channel", "Created (UTC)", "Revoked"]
    table = [
        [
            row.workspace,
            row.name,
            ",".join(row.scopes),
            row.channel or "",
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
        ]
        for row in rows
    ]
    print_table(header, table)
    return 0
