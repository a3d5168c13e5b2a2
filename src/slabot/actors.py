"""Who acts when no person does: the clock, and the inbound hooks.

A system actor is the deployment acting on its own configuration, not someone in Slack: the
clock does what the policy demands (auto-solve, auto-close), a hook does what the hooks file
tells it (open a ticket for an alert, resolve it when the alert resolves). Their rights are
written here once, so a hook never borrows an admin's. Its own module, beside `refusals`,
because both the ticket use cases (`tickets.permissions`) and the deployment's roles
(`oncall`) ask it, and `tickets` imports `oncall`.
"""

from __future__ import annotations

# The clock acts as this actor (auto-solve, auto-close); a deployment that runs the clock lists
# it among its admins, so the policy's permissions never stop what the policy itself demands.
SYSTEM = "slabot"

# The hooks act as these. An alert hook's tickets carry its name as their source; the generic
# webhook's carry the helpdesk's own name (zendesk, jira), any source but slabot's own doors.
ALERT_HOOKS = frozenset({"alertmanager", "grafana"})
WEBHOOK = "webhook"
HOOKS = ALERT_HOOKS | {WEBHOOK}
# The sources of slabot's own doors: Slack (a command, a message, a workflow), the API, mail and
# the alert hooks. The webhook may not speak for them, nor change their tickets.
OWN_DOORS = frozenset({"slack", "slack-message", "slack-workflow", "api", "email", *ALERT_HOOKS})

# What a hook may do beyond what anyone may (open a ticket, post an update): resolve the
# tickets that came in through it, and reopen them when the alert fires again; and record the
# outages its alerts report. Nothing else: no severity, owner or pause, no page answered, no
# maintenance, no channel bound.
HOOK_TICKET_ACTIONS = frozenset({"resolve", "reopen"})
HOOK_ROLES = frozenset({"outage"})


def is_hook(actor: str) -> bool:
    return actor in HOOKS


def came_through(hook: str, source: str) -> bool:
    """Whether a ticket whose source is ``source`` came in through ``hook``."""
    if hook == WEBHOOK:
        return source not in OWN_DOORS
    return source == hook
