"""Notifiers: how the clock's timers reach people (Slack, PagerDuty, a signed webhook).

The clock knows only the small interface in `base`; each adapter lives in its own module and
is imported by whoever builds the clock, so the interface loads neither slack_sdk nor httpx.
"""

from .base import (
    Announcement,
    Announcer,
    Delivery,
    DeliveryFailed,
    Doubt,
    Fanout,
    Found,
    Notifier,
    Receipt,
    Recovery,
    timer_key,
)

__all__ = [
    "Announcement",
    "Announcer",
    "Delivery",
    "DeliveryFailed",
    "Doubt",
    "Fanout",
    "Found",
    "Notifier",
    "Receipt",
    "Recovery",
    "timer_key",
]
