"""A ticket's history as the engine reads it, and what it adds up to.

The store keeps an append-only event log; the engine needs only these facts from it. Events
are plain values so the core can be driven from tests, the CLI's simulator, or the database;
with slots, because a month's report builds half a million of them and a frozen dataclass
with slots is made faster than one with a ``__dict__`` (bench/README.md, "report", fifth round).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .policy import STATES


@dataclass(frozen=True, slots=True)
class Opened:
    at: datetime
    severity: str
    reported_at: datetime | None = None  # when the problem was reported (time to open)


@dataclass(frozen=True, slots=True)
class SeverityChanged:
    at: datetime
    severity: str


@dataclass(frozen=True, slots=True)
class Acknowledged:
    at: datetime


@dataclass(frozen=True, slots=True)
class UpdatePosted:
    at: datetime
    eta: datetime | None = None
    workaround: bool = False


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """Into pending, waiting_on_customer, …, resolved, closed, or back to open (a reopen)."""

    at: datetime
    status: str

    def __post_init__(self) -> None:
        if self.status not in STATES:
            raise ValueError(f"unknown status {self.status!r}: use one of {', '.join(STATES)}")


@dataclass(frozen=True, slots=True)
class PageAcknowledged:
    """Someone of an escalation level answered its page ("I'm on it")."""

    at: datetime
    level: str


@dataclass(frozen=True, slots=True)
class ReleaseAgreed:
    """The customer agreed a release that fixes the problem ("10 business days, or specific
    release"): where the resolution target allows it, the release date stands for it. The
    latest agreement counts; ``agreed_by`` is who agreed, kept for the contract's sake."""

    at: datetime
    release_at: datetime
    agreed_by: str


@dataclass(frozen=True, slots=True)
class DowntimeCorrected:
    """A lead's correction of the downtime a ticket implies, for its whole life: ``counts``
    False (it was not an outage), True (it was one, whatever its severity) or None (as its
    severity says); ``cause`` the policy's key for why it was down (None: unknown). The
    latest correction counts; the reason is kept with the stored event, for the audit."""

    at: datetime
    counts: bool | None
    cause: str | None


@dataclass(frozen=True, slots=True)
class LevelRouted:
    """The support level a ticket was routed to by the nature of its query (LeadPro's Level
    1, 2, 3): whose people its reminders mention, and whom ``support_level`` rules page."""

    at: datetime
    level: str


Event = (
    Opened
    | SeverityChanged
    | Acknowledged
    | UpdatePosted
    | StatusChanged
    | PageAcknowledged
    | ReleaseAgreed
    | DowntimeCorrected
    | LevelRouted
)


STOPPED = ("resolved", "closed")  # states in which no target runs, paused or not


@dataclass
class Facts:
    """What a history adds up to; built by `facts`, read by the schedule."""

    opened_at: datetime
    reported_at: datetime
    severity: str
    severity_since: datetime
    status: str = "open"
    status_since: datetime | None = None
    first_response_at: datetime | None = None
    updates: list[UpdatePosted] = field(default_factory=list)
    # (start, end or None while it lasts, status) for every spell outside "open"
    spells: list[tuple[datetime, datetime | None, str]] = field(default_factory=list)
    page_acks: list[PageAcknowledged] = field(default_factory=list)
    release: ReleaseAgreed | None = None  # the latest agreed release
    support_level: str | None = None  # the level it was last routed to
    last_resolved: datetime | None = None  # the start of the latest "resolved" spell

    @property
    def resolved_at(self) -> datetime | None:
        """When the ticket was last resolved, if it is resolved or closed now."""
        return self.last_resolved if self.status in STOPPED else None

    def pauses(self, pausing: frozenset[str]) -> list[tuple[datetime, datetime | None]]:
        """Spells in which no target's clock runs: pausing states, and resolved-then-reopened.
        Spells follow each other, so only the last can still be running."""
        return [
            (s, e)
            for s, e, status in self.spells
            if status in pausing or (e is not None and status in STOPPED)
        ]

    def page_acknowledged(self, level: str, since: datetime) -> datetime | None:
        return next((a.at for a in self.page_acks if a.level == level and a.at >= since), None)


def facts(events: Iterable[Event]) -> Facts:
    """Fold a history (oldest first, starting with `Opened`) into `Facts`."""
    rest = iter(events)
    f = opening(next(rest, None))
    fold(f, rest)
    return f


def opening(event: Event | None) -> Facts:
    """The facts of a history that so far holds only its first event, which must be `Opened`:
    `fold` adds the rest, so a caller that needs the facts of every prefix (a report's update
    cycles) folds the history once instead of once per prefix."""
    if not isinstance(event, Opened):
        raise ValueError("a ticket's history starts with Opened")
    reported = event.reported_at if event.reported_at and event.reported_at < event.at else None
    return Facts(event.at, reported or event.at, event.severity, event.at, status_since=event.at)


def fold(f: Facts, events: Iterable[Event]) -> None:
    """Add ``events``, the ones that follow those ``f`` was folded from, to ``f``.

    Each event's class is looked up once and compared by identity, the commonest kinds first
    (events are final dataclasses, never subclassed): a month's report folds half a million
    events, and a chain of ``isinstance`` calls was a fifth of its compute.
    """
    spells = f.spells
    for event in events:
        kind = type(event)
        if kind is StatusChanged:
            status = event.status  # type: ignore[union-attr]
            if status == f.status:
                continue
            if spells and spells[-1][1] is None:
                start, _, was = spells[-1]
                spells[-1] = (start, event.at, was)
            if status != "open":
                spells.append((event.at, None, status))
            if status == "resolved":
                f.first_response_at = f.first_response_at or event.at
                f.last_resolved = event.at
            f.status, f.status_since = status, event.at
        elif kind is Acknowledged:
            f.first_response_at = f.first_response_at or event.at
        elif kind is UpdatePosted:
            f.updates.append(event)  # type: ignore[arg-type]
            f.first_response_at = f.first_response_at or event.at
        elif kind is SeverityChanged:
            f.severity, f.severity_since = event.severity, event.at  # type: ignore[union-attr]
        elif kind is PageAcknowledged:
            f.page_acks.append(event)  # type: ignore[arg-type]
        elif kind is ReleaseAgreed:
            f.release = event  # type: ignore[assignment]
        elif kind is LevelRouted:
            f.support_level = event.level  # type: ignore[union-attr]
