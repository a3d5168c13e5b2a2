"""A page to a Slack user group is answered by the group's members, end to end: the real clock
pages the group in the ticket's thread through the fake Slack, and clicks on *I'm on it* go
through the real Bolt app. SQLite and PostgreSQL.

A user relies on: when ``@support-l2`` is paged, anyone in it may take the page, and nobody
else; whoever is refused is told who may.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from slack_bolt import BoltRequest
from slack_sdk import WebClient
from support import signed
from support.courier import Courier
from support.desk import T0, deliver
from support.desk import fake as fake
from support.desk import now as now

from slabot.clock.dispatch import Backoff, Dispatcher
from slabot.notify import Fanout
from slabot.notify.pagers import Pagers
from slabot.notify.slack import SlackNotifier
from slabot.policies import PolicyBook
from slabot.settings import load_settings
from slabot.slack.app import create_app
from slabot.slack.usergroups import GroupMembers
from slabot.store import Store
from slabot.tickets import SYSTEM, Tickets

ROOT = Path(__file__).resolve().parent.parent
CHANNEL, SECRET, GROUP = "CSUPPORT", "test-signing-secret", "SLEVEL2"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> PolicyBook:
    """LiveOps whose Level 2 is one user group."""
    data = yaml.safe_load((ROOT / "policies" / "liveops.yaml").read_text(encoding="utf-8"))
    data["escalation"]["levels"][1]["contacts"] = [GROUP]
    folder = tmp_path_factory.mktemp("policies")
    (folder / "liveops.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return PolicyBook.load(folder)


@pytest.fixture
def paged(store: Store, book: PolicyBook, fake: Any, now: Any) -> Any:
    """A P1 whose Level 2 page went to the group; the app wired as ``serve`` wires it."""
    fake.groups[GROUP] = ["UMEM", "UMATE"]
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    desk = Tickets(store, book, admins={SYSTEM})
    desk.read_groups(GroupMembers(client))
    settings = load_settings(
        _env_file=None, slack_signing_secret=SECRET, slack_bot_token="xoxb-test",
        slack_api_url=fake.url,
    )  # fmt: skip
    app = create_app(settings, client, tickets=desk, now=lambda: now.value)
    Courier.wire(store, desk, fake.url, lambda: now.value)
    desk.open("T1", title="checkout is down", severity="p1", policy="liveops",
              reporter="UREP", now=T0, channel=CHANNEL)  # fmt: skip
    deliver(desk, fake, T0)
    notifier = Fanout([SlackNotifier(client), Pagers(httpx.Client())])
    Dispatcher(store, desk, notifier, name="clock", backoff=Backoff(jitter=0)).tick(T0)
    [page] = [m for m in fake.messages(CHANNEL) if "Page to *Level 2*" in m["text"]]
    assert f"<!subteam^{GROUP}>" in page["text"]

    def click(user: str) -> None:
        body = signed.block_actions(
            [signed.button("sla_page_ack", "1:level_2")],
            team_id="T1", user_id=user, channel_id=CHANNEL, message_ts=page["ts"],
        )  # fmt: skip
        response = app.dispatch(BoltRequest(body=body, headers=signed.signed_headers(SECRET, body)))
        assert response.status == 200

    return desk, click


def test_a_member_of_the_paged_group_may_answer_and_others_are_told_who_may(paged, fake, now):
    desk, click = paged
    click("USTRANGER")
    [refusal] = fake.wait_for("chat.postEphemeral", 1)
    assert refusal.args["user"] == "USTRANGER"
    assert "only those paged" in refusal.args["text"]
    assert "<@UMATE>" in refusal.args["text"] and "<@UMEM>" in refusal.args["text"]
    assert desk.view("T1", 1, now.value).ticket.acknowledged_at is None

    edits = len(fake.calls_to("chat.update"))
    click("UMEM")
    fake.wait_for("chat.update", edits + 1)  # the clicked page, marked taken
    ticket = desk.view("T1", 1, now.value).ticket
    assert (ticket.acknowledged_by, ticket.owner) == ("UMEM", "UMEM")
    assert len(fake.calls_to("chat.postEphemeral")) == 1  # the member was not refused


def test_the_groups_members_are_read_once_for_many_clicks(paged, fake):
    _, click = paged
    click("USTRANGER")
    fake.wait_for("chat.postEphemeral", 1)  # one click after the other
    click("UOTHER")
    fake.wait_for("chat.postEphemeral", 2)
    assert len(fake.calls_to("usergroups.users.list")) == 1


def test_a_group_slack_cannot_list_falls_back_to_its_mention_and_anyone_may_answer(
    paged, fake, now
):
    """The page still reached the group through its mention: nobody it reached is locked out
    because Slack could not say who they are."""
    desk, click = paged
    del fake.groups[GROUP]
    edits = len(fake.calls_to("chat.update"))
    click("USTRANGER")
    fake.wait_for("chat.update", edits + 1)
    assert desk.view("T1", 1, now.value).ticket.acknowledged_by == "USTRANGER"
    [asked] = fake.calls_to("usergroups.users.list")
    assert asked.response["error"] == "no_such_subteam"
