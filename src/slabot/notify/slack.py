"""Slack as the clock's notifier: thread replies, direct messages, channel posts and the card.

* A reminder, nudge, follow-up or lifecycle note is a reply in the ticket's card thread that
  mentions the owner (the first escalation level while nobody owns it); a ticket without a
  channel gets a direct message to its owner instead.
* A page is a direct message to each person of the level (``U…``, and whoever is on call in its
  rotation when the page is due: `Delivery.paged`), a post in each channel of the level
  (``C…`` or ``#name``), a reply in the ticket's thread mentioning all of them (user
  groups, ``S…``, are reached through that mention), and an update of the card. The direct
  messages and channel posts link to the card, built as every other surface builds it
  (`slabot.slack.links`: one ``team.info`` per workspace, not a call per card).
* A maintenance notice (`Announcement`: planned maintenance announced, the reminder before
  it, its start, its end, its calling off; an outage started, ended, edited or deleted) is a
  post in a channel, paced and named in its metadata like the rest, and looked for the same
  way (`SlackNotifier.find_announced`).

Every message carries Slack message metadata naming its timer (event ``slabot_timer``), which
is how `SlackNotifier.recover` finds out what had arrived of messages in doubt (a clock died
sending them, or Slack's answer never came): it reads each conversation (a channel's history,
or a thread's replies: Slack's history of a channel leaves thread replies out) once for all
the batch's messages in doubt there, from the earliest first claim among them. Slack allows
few such reads (since 2025, one a minute for apps distributed outside its Marketplace).

Slack's answers become `DeliveryFailed`: HTTP 429 (with its Retry-After), 5xx, Slack's own
"try later" errors, timeouts and refused connections are retryable; anything else (a revoked
token, an unknown channel) needs an operator. A message whose request left without an answer
(a timeout, a connection dropped) is *doubtful*: Slack often performs a call and answers late.
The client must not retry by itself (`slack.client.make_client(retry=False)`): the timer
row's backoff owns retries, so a rate-limited ticket never holds the clock's tick while other
tickets wait. After a 429, calls of the same scope (posts to that channel; history reads) in
the same workspace fail at once, without reaching Slack, until its Retry-After has passed;
other channels and other workspaces go on.
With a `Pacer` (the clock always has one), posts are spaced to Slack's limit of about one a
second per channel before Slack has to say 429: a post without a free slot in its channel is
*held* until its slot, as a 429 is: a limit, not a failure (`DeliveryFailed.held`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..slack.blocks import timers
from ..slack.blocks.card import ticket_card
from ..slack.blocks.kit import mention
from ..slack.blocks.oncall import taken_page
from ..slack.blocks.outage import owed_notice
from ..slack.blocks.timers import Message
from ..slack.keepalive import Unanswered
from ..slack.links import Links
from ..slack.pacing import Pacer
from ..slack.workspaces import OneWorkspace, WorkspaceGone, Workspaces
from ..tickets.timers import CARD, NOTE, PAGE_COPY, POST, REDRAW
from .base import Announcement, Delivery, DeliveryFailed, Receipt, Recovery

log = logging.getLogger(__name__)

EVENT_TYPE = "slabot_timer"
HISTORY_PAGE = 200
# How far before a timer's first claim its messages are looked for: this host's clock and
# Slack's may disagree (a VM after a pause, a container without NTP), and a message stamped
# before the claim by a Slack ahead of us must still be found. Half a minute covers a drifting
# clock; much more would reach back to the same timer's message from an earlier life of the
# ticket (a page repeated after a reopen has the same key), taken then as this one's.
CLOCK_SKEW = timedelta(seconds=30)
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
ANNOUNCED = "post"  # an announcement's one part
CARD_KINDS = frozenset({"page", "auto_solve", "auto_close"})  # timers that change the card
MAX_TOGETHER = 12  # pages in one message: each takes up to 4 of Slack's 50 blocks
_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}|#[^\s#]+")

Conversation = tuple[str, str | None]  # a channel ID, and a thread's ts (None: the channel)


@dataclass(frozen=True)
class _Post:
    part: str  # "thread", "dm:U…", "post:C…": the name a failure reports as done
    to: str  # a channel (ID or #name), or a user whose DM channel is opened first
    thread_ts: str | None
    message: Message


class SlackNotifier:
    def __init__(
        self, slack: WebClient | Workspaces, pacer: Pacer | None = None, links: Links | None = None
    ):
        """``slack``: each ticket's workspace's client, or the one client of a single-token
        deployment."""
        self.workspaces = OneWorkspace(slack) if isinstance(slack, WebClient) else slack
        self.pacer = pacer  # None: posts go as fast as they come (tests of other things)
        self.links = links or Links()
        # (workspace, user) → DM channel, which never changes
        self._dms: dict[tuple[str, str], str] = {}
        # (token, scope) → when Slack's Retry-After ends: Slack limits an app per workspace,
        # so a 429 in one workspace holds back no call of another
        self._limited: dict[tuple[str | None, str], datetime] = {}

    def together(self, deliveries: Sequence[Delivery]) -> dict[str, Receipt]:
        """One direct message per person for the pages of a tick that reach them: two or more
        become one message listing each, recorded as part ``dm:U…`` of every one of them (its
        metadata names them all, so a message in doubt is found for each). A failure leaves
        each page to send its own (a duplicate risked, never a loss)."""
        by_person: dict[str, list[Delivery]] = {}
        for delivery in deliveries:
            for contact in _contacts(delivery):
                if _USER.fullmatch(contact) and f"dm:{contact}" not in delivery.done:
                    by_person.setdefault(contact, []).append(delivery)
        shared: dict[str, Receipt] = {}
        for person, pages in by_person.items():
            pages = pages[:MAX_TOGETHER]
            if len(pages) < 2:
                continue
            message = timers.pages_together(
                [
                    timers.page(d.view, d.timer, d.now, d.late, None, self._card_link(d))
                    for d in pages
                ]
            )
            post = _Post(f"dm:{person}", person, None, message)
            try:
                ts = self._post(post, pages[0], also=[d.key for d in pages[1:]])
            except DeliveryFailed as failure:
                level = logging.DEBUG if failure.held else logging.WARNING
                log.log(
                    level, "could not send %d pages to %s together: %s", len(pages), person, failure
                )
                continue
            keys = [d.key for d in pages]
            for delivery in pages:
                shared.setdefault(delivery.key, {})[post.part] = {"ts": ts, "with": keys}
        return shared

    def send(self, delivery: Delivery) -> Receipt:
        receipt: Receipt = {}
        try:
            for post in self._posts(delivery, linked=True):
                if post.part not in delivery.done:
                    receipt[post.part] = self._post(post, delivery)
            if "card" not in delivery.done and self._updates_card(delivery):
                receipt["card"] = self._update_card(delivery)
            if delivery.timer.kind == PAGE_COPY:
                receipt.update(self._redraw_copies(delivery))
        except DeliveryFailed as failure:
            raise replace(failure, done=frozenset(receipt)) from None
        return receipt

    def recover(self, deliveries: Sequence[Delivery]) -> Recovery:
        """Each conversation holding a message in doubt read once, from the earliest first
        claim among its messages; a message is found when its timer's metadata is there."""
        found: Recovery = {}
        wanted: dict[Conversation, list[tuple[Delivery, str]]] = {}
        for delivery in deliveries:
            try:
                for post in self._posts(delivery):
                    if self._doubtful(post, delivery):
                        where = (self._channel(post, delivery), post.thread_ts)
                        wanted.setdefault(where, []).append((delivery, post.part))
            except DeliveryFailed as failure:  # a DM channel could not be opened
                found[delivery.key] = failure
        for where, looked in wanted.items():
            since = min(d.doubt.since for d, _ in looked if d.doubt is not None)
            first = looked[0][0]
            try:
                keys = self._timers_in(where, since, self._slack(first), first.now)
            except DeliveryFailed as failure:
                for delivery, _ in looked:
                    found[delivery.key] = failure
                continue
            for delivery, part in looked:
                known = found.get(delivery.key, {})
                if delivery.key in keys and not isinstance(known, DeliveryFailed):
                    # A card found is where its ticket's thread is; any other post, "found".
                    found[delivery.key] = known | {
                        part: keys[delivery.key] if part == CARD else "found"
                    }
        return found

    def delivered(self, delivery: Delivery) -> bool:
        # A page's card update is not counted: updating it again is harmless. A redraw owed
        # for its own sake (a card, a taken page's copies) is: it is all the delivery does.
        parts = [post.part for post in self._posts(delivery)] + _edits(delivery)
        return all(part in delivery.done for part in parts)

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        ticket = delivery.view.ticket
        if not ticket.channel:
            return
        message = timers.gave_up(delivery.view, delivery.timer, reason)
        try:
            self._slack(delivery).chat_postMessage(
                channel=ticket.channel,
                thread_ts=ticket.message_ts,
                text=message.text,
                blocks=message.blocks,
            )
        except (SlackApiError, OSError, DeliveryFailed) as exc:
            log.warning(
                "could not tell %s that timer %s is dead: %s", ticket.ref, delivery.key, exc
            )

    def redraw(self, delivery: Delivery) -> None:
        ticket = delivery.view.ticket
        if not (ticket.channel and ticket.message_ts):
            return
        try:
            self._update_card(delivery)
        except DeliveryFailed as failure:  # the next change of the ticket draws it again
            log.warning("could not redraw the card of %s: %s", delivery.view.ticket.ref, failure)

    # -- owed outside any ticket ------------------------------------------------------------

    def announce(self, owed: Announcement) -> str:
        """Post ``owed`` to its channel, paced and named in its metadata as a timer's posts
        are; its ts. Raises `DeliveryFailed` (``doubtful``: the request left unanswered)."""
        workspace, channel = owed.where
        message = Message(*owed_notice(owed.record, owed.change, owed.policy, owed.stage))
        post = _Post(ANNOUNCED, channel, None, message)
        client = self._client(workspace)
        return self._publish(client, channel, post, {"timer": owed.key}, owed.key, owed.now, False)

    def find_announced(self, owed: Sequence[Announcement]) -> dict[str, str | DeliveryFailed]:
        """Where each of ``owed`` (each in doubt since its ``since``) was found posted, by key
        (its ts), or why nobody could tell yet; each channel read once for all of them."""
        wanted: dict[tuple[str, str], list[Announcement]] = {}
        for announcement in owed:
            wanted.setdefault(announcement.where, []).append(announcement)
        found: dict[str, str | DeliveryFailed] = {}
        for (workspace, channel), looked in wanted.items():
            since = min(a.since or a.now for a in looked)
            try:
                client = self._client(workspace)
                keys = self._timers_in((channel, None), since, client, looked[0].now)
            except DeliveryFailed as failure:
                found.update(dict.fromkeys((a.key for a in looked), failure))
                continue
            found.update({a.key: keys[a.key] for a in looked if a.key in keys})
        return found

    # -- what to post -----------------------------------------------------------------------

    def _posts(self, delivery: Delivery, *, linked: bool = False) -> list[_Post]:
        """What ``delivery`` posts, by part; ``linked``: with a link to the card in copies
        read away from it (only when sending: naming parts needs no call to Slack)."""
        view, timer, now, late = delivery.view, delivery.timer, delivery.now, delivery.late
        ticket = view.ticket
        if timer.kind == "page":
            return list(self._page_posts(delivery, linked))
        if timer.kind == CARD:  # a redraw is an edit, not a post (`_edits`)
            if timer.stage != POST or not ticket.channel:
                return []
            return [_Post(CARD, ticket.channel, None, Message(*ticket_card(view, now)))]
        if timer.kind == PAGE_COPY:
            return []
        compose: dict[str, Callable[[], Message]] = {
            NOTE: lambda: Message(timer.detail.get("text") or "", []),
            "reminder": lambda: timers.reminder(view, timer, now, late),
            "update_nudge": lambda: timers.nudge(view, timer, now, late),
            "follow_up": lambda: timers.follow_up(view, timer, now, late),
            "auto_solve": lambda: timers.auto_solved(view, timer, late),
            "auto_close": lambda: timers.auto_closed(view, timer, late),
        }
        message = compose[timer.kind]()
        if ticket.channel:
            return [_Post("thread", ticket.channel, ticket.message_ts, message)]
        if ticket.owner:
            return [_Post(f"dm:{ticket.owner}", ticket.owner, None, message)]
        return []  # nowhere in Slack to say it; the timer still counts as performed

    def _page_posts(self, delivery: Delivery, linked: bool) -> Iterator[_Post]:
        view, timer = delivery.view, delivery.timer
        contacts = _contacts(delivery)
        # A level nobody staffs yet is paged in the thread without a mention: the whole
        # channel is never the one whose turn it is.
        whom = " ".join(mention(c) for c in contacts) or None
        ticket = view.ticket
        if ticket.channel:
            thread = timers.page(view, timer, delivery.now, delivery.late, whom)
            yield _Post("thread", ticket.channel, ticket.message_ts, thread)
        if not contacts:
            return
        link = self._card_link(delivery) if linked else None
        direct = timers.page(view, timer, delivery.now, delivery.late, None, link)
        for contact in contacts:
            if _USER.fullmatch(contact):
                yield _Post(f"dm:{contact}", contact, None, direct)
            elif _CHANNEL.fullmatch(contact):
                yield _Post(f"post:{contact}", contact, None, direct)

    def _card_link(self, delivery: Delivery) -> str | None:
        """The link to the card, or None: a page is worth more than its link, so when Slack
        cannot say the workspace's domain the page goes without one."""
        return self.links.card(self._slack(delivery), delivery.view.ticket)

    def _updates_card(self, delivery: Delivery) -> bool:
        ticket, timer = delivery.view.ticket, delivery.timer
        updates = timer.kind in CARD_KINDS or (timer.kind, timer.stage) == (CARD, REDRAW)
        return updates and bool(ticket.channel and ticket.message_ts)

    def _redraw_copies(self, delivery: Delivery) -> Receipt:
        """Every copy of a taken page drawn again: who took it, no button. Idempotent, so a
        copy in doubt is simply drawn again; one that no longer exists is let go."""
        view, detail = delivery.view, delivery.timer.detail
        label = view.policy.level_label(detail["level"])
        text, blocks = taken_page(view, label, detail["by"], datetime.fromisoformat(detail["at"]))
        receipt: Receipt = {}
        for copy in detail.get("copies") or []:
            part, ts = f"copy:{copy['part']}", copy["ts"]
            if part in delivery.done:
                continue
            to = copy["part"].split(":", 1)[-1]
            where = _Post(copy["part"], to, None, Message(text, blocks))
            channel = view.ticket.channel if copy["part"] == "thread" else None
            try:
                self._call(
                    self._slack(delivery).api_call,
                    delivery.now,
                    "chat.update",
                    api_method="chat.update",
                    json=_fields(
                        channel=channel or self._channel(where, delivery),
                        ts=ts,
                        text=text,
                        blocks=blocks,
                    ),
                )
            except DeliveryFailed as failure:
                if failure.retryable:
                    raise replace(failure, done=frozenset(receipt)) from None
                log.warning("could not redraw a copy of %s's page: %s", view.ticket.ref, failure)
            receipt[part] = ts
        return receipt

    # -- talking to Slack -------------------------------------------------------------------

    def _doubtful(self, post: _Post, delivery: Delivery) -> bool:
        """Whether ``post`` must be looked for before it is sent (again). A ``#name`` cannot
        be: history needs a channel ID, so it is sent again (a duplicate risked, never a loss)."""
        doubt = delivery.doubt
        return (
            doubt is not None
            and doubt.covers(post.part)
            and post.part not in delivery.done
            and not post.to.startswith("#")
        )

    def _post(self, post: _Post, delivery: Delivery, also: Sequence[str] = ()) -> str:
        """Post ``post`` for ``delivery`` (and the timers ``also`` names, sent with it)."""
        payload: dict[str, Any] = {"timer": delivery.key}
        if also:
            payload["timers"] = [delivery.key, *also]
        urgent = delivery.timer.kind == "page"
        slot = f"{delivery.key} {post.part}"
        channel = self._channel(post, delivery)
        return self._publish(
            self._slack(delivery), channel, post, payload, slot, delivery.now, urgent
        )

    def _publish(
        self,
        client: WebClient,
        channel: str,
        post: _Post,
        payload: dict[str, Any],
        slot: str,
        now: datetime,
        urgent: bool,
    ) -> str:
        """Post ``post`` to ``channel`` with metadata ``payload`` (naming what it is for), in
        its channel's ``slot``; its ts."""
        self._pace(channel, slot, now, urgent)
        try:
            posted = self._call(
                client.api_call,
                now,
                f"chat.postMessage {channel}",  # Slack's limit: about a message a second a channel
                part=post.part,
                api_method="chat.postMessage",
                json=_fields(
                    channel=channel,
                    thread_ts=post.thread_ts,
                    text=post.message.text,
                    blocks=post.message.blocks or None,  # a note is text alone (40,000 chars)
                    metadata={"event_type": EVENT_TYPE, "event_payload": payload},
                ),
            )
        except DeliveryFailed as failed:
            if failed.held and failed.retry_after and self.pacer is not None:
                until = now + timedelta(seconds=failed.retry_after)
                self.pacer.limited(channel, until)
            raise
        return str(posted["ts"])

    def _pace(self, channel: str, slot: str, now: datetime, urgent: bool) -> None:
        """Hold the post of ``slot`` until its slot in ``channel`` unless it has one now; a
        page's thread reply, direct messages and channel posts go before reminders and notes."""
        if self.pacer is None:
            return
        wait = self.pacer.wait(channel, slot, now, urgent=urgent)
        if wait:
            reason = f"paced: the next free slot in {channel} is in {wait:.1f}s"
            raise DeliveryFailed(reason, retry_after=wait, held=True)

    def _update_card(self, delivery: Delivery) -> str | None:
        ticket = delivery.view.ticket
        text, blocks = ticket_card(delivery.view, delivery.now)
        try:
            self._call(
                self._slack(delivery).api_call,
                delivery.now,
                "chat.update",
                api_method="chat.update",
                json=_fields(
                    channel=ticket.channel, ts=ticket.message_ts, text=text, blocks=blocks
                ),
            )
        except DeliveryFailed as failure:
            if failure.retryable:
                raise
            # The card is a view of the ticket, refreshed by every later change: a card that
            # cannot be updated (deleted, say) must not hold back the page itself.
            log.warning("could not update the card of %s: %s", ticket.ref, failure)
            return None
        return ticket.message_ts

    def _timers_in(
        self, where: Conversation, since: datetime, client: WebClient, now: datetime
    ) -> dict[str, str]:
        """The keys of the timers whose messages are in a conversation (read with ``client``,
        its workspace's) since ``since`` (less `CLOCK_SKEW`), every page of it,
        each with its message's ts."""
        channel, thread_ts = where
        request: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{(since - CLOCK_SKEW).timestamp():.6f}",
            "include_all_metadata": True,
            "limit": HISTORY_PAGE,
        }
        read: Callable[..., Any] = client.conversations_history
        scope = "conversations.history"
        if thread_ts:
            read, scope = client.conversations_replies, "conversations.replies"
            request["ts"] = thread_ts
        keys: dict[str, str] = {}
        while True:
            try:
                page = self._call(read, now, scope, **request)
            except DeliveryFailed as failure:
                if failure.retryable:
                    raise
                # History cannot be read here (a channel slabot posts to without being in
                # it, a missing scope): sending again risks a duplicate, never a loss.
                log.warning("cannot read %s to look for messages in doubt: %s", channel, failure)
                return keys
            for message in page.get("messages") or []:
                keys.update(dict.fromkeys(_timers_named(message), str(message.get("ts"))))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return keys
            request["cursor"] = cursor

    def _channel(self, post: _Post, delivery: Delivery) -> str:
        if not post.part.startswith("dm:"):
            return post.to
        dm = (delivery.view.ticket.workspace, post.to)
        if dm not in self._dms:
            opened = self._call(
                self._slack(delivery).conversations_open,
                delivery.now,
                "conversations.open",
                users=post.to,
            )
            self._dms[dm] = opened["channel"]["id"]
        return self._dms[dm]

    def _slack(self, delivery: Delivery) -> WebClient:
        return self._client(delivery.view.ticket.workspace)

    def _client(self, workspace: str) -> WebClient:
        """The client of ``workspace``; one slabot is no longer installed in fails for good:
        only installing it again can help."""
        try:
            return self.workspaces.client_for(workspace)
        except WorkspaceGone as gone:
            raise DeliveryFailed(str(gone), retryable=False) from None

    def _call(
        self,
        method: Callable[..., Any],
        now: datetime,
        scope: str,
        *,
        part: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """One Web API call, unless Slack asked calls of its ``scope`` to wait until after
        ``now``. ``part`` names the message it posts: in doubt if the answer never comes."""
        limit = (getattr(getattr(method, "__self__", None), "token", None), scope)
        until = self._limited.get(limit)
        if until is not None and now < until:
            wait = (until - now).total_seconds()
            reason = f"Slack asked to wait {wait:.0f}s more ({scope})"
            raise DeliveryFailed(reason, retry_after=wait, held=True)
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            failed = failure(exc)
            if failed.retry_after:
                self._limited[limit] = now + timedelta(seconds=failed.retry_after)
            raise failed from None
        except OSError as exc:  # timeouts, refused or dropped connections
            doubtful = frozenset({part}) if part and _may_have_arrived(exc) else frozenset()
            why = "no answer from Slack" if doubtful else "Slack unreachable"
            raise DeliveryFailed(f"{why}: {exc}", doubtful=doubtful) from None


def _fields(**fields: Any) -> dict[str, Any]:
    """A message's fields as the JSON body of ``api_call``, those not given left out.

    Messages and cards go through ``api_call`` rather than slack_sdk's ``chat_postMessage``
    and ``chat_update``, which walk every block looking for Block Kit objects to turn into
    dicts (six ``isinstance`` checks of abstract classes a block: a card's walk took about a
    fifth of its call's CPU). The blocks drawn here are dicts already."""
    return {name: value for name, value in fields.items() if value is not None}


def _may_have_arrived(exc: OSError) -> bool:
    """Whether a call that failed with ``exc`` may have reached Slack. Only a failure to
    connect (a plain `URLError`, from this client and from urllib alike) proves it did not;
    a timeout or a dropped connection after the request left may follow Slack's work."""
    return isinstance(exc, Unanswered) or not isinstance(exc, URLError)


def _edits(delivery: Delivery) -> list[str]:
    """The parts of a redraw owed for its own sake: the card, or each copy of a taken page."""
    timer = delivery.timer
    if (timer.kind, timer.stage) == (CARD, REDRAW):
        ticket = delivery.view.ticket
        return [CARD] if ticket.channel and ticket.message_ts else []
    if timer.kind == PAGE_COPY:
        return [f"copy:{c['part']}" for c in timer.detail.get("copies") or []]
    return []


def _timers_named(message: dict[str, Any]) -> set[str]:
    """The keys of the timers a message from history was sent for (several: pages sent to one
    person together), if it was."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return set()
    payload = metadata.get("event_payload") or {}
    keys = {payload.get("timer"), *(payload.get("timers") or ())}
    return {k for k in keys if isinstance(k, str)}


def _contacts(delivery: Delivery) -> tuple[str, ...]:
    if delivery.paged is not None:
        return delivery.paged
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
    held = status == 429  # Slack's limit: come back later, no attempt spent
    return DeliveryFailed(reason, retryable=retryable, retry_after=retry_after, held=held)


def _retry_after(headers: dict[str, Any]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
