"""Logging for every command: ``LOG_LEVEL`` and ``LOG_FORMAT`` (``text`` or ``json``).

JSON lines come from python-json-logger, one object a line with ``time``, ``level``,
``logger`` and ``message``, plus ``workspace``, ``ticket`` and ``timer`` while slabot works on
one (`context`), so a log store can find every line about a ticket. Secrets never reach a log
line: settings hold them as ``SecretStr``, and nothing logs a request's headers or a token.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

LogFormat = Literal["text", "json"]
TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FIELDS = ("workspace", "ticket", "timer")
SLACK_SDK_WEB = "slack_sdk.web.base_client"  # the logger of slack_sdk's WebClient

_installed: logging.Handler | None = None  # the handler `configure` added, replaced by the next
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("slabot_log_context")


@contextmanager
def context(**fields: str | None) -> Iterator[None]:
    """Name what this thread works on (``workspace``, ``ticket``, ``timer``) in its log
    lines until the block ends."""
    known = {k: v for k, v in fields.items() if v is not None}
    token = _context.set({**_context.get({}), **known})
    try:
        yield
    finally:
        _context.reset(token)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged, not when it was made:
    tests swap it, and several commands run in one process there."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _Context(logging.Filter):
    """Copies the current `context` onto each record, where the JSON formatter finds it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get({}).items():
            setattr(record, name, value)
        return True


def configure(level: str = "INFO", fmt: LogFormat = "text") -> None:
    """Send the root logger's lines to stderr at ``level``, as text or JSON lines."""
    handler = _Stderr()
    handler.addFilter(_Context())
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",  # ISO 8601 in UTC
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    global _installed
    root = logging.getLogger()
    if _installed is not None:  # configured again (tests run many commands in one process)
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(level)
    # slack_sdk's client tests its own logger's level, not the effective one, before formatting
    # each request's whole body (blocks and all) into a debug line: left unset (0), every Web
    # API call paid for a line nobody logs (about 40 µs a call: bench/README.md, clock, round 5).
    logging.getLogger(SLACK_SDK_WEB).setLevel(level)
    _installed = handler
