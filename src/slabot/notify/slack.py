"""Slack as the clock's notifier: thread replies, direct messages, channel posts and the card.

* A reminder, nudge, follow-up or lifecycle note is a reply in the ticket's card thread that
  mentions the owner (the channel when nobody owns it yet); a ticket without a channel gets a
  direct message to its owner instead.
* A page is a direct message to each person of the level (``U…``), a post in each channel of
  the level (``C…`` or ``#name``), a reply in the ticket's thread mentioning all of them (user
  groups, ``S…``, are reached through that mention), and an update of the card.

Every message carries Slack message metadata naming its timer (event ``slabot_timer``), which
is how `SlackNotifier.delivered` finds out, after a clock died mid-delivery, what had already
arrived: it reads the channel's history (or the thread's replies: Slack's history of a channel
leaves thread replies out) since the interrupted claim.

Slack's answers become `DeliveryFailed`: HTTP 429 (with its Retry-After), 5xx, Slack's own
"try later" errors, timeouts and refused connections are retryable; anything else (a revoked
token, an unknown channel) needs an operator. The client must not retry by itself (see
`make_clock_client`): the timer row's backoff owns retries, so a rate-limited ticket never
holds the clock's tick while other tickets wait.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..clock import messages
from ..clock.messages import Message
from ..settings import Settings
from ..slack.blocks import mention, ticket_card
from ..slack.keepalive import KeepAliveWebClient
from .base import Delivery, DeliveryFailed, Receipt

log = logging.getLogger(__name__)

EVENT_TYPE = "slabot_timer"
TIMEOUT = 10  # seconds per Web API call
HISTORY_PAGE = 200
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
CARD_KINDS = frozenset({"page", "auto_solve", "auto_close"})  # timers that change the card
_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}|#[^\s#]+")


def make_clock_client(settings: Settings) -> WebClient:
    """A Web API client with slack_sdk's own retries off (a retry waits on the timer row) that
    keeps its connections open between calls (a burst of pages is many calls to one host)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return KeepAliveWebClient(
        token=token, base_url=settings.slack_api_url, timeout=TIMEOUT, retry_handlers=[]
    )


@dataclass(frozen=True)
class _Post:
    part: str  # "thread", "dm:U…", "post:C…": the name a failure reports as done
    to: str  # a channel (ID or #name), or a user whose DM channel is opened first
    thread_ts: str | None
    message: Message


