"""Which policy a ticket opened in a channel runs under, and which customer it is for: the
``channel_policies`` table's owner.

A channel is bound with ``/sla policy NAME [customer:NAME]``; a ticket opened there runs under
that policy unless it names another, and counts for the binding's customer unless it names
another (a shared Slack Connect channel per customer is the common set-up). The deployment's
default, or its only policy, covers the rest.

Interpretation: the binding's customer goes with its policy. A ticket opened in the channel
under another policy (``policy:NAME``) is under another contract, whose customers may not
include the channel's; it takes that policy's customer, or the one it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..refusals import Invalid
from ..sla import Policy
from ..store import Store
from ..store.tables import ChannelPolicy
from .book import PolicyBook
from .versions import PolicyVersions


@dataclass(frozen=True)
class Binding:
    """What a channel is bound to, by whom and since when."""

    policy: Policy
    customer: str | None
    bound_by: str
    bound_at: datetime


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
        self,
        workspace: str,
        channel: str,
        policy: str,
        *,
        actor: str,
        now: datetime,
        customer: str | None = None,
    ) -> Binding:
        """Tickets opened in ``channel`` run under ``policy`` from now on, for ``customer``
        (one the policy lists, when it lists any: `Invalid` names them)."""
        chosen = self.named(policy)
        if customer is not None:
            customer = _customer(chosen, customer)
        with self.store.writing() as session:
            self.versions.remember(session, chosen, now)
            session.merge(
                ChannelPolicy(
                    workspace=workspace,
                    channel=channel,
                    policy=chosen.name,
                    customer=customer,
                    bound_by=actor,
                    bound_at=now,
                )
            )
        return Binding(chosen, customer, actor, now)

    def binding(self, workspace: str, channel: str | None) -> Binding | None:
        """What ``channel`` is bound to; None: nothing (or no channel)."""
        bound = self._bound(workspace, channel)
        if bound is None:
            return None
        return Binding(self.named(bound.policy), bound.customer, bound.bound_by, bound.bound_at)

    def bound_policies(self, workspace: str) -> set[str]:
        """The names of the policies bound to any of ``workspace``'s channels (one indexed
        read)."""
        bound = select(ChannelPolicy.c.policy).where(ChannelPolicy.c.workspace == workspace)
        with self.store.reading() as session:
            return set(session.exec(bound))

    def ticket_terms(
        self, workspace: str, channel: str | None, policy: str | None, customer: str | None
    ) -> tuple[Policy, str | None]:
        """The policy and customer of a ticket opened in ``channel`` naming ``policy`` and
        ``customer`` (None: it names none): the policy as `policy_for` chooses it; the customer
        named, else the channel's when the ticket runs under the channel's policy, else the
        policy's own (`Policy.customer_for`). `Invalid` for a customer the policy does not
        list."""
        bound = self._bound(workspace, channel)
        chosen = self._choose(policy, bound)
        if customer is None and bound is not None and bound.policy == chosen.name:
            customer = bound.customer
        return chosen, _customer(chosen, customer)

    def policy_for(self, workspace: str, channel: str | None, name: str | None) -> Policy:
        """The policy a ticket opened here runs under: named, bound to the channel, the
        deployment's default, or the only one."""
        return self._choose(name, None if name else self._bound(workspace, channel))

    def _bound(self, workspace: str, channel: str | None) -> ChannelPolicy | None:
        if not channel:
            return None
        with self.store.reading() as session:
            return session.get(ChannelPolicy, (workspace, channel))

    def _choose(self, name: str | None, bound: ChannelPolicy | None) -> Policy:
        if name:
            return self.named(name)
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


def _customer(policy: Policy, named: str | None) -> str | None:
    try:
        return policy.customer_for(named)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
