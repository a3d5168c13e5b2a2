"""The pure SLA core: policies, business-time clocks, classification and schedules.

Nothing here talks to Slack, a database, a scheduler or the network, and nothing reads the
wall clock: callers pass ``now``.
"""

from .calendar import ALL_HOURS, Calendar, Clock, Window
from .durations import format_duration, parse_duration
from .errors import PolicyError, Problem
from .loader import load_policy, parse_policy
from .policy import TARGETS, EscalationLevel, EscalationRule, Policy, Severity, Target

__all__ = [
    "ALL_HOURS",
    "TARGETS",
    "Calendar",
    "Clock",
    "EscalationLevel",
    "EscalationRule",
    "Policy",
    "PolicyError",
    "Problem",
    "Severity",
    "Target",
    "Window",
    "format_duration",
    "load_policy",
    "parse_duration",
    "parse_policy",
]
