"""The settings every command reads: the environment and ``.env``, the environment winning.

Read afresh by each command (not cached), so one process can run several commands with
different environments, as the tests do. ``slabot.settings`` is imported only when a command
needs a setting: policy tools that are given a file never pay for pydantic-settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CliError

if TYPE_CHECKING:
    from ..settings import Settings


def settings(*required: str, service: bool = False) -> Settings:
    """The settings, refusing to go on (one line per problem, exit 2) when any is malformed
    or one of ``required`` (field names) is missing. Logging follows ``LOG_LEVEL`` and
    ``LOG_FORMAT`` from here on (every command that reads a setting comes through here); a
    ``service`` (serve, clock) logs at INFO unless told otherwise, other commands at WARNING."""
    from ..ops import logs
    from ..settings import SettingsError, load_settings

    try:
        loaded = load_settings()
        loaded.require(*required)
    except SettingsError as exc:
        raise CliError(str(exc), code=2) from None
    logs.configure(loaded.log_level or ("INFO" if service else "WARNING"), loaded.log_format)
    return loaded
