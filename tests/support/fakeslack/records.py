"""What the fake records and is told: a call as it arrived, and the failures, hangs and
set answers a test steers it with."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0001"
TEAM_NAME = "Fake Team"
TEAM_DOMAIN = "fake-team"
BOT_USER_ID = "UBOT"
BOT_ID = "B0001"
APP_ID = "A0001"
TS_BASE = 1_700_000_000

# Form fields that are free text: never JSON-decoded, even when a user typed "[1]" or "{}".
FREE_TEXT_ARGS = frozenset(
    {"text", "markdown_text", "initial_comment", "title", "alt_text", "alt_txt", "query"}
)
HTTP_ERRORS = {
    429: "ratelimited",
    500: "fatal_error",
    502: "bad_gateway",
    503: "service_unavailable",
}

Answer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Call:
    """One request the fake received, including the ones it answered with an injected failure.

    ``headers`` has lower-case names. ``status`` is the HTTP status it answered and
    ``response`` the JSON body it sent back. ``at`` is ``time.time()`` on arrival.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def ok(self) -> bool:
        """True when the fake answered HTTP 200 with ``"ok": true``."""
        return self.status == 200 and self.response.get("ok") is True

    @property
    def token(self) -> str | None:
        """The token the caller sent: the ``Authorization: Bearer`` header, else a ``token`` arg."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = self.args.get("token")
        return token if isinstance(token, str) else None

    def summary(self) -> str:
        """A one-line description, as used in `FakeSlack.wait_for`'s failure message."""
        outcome = "ok" if self.ok else self.response.get("error", "?")
        keys = [
            k
            for k in ("channel", "channel_id", "ts", "user", "user_id", "trigger_id")
            if k in self.args
        ]
        detail = " ".join(f"{k}={self.args[k]!r}" for k in keys)
        return f"{self.method} → {self.status} {outcome}" + (f" ({detail})" if detail else "")


@dataclass
class _Failure:
    method: str | None
    status: int
    retry_after: int
    remaining: int | None = None  # None: until `until`
    until: float | None = None
    channel: str | None = None

    def matches(self, method: str, now: float, channel: Any = None) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.channel is not None and self.channel != channel:
            return False
        if self.method is None and method in ("response_url", "file.upload"):
            return False  # "any method" means any Web API method
        if self.until is not None:
            return now < self.until
        return bool(self.remaining)


@dataclass
class _Hang:
    method: str | None
    channel: str | None
    seconds: float | None  # None: until `FakeSlack.heal`
    healed: threading.Event = field(default_factory=threading.Event)

    def matches(self, method: str, channel: Any) -> bool:
        return self.method in (None, method) and self.channel in (None, channel)


@dataclass
class _Override:
    answer: Answer
    remaining: int | None


@dataclass
class _PostLimit:
    """Slack's limit on ``chat.postMessage``: about one message a second per channel, short
    bursts passing; the generic cell rate algorithm, in the seconds of ``clock``."""

    interval: float
    tolerance: float  # how far ahead of the pace a burst may run
    clock: Callable[[], float]
    next_free: dict[str, float] = field(default_factory=dict)

    def wait(self, channel: str) -> float:
        """0 when a post to ``channel`` passes now (and counts), else the seconds to wait."""
        now = self.clock()
        due = self.next_free.get(channel, now)
        if now < due - self.tolerance:
            return due - self.tolerance - now
        self.next_free[channel] = max(due, now) + self.interval
        return 0.0
