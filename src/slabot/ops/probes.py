"""Liveness (``/healthz``) and readiness (``/readyz``), for ``serve`` and ``slabot clock``.

``/healthz`` only says the process answers: a probe that restarts a process whose database is
down would not bring the database back. ``/readyz`` says whether it can do its work: the
database answers and has every migration, and (where this process runs the clock) the clock
has finished a tick lately. A clock that stands by still ticks (it tries to lead), so a
standby is ready too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import text

from ..store import Store
from ..store.migrate import pending
from .metrics import Metrics, exposition_app

WSGIApp = Callable[..., Iterable[bytes]]
# A clock that has not finished a tick for this long, plus three intervals, is stuck.
STALE_AFTER = 60.0


class Heartbeat:
    """When the clock last finished a tick (a monotonic time: immune to the wall clock)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.stale_after = STALE_AFTER + 3 * interval
        self.clock = clock
        self._last: float | None = None
        self._started = clock()
        self._lock = threading.Lock()

    def beat(self) -> None:
        with self._lock:
            self._last = self.clock()

    def problem(self) -> str | None:
        """Why the clock is not healthy, or None."""
        with self._lock:
            last = self._last
        since = self.clock() - (self._started if last is None else last)
        if since <= self.stale_after:
            return None
        what = "has not finished a tick yet" if last is None else "last finished a tick"
        return f"the clock {what} {since:.0f} s {'after starting' if last is None else 'ago'}"


class Readiness:
    """The checks behind ``/readyz``, each answering None (fine) or what is wrong."""

    def __init__(self, store: Store, heartbeat: Heartbeat | None = None):
        self.store = store
        self.heartbeat = heartbeat

    def problems(self) -> list[str]:
        problems: list[str] = []
        try:
            with self.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            missing = pending(self.store)
            if missing:
                problems.append(
                    f"the database lacks {len(missing)} migration(s) ({', '.join(missing)}): "
                    "run `slabot db upgrade`"
                )
        except Exception as exc:
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            problems.append(f"the database is unreachable: {cause[0] if cause else exc}")
        if self.heartbeat is not None:
            stuck = self.heartbeat.problem()
            if stuck:
                problems.append(stuck)
        return problems


def readiness_app(readiness: Readiness) -> WSGIApp:
    def app(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        problems = readiness.problems()
        start_response(
            "503 Service Unavailable" if problems else "200 OK",
            [("Content-Type", "text/plain; charset=utf-8")],
        )
        return [("".join(f"{p}\n" for p in problems) or "ready\n").encode()]

    return app


def _alive(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"ok\n"]


def ops_routes(metrics: Metrics, readiness: Readiness) -> dict[str, WSGIApp]:
    """``/metrics`` and ``/readyz``, for `slabot.web.wsgi_app` (which has its own /healthz)."""
    return {"/metrics": exposition_app(metrics), "/readyz": readiness_app(readiness)}


def ops_app(metrics: Metrics, readiness: Readiness) -> WSGIApp:
    """What ``slabot clock --metrics-port`` serves: /metrics, /healthz and /readyz."""
    routes = {**ops_routes(metrics, readiness), "/healthz": _alive}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found: try /metrics, /healthz or /readyz\n"]
        return route(environ, start_response)

    return app


def listen(host: str, port: int, metrics: Metrics, readiness: Readiness) -> Any:
    """Bind `ops_app` on ``host:port`` (waitress, a few threads); ``.run()`` serves it.
    Raises OSError when the port is taken."""
    from waitress.server import create_server

    return create_server(
        ops_app(metrics, readiness), host=host, port=port, threads=2, ident="slabot"
    )


def serve_in_background(server: Any) -> None:
    threading.Thread(target=server.run, name="slabot-metrics", daemon=True).start()
