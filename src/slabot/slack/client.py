"""The Slack Web API client: one per app, retrying what Slack asks to be retried.

429s are retried after their Retry-After, 5xx and dropped connections with backoff, so a
card update or a thread reply survives a rate limit or a Slack blip. A post whose request
left and got no answer (`Unanswered`: a timeout, a connection dropped after sending) is not
sent again: Slack often did the work, and a second try would post it twice. Updates and reads
are retried either way, since doing them twice changes nothing. Connections are kept open
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
from .keepalive import KeepAliveWebClient, Unanswered

RETRIES = 3
TIMEOUT = 10  # seconds per Web API call
POSTS = ("chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "files.")


class _ConnectionRetries(ConnectionErrorRetryHandler):
    """slack_sdk's retries of failed connections, less a post that may have arrived."""

    def _can_retry(self, *, state, request, response=None, error=None):
        method = request.url.rsplit("/", 1)[-1]
        if isinstance(error, Unanswered) and method.startswith(POSTS):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_client(settings: Settings, *, retry: bool = True, token: str | None = None) -> WebClient:
    """The one way slabot makes a Web API client: the deployment's token (or ``token``, an
    installed workspace's: `slack.workspaces`) and API URL, a 10 s timeout, connections kept
    open. ``retry=False`` for the clock: slack_sdk then retries nothing, because a timer row's
    backoff owns the clock's retries (a rate-limited ticket must never hold a tick while other
    tickets wait)."""
    if token is None and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    # Our handlers replace slack_sdk's default one, which retries every failed connection.
    handlers = [
        RateLimitErrorRetryHandler(max_retry_count=RETRIES),
        ServerErrorRetryHandler(max_retry_count=RETRIES),
        _ConnectionRetries(max_retry_count=RETRIES),
    ]
    return KeepAliveWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT,
        retry_handlers=handlers if retry else [],
    )
