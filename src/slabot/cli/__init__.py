"""The ``slabot`` command line.

Each subcommand lives in its own module and is imported only when it runs, so ``slabot --help``
and the policy tools start fast and never load Slack, SQLAlchemy or APScheduler.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .. import __version__
from .errors import CliError

# name → (module, help); each module has ``add_arguments(parser)`` and ``run(args) -> int``
COMMANDS = {
    "policy": ("policy", "check policy files"),
    "deadlines": ("deadlines", "print the deadlines of tickets opened at given instants"),
    "simulate": ("simulate", "print the whole timeline a ticket would get if nobody acts"),
    "serve": ("serve", "run the Slack app over HTTP (or Socket Mode), and the clock"),
    "clock": ("clock", "run the clock alone: reminders, nudges and pages as they fall due"),
    "mail": ("mail", "read the support mailbox over IMAP: each e-mail opens or answers a ticket"),
    "timers": ("timers", "list the timers still to be done or dead, and send dead ones again"),
    "db": ("db", "manage the database schema ($DATABASE_URL)"),
    "tickets": ("tickets", "list tickets or show one, read-only"),
    "tokens": ("tokens", "create, list and revoke the HTTP API's bearer tokens"),
    "report": ("report", "a month's SLA compliance, uptime and service credits per policy"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slabot",
        description="Support SLAs as running clocks in Slack.",
    )
    parser.add_argument("--version", action="version", version=f"slabot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text.capitalize() + ".")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] in COMMANDS:
        name = argv[0]
        module = importlib.import_module(f".{COMMANDS[name][0]}", __name__)
        sub = argparse.ArgumentParser(prog=f"slabot {name}", description=COMMANDS[name][1])
        module.add_arguments(sub)
        args = sub.parse_args(argv[1:])
        if "slabot.sla" in sys.modules:  # a command that reads policies (not db, tokens)
            keep_holidays()
        try:
            return module.run(args)
        except CliError as exc:
            print(f"slabot {name}: {exc}", file=sys.stderr)
            return exc.code
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            # The reader went away (``slabot simulate … | head``): stop quietly, as cat does.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
    args = parser.parse_args(argv)
    parser.print_help()
    return 0 if args.command is None and not argv else 2


def keep_holidays() -> None:
    """Public holidays computed by one command are kept for the next (``XDG_CACHE_HOME``):
    the ``holidays`` package costs more to import than most commands take to run
    (`slabot.sla.public_holidays`)."""
    from ..sla.public_holidays import default_cache_dir, use_cache

    use_cache(default_cache_dir(os.environ))
