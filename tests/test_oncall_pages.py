"""On call, end to end: a weekly rotation with an override decides whom each page reaches; only
those paged may answer, and an answer redraws every copy; who may change a ticket, by role and
surface. SQLite and PostgreSQL.

The real clock's dispatcher sends pages to the fake Slack at the test's instants; clicks and
commands go through the real Bolt app (signed requests); nothing of ours is mocked.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from slack_bolt import BoltRequest
from slack_sdk import WebClient
from support import signed
from support.courier import Courier
from support.desk import MIN, T0, Now, deliver
from support.desk import fake as fake
from support.desk import now as now
from support.fakeslack import FakeSlack, block_kit_errors

from slabot.clock.dispatch import Backoff, Dispatcher
from slabot.notify import Fanout
from slabot.notify.pagers import Pagers
from slabot.notify.slack import SlackNotifier
from slabot.oncall import OnCall
from slabot.policies import PolicyBook
from slabot.settings import load_settings
from slabot.sla.loader import parse_team
from slabot.slack.app import create_app
from slabot.store import Store
from slabot.tickets import SYSTEM, ChangeRequest, Tickets, TicketView

ROOT = Path(__file__).resolve().parent.parent
CHANNEL, SECRET, LEAD = "CSUPPORT", "test-signing-secret", "ULEAD"
LEVEL_2 = "Page to *Level 2*"
TEAM = """
leads: [ULEAD]
rotations:
  - key: support
    label: Support on call
    people: [UBEN, UANA]
    timezone: America/Los_Angeles
    starts: 2026-11-16
    handoff: "09:00"
    every: 1w
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> PolicyBook:
    """LiveOps whose Level 2 is the support rotation (no fixed contacts)."""
    data = yaml.safe_load((ROOT / "policies" / "liveops.yaml").read_text(encoding="utf-8"))
    data["escalation"]["levels"][1]["rotation"] = "support"
    folder = tmp_path_factory.mktemp("policies")
    (folder / "liveops.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return PolicyBook.load(folder)


@pytest.fixture
def desk(store: Store, book: PolicyBook) -> Tickets:
    return Tickets(store, book, admins={SYSTEM, "UADMIN"}, team=parse_team(TEAM))


@dataclass
class World:
    store: Store
    desk: Tickets
    fake: FakeSlack
    now: Now
    clock: Dispatcher
    app: Any

    def tick(self, at: datetime) -> None:
        self.now.value = at
        self.clock.tick(at)

    def dm(self, user: str) -> list[dict[str, Any]]:
        return self.fake.messages("D" + user[1:])

    def click(self, user: str, channel: str, ts: str) -> Any:
        body = signed.block_actions(
            [signed.button("sla_page_ack", "1:level_2")],
            team_id="T1",
            user_id=user,
            channel_id=channel,
            message_ts=ts,
        )
        headers = signed.signed_headers(SECRET, body)
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def command(self, user: str, text: str) -> str:
        body = signed.slash_command(text, team_id="T1", user_id=user, channel_id=CHANNEL)
        headers = signed.signed_headers(SECRET, body)
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        assert response.status == 200
        return json.loads(response.body)["text"] if response.body else ""  # "": acted


@pytest.fixture
def world(store: Store, desk: Tickets, fake: FakeSlack, now: Now) -> World:
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    notifier = Fanout([SlackNotifier(client), Pagers(httpx.Client())])
    clock = Dispatcher(store, desk, notifier, name="clock", backoff=Backoff(jitter=0))
    settings = load_settings(
        _env_file=None,
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=fake.url,
    )
    app = create_app(settings, client, tickets=desk, now=lambda: now.value)
    Courier.wire(store, desk, fake.url, lambda: now.value)  # as serve wakes its clock
    desk.bind_channel("T1", CHANNEL, "liveops", actor=SYSTEM, now=T0)
    return World(store, desk, fake, now, clock, app)


def open_p1(world: World, title: str = "checkout is down") -> TicketView:
    view = world.desk.open(
        "T1", title=title, severity="p1", policy="liveops", reporter="UREP",
        now=T0, channel=CHANNEL,
    ).view  # fmt: skip
    deliver(world.desk, world.fake, T0)
    return view


def test_each_page_reaches_whoever_is_on_call_when_it_falls_due(world):
    """Ben's week runs to Monday 09:00; then Ana's; Cat covers 20–45 minutes into it."""
    OnCall(world.store, world.desk.team).override(
        "T1", "support", "UCAT", starts_at=T0 + 20 * MIN, ends_at=T0 + 45 * MIN,
        actor=LEAD, now=T0 - MIN,
    )  # fmt: skip
    open_p1(world)
    world.tick(T0)  # the P1's page at opening: Monday 09:00, Ana's week begins
    world.tick(T0 + 30 * MIN)  # the first repeat: Cat covers
    world.tick(T0 + 60 * MIN)  # the second: Ana again
    pages = {u: len(world.dm(u)) for u in ("UANA", "UBEN", "UCAT")}
    assert pages == {"UANA": 2, "UBEN": 0, "UCAT": 1}
    # Each DM links back to the card and its thread, built as lists and Home build theirs: one
    # team.info for the workspace's domain, never a chat.getPermalink per card.
    card = world.desk.view("T1", 1, T0).ticket.message_ts
    link = f"https://{signed.TEAM_DOMAIN}.slack.com/archives/{CHANNEL}/p{card.replace('.', '')}"
    assert all(f"<{link}|Open SLA-1 and its thread>" in m["text"] for m in world.dm("UANA"))
    assert len(world.fake.calls_to("team.info")) == 1
    assert world.fake.calls_to("chat.getPermalink") == []
    thread = [m["text"] for m in world.fake.messages(CHANNEL) if LEVEL_2 in m["text"]]
    assert ["<@UANA>" in t for t in thread] == [True, False, True]
    assert "<@UCAT>" in thread[1]


def test_only_those_paged_may_answer_and_an_answer_redraws_every_copy(world):
    view = open_p1(world)
    world.tick(T0)  # Ana
    OnCall(world.store, world.desk.team).override(
        "T1", "support", "UCAT", starts_at=T0 + 20 * MIN, ends_at=T0 + 45 * MIN,
        actor=LEAD, now=T0 + MIN,
    )  # fmt: skip
    world.tick(T0 + 30 * MIN)  # Cat
    world.now.value = T0 + 31 * MIN
    ana_dm = world.dm("UANA")[0]

    # Ben is in the rotation but was not paged; Ben and a stranger are refused, nothing changes.
    for user in ("UBEN", "USTRANGER"):
        assert world.click(user, "DANA", ana_dm["ts"]).status == 200
    refusals = world.fake.wait_for("chat.postEphemeral", 2)
    told = {r.args["user"]: r.args["text"] for r in refusals}
    assert sorted(told) == ["UBEN", "USTRANGER"]
    assert all("only those paged" in t and "<@UANA>, <@UCAT>" in t for t in told.values())
    assert world.desk.view("T1", 1, world.now.value).ticket.acknowledged_at is None

    # Ana was paged at 09:00 and may answer from her DM, though Cat is on call now.
    assert world.click("UANA", "DANA", ana_dm["ts"]).status == 200
    copies = [
        ("DANA", ana_dm["ts"]),
        ("DCAT", world.dm("UCAT")[0]["ts"]),
        *[
            (CHANNEL, m["ts"])
            for m in world.fake.messages(CHANNEL)
            if "Page to *Level 2*" in m["text"]
        ],
    ]
    assert len(copies) == 4
    world.fake.wait_for("chat.update", 2 + 1 + 4)  # the card after each page and now; copies
    for channel, ts in copies:
        message = world.fake.message(channel, ts)
        assert not [b for b in message["blocks"] if b["type"] == "actions"], (channel, message)
        assert "Taken by <@UANA>" in json.dumps(message["blocks"])
    ticket = world.desk.view("T1", 1, world.now.value).ticket
    assert (ticket.acknowledged_by, ticket.owner) == ("UANA", "UANA")
    assert view.ticket.number == 1


def test_oncall_shows_now_and_next_and_covers_are_for_leads_and_the_rotations_people(world):
    world.now.value = T0 + 60 * MIN
    shown = world.command("UREP", "oncall")
    assert "Support on call: UANA" in shown

    refused = world.command("USTRANGER", "oncall cover <@USTRANGER> until +2h")
    assert "you may not change who is on call" in refused and "<@ULEAD>" in refused
    assert "UBEN" not in world.command("UREP", "oncall")

    said = world.command("UBEN", "oncall cover <@UBEN> from +1h until +3h")
    assert "<@UBEN> is on call in `support`" in said
    watch = OnCall(world.store, world.desk.team).watch("T1", T0 + 2 * 60 * MIN)
    assert watch[0].now.person == "UBEN" and watch[0].now.scheduled == "UANA"
    assert watch[0].now.override is not None and watch[0].now.override.by == "UBEN"
    assert "until" in world.command("ULEAD", "oncall support cover <@UCAT> until +30m")
    bad = world.command("ULEAD", "oncall nights cover <@UCAT> until +30m")
    assert "unknown rotation 'nights'" in bad


# Who may make each deployment-wide change, by role, at T0 (Ana is on call, Ben is in the
# rotation but off duty): the defaults of the team file's roles, and admins always.
MATRIX = {
    "outage start": {"ULEAD", "UANA", "UADMIN"},
    "maintenance sat 22:00 2h upgrade": {"ULEAD", "UANA", "UADMIN"},
    "policy liveops": {"ULEAD", "UADMIN"},
    "oncall cover <@UCAT> from +1d until +2d": {"ULEAD", "UANA", "UBEN", "UADMIN"},
}


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("text", sorted(MATRIX))
def test_every_deployment_change_by_every_role_through_the_command(world, text):
    allowed = set()
    for user in ("ULEAD", "UANA", "UBEN", "UREP", "UADMIN"):
        answer = world.command(user, text)
        if not answer.startswith("you may not"):
            allowed.add(user)
        else:
            assert "may. Ask <@ULEAD>" in answer, answer
        if text.startswith("outage") and user in allowed:  # end it, for the next one
            world.command(user, "outage end")
    assert allowed == MATRIX[text]


def test_pages_due_together_for_one_person_arrive_as_one_message(world):
    open_p1(world)
    open_p1(world, "search is down")
    world.tick(T0)
    [dm] = world.dm("UANA")  # one message, listing both pages
    assert dm["text"].startswith("2 pages for you:")
    assert "SLA-1" in dm["text"] and "SLA-2" in dm["text"]
    buttons = [e["value"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["1:level_2", "2:level_2"]
    assert block_kit_errors(dm["blocks"]) == []
    assert dm["metadata"]["event_payload"]["timers"] == [
        "1:page:rule0:level_2:0",
        "2:page:rule0:level_2:0",
    ]
    # each ticket's thread still has its own page; nothing goes twice in the next tick
    assert len([m for m in world.fake.messages(CHANNEL) if LEVEL_2 in m["text"]]) == 2
    calls = len(world.fake.calls_to("chat.postMessage"))
    world.tick(T0 + timedelta(seconds=1))
    assert len(world.fake.calls_to("chat.postMessage")) == calls

    # Answering the second page from the shared message answers that page only, and redraws it.
    world.now.value = T0 + MIN
    body = signed.block_actions(
        [signed.button("sla_page_ack", "2:level_2")], team_id="T1", user_id="UANA",
        channel_id="DANA", message_ts=dm["ts"], message=dm,
    )  # fmt: skip
    world.app.dispatch(BoltRequest(body=body, headers=signed.signed_headers(SECRET, body)))
    world.fake.wait_for("chat.update", 2 + 1 + 2)  # the cards after the page, SLA-2's, copies
    assert world.desk.view("T1", 2, world.now.value).ticket.acknowledged_by == "UANA"
    assert world.desk.view("T1", 1, world.now.value).ticket.acknowledged_by is None
    # the shared message keeps SLA-1's button and says who took SLA-2's page
    shared = world.fake.message("DANA", dm["ts"])
    buttons = [
        e["value"] for b in shared["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["1:level_2"] and "Taken by <@UANA>" in json.dumps(shared["blocks"])


# -- who may change a ticket: every change, every role, through the command and the card -------

OWNER, REPORTER, ON_CALL, OFF_CALL, STRANGER, ADMIN = (
    "UOWN", "UREP", "UANA", "UBEN", "USTR", "UADMIN",
)  # fmt: skip
PEOPLE = (OWNER, REPORTER, ON_CALL, OFF_CALL, LEAD, STRANGER, ADMIN)
# Who may make each change by default: its owner, those it escalates to (Level 2 is the
# support rotation: Ana is on call at T0, Ben's week has just ended), the team's leads and the
# admins; the reporter may also change the severity, pause the clocks and reopen.
TICKET_MATRIX = {
    "sev": {OWNER, REPORTER, ON_CALL, LEAD, ADMIN},
    "wait": {OWNER, REPORTER, ON_CALL, LEAD, ADMIN},
    "assign": {OWNER, ON_CALL, LEAD, ADMIN},
    "resolve": {OWNER, ON_CALL, LEAD, ADMIN},
    "close": {OWNER, ON_CALL, LEAD, ADMIN},
    "reopen": {OWNER, REPORTER, ON_CALL, LEAD, ADMIN},
}
COMMANDS = {
    "sev": "sev {n} p2 not that bad",
    "wait": "wait {n} customer",
    "assign": "assign {n} <@UCAT>",
    "resolve": "resolve {n}",
    "close": "close {n}",
    "reopen": "reopen {n}",
}
BUTTONS = {
    "wait": "sla_wait",
    "resolve": "sla_resolve",
    "close": "sla_close",
    "reopen": "sla_reopen",
}


def _ticket_for(world: World, change: str) -> int:
    """A P1 reported by the reporter and owned by the owner, resolved first where the change
    needs it (close, reopen)."""
    view = world.desk.open(
        "T1", title=f"{change} check", severity="p1", policy="liveops", reporter=REPORTER,
        now=T0, channel=CHANNEL,
    ).view  # fmt: skip
    number = view.ticket.number
    world.desk.assign(ChangeRequest("T1", number, actor=ADMIN, now=T0), OWNER)
    if change in ("close", "reopen"):
        world.desk.resolve(ChangeRequest("T1", number, actor=ADMIN, now=T0))
    deliver(world.desk, world.fake, T0)
    return number


def _changed(world: World, number: int, before: int) -> bool:
    return world.desk.view("T1", number, T0 + MIN).ticket.version > before


def _settled(world: World, number: int, before: int, told: int) -> None:
    """Wait for a click's outcome: the ticket changed, or the person was told why not (Bolt
    may act on a click after it has answered Slack)."""
    deadline = time.monotonic() + 30
    while not (
        _changed(world, number, before) or len(world.fake.calls_to("chat.postEphemeral")) > told
    ):
        assert time.monotonic() < deadline, "the click neither changed the ticket nor answered"
        time.sleep(0.05)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("change", sorted(TICKET_MATRIX))
def test_every_ticket_change_by_every_role_through_the_command_and_the_card(world, change):
    """The same rule whichever way the change comes: allowed, the ticket changes; refused, it
    does not, and the answer says who may."""
    world.now.value = T0 + MIN
    surfaces = ["command", *(["card"] if change in BUTTONS else [])]
    for surface in surfaces:
        allowed = set()
        for user in PEOPLE:
            number = _ticket_for(world, change)
            before = world.desk.view("T1", number, T0).ticket.version
            if surface == "command":
                answer = world.command(user, COMMANDS[change].format(n=number))
                if not _changed(world, number, before):
                    assert answer.startswith("you may not"), (user, change, answer)
            else:
                channel, ts = CHANNEL, world.desk.view("T1", number, T0).ticket.message_ts
                card = world.fake.message(channel, ts)
                element = next(
                    e
                    for b in card["blocks"]
                    for e in b.get("elements", [])
                    if e.get("action_id") == BUTTONS[change]
                )
                body = signed.block_actions(
                    [signed.button(BUTTONS[change], element["value"], block_id="sla_ticket")],
                    team_id="T1", user_id=user, channel_id=channel, message_ts=ts,
                )  # fmt: skip
                told = len(world.fake.calls_to("chat.postEphemeral"))
                response = world.app.dispatch(
                    BoltRequest(body=body, headers=signed.signed_headers(SECRET, body))
                )
                assert response.status == 200
                _settled(world, number, before, told)
            if _changed(world, number, before):
                allowed.add(user)
        assert allowed == TICKET_MATRIX[change], (surface, change)
