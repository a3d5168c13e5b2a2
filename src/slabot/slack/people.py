"""What slabot asks Slack about a person: the time zone they type times in.

"eta:17:00" typed in London means 17:00 in London, whatever the contract's zone: a person
reads and writes times in their own. Slack knows each person's zone (``users.info``, under the
``users:read`` scope the manifests request).
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


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
