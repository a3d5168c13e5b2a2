"""`Tickets`: every use case on tickets behind one door, for the listeners, the clock and the CLI.

The work is done by one part per responsibility, each in its own module: opening
(`opening.py`), the changes a ticket goes through (`changes.py`), who may make them
(`permissions.py`), the timers a ticket owes and the clock's outcomes (`timers.py`), and views
(`views.py`); which policy a channel uses lives with the policies (`policies/bindings.py`).
Callers hold one `Tickets` and need not know how the parts are wired; listeners read through
it too (the queue, a user's tickets, a story), never through its store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

from ..oncall import OnCall
from ..policies import Binding, ChannelBindings, PolicyBook, PolicyVersions
from ..sla.oncall import Team
from ..store import Store
from . import queries
from .changes import Changes
from .downtime import correct_downtime
from .opening import Opening
from .page_copies import Groups
from .permissions import Permissions
from .queries import TicketStory
from .releases import agree_release
from .timers import TimerRecords
from .views import TicketView, TicketViews


class Tickets:
    def __init__(
        self,
        store: Store,
        policies: PolicyBook,
        *,
        admins: Iterable[str] = (),
        default_policy: str | None = None,
        team: Team | None = None,
    ):
        self.store = store
        self.policies = policies
        self.admins = frozenset(admins)
        self.team = team or Team()  # rotations, leads, roles: who a page reached, who may
        self.roles = OnCall(store, self.team, admins=self.admins)
        versions = PolicyVersions(store, policies)
        self.bindings = ChannelBindings(store, policies, versions, default_policy)
        views = TicketViews(store, versions)
        self._woken: list[Callable[[], None]] = []
        opening = Opening(store, versions, self.bindings, views, self.owed)
        self._permissions = Permissions(admins, self.team)
        changes = Changes(store, versions, self._permissions, self.owed)
        self.open = opening.open
        self.acknowledge = changes.acknowledge
        self.change_severity = changes.change_severity
        self.post_update = changes.post_update
        self.customer_replied = changes.customer_replied
        self.set_status = changes.set_status
        self.resolve = changes.resolve
        self.reopen = changes.reopen
        self.close = changes.close
        self.assign = changes.assign
        self.acknowledge_page = changes.acknowledge_page
        self.agree_release = partial(agree_release, changes)
        self.correct_downtime = partial(correct_downtime, changes)
        self.record_timers = TimerRecords(store, versions).record
        self.policy_for = self.bindings.policy_for
        self.binding = self.bindings.binding
        self.ticket_terms = self.bindings.ticket_terms
        self.view = views.view
        self.by_source = views.by_source
        self.views = views.views

    def when_owed(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` after each change that owes Slack a message has committed: ``serve``
        wakes its in-process clock, so a card appears within a tick of ``/sla open``."""
        self._woken.append(wake)

    def read_groups(self, groups: Groups) -> None:
        """Ask ``groups`` who is in a Slack user group: a page to a group is answered by its
        members (`page_copies.answerers`). ``serve`` gives it Slack once it has a client."""
        self._permissions.groups = groups

    def owed(self) -> None:
        """Tell whoever waits (`when_owed`) that a committed change owes Slack messages."""
        for wake in self._woken:
            wake()

    def bind_channel(
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
        when named: for the team's ``bind_channel`` role (leads by default) and admins."""
        self.roles.allow("bind_channel", workspace, actor, now)
        return self.bindings.bind(
            workspace, channel, policy, actor=actor, now=now, customer=customer
        )

    def queue(
        self,
        workspace: str,
        now: datetime,
        *,
        policy: str | None = None,
        limit: int = queries.PAGE,
        paused: bool = True,
    ) -> list[TicketView]:
        """The open tickets as `queries.queue` orders them, as views at ``now``."""
        rows = queries.queue(self.store, workspace, policy=policy, limit=limit, paused=paused)
        return self.views(rows, now)

    def owned(self, workspace: str, user: str, now: datetime) -> list[TicketView]:
        """The open tickets ``user`` owns, closest to breach first, as views at ``now``."""
        return self.views(queries.owned(self.store, workspace, user), now)

    def story(self, workspace: str, number: int) -> TicketStory | None:
        return queries.story(self.store, workspace, number)

    def counts(self, workspace: str) -> dict[tuple[str, str], int]:
        return queries.counts(self.store, workspace)

    def policies_in_use(self, workspace: str, since: datetime) -> list[str]:
        """Policies a workspace uses: bound to one of its channels, or under a ticket still
        open or opened since ``since``; sorted names."""
        used = queries.policies_used(self.store, workspace, since)
        return sorted(used | self.bindings.bound_policies(workspace))
