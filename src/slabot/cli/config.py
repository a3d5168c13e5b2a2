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


def settings(*required: str) -> Settings:
    """The settings, refusing to go on (one line per problem, exit 2) when any is malformed
    or one of ``required`` (field names) is missing."""
    from ..settings import SettingsError, load_settings

    try:
        loaded = load_settings()
        loaded.require(*required)
    except SettingsError as exc:
        raise CliError(str(exc), code=2) from None
    return loaded