class SlackNotifier:
    def __init__(self, client: WebClient):
        self.client = client
        self._dms: dict[str, str] = {}  # user → DM channel, which never changes

    def send(self, delivery: Delivery) -> Receipt:
        receipt: Receipt = {}
        try:
            for post in self._posts(delivery):
                if post.part in delivery.done:
                    continue
                if delivery.recovering_since and self._found(post, delivery):
                    receipt[post.part] = "found"
                    continue
                receipt[post.part] = self._post(post, delivery)
            if "card" not in delivery.done and self._updates_card(delivery):
                receipt["card"] = self._update_card(delivery)
        except DeliveryFailed as failure:
            raise replace(failure, done=frozenset(receipt)) from None
        return receipt

    def delivered(self, delivery: Delivery) -> bool:
        # The card is not looked for: updating it again is harmless.
        return all(
            self._found(post, delivery)
            for post in self._posts(delivery)
            if post.part not in delivery.done
        )

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        ticket = delivery.view.ticket
        if not ticket.channel:
            return
        message = messages.gave_up(delivery.view, delivery.timer, reason)
        try:
            self.client.chat_postMessage(
                channel=ticket.channel,
                thread_ts=ticket.message_ts,
                text=message.text,
                blocks=message.blocks,
            )
        except (SlackApiError, OSError) as exc:
            log.warning(
                "could not tell %s that timer %s is dead: %s", ticket.ref, delivery.key, exc
            )

    def redraw(self, delivery: Delivery) -> None:
        if not self._updates_card(delivery):
            return
        try:
            self._update_card(delivery)
        except DeliveryFailed as failure:  # the next change of the ticket draws it again
            log.warning("could not redraw the card of %s: %s", delivery.view.ticket.ref, failure)

    # -- what to post -----------------------------------------------------------------------

    def _posts(self, delivery: Delivery) -> list[_Post]:
        view, timer, now, late = delivery.view, delivery.timer, delivery.now, delivery.late
        ticket = view.ticket
        if timer.kind == "page":
            return list(self._page_posts(delivery))
        compose: dict[str, Callable[[], Message]] = {
            "reminder": lambda: messages.reminder(view, timer, now, late),
            "update_nudge": lambda: messages.nudge(view, timer, now, late),
            "follow_up": lambda: messages.follow_up(view, timer, now, late),
            "auto_solve": lambda: messages.auto_solved(view, timer, late),
            "auto_close": lambda: messages.auto_closed(view, timer, late),
        }
        message = compose[timer.kind]()
        if ticket.channel:
            return [_Post("thread", ticket.channel, ticket.message_ts, message)]
        if ticket.owner:
            return [_Post(f"dm:{ticket.owner}", ticket.owner, None, message)]
        return []  # nowhere in Slack to say it; the timer still counts as performed

    def _page_posts(self, delivery: Delivery) -> Iterator[_Post]:
        view, timer = delivery.view, delivery.timer
        contacts = _contacts(delivery)
        # A level nobody staffs yet is paged in the thread without a mention: the whole
        # channel is never the one whose turn it is.
        whom = " ".join(mention(c) for c in contacts) or None
        ticket = view.ticket
        if ticket.channel:
            thread = messages.page(view, timer, delivery.now, delivery.late, whom)
            yield _Post("thread", ticket.channel, ticket.message_ts, thread)
        direct = messages.page(view, timer, delivery.now, delivery.late, None)
        for contact in contacts:
            if _USER.fullmatch(contact):
                yield _Post(f"dm:{contact}", contact, None, direct)
            elif _CHANNEL.fullmatch(contact):
                yield _Post(f"post:{contact}", contact, None, direct)

    def _updates_card(self, delivery: Delivery) -> bool:
        ticket = delivery.view.ticket
        return delivery.timer.kind in CARD_KINDS and bool(ticket.channel and ticket.message_ts)

    # -- talking to Slack -------------------------------------------------------------------

    def _post(self, post: _Post, delivery: Delivery) -> str:
        posted = self._call(
            self.client.chat_postMessage,
            channel=self._channel(post),
            thread_ts=post.thread_ts,
            text=post.message.text,
            blocks=post.message.blocks,
            metadata={"event_type": EVENT_TYPE, "event_payload": {"timer": delivery.key}},
        )
        return str(posted["ts"])

    def _update_card(self, delivery: Delivery) -> str | None:
        ticket = delivery.view.ticket
        text, blocks = ticket_card(delivery.view, delivery.now)
        try:
            self._call(
                self.client.chat_update,
                channel=ticket.channel,
                ts=ticket.message_ts,
                text=text,
                blocks=blocks,
            )
        except DeliveryFailed as failure:
            if failure.retryable:
                raise
            # The card is a view of the ticket, refreshed by every later change: a card that
            # cannot be updated (deleted, say) must not hold back the page itself.
            log.warning("could not update the card of %s: %s", ticket.ref, failure)
            return None
        return ticket.message_ts

    def _found(self, post: _Post, delivery: Delivery) -> bool:
        """Whether ``post`` is already in Slack: its timer's metadata in the channel's history
        (the thread's replies for a thread) since the interrupted claim, less a second."""
        if post.to.startswith("#"):
            return False  # history needs a channel ID; a #name can only be posted to again
        since = (delivery.recovering_since or delivery.timer.due_at) - timedelta(seconds=1)
        request: dict[str, Any] = {
            "channel": self._channel(post),
            "oldest": f"{since.timestamp():.6f}",
            "include_all_metadata": True,
            "limit": HISTORY_PAGE,
        }
        read = self.client.conversations_history
        if post.thread_ts:
            read, request["ts"] = self.client.conversations_replies, post.thread_ts
        while True:
            try:
                page = self._call(read, **request)
            except DeliveryFailed as failure:
                if failure.retryable:
                    raise
                # History cannot be read here (a channel slabot posts to without being in
                # it, a missing scope): sending again risks a duplicate, never a loss.
                log.warning("cannot check %s for timer %s: %s", post.to, delivery.key, failure)
                return False
            if any(_names(message, delivery.key) for message in page.get("messages") or []):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
            request["cursor"] = cursor

    def _channel(self, post: _Post) -> str:
        if not post.part.startswith("dm:"):
            return post.to
        if post.to not in self._dms:
            opened = self._call(self.client.conversations_open, users=post.to)
            self._dms[post.to] = opened["channel"]["id"]
        return self._dms[post.to]

    def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            raise failure(exc) from None
        except OSError as exc:  # timeouts, refused or dropped connections
            raise DeliveryFailed(f"Slack unreachable: {exc}") from None


def _names(message: dict[str, Any], key: str) -> bool:
    """Whether a message from history carries the metadata of timer ``key``."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == EVENT_TYPE and payload.get("timer") == key


def _contacts(delivery: Delivery) -> tuple[str, ...]:
    escalation = delivery.view.policy.escalation
    if escalation is None or delivery.timer.level is None:
        return ()
    try:
        return escalation.level(delivery.timer.level).contacts
    except KeyError:  # a level a newer policy version dropped
        return ()


def failure(exc: SlackApiError) -> DeliveryFailed:
    """What Slack's error means for whoever sent the message: retryable or not, and when."""
    response = exc.response
    status = response.status_code
    error = response.get("error") if isinstance(response.data, dict) else None
    reason = f"Slack answered {status} {error or ''}".strip()
    retry_after = _retry_after(response.headers) if status == 429 else None
    retryable = status == 429 or status >= 500 or error in RETRYABLE_ERRORS
    return DeliveryFailed(reason, retryable=retryable, retry_after=retry_after)


def _retry_after(headers: dict[str, Any]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
