"""The operator's HTTP port of a process without one of its own (``slabot clock``): /metrics,
/healthz and /readyz, bound before anything starts."""

from __future__ import annotations

from typing import Any

from ..ops.metrics import Metrics
from ..ops.probes import Readiness, listen
from .errors import CliError


def bind(host: str, port: int, what: str, metrics: Metrics, readiness: Readiness) -> Any:
    """The bound server (``.run()`` serves it); a port that cannot be had is one clear line."""
    try:
        return listen(host, port, metrics, readiness)
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise CliError(
            f"cannot serve metrics on {host}:{port} ({reason}): stop what uses the port, or "
            f"choose another with {what}",
            code=2,
        ) from None
