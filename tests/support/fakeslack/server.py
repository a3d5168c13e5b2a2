"""The fake itself: the server's lifecycle, what arrived, what Slack now holds, and steering."""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from .blockkit import block_kit_errors
from .installs import Installs, basic_credentials
from .methods import WebApiMethods
from .records import (
    BOT_ID,
    BOT_USER_ID,
    HTTP_ERRORS,
    TEAM_ID,
    TS_BASE,
    Answer,
    Call,
    _Failure,
    _Hang,
    _Override,
    _PostLimit,
)
from .wire import _check_status, _Handler, _selected, _Server, _write, _write_text, parse_args


class FakeSlack(Installs, WebApiMethods):
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
        self.groups: dict[str, list[str]] = {}
        """Each user group's members by its ID (``S…``), as ``usergroups.users.list`` answers
        and ``usergroups.users.update`` sets them; a test adds groups here and reads them back
        with `FakeSlack.members`."""
        self._init_installs()

        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._overrides: dict[str, list[_Override]] = {}
        self._delays: dict[str | None, float] = {}
        self._hangs: list[_Hang] = []
        self._post_limit: _PostLimit | None = None
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
            self._post_limit = None
            self._messages.clear()
            self._views.clear()
            self._home.clear()
            self._uploads.clear()
            self._errors.clear()
            self.users.clear()
            self.groups.clear()

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

    def members(self, group: str) -> list[str]:
        """The members of user group ``group`` as Slack now has them (KeyError: no such group)."""
        with self._lock:
            return list(self.groups[group])

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

    def limit_posts(
        self,
        per_second: float = 1.0,
        burst: int = 3,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Enforce Slack's limit on ``chat.postMessage``: ``per_second`` messages a second to
        each channel, ``burst`` of them at once, and beyond that HTTP 429 with a Retry-After
        (whole seconds, as Slack sends it) and nothing posted. Time is ``clock`` (seconds),
        else the fake's own ``clock``, else ``time.time``."""
        if per_second <= 0 or burst < 1:
            raise ValueError("limit_posts needs per_second > 0 and burst >= 1")
        interval = 1 / per_second
        ticking = clock or self.clock or time.time
        with self._lock:
            self._post_limit = _PostLimit(interval, interval * (burst - 1), ticking)

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
            if failure is None and not unreadable:
                failure = self._over_limit(method, args.get("channel"))
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

    def _over_limit(self, method: str, channel: Any) -> _Failure | None:
        """A 429 for a post beyond its channel's limit (`limit_posts`), else None."""
        if self._post_limit is None or method != "chat.postMessage" or not channel:
            return None
        if isinstance(channel, str) and channel[:1] in ("U", "W"):
            channel = self._dm_channel(channel)
        wait = self._post_limit.wait(str(channel))
        return _Failure(method, 429, max(1, math.ceil(wait))) if wait else None

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
        # The app's own credentials (basic auth) call oauth.v2.access, not a token.
        self._basic = basic_credentials(headers.get("authorization", ""))
        self._caller = _token(headers, args)
        if method not in ("api.test", "oauth.v2.access") and not self._token_ok(headers, args):
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
        token = _token(headers, args)
        if not token:
            return False
        issued = self._issued_token_ok(token)
        if issued is not None:
            return issued
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


def _token(headers: dict[str, str], args: dict[str, Any]) -> str | None:
    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else args.get("token")
    return token if isinstance(token, str) and token else None
