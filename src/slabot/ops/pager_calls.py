"""Counting the pagers' HTTP calls, a module of its own because it is an httpx transport:
it is imported with httpx at the clock's first page, never at start-up."""

from __future__ import annotations

import httpx

from .metrics import Metrics


class PagerCalls(httpx.BaseTransport):
    """An httpx transport that counts each call to a pager by host and outcome."""

    def __init__(self, metrics: Metrics, inner: httpx.BaseTransport | None = None):
        self.metrics = metrics
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError:
            self.metrics.pager_calls.labels(host, "connection").inc()
            raise
        code = response.status_code
        outcome = "429" if code == 429 else f"{code // 100}xx"
        self.metrics.pager_calls.labels(host, outcome).inc()
        return response

    def close(self) -> None:
        self.inner.close()
