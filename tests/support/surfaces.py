"""Checking what a Block Kit builder drew: Slack's limits on every block and text
(`check_limits`), slack_sdk's own models (`slack_sdk_accepts`), all the text a reader sees
(`all_text`), and tickets to draw (`view_of`, `many_views`)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from slabot.sla import Policy
from slabot.sla.history import (
    Event,
    Opened,
)
from slabot.sla.schedule import schedule
from slabot.store.tables import Ticket
from slabot.tickets.views import TicketView

MIN = timedelta(minutes=1)


def view_of(
    policy: Policy,
    history: list[Event],
    now: datetime,
    *,
    number: int = 42,
    version: int = 3,
    title: str = "Checkout is down",
    description: str = "",
    owner: str | None = None,
    acknowledged: datetime | None = None,
    said: str | None = None,
) -> TicketView:
    """A ticket as the use cases would leave it, with the engine's schedule at ``now``;
    ``said``: its last update's text."""
    plan = schedule(policy, history, now)
    opened = history[0]
    assert isinstance(opened, Opened)
    ticket = Ticket(
        id=number,
        workspace="T1",
        number=number,
        title=title,
        description=description,
        policy=policy.name,
        policy_digest=policy.digest,
        severity=plan.severity,
        status=plan.status,
        active=plan.status not in ("resolved", "closed"),
        reporter="U0REPORTER",
        owner=owner,
        reported_at=opened.reported_at or opened.at,
        opened_at=opened.at,
        acknowledged_at=acknowledged,
        acknowledged_by=owner if acknowledged else None,
        version=version,
        updated_at=now,
    )
    return TicketView(ticket, policy, plan, last_update=said)


# -- the generic limit walker ---------------------------------------------------------------------

TEXT_LIMITS = {  # the key a text object sits under → its limit
    "header": 150,
    "field": 2000,
    "button": 75,
    "option": 75,
    "description": 75,
    "placeholder": 150,
    "confirm.title": 100,
    "confirm.text": 300,
    "confirm.confirm": 30,
    "confirm.deny": 30,
    "view.title": 24,
    "view.submit": 24,
    "view.close": 24,
    "label": 2000,
    "hint": 2000,
}
ALLOWED_TOKEN = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!date\^\d+\^[^|>]*\|[^<>]*)>"
)


def size(text: str) -> int:
    """UTF-16 code units: what Slack counts."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def check_limits(surface: Any, *, max_blocks: int = 50) -> list[dict]:
    """Walk a list of blocks (or a view) and fail on anything Block Kit would refuse.

    Returns every text object found, for further checks.
    """
    texts: list[dict] = []
    if isinstance(surface, dict):  # a modal or Home view
        assert len(surface["blocks"]) <= max_blocks
        for key in ("title", "submit", "close"):
            if key in surface:
                _text(surface[key], f"view.{key}", texts)
        assert size(surface.get("private_metadata", "")) <= 3000
        assert len(surface.get("callback_id", "")) <= 255
        blocks_ = surface["blocks"]
    else:
        assert len(surface) <= max_blocks
        blocks_ = surface
    for block in blocks_:
        _block(block, texts)
    json.dumps(surface, ensure_ascii=False).encode("utf-8")  # no lone surrogates anywhere
    return texts


def _text(obj: dict, where: str, texts: list[dict]) -> None:
    assert obj["type"] in ("plain_text", "mrkdwn"), obj
    text = obj["text"]
    assert 1 <= size(text) <= TEXT_LIMITS.get(where, 3000), (where, size(text))
    if obj["type"] == "mrkdwn":
        for token in re.findall(r"<[^>]*>?", text):
            assert ALLOWED_TOKEN.fullmatch(token), f"unexpected token {token!r} in {where}"
    texts.append(obj)


def _block(block: dict, texts: list[dict]) -> None:
    assert len(block.get("block_id", "")) <= 255
    kind = block["type"]
    if kind == "header":
        assert block["text"]["type"] == "plain_text"
        _text(block["text"], "header", texts)
    elif kind == "section":
        if "text" in block:
            _text(block["text"], "section", texts)
        assert len(block.get("fields", [])) <= 10
        for field in block.get("fields", []):
            _text(field, "field", texts)
        if "accessory" in block:
            _element(block["accessory"], texts)
    elif kind == "context":
        assert 1 <= len(block["elements"]) <= 10
        for element in block["elements"]:
            _text(element, "context", texts)
    elif kind == "actions":
        assert 1 <= len(block["elements"]) <= 25
        for element in block["elements"]:
            _element(element, texts)
    elif kind == "input":
        _text(block["label"], "label", texts)
        if "hint" in block:
            _text(block["hint"], "hint", texts)
        _element(block["element"], texts)
    else:
        assert kind == "divider", kind


def _element(element: dict, texts: list[dict]) -> None:
    assert len(element.get("action_id", "")) <= 255
    if "placeholder" in element:
        _text(element["placeholder"], "placeholder", texts)
    if element["type"] == "button":
        _text(element["text"], "button", texts)
        assert size(element.get("value", "")) <= 2000
        if "confirm" in element:
            for key in ("title", "text", "confirm", "deny"):
                _text(element["confirm"][key], f"confirm.{key}", texts)
    options = list(element.get("options", []))
    groups = element.get("option_groups", [])
    assert len(options) <= 100 and len(groups) <= 100
    for group in groups:
        _text(group["label"], "option", texts)
        assert len(group["options"]) <= 100
        options += group["options"]
    for option in options:
        _text(option["text"], "option", texts)
        assert size(option["value"]) <= 150
        if "description" in option:
            _text(option["description"], "description", texts)
    if "initial_option" in element:
        assert element["initial_option"] in options
    if element["type"] == "plain_text_input":
        assert element.get("max_length", 3000) <= 3000
        assert size(element.get("initial_value", "")) <= element.get("max_length", 3000)


def actions_of(blocks_: list[dict]) -> dict[str, dict]:
    found = {}
    for block in blocks_:
        if block["type"] == "actions":
            assert block["block_id"] == "sla_ticket"
            found.update({e["action_id"]: e for e in block["elements"]})
    return found


def all_text(blocks_: Any) -> str:
    return "\n".join(t["text"] for t in check_limits(blocks_, max_blocks=100))


def slack_sdk_accepts(blocks_: list[dict]) -> None:
    """slack_sdk's own models parse and validate every block (its checks, not ours)."""
    models = pytest.importorskip("slack_sdk.models.blocks")
    for block in blocks_:
        models.Block.parse(block).validate_json()


def many_views(policy: Policy, n: int, now: datetime) -> list[TicketView]:
    keys = [s.key for s in policy.severities]
    return [
        view_of(policy, [Opened(now - i * MIN, keys[i % len(keys)])], now, number=i + 1)
        for i in range(n)
    ]
