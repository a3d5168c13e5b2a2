"""Bearer tokens for the HTTP API (and the inbound sources that take one): the owner of the
``api_tokens`` table.

A token is 256 random bits shown once, at creation; only its SHA-256 digest is stored and a
request's token is found by the digest of what it presents. A slow password hash (bcrypt,
scrypt) protects secrets people choose, which are few enough to guess; nobody can enumerate
2^256 tokens, so a fast digest is as safe here, costs microseconds per request instead of
~100 ms, and can be looked up by index (a salted hash could not be).

Each token belongs to one workspace and carries scopes: what it may do there. A revoked token
keeps its row (revoked_at), so it is refused with a reason rather than as unknown.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..store import Store
from ..store.tables import ApiToken

PREFIX = "slabot_"
# What a token may do. ``alerts:write`` and ``webhooks:write`` are for the monitoring and
# signed-webhook sources, which take tokens the same way.
SCOPES = {
    "tickets:read": "read tickets and the queue",
    "tickets:write": "open tickets and change them (update, acknowledge, pause, resolve)",
    "alerts:write": "send monitoring alerts (Alertmanager, Grafana)",
    "webhooks:write": "send helpdesk webhooks",
}
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")
_WORKSPACE = re.compile(r"[TE][A-Z0-9]{2,31}")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,31}")


class TokenError(Exception):
    """A token cannot be created, found or revoked; the message says what to do."""


@dataclass(frozen=True)
class Caller:
    """Who a request's token speaks for: the token, its workspace and what it may do."""

    token_id: int
    name: str
    workspace: str
    scopes: frozenset[str]
    channel: str | None

    @property
    def actor(self) -> str:
        """How the ticket's trail and card name what the token did (``api:zendesk``)."""
        return f"api:{self.name}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    store: Store,
    name: str,
    *,
    workspace: str,
    scopes: list[str],
    now: datetime,
    channel: str | None = None,
) -> str:
    """Make a token and return it: the only time it can be seen."""
    if not _NAME.fullmatch(name):
        raise TokenError(
            f"{name[:40]!r} is not a token name: use up to 24 lower-case letters, digits and "
            "dashes, such as zendesk or ci-deploys"
        )
    if not _WORKSPACE.fullmatch(workspace):
        raise TokenError(f"{workspace[:40]!r} is not a Slack workspace ID (such as T0123ABCD)")
    if channel is not None and not _CHANNEL.fullmatch(channel):
        raise TokenError(f"{channel[:40]!r} is not a Slack channel ID (such as C0123ABCD)")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        problem = f"unknown scope {unknown[0]!r}" if unknown else "a token needs a scope"
        raise TokenError(f"{problem}: choose from {', '.join(SCOPES)} (--scope, repeatable)")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        workspace=workspace,
        name=name,
        digest=digest(token),
        scopes=sorted(set(scopes)),
        channel=channel,
        created_at=now,
    )
    try:
        with store.writing() as session:
            session.add(row)
    except IntegrityError:
        raise TokenError(
            f"{workspace} already has a token named {name}: revoke it first, or choose another name"
        ) from None
    return token


def listing(store: Store, workspace: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.c.workspace, ApiToken.c.name, ApiToken.c.id)
    if workspace:
        query = query.where(ApiToken.c.workspace == workspace)
    with store.reading() as session:
        return list(session.exec(query))


def revoke(store: Store, name: str, *, workspace: str, now: datetime) -> None:
    statement = (
        update(ApiToken)
        .where(
            ApiToken.c.workspace == workspace,
            ApiToken.c.name == name,
            ApiToken.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    with store.writing() as session:
        if session.execute(statement).rowcount == 0:  # type: ignore[attr-defined]
            raise TokenError(
                f"{workspace} has no live token named {name!r}: see `slabot tokens list`"
            )


def authenticate(store: Store, token: str) -> Caller:
    """The caller a presented token speaks for; `TokenError` when it is unknown or revoked."""
    with store.reading() as session:
        row = session.exec(select(ApiToken).where(ApiToken.c.digest == digest(token))).first()
    if row is None:
        raise TokenError("the bearer token is not one slabot knows: check it, or create one")
    if row.revoked_at is not None:
        raise TokenError(
            f"the token {row.name!r} was revoked on {row.revoked_at:%Y-%m-%d}: create a new one"
        )
    return Caller(row.id, row.name, row.workspace, frozenset(row.scopes), row.channel)  # type: ignore[arg-type]
