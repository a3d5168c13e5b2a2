"""The clock's test desk: a policy book with pagers, a moving clock, a fake Slack, the use cases
and a `Dispatcher` wired to them, and helpers to open tickets and read what was sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from slack_sdk import WebClient
from sqlalchemy import select

from slabot.clock.dispatch import Backoff, Dispatcher
from slabot.notify import Fanout
from slabot.notify.pagers import Pagers
from slabot.notify.slack import SlackNotifier
from slabot.policies import PolicyBook
from slabot.slack.keepalive import KeepAliveWebClient
from slabot.slack.pacing import Pacer
from slabot.store import Store
from slabot.store.tables import Ticket, TimerRow
from slabot.tickets import SYSTEM, Tickets, TicketView
from slabot.tickets.timers import MESSAGES
from support.courier import Courier
from support.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]  # the repository
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 09:00 in Los Angeles (LiveOps)
SEC, MIN, HOUR, DAY = (
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
)
LEVEL_2 = [
    "U0L2A",
    "U0L2B",
    "S0GROUP",
    "C0PAGES",
]  # LiveOps level 2: two people, a group, a channel
CHANNEL = "CSUPPORT"
SECRET = "test-signing-secret"
HOOK = "https://hooks.example.com/slabot"
ENV = {"PD_ROUTING_KEY": "pd-routing-key", "HOOK_SECRET": "hook-secret"}


# -- the world ----------------------------------------------------------------------------------


@dataclass
class Now:
    """The test's clock: what every tick, use case and fake Slack timestamp reads."""

    value: datetime = T0

    def seconds(self) -> float:
        return self.value.timestamp()


def _policy(name: str, *, pagers: bool = False) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "policies" / f"{name}.yaml").read_text(encoding="utf-8"))
    levels = data["escalation"]["levels"]
    if name == "liveops":
        levels[1]["contacts"] = LEVEL_2
    else:
        levels[0]["contacts"] = ["U0SEC"]
    if pagers:
        data["name"] = "pagerdemo"
        levels[1]["pagerduty"] = {"routing_key_env": "PD_ROUTING_KEY"}
        levels[1]["webhook"] = {"url": HOOK, "secret_env": "HOOK_SECRET"}
    return data


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> PolicyBook:
    """LiveOps and SecPod with contacts; ``pagerdemo`` is LiveOps whose level 2 also has
    PagerDuty and a webhook."""
    folder = tmp_path_factory.mktemp("policies")
    for name, data in [
        ("liveops", _policy("liveops")),
        ("secpod", _policy("secpod")),
        ("pagerdemo", _policy("liveops", pagers=True)),
    ]:
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return PolicyBook.load(folder)


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def fake(now: Now) -> Iterator[FakeSlack]:
    with FakeSlack(clock=now.seconds) as fake:
        yield fake


@pytest.fixture
def desk(store: Store, book: PolicyBook) -> Tickets:
    """The use cases as the clock builds them: the system actor among the admins."""
    return Tickets(store, book, admins={SYSTEM})


def slack(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])


def dispatcher(
    store: Store,
    desk: Tickets,
    fake: FakeSlack,
    name: str = "clock-a",
    *,
    timeout: float | None = None,
    pacer: Pacer | None = None,
    **options: Any,
) -> Dispatcher:
    """A dispatcher as the clock builds it; with ``timeout``, over the clock's own Web API
    client, waiting that long for Slack's answer (10 s in production); with ``pacer``, its
    posts spaced to Slack's limit per channel as the clock's are (off by default, so a test of
    something else can post to one channel as fast as it likes)."""
    options.setdefault("backoff", Backoff(base=10 * SEC, cap=10 * MIN, jitter=0))
    client = slack(fake)
    if timeout is not None:
        client = KeepAliveWebClient(
            token="xoxb-test", base_url=fake.url, timeout=timeout, retry_handlers=[]
        )
    notifier = Fanout([SlackNotifier(client, pacer), Pagers(httpx.Client(), env=ENV)])
    return Dispatcher(store, desk, notifier, name=name, **options)


def open_ticket(
    desk: Tickets,
    fake: FakeSlack,
    *,
    severity: str = "p1",
    policy: str = "liveops",
    at: datetime = T0,
    channel: str | None = CHANNEL,
    title: str = "checkout is down",
) -> TicketView:
    """Open a ticket and let the clock post its card through the fake, as after `/sla open`."""
    view = desk.open(
        "T1",
        title=title,
        severity=severity,
        policy=policy,
        reporter="UREP",
        now=at,
        channel=channel,
    ).view
    deliver(desk, fake, at)
    return desk.view("T1", view.ticket.number, at)


def deliver(desk: Tickets, fake: FakeSlack, at: datetime) -> None:
    """Let the clock deliver the messages owed at ``at`` (cards, notes, redraws)."""
    Courier(desk.store, desk, fake.url, lambda: at)()


def timers(
    store: Store, ticket: Ticket | int, state: str | None = None, *, messages: bool = False
) -> list[TimerRow]:
    """The ticket's timers (with ``messages``, also the cards and notes its changes owed)."""
    ticket_id = ticket if isinstance(ticket, int) else ticket.id
    with store.reading() as session:
        query = select(TimerRow).where(TimerRow.c.ticket_id == ticket_id)
        if not messages:
            query = query.where(TimerRow.c.kind.not_in(MESSAGES))  # type: ignore[attr-defined]
        if state:
            query = query.where(TimerRow.c.state == state)
        return list(session.exec(query.order_by(TimerRow.c.due_at, TimerRow.c.id)))


def timer(store: Store, ticket: Ticket, kind: str, stage: str, repeat: int = 0) -> TimerRow:
    return next(
        t for t in timers(store, ticket) if (t.kind, t.stage, t.repeat) == (kind, stage, repeat)
    )


def posts(fake: FakeSlack) -> list[Any]:
    """Every message slabot's clock posted for a timer of a schedule (reminders, nudges,
    pages...): not the cards and thread notes the changes owed."""
    return [
        c
        for c in fake.calls_to("chat.postMessage", ok=True)
        if (c.args.get("metadata") or {}).get("event_type") == "slabot_timer"
        and c.args["metadata"]["event_payload"]["timer"].split(":")[1] not in MESSAGES
    ]


def sends(fake: FakeSlack) -> Counter[tuple[str, str]]:
    """How many times each timer reached each channel (a message carrying several pages to one
    person counts once for each page it carries)."""
    counts: Counter[tuple[str, str]] = Counter()
    for call in posts(fake):
        payload = call.args["metadata"]["event_payload"]
        for key in payload.get("timers") or [payload["timer"]]:
            counts[(key, call.response["channel"])] += 1
    return counts


def thread(fake: FakeSlack, view: TicketView) -> list[dict[str, Any]]:
    return fake.thread(view.ticket.channel, view.ticket.message_ts)


def texts(node: Any) -> list[str]:
    """Every ``text`` string in a Block Kit structure, in order."""
    if isinstance(node, list):
        return [t for item in node for t in texts(item)]
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [
            t
            for key, value in node.items()
            if key != "text" or not isinstance(value, str)
            for t in texts(value)
        ]
    return []


def tick(d: Dispatcher, now: Now, at: datetime):
    now.value = at
    return d.tick(at)


# -- on time ------------------------------------------------------------------------------------
