"""The production clock, assembled: its notifiers (Slack, the pagers), its duties (the timers,
maintenance's and outages' notices, the rotations' hand-offs), watched by the metrics when asked.

``slabot clock`` and ``slabot serve`` both build their clock here. The clock's own modules
(`slabot.clock`) know only the interfaces they drive; which chat and which pagers stand behind
them is decided here, the one place that wires the adapters in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ..clock.dispatch import LEASE, WORKERS, Dispatcher
from ..clock.handoffs import HandOffDuty
from ..clock.leader import Leadership
from ..clock.notices import NoticeDispatcher
from ..clock.runner import Ticker
from ..notify import Fanout, Notifier
from ..notify.pagers import Pagers
from ..notify.slack import SlackNotifier
from ..oncall.handoffs import HandOffs
from ..ops.metrics import Metrics
from ..ops.observers import ClockWatch, ObservedNotifier, count_slack_calls
from ..policies import PolicyBook
from ..settings import Settings
from ..sla.oncall import Team
from ..slack.handoffs import SlackHandOffs, token_workspace
from ..slack.pacing import Pacer
from ..slack.workspaces import workspaces
from ..store import Store
from ..tickets import SYSTEM, Tickets

if TYPE_CHECKING:
    import httpx


def build(
    settings: Settings,
    store: Store,
    policies: PolicyBook,
    *,
    lease: timedelta = LEASE,
    batch: int = 200,
    workers: int = WORKERS,
    watch: ClockWatch | None = None,
    team: Team | None = None,
) -> Ticker:
    """The production clock's ticker: Slack and the pagers as notifiers, the system actor as
    admin; with ``watch``, counted in its metrics and beating its heartbeat."""
    tickets = Tickets(
        store,
        policies,
        admins={*settings.slabot_admins, SYSTEM},
        default_policy=settings.slabot_default_policy,
        team=team,
    )
    # Each workspace's client (one pool of connections for both duties), counted when watched.
    metrics = watch.metrics if watch is not None else None
    slack = workspaces(
        settings,
        store,
        retry=False,
        observe=lambda made: metrics and count_slack_calls(made, metrics),
    )
    in_slack = SlackNotifier(slack, Pacer())  # posts spaced to Slack's limit per channel
    pagers = Pagers(lambda: _pager_client(metrics))
    if watch is None:
        notifier: Notifier = Fanout([in_slack, pagers])
    else:
        notifier = ObservedNotifier(Fanout([in_slack, pagers]), watch.metrics)
    dispatcher = Dispatcher(store, tickets, notifier, lease=lease, batch=batch, workers=workers)
    if watch is not None:
        watch.name = dispatcher.name
    notices = NoticeDispatcher(store, in_slack, policies, name=dispatcher.name)
    home = (lambda: None) if settings.oauth else token_workspace(slack)
    handoffs = HandOffDuty(
        HandOffs(store, dispatcher.name, lease=lease), tickets.team, SlackHandOffs(slack), home
    )
    return Ticker(
        dispatcher,
        Leadership(store),
        duties=[notices.tick, handoffs.tick],
        observers=[watch] if watch is not None else (),
    )


def _pager_client(metrics: Metrics | None) -> httpx.Client:
    """The pagers' HTTP client (its calls counted in ``metrics``), made at the first page:
    importing httpx costs ``slabot serve``'s start about 0.1 s of CPU and 5 MB (more where
    click and rich, its command-line extra, are installed) for pages that may never come."""
    import httpx

    if metrics is None:
        return httpx.Client()
    from ..ops.pager_calls import PagerCalls

    return httpx.Client(transport=PagerCalls(metrics))
