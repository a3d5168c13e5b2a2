"""Tickets: the use cases that combine the SLA engine with storage."""

from .errors import (
    AlreadyDone,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    SeverityUnclear,
    TicketError,
)
from .service import SYSTEM, OpenResult, Tickets, TicketView, TimerOutcome, parse_ref

__all__ = [
    "SYSTEM",
    "AlreadyDone",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "OpenResult",
    "SeverityUnclear",
    "TicketError",
    "TicketView",
    "Tickets",
    "TimerOutcome",
    "parse_ref",
]
