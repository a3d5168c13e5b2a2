"""The notes inbound sources leave in a ticket's thread, in their own words.

Nothing in `slabot.inbound` posts to Slack. A source hands its note to the use case it calls
(``say=note(...)``); the use case owes the note and the card in the change's own transaction
(`slabot.tickets.timers`), and the clock posts them, exactly as for ``/sla open``: an alert's
ticket gets the same card and thread as a typed one, and a slow or failing Slack loses
nothing and repeats nothing.
"""

from __future__ import annotations

from ..tickets.timers import Say


def note(line: str) -> Say:
    """A note worded by its source ("Grafana: the alert fires again.")."""
    return lambda view, before: line
