"""Talking to the Slack app as Slack does, in the spirit of errbot's test backend: the real app
served over HTTP, Slack-signed requests in, the fake Slack's record of what the app said out.

`Slack` is the driver (``slack.command("open p1 checkout down")``, ``slack.click(...)``,
``slack.wait_thread(1, 2)``); `TestClock` is the app's clock, moved by hand; the fixtures
``fake``, ``clock`` and ``slack`` wire them to a store with the repository's policies.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import waitress
from sqlalchemy import select
from waitress import wasyncore

from slabot.policies import PolicyBook
from slabot.settings import load_settings
from slabot.sla.oncall import Team
from slabot.slack.app import create_app
from slabot.slack.client import make_client
from slabot.store import Store
from slabot.store.tables import Ticket, TicketEvent
from slabot.tickets import NotFound, Tickets
from slabot.web import wsgi_app
from support import signed
from support.courier import Courier
from support.fakeslack import Call, FakeSlack, block_kit_errors

ROOT = Path(__file__).resolve().parents[2]  # the repository
POLICIES = ROOT / "policies"
SECRET = "e2e-signing-secret-0123456789abcdef"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 09:00 in Los Angeles (liveops' zone)
TEAM, OTHER_TEAM = "T0001", "T0002"
CHANNEL = "C0001"  # bound to the liveops policy
REPORTER, STRANGER, ADMIN = "U0001", "U0666", "UADMIN"


sqlite_only = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


# -- the driver -------------------------------------------------------------------------------


class TestClock:
    """The app's ``now``: fixed, moved on by the test."""

    __test__ = False

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Answer:
    """The app's HTTP answer to one request, and where a later ephemeral answer would go."""

    status: int
    headers: dict[str, str]
    text: str
    fake: FakeSlack | None = None
    response_url: str | None = None

    @property
    def json(self) -> dict[str, Any]:
        """The ephemeral answer: in the acknowledgement, or (for a change, which acknowledges
        first and works after) posted to the command's response URL."""
        if self.text:
            return json.loads(self.text)
        assert self.fake is not None and self.response_url, "the app answered with an empty body"
        path = self.response_url.removeprefix(self.fake.base)
        for _ in range(100):
            posted = [c for c in self.fake.calls_to("response_url") if c.path == path]
            if posted:
                return posted[-1].args
            time.sleep(0.05)
        raise AssertionError(f"no answer in the acknowledgement nor at {path}")

    def ephemeral(self) -> str:
        """The text of an ephemeral answer, checked to be one (and within Block Kit's limits)."""
        assert self.status == 200, (self.status, self.text)
        body = self.json
        assert body["response_type"] == "ephemeral", body
        assert block_kit_errors(body.get("blocks") or []) == []
        return body["text"]


