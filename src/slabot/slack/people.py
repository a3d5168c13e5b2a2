"""What slabot asks Slack about a person: the time zone they type times in, and their name.

"eta:17:00" typed in London means 17:00 in London, whatever the contract's zone: a person
reads and writes times in their own. Slack knows each person's zone (``users.info``, under the
``users:read`` scope the manifests request).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
NAME_TTL = 3600.0  # seconds a name is remembered


def time_zone(client: Any, user: str, fallback: ZoneInfo) -> ZoneInfo:
    """``user``'s Slack time zone; ``fallback`` (the policy's) when Slack cannot say."""
    try:
        return ZoneInfo(client.users_info(user=user)["user"]["tz"])
    except (SlackApiError, OSError, KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as exc:
        log.info("no time zone for %s (%s): reading times in %s", user, exc, fallback.key)
        return fallback


def in_zone(when: Any, tz: ZoneInfo) -> str:
    """An instant as its typer reads it back: ``Mon 30 Nov 17:00 (Europe/London)``."""
    return f"{when.astimezone(tz):%a %d %b %H:%M} ({tz.key})"


def names(client: Any) -> Callable[[str], str]:
    """A person's name as Slack shows it (``users.info``), remembered for an hour; their
    user ID when Slack cannot say. For text outside Slack (a calendar feed), where a mention
    would show as its raw ID."""
    cache: dict[str, tuple[float, str]] = {}

    def name(user: str) -> str:
        kept = cache.get(user)
        if kept is not None and time.monotonic() - kept[0] < NAME_TTL:
            return kept[1]
        try:
            found = client.users_info(user=user)["user"]
            text = found.get("real_name") or found.get("name") or user
        except (SlackApiError, OSError, KeyError, TypeError) as exc:
            log.info("no name for %s (%s): showing the user ID", user, exc)
            return user
        cache[user] = (time.monotonic(), str(text))
        return str(text)

    return name
