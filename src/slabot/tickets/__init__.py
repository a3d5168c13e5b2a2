"""Tickets: the use cases that combine the SLA engine with storage."""

from ..actors import SYSTEM
from ..refusals import (
    AlreadyDone,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Postpones,
    SeverityUnclear,
    TicketError,
)
from .changes import ChangeRequest
from .opening import OpenResult
from .service import Tickets
from .timers import TimerOutcome
from .views import TicketView, parse_ref

__all__ = [
    "SYSTEM",
    "AlreadyDone",
    "ChangeRequest",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "OpenResult",
    "Postpones",
    "SeverityUnclear",
    "TicketError",
    "TicketView",
    "Tickets",
    "TimerOutcome",
    "parse_ref",
]
