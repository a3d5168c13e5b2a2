"""Which policy a ticket opened in a channel runs under: the ``channel_policies`` table's owner.

A channel is bound with ``/sla policy NAME``; a ticket opened there runs under that policy
unless it names another. The deployment's default, or its only policy, covers the rest.
"""

from __future__ import annotations

from datetime import datetime

from ..refusals import Invalid
from ..sla import Policy
from ..store import Store
from ..store.tables import ChannelPolicy
from .book import PolicyBook
from .versions import PolicyVersions


class ChannelBindings:
    def __init__(
        self,
        store: Store,
        book: PolicyBook,
        versions: PolicyVersions,
        default_policy: str | None = None,
    ):
        self.store = store
        self.book = book
        self.versions = versions
        self.default_policy = default_policy

    def bind(
        self, workspace: str, channel: str, policy: str, *, actor: str, now: datetime
    ) -> Policy:
        """Tickets opened in ``channel`` run under ``policy`` from now on."""
        chosen = self.named(policy)
        with self.store.writing() as session:
            self.versions.remember(session, chosen, now)
            session.merge(
                ChannelPolicy(
                    workspace=workspace,
                    channel=channel,
                    policy=chosen.name,
                    bound_by=actor,
                    bound_at=now,
                )
            )
        return chosen

    def policy_for(self, workspace: str, channel: str | None, name: str | None) -> Policy:
        """The policy a ticket opened here runs under: named, bound to the channel, the
        deployment's default, or the only one."""
        if name:
            return self.named(name)
        if channel:
            with self.store.reading() as session:
                bound = session.get(ChannelPolicy, (workspace, channel))
            if bound is not None:
                return self.named(bound.policy)
        if self.default_policy:
            return self.named(self.default_policy)
        names = self.book.names()
        if len(names) == 1:
            return self.book.get(names[0])
        # Said the same way to /sla open, /sla policy and /sla report: no ticket is assumed.
        raise Invalid(
            "this channel is bound to no policy and there is no default: name one "
            f"(policy:NAME, one of {', '.join(names)}) or bind this channel to one with "
            "/sla policy NAME"
        )

    def named(self, name: str) -> Policy:
        """The policy called ``name``; an unknown name is the caller's mistake (`Invalid`)."""
        try:
            return self.book.get(name)
        except KeyError as exc:
            raise Invalid(str(exc.args[0])) from None
