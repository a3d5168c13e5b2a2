"""On-call: who is on call now and next, overrides, and the deployment's roles."""

from .overrides import overrides_in
from .service import OnCall, Watch, team_from

__all__ = ["OnCall", "Watch", "overrides_in", "team_from"]
