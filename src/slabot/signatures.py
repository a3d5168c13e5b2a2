"""Webhook signatures in the Standard Webhooks scheme, both ways: the pages slabot sends and
the requests other helpdesks send it (``/hooks/inbound``).

A message carries three headers: ``webhook-id`` (the message's own id, the same on every
retry), ``webhook-timestamp`` (Unix seconds when it was signed) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, several separated by spaces while a
secret rotates). Signing the id and the time with the body is what makes a captured message
useless later: the receiver refuses a timestamp outside `TOLERANCE` and an id it has taken.

A secret written ``whsec_<base64>`` (as Standard Webhooks libraries and Svix generate them)
is its decoded bytes; any other text is its UTF-8 bytes, so a secret typed by hand works too.

Why not the ``standardwebhooks`` package: the scheme is twenty lines over ``hmac``, and the
package pulls in attrs, python-dateutil, Deprecated and httpx's types for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

TOLERANCE = 5 * 60  # seconds either side of the receiver's clock
PREFIX = "whsec_"


class SignatureError(Exception):
    """A message that is not proven to come from the secret's holder, now; says why."""


def key(secret: str) -> bytes:
    if secret.startswith(PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
        except (binascii.Error, ValueError):
            pass  # not base64 after all: the whole text is the secret
    return secret.encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers that sign ``body`` as message ``message_id`` at ``timestamp``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, now: float) -> str:
    """The message's id when ``received`` (lower-case header names) signs ``body`` with the
    secret within `TOLERANCE` of ``now``; otherwise `SignatureError` saying what is wrong."""
    message_id = received.get("webhook-id", "").strip()
    stamp = received.get("webhook-timestamp", "").strip()
    given = received.get("webhook-signature", "").split()
    if not (message_id and stamp and given):
        raise SignatureError(
            "the request is not signed: send the webhook-id, webhook-timestamp and "
            "webhook-signature headers (Standard Webhooks)"
        )
    if not stamp.isdigit():
        raise SignatureError("webhook-timestamp is not a number of seconds since 1970")
    if abs(now - int(stamp)) > TOLERANCE:
        raise SignatureError(
            f"webhook-timestamp is more than {TOLERANCE // 60} minutes from this server's "
            "clock: sign each request when it is sent (and check the sender's clock)"
        )
    expected = signature(secret, message_id, int(stamp), body).encode()
    if not any(hmac.compare_digest(expected, item.encode()) for item in given):
        raise SignatureError(
            "webhook-signature does not match: sign 'id.timestamp.body' with HMAC-SHA256 and "
            "the shared secret, and send it as v1,<base64>"
        )
    return message_id


def verify_zendesk(secret: str, received: Mapping[str, str], body: bytes, now: float) -> str:
    """Zendesk's own scheme (its webhooks cannot send Standard Webhooks headers):
    ``X-Zendesk-Webhook-Signature`` = base64 HMAC-SHA256 of timestamp + body, with the
    timestamp in ``X-Zendesk-Webhook-Signature-Timestamp``. Same window; the message's id is
    Zendesk's invocation id (the same on its retries), else the signature."""
    given = received.get("x-zendesk-webhook-signature", "").strip()
    stamp = received.get("x-zendesk-webhook-signature-timestamp", "").strip()
    if not (given and stamp):
        raise SignatureError("the request carries no Zendesk webhook signature")
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError("X-Zendesk-Webhook-Signature-Timestamp is not a time") from None
    when = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    if abs(now - when) > TOLERANCE:
        raise SignatureError(
            f"the Zendesk signature's timestamp is more than {TOLERANCE // 60} minutes from "
            "this server's clock"
        )
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest), given.encode()):
        raise SignatureError(
            "X-Zendesk-Webhook-Signature does not match: copy the webhook's signing secret "
            "from Zendesk (Webhooks > the webhook > Signing secret) into SLABOT_ZENDESK_SECRET"
        )
    return received.get("x-zendesk-webhook-invocation-id", "").strip() or given
