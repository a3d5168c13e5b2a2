"""The support mailbox over IMAP: each new message opens a ticket or answers one.

A message is marked (the IMAP keyword ``$SlabotTaken``) only after its ticket is stored and its
card posted, so nothing is lost: a reader killed in between reads the message again on its
next start, and the ticket's ``source_ref`` (the Message-ID, unique per workspace) makes the
second reading find the ticket the first one opened instead of opening another. Two readers
on one mailbox are safe for the same reason; a reply is recorded under an idempotency key made
from its Message-ID, so it is added once however often it is read.

Why a keyword and not ``\\Seen`` or a move: people read the support mailbox too, and a message
someone opened in their mail program must still open a ticket; a keyword is invisible to them
and works on every folder layout. The body is fetched with ``BODY.PEEK`` for the same reason.

Automatic mail (out-of-office replies, bounces, lists) is marked and opens nothing. A message
whose sender no route matches, or that a use case refuses, stays unmarked and is logged once:
fix ``MAIL_ROUTES`` and it is taken on the next pass.
"""

from __future__ import annotations

import hashlib
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy.exc import SQLAlchemyError

from ..tickets import ChangeRequest, NotFound, SeverityUnclear, TicketError, Tickets, TicketView
from ..tickets.changes import MAX_TEXT
from ..tickets.opening import MAX_TITLE
from ..tickets.timers import Say
from .mail import Mail, read_mail, reported_at, sender_line
from .mailroutes import Found, MailRoutes

log = logging.getLogger(__name__)
TAKEN = b"$SlabotTaken"
SOURCE = "email"
BATCH = 25  # messages fetched per round trip
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)

Outcome = Literal["opened", "repeat", "replied", "automatic", "unrouted", "refused"]


class MailboxError(Exception):
    """The mailbox cannot be used as configured (a refused login, a missing folder)."""


# The thread's note of a change, handed to its use case, which owes it (and the card) in the
# change's own transaction: `slabot.slack.blocks.notes.saying`.
Notes = Callable[..., Say]


@dataclass(frozen=True)
class Taken:
    """What became of one message. ``done``: mark it, it is never to be read again."""

    outcome: Outcome
    ticket: str | None = None
    detail: str = ""

    @property
    def done(self) -> bool:
        return self.outcome not in ("unrouted", "refused")


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    security: Literal["tls", "starttls", "none"] = "tls"
    timeout: float = 30

    def connect(self) -> IMAPClient:
        """Logged in, with ``folder`` selected; a refused login or folder is `MailboxError`."""
        context = ssl.create_default_context()
        client = IMAPClient(
            self.host,
            port=self.port,
            ssl=self.security == "tls",
            ssl_context=context,
            timeout=self.timeout,
        )
        try:
            if self.security == "starttls":
                client.starttls(context)
            client.login(self.user, self.password)
        except LoginError as exc:
            client.shutdown()
            raise MailboxError(
                f"{self.host} refused the login of {self.user}: check MAIL_USER and "
                f"MAIL_PASSWORD ({_said(exc)})"
            ) from None
        try:
            client.select_folder(self.folder)
        except IMAPClientError as exc:
            client.logout()
            raise MailboxError(
                f"{self.host} has no folder {self.folder!r} for {self.user}: check MAIL_FOLDER "
                f"({_said(exc)})"
            ) from None
        return client


