"""The HTTP API under ``/api/v1`` (`app`): tickets opened, changed and read by other systems
with a bearer token, through the same use cases as Slack (which owe each ticket's card)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...tickets import Tickets

WSGIApp = Callable[..., Iterable[bytes]]


def lazy_api(tickets: Tickets) -> WSGIApp:
    """The API as a WSGI app built on its first request: a ``serve`` nobody calls the API on
    never imports Falcon and spectree, and every ``serve`` is ready sooner."""
    built: list[WSGIApp] = []
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not built:
            with lock:
                if not built:
                    from .app import create_api

                    built.append(create_api(tickets))
        return built[0](environ, start_response)

    return serve
