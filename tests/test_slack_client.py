"""The app's Slack client (`slack.client.make_client`): what it retries, against the fake Slack
that performs a call and then answers late, as Slack does when it is slow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackRequestError
from support.fakeslack import FakeSlack

from slabot.settings import load_settings
from slabot.slack.client import make_client


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def client_for(fake: FakeSlack):
    settings = load_settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=fake.url)
    client = make_client(settings)
    client.timeout = 0.3  # give up long before the fake answers
    return client


def test_a_post_that_got_no_answer_is_not_posted_again(fake):
    client = client_for(fake)
    fake.hang(2, "chat.postMessage")
    with pytest.raises((SlackRequestError, OSError)):
        client.chat_postMessage(channel="C1", text="the card")
    fake.heal()
    # Slack did the work once; the client did not send it again.
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(fake.messages("C1")) == 1


def test_an_update_that_got_no_answer_is_tried_again(fake):
    client = client_for(fake)
    posted = client.chat_postMessage(channel="C1", text="the card")
    fake.hang(2, "chat.update")
    with pytest.raises((SlackRequestError, OSError)):
        client.chat_update(channel="C1", ts=posted["ts"], text="redrawn")
    fake.heal()
    # Doing an update twice changes nothing, so it was retried (three more times).
    assert len(fake.calls_to("chat.update")) == 4
