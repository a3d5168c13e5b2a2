"""Who may record outages and maintenance in the tests: the team's leads (and the admin).

Outages, maintenance windows and policy bindings are for the deployment's leads; the tests
that record them do so as these people.
"""

from __future__ import annotations

import pytest

from slabot.oncall import OnCall
from slabot.outages import Maintenances, Outages
from slabot.policies import PolicyBook
from slabot.sla.oncall import Team
from slabot.store import Store

# Built unchecked: these short IDs are not real Slack IDs, which a team file would refuse.
RECORDERS = Team.model_construct(leads=("U", "U1", "U2", "U9"))


def recorders(store: Store) -> OnCall:
    """The roles of a deployment whose leads are the tests' recorders of outages."""
    return OnCall(store, RECORDERS, admins={"UADMIN"})


@pytest.fixture
def outages(store: Store, policy_book: PolicyBook) -> Outages:
    """The outage use cases, recorded as the tests' recorders may."""
    return Outages(store, policy_book, roles=recorders(store))


@pytest.fixture
def maintenances(store: Store, policy_book: PolicyBook) -> Maintenances:
    """The maintenance use cases, announced as the tests' recorders may."""
    return Maintenances(store, policy_book, roles=recorders(store))
