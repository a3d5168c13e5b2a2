"""On-call: who is on call now and next, overrides, and the deployment's roles."""

from .calendars import keep_fresh
from .overrides import overrides_in
from .service import OnCall, Watch, team_from

__all__ = ["OnCall", "Watch", "keep_fresh", "overrides_in", "team_from"]
