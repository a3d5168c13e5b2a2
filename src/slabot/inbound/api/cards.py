"""The thread's notes for the API's changes, worded as Slack's own changes are
(`slabot.slack.blocks.notes`): handed to the use case, which owes the note and the card's
redraw in the change's own transaction; the clock posts them. An API client never waits on
Slack, and a slow or failing Slack loses nothing and repeats nothing."""

from __future__ import annotations

from typing import Any

from ...tickets.timers import Say


def note(verb: str, actor: str, **said: Any) -> Say:
    """The note of ``actor``'s change ``verb`` (``said``: what it quotes from the request)."""
    from ...slack.blocks.notes import saying  # Slack's wording, loaded with the first change

    return saying(verb, actor, **said)