@contextmanager
def serving(app: Any, threads: int = 4) -> Iterator[str]:
    """``wsgi_app(app)`` under waitress on a free local port; yields its base URL."""
    server = waitress.create_server(
        wsgi_app(app), host="127.0.0.1", port=0, threads=threads, asyncore_loop_timeout=0.05
    )
    thread = threading.Thread(target=server.run, name="waitress-e2e", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close everything from the server's own loop, which then ends.
        server.task_dispatcher.shutdown()
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:  # the loop closed its trigger already (seen once under heavy load)
            wasyncore.close_all(server._map)
        thread.join(timeout=5)


def build_app(fake: FakeSlack, tickets: Tickets, clock: TestClock, secret: str = SECRET):
    settings = load_settings(
        _env_file=None,
        slack_bot_token="xoxb-test",
        slack_signing_secret=secret,
        slack_api_url=fake.url,
        slabot_policies=POLICIES,
    )
    client = make_client(settings)
    assert client.base_url == fake.url and len(client.retry_handlers) >= 3
    # As serve wakes its clock: what a request's change owes Slack is delivered once it commits.
    Courier.wire(tickets.store, tickets, fake.url, clock)
    return create_app(settings, client, tickets=tickets, now=clock)


@dataclass
class Slack:
    """Slack as the app meets it: signed requests in, the fake Web API for what comes out."""

    base: str
    fake: FakeSlack
    clock: TestClock
    tickets: Tickets

    @property
    def events(self) -> str:
        return f"{self.base}/slack/events"

    def send(self, body: str, **kw: Any) -> Answer:
        return Answer(*signed.post(self.events, body, SECRET, **kw))

    def command(self, text: str, **kw: Any) -> Answer:
        kw.setdefault("response_url", self.fake.response_url(uuid.uuid4().hex))
        answer = self.send(signed.slash_command(text, **kw))
        answer.fake, answer.response_url = self.fake, kw["response_url"]
        return answer

    def click(self, action: dict[str, Any], **kw: Any) -> Answer:
        return self.send(signed.block_actions([action], **kw))

    def click_on_card(self, number: int, action_id: str, *, option: str | None = None, **kw):
        """Click a control of the card as it stands at the fake (the value the user sees)."""
        channel, ts = self.card_of(number)
        element = control(self.fake.message(channel, ts), action_id)
        if option is None:
            action = signed.button(action_id, element["value"], block_id="sla_ticket")
        else:
            chosen = next(o for o in element["options"] if o["value"].endswith(f":{option}"))
            action = signed.select(action_id, chosen["value"], block_id="sla_ticket")
        kw.setdefault("channel_id", channel)
        return self.click(action, message_ts=ts, **kw)

    def submit(self, callback_id: str, values: dict[str, Any], **kw: Any) -> Answer:
        return self.send(signed.view_submission(callback_id, values, **kw))

    def event(self, event: dict[str, Any], **kw: Any) -> Answer:
        return self.send(signed.event_callback(event, **kw))

    def deliver(self) -> None:
        """Let the clock deliver the messages owed at the app's ``now`` (by changes made
        through the use cases directly)."""
        Courier(self.tickets.store, self.tickets, self.fake.url, self.clock)()

    # -- what the app stored --

    def ticket(self, number: int, workspace: str = TEAM) -> Ticket:
        return self.tickets.view(workspace, number, self.clock()).ticket

    def all_tickets(self) -> list[Ticket]:
        with self.tickets.store.reading() as session:
            return list(session.exec(select(Ticket).order_by(Ticket.c.id)))

    def events_of(self, number: int, kind: str | None = None) -> list[TicketEvent]:
        ticket = self.ticket(number)
        with self.tickets.store.reading() as session:
            query = select(TicketEvent).where(TicketEvent.c.ticket_id == ticket.id)
            found = list(session.exec(query.order_by(TicketEvent.c.id)))
        return [e for e in found if kind in (None, e.kind)]

    def card_of(self, number: int, workspace: str = TEAM) -> tuple[str, str]:
        ticket = self.ticket(number, workspace)
        assert ticket.channel and ticket.message_ts, f"SLA-{number} has no card"
        return ticket.channel, ticket.message_ts

    def card(self, number: int) -> dict[str, Any]:
        message = self.fake.message(*self.card_of(number))
        assert message is not None
        return message

    def thread(self, number: int, workspace: str = TEAM) -> list[str]:
        return [m["text"] for m in self.fake.thread(*self.card_of(number, workspace))]

    # -- waiting for what the app does after its acknowledgement --

    def wait_thread(self, number: int, count: int, workspace: str = TEAM) -> list[str]:
        """Until SLA-``number``'s thread has ``count`` replies (its card must exist)."""
        deadline = time.monotonic() + 10
        while True:
            seen = len(self.posts())
            try:
                ticket = self.ticket(number, workspace)
            except NotFound:
                ticket = None  # a click is acknowledged before the ticket opens
            if ticket is not None and ticket.message_ts:
                replies = self.thread(number, workspace)
                if len(replies) >= count:
                    return replies
            left = deadline - time.monotonic()
            assert left > 0, f"SLA-{number}'s thread never reached {count} replies"
            with suppress(AssertionError):  # every reply is a chat.postMessage: sleep until
                self.fake.wait_for("chat.postMessage", seen + 1, timeout=min(left, 1))  # one comes

    def posts(self) -> list[Call]:
        return self.fake.calls_to("chat.postMessage")

    def open(self, text: str = "p1 checkout is down", **kw: Any) -> int:
        """``/sla open`` a ticket that gets its card, its first thread reply and its answer to
        the person; its number."""
        before = {t.id for t in self.all_tickets()}
        answer = self.command(f"open {text}", **kw)
        assert (answer.status, answer.text) == (200, ""), answer
        ticket = self.wait_new_ticket(before)
        self.wait_thread(ticket.number, 1, ticket.workspace)
        said = answer.ephemeral()  # the open's last word: nothing of it is still on its way
        assert said.startswith(f"SLA-{ticket.number} "), said
        return ticket.number

    def wait_new_ticket(self, before: set[int | None], timeout: float = 5) -> Ticket:
        """The one ticket opened since ``before``: it is stored just after the acknowledgement."""
        deadline = time.monotonic() + timeout
        while True:
            new = [t for t in self.all_tickets() if t.id not in before]
            if new:
                [ticket] = new
                return ticket
            assert time.monotonic() < deadline, "no ticket was opened"
            time.sleep(0.02)

    def nothing_more(self, method: str, count: int, wait: float = 0.5) -> None:
        """No call beyond the ``count`` already made to ``method`` arrives within ``wait``."""
        with pytest.raises(AssertionError):
            self.fake.wait_for(method, count + 1, timeout=wait)
        assert len(self.fake.calls_to(method)) == count


def control(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} control in the message")


def action_ids(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def header(message: dict[str, Any]) -> str:
    return message["blocks"][0]["text"]["text"]


def texts(value: Any, *, plain: bool = False) -> Iterator[str]:
    """Every ``text`` string in a Slack payload that Slack parses for mentions and links:
    ``mrkdwn`` objects and a message's top-level text. (``plain_text`` objects are shown as
    typed, never parsed: a ``<!channel>`` there pings nobody; ``plain=True`` yields them too.)
    """
    if isinstance(value, dict):
        parsed = plain or value.get("type") != "plain_text"
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                if parsed:
                    yield item
            else:
                yield from texts(item, plain=plain)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item, plain=plain)


def ephemeral_click(action: dict[str, Any], message_ts: str, **kw: Any) -> str:
    """A click on a button of an ephemeral message: Slack sends the ephemeral's ts, no message."""
    body = signed.block_actions([action], **kw)
    payload = json.loads(dict(parse_qsl(body))["payload"])
    payload["container"]["message_ts"] = message_ts
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def clock() -> TestClock:
    return TestClock(T0)


@pytest.fixture
def slack(store: Store, policy_book: PolicyBook, fake: FakeSlack, clock: TestClock):
    # The reporter is also a lead: may record outages, announce maintenance, rebind channels.
    tickets = Tickets(store, policy_book, admins={ADMIN}, team=Team(leads=(REPORTER,)))
    tickets.bind_channel(TEAM, CHANNEL, "liveops", actor=ADMIN, now=T0)
    with serving(build_app(fake, tickets, clock)) as base:
        yield Slack(base, fake, clock, tickets)
    assert fake.errors == []


# -- signatures --------------------------------------------------------------------------------


def clean_env(**values: str) -> dict[str, str]:
    """An operator's bare environment, plus what moves the test run's clock (.ci/run) and
    where the session keeps what commands keep between runs (tests/conftest.py)."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}
    passed = ("SLABOT_TEST_TRAVEL_SECONDS", "PYTHONPATH", "XDG_CACHE_HOME")
    env |= {k: os.environ[k] for k in passed if k in os.environ}
    env.update(values)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
