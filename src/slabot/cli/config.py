"""The settings every command reads: the environment and ``.env``, the environment winning.

Read afresh by each command (not cached), so one process can run several commands with
different environments, as the tests do. ``slabot.settings`` is imported only when a command
needs a setting: policy tools that are given a file never pay for pydantic-settings, nor those
given a policy's name whose folder the environment or ``.env`` names (`one_setting`).
"""

from __future__ import annotations

import os
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


def one_setting(name: str) -> str | None:
    """One setting's text (``name`` as its field is named) where `settings` would find it, the
    environment winning over ``.env``, or None: given by neither (its default holds), or given
    twice in different cases, which `settings` then settles.

    For a command that needs one setting and no other: ``slabot deadlines NAME`` needs only
    the policies' folder, and pydantic-settings (which imports asyncio) was a fifth of its
    start (bench/README.md, "start-up, seventh round"). Names match in any case, as in
    `Settings`; ``.env`` is read by python-dotenv as pydantic-settings reads it.
    """
    found: set[str | None] = {value for key, value in os.environ.items() if key.lower() == name}
    if not found and os.path.isfile(".env"):
        from dotenv import dotenv_values

        try:
            found = {value for key, value in dotenv_values(".env").items() if key.lower() == name}
        except (OSError, UnicodeDecodeError):
            return None  # `settings` says what is wrong with the file
    return found.pop() if len(found) == 1 else None