class MailReader:
    """Takes messages in: parse, find the ticket a reply answers or route a new one, call the
    use case with the thread's note (the use case owes it and the card; the clock posts them)."""

    def __init__(
        self,
        tickets: Tickets,
        routes: Callable[[], MailRoutes],
        notes: Notes,
        *,
        oldest: timedelta = timedelta(days=7),
    ):
        self.tickets = tickets
        self.routes = routes
        self.notes = notes
        self.oldest = oldest
        self._told: set[str] = set()  # messages left in the mailbox whose reason was logged

    # -- one message ---------------------------------------------------------------------------

    def take(self, raw: bytes, now: datetime) -> Taken:
        mail = read_mail(raw)
        if mail.automatic:
            return Taken("automatic", detail=mail.automatic)
        routes = self.routes()
        answered = self._answered(routes.workspace, mail, now)
        if answered is not None:
            return self._reply(routes.workspace, answered, mail, now)
        found = routes.route(mail.sender)
        if found is None:
            return Taken(
                "unrouted",
                detail=f"no route for {mail.sender or 'a message without a sender'}: add "
                f"{mail.domain or 'its domain'} (or '*') to the senders of MAIL_ROUTES",
            )
        try:
            return self._open(routes.workspace, found, mail, now)
        except TicketError as exc:
            return Taken("refused", detail=str(exc))

    def _answered(self, workspace: str, mail: Mail, now: datetime) -> TicketView | None:
        """The ticket a reply belongs to: by the messages it answers, else ``SLA-n`` in its
        subject."""
        for ref in mail.answers:
            view = self.tickets.by_source(workspace, SOURCE, ref, now)
            if view is not None:
                return view
        for number in mail.tickets:
            try:
                return self.tickets.view(workspace, number, now)
            except NotFound:
                continue
        return None

    def _reply(self, workspace: str, before: TicketView, mail: Mail, now: datetime) -> Taken:
        text = _with_attachments(mail.text or mail.subject or "(an empty message)", mail)
        view = self.tickets.customer_replied(
            ChangeRequest(
                workspace,
                before.ticket.number,
                actor=mail.sender,
                now=now,
                idempotency_key="mail:" + hashlib.sha256(mail.ref.encode()).hexdigest(),
                say=self.notes("reply", mail.sender, text=text),
            ),
            text,
        )
        return Taken("replied", view.ticket.ref)

    def _open(self, workspace: str, found: Found, mail: Mail, now: datetime) -> Taken:
        title = _REPLY_PREFIX.sub("", mail.subject).strip()
        title = title or mail.text.strip().split("\n", 1)[0].strip() or "(no subject)"
        body = f"From {sender_line(mail)}\n\n{mail.text}"
        fields: dict[str, Any] = {
            "title": title[:MAX_TITLE],
            "reporter": mail.sender[:32] or "e-mail",
            "now": now,
            "policy": found.policy,
            "channel": found.channel,
            "description": _with_attachments(body, mail)[:MAX_TEXT],
            "reported_at": reported_at(mail, now, self.oldest),
            "source": SOURCE,
            "source_ref": mail.ref,
            "say": self.notes("mail", mail.sender, text=found.customer),
            "customer": found.customer,
        }
        try:
            result = self.tickets.open(workspace, **fields)
        except SeverityUnclear as exc:
            # Nobody is there to answer "which severity?": the route's, else the least severe
            # candidate; whoever triages raises it (`/sla sev`).
            chosen = found.severity or exc.classification.candidates[-1]
            result = self.tickets.open(workspace, severity=chosen, **fields)
        if not result.created:
            return Taken("repeat", result.view.ticket.ref)
        return Taken("opened", result.view.ticket.ref)

    # -- the mailbox -----------------------------------------------------------------------------

    def poll(self, client: IMAPClient, now: Callable[[], datetime]) -> list[Taken]:
        """Take every message not yet taken, oldest first; mark each one that is done."""
        results = []
        uids = sorted(client.search(["NOT", "KEYWORD", TAKEN.decode(), "NOT", "DELETED"]))
        for batch in _batches(uids, BATCH):
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is None:  # expunged by someone else meanwhile
                    continue
                taken = self.take(raw, now())
                if taken.done:
                    client.add_flags([uid], [TAKEN])
                    log.info("mail %s: %s %s", uid, taken.outcome, taken.ticket or taken.detail)
                else:
                    key = f"{uid}:{taken.detail}"
                    if key not in self._told:
                        self._told.add(key)
                        log.warning("mail %s left in the mailbox: %s", uid, taken.detail)
                results.append(taken)
        return results


def run(
    mailbox: Mailbox,
    reader: MailReader,
    now: Callable[[], datetime],
    *,
    interval: float,
    once: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Read the mailbox until stopped: take what is there, then wait for news with IMAP IDLE
    (at most ``interval`` seconds, then look anyway), or poll every ``interval`` seconds where
    the server has no IDLE. A lost connection or database is retried with backoff; a refused
    login or folder stops with `MailboxError` (retrying would not help)."""
    backoff = 1.0
    while True:
        try:
            client = mailbox.connect()
            try:
                idle = b"IDLE" in client.capabilities()
                while True:
                    reader.poll(client, now)
                    backoff = 1.0
                    if once:
                        return
                    _wait(client, idle, interval, sleep)
            finally:
                _close(client)
        except MailboxError:
            raise
        except (IMAPClientError, OSError, SQLAlchemyError) as exc:
            if once:
                raise
            log.warning("mailbox or database unavailable (%s); again in %.0f s", exc, backoff)
            sleep(backoff)
            backoff = min(backoff * 2, 60.0)


def _wait(client: IMAPClient, idle: bool, interval: float, sleep: Callable[[float], None]) -> None:
    if not idle:
        sleep(interval)
        return
    client.idle()
    try:
        client.idle_check(timeout=interval)
    finally:
        client.idle_done()


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        client.shutdown()


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _with_attachments(text: str, mail: Mail) -> str:
    if not mail.attachments:
        return text
    return f"{text}\n\nAttached: {', '.join(mail.attachments)}"


def _said(exc: Exception) -> str:
    text = exc.args[0] if exc.args else exc
    return (text.decode(errors="replace") if isinstance(text, bytes) else str(text))[:200]
