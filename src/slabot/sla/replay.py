"""Real ticket histories judged under other terms: the pure half of ``slabot simulate --replay``.

Before a lead signs or renegotiates a contract they ask what last quarter would have looked
like under the draft. The histories are the audit trail as it is; only the policy changes. A
ticket's severity is looked up in the draft by key or alias (a draft that renames ``p1`` to
``critical`` with the alias ``p1`` still takes its tickets); a ticket whose severity the draft
does not know is left out, and counted, rather than guessed at.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from .history import Event, Opened, SeverityChanged
from .policy import Policy
from .schedule import TicketTimes, pages_up_to

History = tuple[str, list[Event]]


def translate(policy: Policy, events: Sequence[Event]) -> list[Event] | None:
    """``events`` with every severity named by ``policy``'s key; None when one of them is not
    a severity (key or alias) of ``policy``."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, Opened | SeverityChanged):
            try:
                key = policy.severity(event.severity).key
            except KeyError:
                return None
            if key != event.severity:
                event = dataclasses.replace(event, severity=key)
        out.append(event)
    return out


def under(policy: Policy, tickets: Iterable[History]) -> tuple[list[History], Counter[str]]:
    """The tickets ``policy`` can judge (severities renamed to its keys), and how many were
    left out, by the severity they were opened with."""
    kept: list[History] = []
    left_out: Counter[str] = Counter()
    for ref, events in tickets:
        translated = translate(policy, events)
        if translated is None:
            left_out[_opened_severity(events)] += 1
        else:
            kept.append((ref, translated))
    return kept, left_out


def page_counter(now: datetime) -> tuple[Counter[str], Callable[[TicketTimes], None]]:
    """A tally of pages per escalation level up to ``now``, repeats included (the engine stops
    a page's repeats when its level answers, the target is met or the ticket is resolved), and
    the function that adds one judged ticket to it: handed to `compliance_by_version`, which
    has built each ticket's `TicketTimes` (under its own policy version) already."""
    pages: Counter[str] = Counter()
    return pages, lambda ticket: pages.update(pages_up_to(ticket, now))


def _opened_severity(events: Sequence[Event]) -> str:
    return next((e.severity for e in events if isinstance(e, Opened)), "?")
