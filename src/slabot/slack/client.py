"""The Slack Web API client: one per app, retrying what Slack asks to be retried.

429s are retried after their Retry-After, 5xx and dropped connections with backoff, so a
card update or a thread reply survives a rate limit or a Slack blip. Connections are kept open
between calls (`KeepAliveWebClient`): a slash command makes two or three calls, and each would
otherwise open a new connection (a TLS handshake, against slack.com).
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from ..settings import Settings
from .keepalive import KeepAliveWebClient

RETRIES = 3


def make_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = KeepAliveWebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=RETRIES),
            ServerErrorRetryHandler(max_retry_count=RETRIES),
            ConnectionErrorRetryHandler(max_retry_count=RETRIES),
        ]
    )
    return client
