"""``slabot mail``: read the support mailbox over IMAP, each new e-mail a ticket or a reply.

Its own process rather than a job inside ``slabot clock``: the clock is one leader per
database and must tick every second, while an IMAP connection waits in IDLE for minutes and a
slow or unreachable mail server must never delay a page. Readers need no leader (a message's
Message-ID opens one ticket however many read it), so ``slabot mail`` can run beside any
number of replicas, with its own mailbox credentials, and be restarted on its own.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from ..store.migrate import upgrade
from . import config
from .errors import CliError
from .storage import open_service, reach, use_cases


def wall_clock() -> datetime:
    return datetime.now(UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once", action="store_true", help="take what is in the mailbox now, then stop"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=60,
        metavar="SECONDS",
        help="the longest wait between two looks at the mailbox (60); new mail is taken at "
        "once where the server has IMAP IDLE",
    )
    parser.add_argument(
        "--oldest",
        type=float,
        default=7,
        metavar="DAYS",
        help="a Date header older than this (or in the future) is not believed, and the "
        "ticket counts from when it is read (7)",
    )


def run(args: argparse.Namespace) -> int:
    if not 0 < args.interval <= 1740:  # RFC 2177: IDLE should be renewed within 29 minutes
        raise CliError(f"--interval {args.interval:g}: give seconds, more than 0, at most 1740", 2)
    if not args.oldest > 0:
        raise CliError(f"--oldest {args.oldest:g}: give days, more than 0", code=2)
    # No Slack token: a reader stores tickets and what they owe Slack; the clock posts it.
    settings = config.settings("mail_host", "mail_user", "mail_password", service=True)
    from imapclient.exceptions import IMAPClientError
    from sqlalchemy.exc import SQLAlchemyError

    from ..inbound.mailbox import Mailbox, MailboxError, MailReader
    from ..inbound.mailbox import run as read_mailbox
    from ..inbound.mailroutes import RoutesError, RoutesFile
    from ..slack.blocks.notes import saying

    store, policies, team = open_service(settings)
    try:
        routes = RoutesFile(settings.mail_routes)
    except RoutesError as exc:
        raise CliError(str(exc), code=2) from None
    named = {r.policy for r in routes().senders.values() if r.policy}
    unknown = sorted(named - set(policies.names()))
    if unknown:
        raise CliError(
            f"{settings.mail_routes}: no policy named {', '.join(unknown)} in "
            f"{settings.slabot_policies} (there are {', '.join(policies.names())})",
            code=2,
        )
    reach(store, lambda: upgrade(store))
    tickets = use_cases(settings, store, policies, team)
    reader = MailReader(tickets, routes, saying, oldest=timedelta(days=args.oldest))
    assert settings.mail_password is not None and settings.mail_host and settings.mail_user
    mailbox = Mailbox(
        host=settings.mail_host,
        port=settings.mail_port or (993 if settings.mail_security == "tls" else 143),
        user=settings.mail_user,
        password=settings.mail_password.get_secret_value(),
        folder=settings.mail_folder,
        security=settings.mail_security,
    )
    try:
        read_mailbox(
            mailbox, reader, lambda: datetime.now(UTC), interval=args.interval, once=args.once
        )
    except MailboxError as exc:
        raise CliError(str(exc), code=2) from None
    except (OSError, IMAPClientError) as exc:  # --once: the server cannot be reached
        raise CliError(f"cannot read {mailbox.host}:{mailbox.port}: {exc}", code=1) from None
    except SQLAlchemyError as exc:  # --once: the database went away
        raise CliError(f"cannot use the database: {str(exc).splitlines()[0]}", code=1) from None
    return 0
