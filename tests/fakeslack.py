"""A local fake of the Slack Web API: a real HTTP server on 127.0.0.1 that records every call.

Point slack_sdk at it with ``WebClient(token="xoxb-…", base_url=fake.url)`` (or the app's
``SLACK_API_URL``). It answers the methods slabot uses the way Slack does (HTTP 200 with
``{"ok": true, …}`` or ``{"ok": false, "error": …}``), checks Block Kit's size limits like Slack,
and can be told to answer 429 (with ``Retry-After``), 500 or 503, to be slow, or to perform a
call and then hang (answer it late, or only once healed), as Slack does when it is in trouble::

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        client.chat_postMessage(channel="C0001", text="hi")
        [call] = fake.wait_for("chat.postMessage")
        assert call.args["text"] == "hi"

As a pytest fixture (in a test module or ``conftest.py``)::

    @pytest.fixture
    def fake_slack():
        with FakeSlack() as fake:
            yield fake

What it serves
--------------
* ``POST|GET /api/<method>``: the Web API. Arguments are the query string, the form body or the
  JSON body, merged into ``Call.args``. Values of a form body that are JSON arrays or objects
  (``blocks``, ``view``, ``attachments``, …) are decoded, except free-text fields such as
  ``text``, which stay exactly as sent.
* ``POST /upload/<file_id>``: the upload URL that ``files.getUploadURLExternal`` hands out, so
  ``WebClient.files_upload_v2`` works end to end, as slack_sdk performs it: step 1 asks for a
  URL (``filename`` and ``length`` required), step 2 POSTs the raw bytes there (recorded as
  method ``"file.upload"``; refused with HTTP 404 for an ID never handed out and 400 when the
  byte count is not the ``length`` declared), step 3 ``files.completeUploadExternal`` names
  the files (each must have been uploaded) and shares them in ``channel_id``. `FakeSlack.files`
  returns what was shared, bytes included; a shared file also appears as a message with
  ``files`` in its channel.
* ``POST /response/<key>``: a stand-in for Slack's ``response_url`` (what Bolt's ``respond()``
  posts to). Build one with `FakeSlack.response_url`; recorded as method ``"response_url"``.

Answers are lenient where a test would otherwise need set-up (any ``U…`` user exists, updating a
message the fake never saw works) and strict where Slack is strict and slabot could get it
wrong: the token, unknown methods, required arguments, Block Kit limits, view hashes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Call", "FakeSlack", "block_kit_errors", "view_errors"]

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


class FakeSlack:
    """A fake Slack Web API on ``http://127.0.0.1:<free port>/api/``, running until `close`.

    Args:
        team_id, bot_user_id, bot_id: what ``auth.test`` says the token belongs to.
        tokens: the only tokens accepted; by default any ``xoxb-…`` token is valid.
        validate_blocks: check Block Kit limits in messages and views, as Slack does.
        clock: where message timestamps come from. By default they are numbered from
            1700000000; give ``time.time`` (or a test's own clock, in seconds) to make them
            instants, as Slack's are, so ``oldest``/``latest`` in ``conversations.history``
            and ``conversations.replies`` filter by time.
    """

    def __init__(
        self,
        *,
        team_id: str = TEAM_ID,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        tokens: Iterable[str] | None = None,
        validate_blocks: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.team_id = team_id
        self.clock = clock
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.tokens = frozenset(tokens) if tokens is not None else None
        self.validate_blocks = validate_blocks
        self.users: dict[str, dict[str, Any]] = {}
        """Extra fields per user ID, merged into what ``users.info`` answers for that user."""

        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._overrides: dict[str, list[_Override]] = {}
        self._delays: dict[str | None, float] = {}
        self._hangs: list[_Hang] = []
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home: dict[str, str] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._errors: list[BaseException] = []
        self._ts = itertools.count(1)
        self._last_us = 0  # integer microseconds: floats near 1.8e9 s cannot count them
        self._ids = itertools.count(1)

        handler = type("FakeSlackHandler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self.port: int = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/api/"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-slack-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.heal()  # hung answers end, so their threads do
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget calls, injected failures, hangs, delays, overrides, messages, views and users."""
        with self._lock:
            self.heal()
            self._calls.clear()
            self._failures.clear()
            self._overrides.clear()
            self._delays.clear()
            self._messages.clear()
            self._views.clear()
            self._home.clear()
            self._uploads.clear()
            self._errors.clear()
            self.users.clear()

    # -- what arrived ------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every call so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """The calls to ``method`` (any method when None); with ``ok=True`` only the successes."""
        with self._lock:
            return [c for c in self._calls if _selected(c, method, ok)]

    def wait_for(
        self, method: str | None, count: int = 1, timeout: float = 5, *, ok: bool | None = None
    ) -> list[Call]:
        """Block until ``count`` calls to ``method`` have arrived, and return them (all of them).

        Raises AssertionError after ``timeout`` seconds, listing every call that did arrive.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [c for c in self._calls if _selected(c, method, ok)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            arrived = "\n".join(f"  {c.summary()}" for c in self._calls) or "  (none)"
        what = method or "any method"
        if ok is not None:
            what += " (ok)" if ok else " (failed)"
        raise AssertionError(
            f"fake Slack: waited {timeout:g}s for {count} call(s) to {what}, got {len(found)}. "
            f"Calls that arrived:\n{arrived}"
        )

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the fake while answering (a bug in a test's override)."""
        with self._lock:
            return list(self._errors)

    # -- what Slack now holds ----------------------------------------------------------------

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message at ``(channel, ts)`` as it stands after every ``chat.update``."""
        with self._lock:
            found = self._messages.get((channel, ts))
            return dict(found) if found else None

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message posted (threads included), oldest first, as it stands now."""
        with self._lock:
            return [dict(m) for (ch, _), m in self._messages.items() if channel in (None, ch)]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The replies in the thread under ``(channel, thread_ts)``, oldest first."""
        with self._lock:
            return [
                dict(m)
                for (ch, ts), m in self._messages.items()
                if ch == channel and m.get("thread_ts") == thread_ts and ts != thread_ts
            ]

    def files(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files completed with ``files.completeUploadExternal`` (shared in ``channel``, when
        given), oldest first: ``id``, ``filename``, ``title``, ``alt_txt``, ``content`` (the
        bytes uploaded), ``channel``, ``initial_comment``, ``thread_ts``."""
        with self._lock:
            return [
                dict(f)
                for f in self._uploads.values()
                if f["completed"] and channel in (None, f["channel"])
            ]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``."""
        with self._lock:
            view_id = self._home.get(user_id)
            return dict(self._views[view_id]) if view_id else None

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A view opened, pushed, updated or published through the fake."""
        with self._lock:
            found = self._views.get(view_id)
            return dict(found) if found else None

    def response_url(self, key: str = "1") -> str:
        """A ``response_url`` on this fake; posts to it are recorded as ``"response_url"`` calls."""
        return f"{self.base}/response/{self.team_id}/{key}"

    # -- steering ----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        times: int = 1,
        retry_after: int = 1,
        *,
        channel: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` (any Web API method when None; with
        ``channel``, only calls naming that channel) with HTTP ``status``: 429 carries
        ``Retry-After: retry_after`` and ``{"ok": false, "error": "ratelimited"}``, as Slack's
        rate limiter does."""
        _check_status(status)
        with self._lock:
            failure = _Failure(method, status, retry_after, remaining=times, channel=channel)
            self._failures.append(failure)

    def fail_for(
        self,
        seconds: float,
        status: int = 503,
        method: str | None = None,
        retry_after: int = 1,
    ) -> None:
        """Answer every call (to ``method``, or any) with HTTP ``status`` for ``seconds``."""
        _check_status(status)
        with self._lock:
            until = time.time() + seconds
            self._failures.append(_Failure(method, status, retry_after, until=until))

    def hang(
        self, seconds: float | None = None, method: str | None = None, *, channel: str | None = None
    ) -> None:
        """Perform every call (to ``method``, or any; naming ``channel``, or any) at once, and
        answer it ``seconds`` later, or with None only once `heal` is called: Slack often does
        the work and answers late, and a client that stopped waiting cannot tell if it did."""
        with self._lock:
            self._hangs.append(_Hang(method, channel, seconds))

    def heal(self) -> None:
        """Slack is well again: injected failures and hangs end, and hung answers are sent."""
        with self._lock:
            self._failures.clear()
            for hang in self._hangs:
                hang.healed.set()
            self._hangs.clear()

    def delay(self, seconds: float, method: str | None = None) -> None:
        """Answer every call (to ``method``, or any) ``seconds`` late; ``delay(0)`` undoes it."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def respond(self, method: str, answer: Answer, *, times: int | None = None) -> None:
        """Answer ``method`` with ``answer`` instead of the built-in answer.

        ``answer`` is a JSON body (``{"ok": False, "error": "channel_not_found"}``) or a function
        of the call's args returning one (or None for the built-in answer). ``"ok": True`` is
        added when the body has no ``ok``. ``times``: only for the next N calls. Also makes an
        otherwise unknown method known.
        """
        with self._lock:
            self._overrides.setdefault(method, []).append(_Override(answer, times))

    # -- answering ---------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        at = time.time()
        split = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in req.headers.items()}
        path = split.path

        if path.startswith("/api/") and len(path) > len("/api/"):
            method = path[len("/api/") :]
        elif path.startswith("/upload/"):
            method = "file.upload"
        elif path.startswith("/response/"):
            method = "response_url"
        else:
            _write(req, 404, {"ok": False, "error": "not_found"})
            return
        unreadable = False
        if method == "file.upload":
            args: dict[str, Any] = {
                "file_id": path.rsplit("/", 1)[-1],
                "length": len(raw),
                "content": raw,
            }
        else:
            try:
                args = parse_args(split.query, raw, headers.get("content-type", ""))
            except ValueError:  # malformed JSON or bytes that are not UTF-8
                args, unreadable = {"_body": raw.decode("utf-8", "replace")}, True

        extra_headers: dict[str, str] = {}
        with self._lock:
            failure = self._take_failure(method, at, args.get("channel"))
            if failure is not None:
                status = failure.status
                body: dict[str, Any] = {
                    "ok": False,
                    "error": HTTP_ERRORS.get(status, f"http_{status}"),
                }
                if status == 429:
                    extra_headers["Retry-After"] = str(failure.retry_after)
            elif unreadable:
                status, body = 200, {"ok": False, "error": "invalid_json"}
            else:
                status = 200
                try:
                    body = self._answer(method, args, headers)
                except Exception as exc:  # a bug in the fake or in a test's override
                    self._errors.append(exc)
                    status, body = 500, {"ok": False, "error": f"fake_slack_error: {exc!r}"}
                if "upload_status" in body:  # the upload URL answers with an HTTP status
                    status = body.pop("upload_status")
            self._calls.append(Call(method, args, headers, at, status, body, path))
            self._arrived.notify_all()
            delay = self._delays.get(method, self._delays.get(None, 0.0))
            hang = next((h for h in self._hangs if h.matches(method, args.get("channel"))), None)

        if delay:
            time.sleep(delay)
        if hang is not None:
            hang.healed.wait(hang.seconds)
        if method == "file.upload" and failure is None:
            _write_text(req, status, f"OK - {len(raw)}" if status == 200 else body["error"])
        else:
            _write(req, status, body, extra_headers)

    def _take_failure(self, method: str, now: float, channel: Any) -> _Failure | None:
        self._failures = [f for f in self._failures if f.until is None or now < f.until]
        for failure in self._failures:
            if failure.matches(method, now, channel):
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def _answer(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        if method == "response_url":
            return {"ok": True}
        if method == "file.upload":
            return self._upload(args)
        overrides = self._overrides.get(method)
        builtin = getattr(self, "_m_" + method.replace(".", "_"), None)
        if builtin is None and not overrides:
            return {"ok": False, "error": "unknown_method"}
        if method != "api.test" and not self._token_ok(headers, args):
            return {"ok": False, "error": "invalid_auth"}
        if overrides:
            override = overrides[0]
            if override.remaining is not None:
                override.remaining -= 1
                if override.remaining <= 0:
                    overrides.pop(0)
            answer = override.answer
            body = answer(args) if callable(answer) else dict(answer)
            if body is not None:
                return {"ok": True, **body}
        if builtin is None:
            return {"ok": False, "error": "unknown_method"}
        return builtin(args)

    def _token_ok(self, headers: dict[str, str], args: dict[str, Any]) -> bool:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else args.get("token")
        if not isinstance(token, str) or not token:
            return False
        if self.tokens is not None:
            return token in self.tokens
        # xwfp-: the token Slack hands a workflow step's run (``function_executed``).
        return token.startswith(("xoxb-", "xwfp-")) and len(token) > len("xoxb-")

    def _next_ts(self) -> str:
        if self.clock is not None:  # an instant, a microsecond after the last one at least
            self._last_us = max(round(self.clock() * 1_000_000), self._last_us + 1)
            return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"
        n = next(self._ts)
        return f"{TS_BASE + n // 10_000}.{(n % 10_000) * 100:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}FAKE{next(self._ids):06d}"

    def _dm_channel(self, users: str) -> str:
        ids = [u.strip() for u in users.split(",") if u.strip()]
        if len(ids) == 1:
            return "D" + (ids[0][1:] if ids[0][:1] in ("U", "W") else ids[0])
        return "G" + hashlib.sha1(",".join(sorted(ids)).encode()).hexdigest()[:10].upper()

    def _blocks_invalid(self, args: dict[str, Any], max_blocks: int = 50) -> dict[str, Any] | None:
        if not self.validate_blocks or "blocks" not in args:
            return None
        problems = block_kit_errors(args["blocks"], max_blocks=max_blocks)
        if not problems:
            return None
        return {
            "ok": False,
            "error": "invalid_blocks",
            "errors": problems,
            "response_metadata": {"messages": problems},
        }

    # -- the methods (one `_m_<method with dots as underscores>` each) ----------------------

    def _m_api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "slabot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_bots_info(self, args: dict[str, Any]) -> dict[str, Any]:
        bot = {"id": args.get("bot", self.bot_id), "deleted": False, "name": "slabot"}
        return {"ok": True, "bot": {**bot, "app_id": APP_ID, "user_id": self.bot_user_id}}

    def _m_team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        team = {"id": self.team_id, "name": TEAM_NAME, "domain": TEAM_DOMAIN}
        return {"ok": True, "team": team}

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": APP_ID,
            "text": args.get("text", ""),
            "team": self.team_id,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                message[key] = args[key]
        return message

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return {"ok": False, "error": "no_text"}
        if invalid := self._blocks_invalid(args):
            return invalid
        if isinstance(channel, str) and channel[:1] in ("U", "W"):
            channel = self._dm_channel(channel)
        ts = self._next_ts()
        message = self._message(args, ts)
        self._messages[(channel, ts)] = {"channel": channel, **message}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return {"ok": False, "error": "no_text"}
        if invalid := self._blocks_invalid(args):
            return invalid
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        if invalid := self._blocks_invalid(args):
            return invalid
        stored = self._messages.get((channel, ts))
        message = {**(stored or {"channel": channel, **self._message({}, ts)})}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self._messages[(channel, ts)] = message
        shown = {k: v for k, v in message.items() if k != "channel"}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": shown,
        }

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        self._messages.pop((channel, ts), None)
        return {"ok": True, "channel": channel, "ts": ts}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("message_ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _m_functions_completeSuccess(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("function_execution_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(args.get("outputs"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _m_functions_completeError(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("function_execution_id") or not args.get("error"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args.get("users") or ""
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": self._dm_channel(str(users))}}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages, newest first; thread replies are left out, as Slack does
        (``conversations.replies`` has them). Metadata only with ``include_all_metadata``."""
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        found = [
            m
            for (ch, ts), m in self._messages.items()
            if ch == channel and m.get("thread_ts") in (None, ts)
        ]
        return _history_page(found, args, newest_first=True)

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent and replies, oldest first (like history, within oldest/latest)."""
        channel, thread_ts = args.get("channel"), args.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not thread_ts:
            return {"ok": False, "error": "thread_not_found"}
        found = [
            m
            for (ch, ts), m in self._messages.items()
            if ch == channel and thread_ts in (ts, m.get("thread_ts"))
        ]
        return _history_page(found, args, newest_first=False)

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        is_im = str(channel).startswith("D")
        info = {"id": channel, "name": None if is_im else "support", "is_channel": not is_im}
        return {"ok": True, "channel": {**info, "is_im": is_im, "is_private": False}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        name = f"user-{str(user_id).lower()}"
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": name.title(),
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": user_id == self.bot_user_id,
            "is_app_user": False,
            "profile": {
                "real_name": name.title(),
                "display_name": name,
                "email": f"{name}@example.com",
            },
        }
        user.update(self.users.get(user_id, {}))
        return {"ok": True, "user": user}

    def _m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("name"):
            return {"ok": False, "error": "invalid_name"}
        return {"ok": True}

    def _m_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._m_reactions_add(args)

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not args.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        try:
            length = int(args["length"])
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        self._uploads[file_id] = {
            "id": file_id,
            "filename": args["filename"],
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "title": None,
            "content": None,
            "channel": None,
            "initial_comment": None,
            "thread_ts": None,
            "completed": False,
        }
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 2: the bytes, at the URL step 1 handed out (answered as text, not JSON)."""
        upload = self._uploads.get(args["file_id"])
        if upload is None:
            return {"ok": False, "error": "not_found", "upload_status": 404}
        if args["length"] != upload["length"]:
            error = f"length mismatch: declared {upload['length']}, sent {args['length']}"
            return {"ok": False, "error": error, "upload_status": 400}
        upload["content"] = args["content"]
        return {"ok": True}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        uploads = [self._uploads.get(str(f.get("id"))) for f in files]
        if any(u is None or u["content"] is None for u in uploads):
            return {"ok": False, "error": "file_not_found"}
        channel = args.get("channel_id") or None
        shared = []
        for upload, item in zip(uploads, files, strict=True):
            assert upload is not None
            upload.update(
                title=item.get("title") or upload["filename"],
                channel=channel,
                initial_comment=args.get("initial_comment"),
                thread_ts=args.get("thread_ts"),
                completed=True,
            )
            name = upload["filename"]
            shared.append({"id": upload["id"], "title": upload["title"], "name": name})
        if channel:
            ts = self._next_ts()
            message = self._message({"text": args.get("initial_comment") or ""}, ts)
            message["files"] = shared
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self._messages[(channel, ts)] = {"channel": channel, **message}
        return {"ok": True, "files": shared}

    def _store_view(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        # What Slack answers: the view as sent, plus the fields Slack owns.
        stored = {
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08d}",
            "root_view_id": view_id,
            "app_id": APP_ID,
            "bot_id": self.bot_id,
        }
        self._views[view_id] = stored
        return stored

    def _view_invalid(self, view: Any) -> dict[str, Any] | None:
        if not isinstance(view, dict):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: view"]},
            }
        if not self.validate_blocks:
            return None
        problems = view_errors(view)
        if not problems:
            return None
        return {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": problems},
        }

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: trigger_id"]},
            }
        if invalid := self._view_invalid(args.get("view")):
            return invalid
        return {"ok": True, "view": self._store_view(self._next_id("V"), args["view"])}

    _m_views_push = _m_views_open

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (
                    v["id"]
                    for v in self._views.values()
                    if v.get("external_id") == args["external_id"]
                ),
                None,
            )
            if view_id is None:
                return {"ok": False, "error": "not_found"}
        if not view_id:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: view_id"]},
            }
        if invalid := self._view_invalid(args.get("view")):
            return invalid
        current = self._views.get(view_id)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(view_id, args["view"])}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: user_id"]},
            }
        if invalid := self._view_invalid(args.get("view")):
            return invalid
        view_id = self._home.get(user_id)
        current = self._views.get(view_id) if view_id else None
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view_id = view_id or self._next_id("V")
        self._home[user_id] = view_id
        return {"ok": True, "view": self._store_view(view_id, args["view"])}


# -- HTTP plumbing ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a benchmark's burst should queue, not be refused

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed while waiting for its answer (a test's kill -9) is not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack
    server_version = "FakeSlack/1.0"
    sys_version = ""
    # As Slack does: connections stay open for the next call unless the client says "close"
    # (urllib does, on every call). Without Nagle, as a real server, so an answer's headers
    # and body do not wait on the client's delayed ACK.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.fake._handle(self)

    def do_GET(self) -> None:
        self.fake._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _write(
    req: BaseHTTPRequestHandler,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(body, default=_jsonable).encode()
    req.send_response(status)
    req.send_header("Content-Type", "application/json; charset=utf-8")
    req.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        req.send_header(name, value)
    req.end_headers()
    req.wfile.write(data)


def _write_text(req: BaseHTTPRequestHandler, status: int, text: str) -> None:
    data = text.encode()
    req.send_response(status)
    req.send_header("Content-Type", "text/plain; charset=utf-8")
    req.send_header("Content-Length", str(len(data)))
    req.end_headers()
    req.wfile.write(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):  # an uploaded file's content, echoed by api.test
        return f"<{len(value)} bytes>"
    return repr(value)


def _history_page(
    messages: list[dict[str, Any]], args: dict[str, Any], *, newest_first: bool
) -> dict[str, Any]:
    """One page of ``conversations.history`` or ``.replies``: ``oldest``/``latest`` (exclusive
    unless ``inclusive``), ``limit`` (100) and ``cursor`` as Slack reads them."""
    inclusive = _flag(args.get("inclusive"))
    oldest = float(args.get("oldest") or 0)
    latest = float(args.get("latest") or "inf")

    def within(ts: float) -> bool:
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    chosen = sorted(
        (m for m in messages if within(float(m["ts"]))),
        key=lambda m: float(m["ts"]),
        reverse=newest_first,
    )
    start = int(args.get("cursor") or 0)
    limit = max(1, int(args.get("limit") or 100))
    page = chosen[start : start + limit]
    more = start + limit < len(chosen)
    keep_metadata = _flag(args.get("include_all_metadata"))
    shown = [
        {k: v for k, v in m.items() if k != "channel" and (keep_metadata or k != "metadata")}
        for m in page
    ]
    return {
        "ok": True,
        "messages": shown,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _check_status(status: int) -> None:
    if not 400 <= status <= 599:
        raise ValueError(f"an injected failure needs an HTTP error status, not {status}")


def _selected(call: Call, method: str | None, ok: bool | None) -> bool:
    return (method is None or call.method == method) and (ok is None or call.ok == ok)


def parse_args(query: str, raw: bytes, content_type: str) -> dict[str, Any]:
    """The arguments of one Web API request: query string, then form, JSON or multipart body."""
    args: dict[str, Any] = {}
    if query:
        args.update(_decode_form(parse_qsl(query, keep_blank_values=True)))
    kind = content_type.split(";", 1)[0].strip().lower()
    if not raw:
        return args
    if kind == "application/json":
        body = json.loads(raw.decode("utf-8"))
        if isinstance(body, dict):
            args.update(body)
    elif kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
        )
        pairs: list[tuple[str, Any]] = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                pairs.append((name, payload))
            else:
                pairs.append((name, payload.decode("utf-8")))
        args.update(_decode_form(pairs))
    else:
        args.update(_decode_form(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
    return args


def _decode_form(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key, value in pairs:
        if isinstance(value, str) and key not in FREE_TEXT_ARGS and value[:1] in ("[", "{"):
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = value
            if isinstance(decoded, list | dict):
                value = decoded
        args[key] = value
    return args


# -- Block Kit limits ------------------------------------------------------------------------


def block_kit_errors(blocks: Any, *, max_blocks: int = 50, pointer: str = "/blocks") -> list[str]:
    """Slack's complaints about ``blocks``, in Slack's words; [] when Slack would accept them.

    Covers the limits a bot trips over: block counts (50 in a message, 100 in a view), text
    lengths (header 150, section 3000, field 2000, button 75, option 75/150, …), element counts,
    ID lengths and empty text.
    """
    problems: list[str] = []
    _Checker(problems).blocks(blocks, max_blocks, pointer)
    return problems


def view_errors(view: dict[str, Any]) -> list[str]:
    """Slack's complaints about a modal or Home tab view; [] when Slack would accept it."""
    problems: list[str] = []
    check = _Checker(problems)
    kind = view.get("type")
    if kind not in ("modal", "home"):
        check.fail("must be one of: modal, home", "/view/type")
    if kind == "modal":
        check.text(view.get("title"), 24, "/view/title", required=True, plain=True)
    for key in ("submit", "close"):
        check.text(view.get(key), 24, f"/view/{key}", plain=True)
    check.length(view.get("private_metadata"), 3000, "/view/private_metadata")
    check.length(view.get("callback_id"), 255, "/view/callback_id")
    blocks = view.get("blocks", [])
    check.blocks(blocks, 100, "/view/blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if kind == "modal" and has_input and view.get("submit") is None:
        check.fail("must provide a submit property when using input blocks", "/view")
    return problems


@dataclass
class _Checker:
    problems: list[str]

    def fail(self, message: str, pointer: str) -> None:
        self.problems.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def length(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def count(self, items: Any, limit: int, pointer: str) -> Iterator[tuple[int, Any]]:
        if items is None:
            return iter(())
        if not isinstance(items, list):
            self.fail("must be an array", pointer)
            return iter(())
        if len(items) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        return enumerate(items)

    def text(
        self, obj: Any, limit: int, pointer: str, *, required: bool = False, plain: bool = False
    ) -> None:
        if obj is None:
            if required:
                self.fail("missing required field: text", pointer)
            return
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.fail("must be a text object", pointer)
            return
        if plain and obj["type"] != "plain_text":
            self.fail("must be a plain_text object", pointer + "/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must be more than 0 characters", pointer + "/text")
        else:
            self.length(text, limit, pointer + "/text")

    def blocks(self, blocks: Any, limit: int, pointer: str) -> None:
        for i, block in self.count(blocks, limit, pointer):
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, p: str) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.fail("missing required field: type", p)
            return
        self.length(block.get("block_id"), 255, p + "/block_id")
        kind = block["type"]
        if kind == "header":
            self.text(block.get("text"), 150, p + "/text", required=True, plain=True)
        elif kind == "section":
            if block.get("text") is None and block.get("fields") is None:
                self.fail("must provide either text or fields", p)
            self.text(block.get("text"), 3000, p + "/text")
            for i, item in self.count(block.get("fields"), 10, p + "/fields"):
                self.text(item, 2000, f"{p}/fields/{i}")
            if block.get("accessory") is not None:
                self.element(block["accessory"], p + "/accessory")
        elif kind == "context":
            for i, item in self.count(block.get("elements"), 10, p + "/elements"):
                if isinstance(item, dict) and item.get("type") in ("plain_text", "mrkdwn"):
                    self.text(item, 3000, f"{p}/elements/{i}")
        elif kind == "actions":
            for i, item in self.count(block.get("elements"), 25, p + "/elements"):
                self.element(item, f"{p}/elements/{i}")
        elif kind == "input":
            self.text(block.get("label"), 2000, p + "/label", required=True, plain=True)
            self.text(block.get("hint"), 2000, p + "/hint", plain=True)
            if block.get("element") is None:
                self.fail("missing required field: element", p)
            else:
                self.element(block["element"], p + "/element")
        elif kind == "image":
            self.length(block.get("alt_text"), 2000, p + "/alt_text")
            self.length(block.get("image_url"), 3000, p + "/image_url")

    def element(self, element: Any, p: str) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail("missing required field: type", p)
            return
        self.length(element.get("action_id"), 255, p + "/action_id")
        self.text(element.get("placeholder"), 150, p + "/placeholder", plain=True)
        kind = element["type"]
        if kind == "button":
            self.text(element.get("text"), 75, p + "/text", required=True, plain=True)
            self.length(element.get("value"), 2000, p + "/value")
            self.length(element.get("url"), 3000, p + "/url")
        if kind == "overflow":
            options = element.get("options")
            if not isinstance(options, list) or not options:
                self.fail("must provide at least 1 option", p + "/options")
            for i, option in self.count(options, 5, p + "/options"):
                self.option(option, f"{p}/options/{i}")
        elif "options" in element or "option_groups" in element:
            for i, option in self.count(element.get("options"), 100, p + "/options"):
                self.option(option, f"{p}/options/{i}")
            for i, group in self.count(element.get("option_groups"), 100, p + "/option_groups"):
                gp = f"{p}/option_groups/{i}"
                if isinstance(group, dict):
                    self.text(group.get("label"), 75, gp + "/label", required=True, plain=True)
                    for j, option in self.count(group.get("options"), 100, gp + "/options"):
                        self.option(option, f"{gp}/options/{j}")
        if element.get("initial_option") is not None:
            self.option(element["initial_option"], p + "/initial_option")
        if kind == "plain_text_input":
            max_length = element.get("max_length")
            if isinstance(max_length, int) and max_length > 3000:
                self.fail("must be less than 3001", p + "/max_length")
            self.length(element.get("initial_value"), 3000, p + "/initial_value")
        confirm = element.get("confirm")
        if isinstance(confirm, dict):
            self.text(confirm.get("title"), 100, p + "/confirm/title", required=True, plain=True)
            self.text(confirm.get("text"), 300, p + "/confirm/text", required=True)
            self.text(confirm.get("confirm"), 30, p + "/confirm/confirm", required=True, plain=True)
            self.text(confirm.get("deny"), 30, p + "/confirm/deny", required=True, plain=True)

    def option(self, option: Any, p: str) -> None:
        if not isinstance(option, dict):
            self.fail("must be an option object", p)
            return
        self.text(option.get("text"), 75, p + "/text", required=True)
        value = option.get("value")
        if not isinstance(value, str) or not value:
            self.fail("missing required field: value", p + "/value")
        else:
            self.length(value, 150, p + "/value")
        self.text(option.get("description"), 75, p + "/description")
