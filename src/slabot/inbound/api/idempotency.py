"""``Idempotency-Key``: a change sent again answers as it did the first time, and a key reused
for another request is refused. The owner of the ``api_requests`` table.

The use cases already make a change once per key (`slabot.tickets`: the key is kept on the
ticket or its first event, checked under the ticket's lock). What they cannot tell is that a
key came back with a *different* request: an open under a key that opened SLA-4 would simply
answer SLA-4. So each key is bound, per token, to a digest of the request it first came with
(method, path and body), before the use case runs; the same key with another digest is a 422.
A change the use case refused releases its key, so the corrected request may use it again.
The answer to a repeat is the use case's (it finds its key and changes nothing), so nothing
else is stored: a request costs one small write more than the change itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select

from ...store import Store
from ...store.tables import ApiRequest


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), body)).hexdigest()


def use_case_key(token_id: int, key: str) -> str:
    """The key the use cases keep: per token, and apart from Slack's own request keys."""
    return f"api{token_id}:{key}"


class Reused(Exception):
    """The key was first sent with another request."""


def claim(store: Store, token_id: int, key: str, print_: str, now: datetime) -> None:
    """Bind ``key`` to this request (a repeat finds it bound already); `Reused` when the key
    belongs to another request."""
    row = {"token_id": token_id, "key": key, "fingerprint": print_, "created_at": now}
    with store.writing() as session:
        session.execute(store.insert_if_new(ApiRequest).values(**row))
        found = session.exec(
            select(ApiRequest).where(ApiRequest.c.token_id == token_id, ApiRequest.c.key == key)
        ).one()
        if found.fingerprint != print_:
            raise Reused(key)


def release(store: Store, token_id: int, key: str) -> None:
    """The use case refused the request: nothing was done under ``key``, so free it."""
    with store.writing() as session:
        session.execute(
            delete(ApiRequest).where(
                ApiRequest.c.token_id == token_id,
                ApiRequest.c.key == key,
            )
        )
