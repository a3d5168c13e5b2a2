"""An e-mail as a ticket source sees it: who wrote, what about, when, and what it answers.

Pure: bytes in (an RFC 5322 message as the IMAP server keeps it), a `Mail` out; no network,
no database, no clock (``now`` is a parameter). The standard library's ``email`` package
with its modern policy does the decoding: RFC 2047 headers, quoted-printable and base64
bodies, and every charset Python knows (iso-8859-1, shift_jis, …). A charset it does not know
is read as UTF-8 with replacement marks rather than dropping the message: the customer's
words matter more than a few characters.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

MAX_REF = 255  # the longest source reference a ticket keeps (`Tickets.open`)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_TICKET = re.compile(r"\bSLA-(\d{1,9})\b", re.IGNORECASE)
# RFC 3834 and what mail systems use before it: a message no person wrote opens nothing.
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-AutoReply-From")
_ROBOTS = frozenset({"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply"})


@dataclass(frozen=True)
class Mail:
    """One message, decoded. ``ref``: its Message-ID (or a digest of it when longer than a
    ticket keeps, or of the message when it has none), the ticket's ``source_ref``."""

    ref: str
    sender: str  # the address, lower-case: "jane@acme.example"
    sender_name: str
    subject: str
    text: str
    written_at: datetime | None  # the Date header, as the sender's clock said it
    answers: tuple[str, ...]  # In-Reply-To then References, newest first, as refs
    tickets: tuple[int, ...]  # SLA-n numbers named in the subject
    attachments: tuple[str, ...]
    automatic: str | None  # why it is an auto-reply or a bounce; None: a person wrote it

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2]


def read_mail(raw: bytes) -> Mail:
    """Parse ``raw``; never raises on a malformed message (a mailbox receives anything)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)  # policy.default makes EmailMessage
    sender, name = _sender(msg)
    subject = " ".join(_header(msg, "Subject").split())
    own = _ids(_header(msg, "Message-ID"))
    ref = as_ref(own[0]) if own else "sha256:" + hashlib.sha256(raw).hexdigest()
    answers = _ids(_header(msg, "In-Reply-To")) + _ids(_header(msg, "References"))[::-1]
    return Mail(
        ref=ref,
        sender=sender,
        sender_name=name,
        subject=subject,
        text=_text(msg),
        written_at=_date(_header(msg, "Date")),
        answers=tuple(dict.fromkeys(as_ref(a) for a in answers if a not in own)),
        tickets=tuple(int(n) for n in _TICKET.findall(subject)),
        attachments=tuple(_attachments(msg)),
        automatic=_automatic(msg, sender),
    )


def as_ref(message_id: str) -> str:
    """A Message-ID as a ticket's source reference: as written, or its digest when longer
    than a reference may be (RFC 5322 allows 998 characters)."""
    if len(message_id) <= MAX_REF:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def reported_at(mail: Mail, now: datetime, oldest: timedelta) -> datetime:
    """When the customer reported it: the message's Date, if it is believable.

    The Date header is the sender's clock. One ahead of ours (a skewed laptop) would open a
    ticket reported in the future; one far behind (a dead CMOS battery says 1970, a message
    re-sent from an archive) would open a ticket breached at birth. Outside ``[now - oldest,
    now]`` it is not believed, and the clock starts when slabot reads the message."""
    written = mail.written_at
    if written is None or written > now or written < now - oldest:
        return now
    return written


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError, LookupError):  # a header the parser chokes on
        raw = (v for n, v in msg.raw_items() if n.lower() == name.lower())
        value = next(raw, None)
    return str(value) if value is not None else ""


def _ids(text: str) -> list[str]:
    return _MESSAGE_ID.findall(text)


def _sender(msg: EmailMessage) -> tuple[str, str]:
    """The address to answer: Reply-To's first, else From's, lower-cased."""
    for name in ("Reply-To", "From"):
        pairs = [(n, a) for n, a in getaddresses([_header(msg, name)]) if "@" in a]
        if pairs:
            display, address = pairs[0]
            return address.strip().lower(), display.strip()
    return "", ""


def _date(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value.tzinfo is None:  # "-0000": the sender did not know its zone; RFC 5322 says UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _automatic(msg: EmailMessage, sender: str) -> str | None:
    submitted = _header(msg, "Auto-Submitted").strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted[:40]}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _AUTO_HEADERS:
        if msg.get(name) is not None:
            return f"{name} header"
    if msg.get_content_type() == "multipart/report":
        return "a delivery report"
    if not sender:
        return "no sender address"
    if sender.partition("@")[0] in _ROBOTS:
        return f"sent by {sender.partition('@')[0]}"
    return None


def _text(msg: EmailMessage) -> str:
    """The message's words: its plain-text body, else its HTML body as text."""
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = _content(body)
    if body.get_content_subtype() == "html":
        content = html_text(content)
    return _tidy(content)


def _content(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown charset, a broken encoding
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else str(payload or "").encode()
    if isinstance(content, bytes):
        return content.decode("utf-8", "replace")
    return str(content)


def _attachments(msg: EmailMessage) -> list[str]:
    names = []
    for part in msg.iter_attachments():
        name = part.get_filename() or part.get_content_type()
        names.append(" ".join(name.split())[:200])
    return names


def _tidy(text: str) -> str:
    """Line ends as ``\\n``, trailing spaces gone, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _HTMLText(HTMLParser):
    """What a reader of the HTML sees: its text, a line break per block, no script or style."""

    BLOCKS = frozenset(
        "p div br li tr h1 h2 h3 h4 h5 h6 blockquote pre table ul ol hr section article".split()
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(" ".join(data.split(" ")) if data.strip() else " ")


def html_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(lines)


def sender_line(mail: Mail) -> str:
    """``Jane Doe <jane@acme.example>``: the From line a description starts with."""
    if not mail.sender:
        return "an unknown sender"
    if not mail.sender_name:
        return mail.sender
    username, _, domain = mail.sender.partition("@")
    return str(Address(mail.sender_name, username, domain))
