"""The policy versions tickets run under: the ``policy_versions`` table's owner.

A ticket keeps the digest of the policy it was opened under. The text of every version a
ticket or a channel binding used is stored, so a file edited or deleted since still gives
back the rules that ticket runs under, on any replica.
"""

from __future__ import annotations

from datetime import datetime

from ..sla import Policy
from ..store import Store
from ..store.records import Session
from ..store.tables import PolicyVersion
from .book import PolicyBook


class PolicyVersions:
    def __init__(self, store: Store, book: PolicyBook):
        self.store = store
        self.book = book

    def remember(self, session: Session, policy: Policy, now: datetime) -> None:
        """Store ``policy``'s text under its digest (once), in the caller's transaction."""
        values = {
            "digest": policy.digest,
            "name": policy.name,
            "text": self.book.source(policy),
            "first_seen_at": now,
        }
        session.execute(self.store.insert_if_new(PolicyVersion).values(**values))

    def get(self, session: Session, digest: str) -> Policy:
        """The policy of ``digest``: parsed once, from the book or else from its stored text."""
        try:
            return self.book.version(digest, None)
        except KeyError:
            text = session.get(PolicyVersion, digest).text  # type: ignore[union-attr]
            return self.book.version(digest, text)
