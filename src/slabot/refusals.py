"""What a use case refuses (tickets, outages, policy bindings), in words the person who asked can
act on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sla.classify import Classification
    from .sla.postponements import Postponement


def _in_utc(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


class TicketError(Exception):
    """A refusal: nothing was changed, and the message says what to do instead.

    A message that names people holds ``{role}`` fields and their user ids in ``people``
    (``people={"owner": "U12"}``): a use case states facts, and each surface says them its own
    way. ``str()`` shows the ids as they are (the CLI, logs); Slack's adapter renders each as a
    mention with `says`. Instants work the same way (``times={"since": at}``): ``str()`` writes
    them in UTC, Slack as a date token each reader sees in their own zone.
    """

    def __init__(
        self,
        message: str,
        *,
        people: Mapping[str, str] | None = None,
        times: Mapping[str, datetime] | None = None,
    ):
        self.template = message
        self.people = dict(people or {})
        self.times = dict(times or {})
        super().__init__(self.says(str))

    def says(self, name: Callable[[str], str], when: Callable[[datetime], str] = _in_utc) -> str:
        """The message, each person written by ``name(user_id)``, each instant by ``when``."""
        if not (self.people or self.times):
            return self.template
        fields = {role: name(who) for role, who in self.people.items()}
        fields |= {key: when(at) for key, at in self.times.items()}
        return self.template.format(**fields)


class NotFound(TicketError):
    pass


class Forbidden(TicketError):
    pass


class Invalid(TicketError):
    """The request does not fit the ticket's state or the policy."""


class Conflict(TicketError):
    """Someone changed the ticket since the caller looked at it."""


class AlreadyDone(TicketError):
    """The same change was made already, by someone else or by a repeated request."""


class SeverityUnclear(TicketError):
    """The text did not say clearly which severity it is; ask, offering the candidates."""

    def __init__(self, message: str, classification: Classification):
        super().__init__(message)
        self.classification = classification

    @property
    def candidates(self) -> tuple[str, ...]:
        return self.classification.candidates


class Postpones(TicketError):
    """The change would put off a contract duty by more than its own period: nothing was
    written; the caller asks the person to confirm (and says what it postpones), then repeats
    the change confirmed."""

    def __init__(self, message: str, postponed: tuple[Postponement, ...]):
        super().__init__(message)
        self.postponed = postponed
