"""``slabot db upgrade``: apply the schema migrations to ``$DATABASE_URL``."""

from __future__ import annotations

import argparse

from ..store.migrate import pending, upgrade
from .storage import open_store, reach


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("upgrade", help="apply pending migrations (safe to run again)")


def run(args: argparse.Namespace) -> int:
    store = open_store(migrated=False)
    where = store.url.render_as_string(hide_password=True)
    todo = reach(store, lambda: pending(store))
    if not todo:
        print(f"{where}: up to date")
        return 0
    reach(store, lambda: upgrade(store))
    print(f"{where}: applied {', '.join(todo)}")
    return 0
