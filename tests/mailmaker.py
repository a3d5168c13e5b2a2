"""Real RFC 5322 messages for the e-mail tests, built with the standard ``email`` package as
a mail program would send them."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime


def message(
    subject: str,
    body: str | None = "Hello,\n\nsomething is wrong.\n",
    *,
    sender: str = "Jane Doe <jane@acme.example>",
    to: str = "support@vendor.example",
    date: datetime | None = None,
    message_id: str | None = "<m1@acme.example>",
    html: str | None = None,
    charset: str = "utf-8",
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, bytes], ...] = (),
) -> bytes:
    """A message; ``body`` None with ``html`` makes an HTML-only one."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id is not None:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    if body is not None:
        cte = "base64" if charset not in ("utf-8", "us-ascii") else None
        msg.set_content(body, charset=charset, cte=cte)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html", charset=charset)
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)
