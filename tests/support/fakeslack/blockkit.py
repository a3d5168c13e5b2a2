"""Block Kit's limits, checked the way Slack checks them (messages and views)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


def block_kit_errors(blocks: Any, *, max_blocks: int = 50, pointer: str = "/blocks") -> list[str]:
    """Slack's complaints about ``blocks``, in Slack's words; [] when Slack would accept them.

    Covers the limits a bot trips over: block counts (50 in a message, 100 in a view), text
    lengths (header 150, section 3000, field 2000, button 75, option 75/150, …), element counts,
    ID lengths and empty text.
    """
    problems: list[str] = []
    _Checker(problems).blocks(blocks, max_blocks, pointer)
    return problems


def view_errors(view: dict[str, Any]) -> list[str]:
    """Slack's complaints about a modal or Home tab view; [] when Slack would accept it."""
    problems: list[str] = []
    check = _Checker(problems)
    kind = view.get("type")
    if kind not in ("modal", "home"):
        check.fail("must be one of: modal, home", "/view/type")
    if kind == "modal":
        check.text(view.get("title"), 24, "/view/title", required=True, plain=True)
    for key in ("submit", "close"):
        check.text(view.get(key), 24, f"/view/{key}", plain=True)
    check.length(view.get("private_metadata"), 3000, "/view/private_metadata")
    check.length(view.get("callback_id"), 255, "/view/callback_id")
    blocks = view.get("blocks", [])
    check.blocks(blocks, 100, "/view/blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if kind == "modal" and has_input and view.get("submit") is None:
        check.fail("must provide a submit property when using input blocks", "/view")
    return problems


@dataclass
class _Checker:
    problems: list[str]

    def fail(self, message: str, pointer: str) -> None:
        self.problems.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def length(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def count(self, items: Any, limit: int, pointer: str) -> Iterator[tuple[int, Any]]:
        if items is None:
            return iter(())
        if not isinstance(items, list):
            self.fail("must be an array", pointer)
            return iter(())
        if len(items) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        return enumerate(items)

    def text(
        self, obj: Any, limit: int, pointer: str, *, required: bool = False, plain: bool = False
    ) -> None:
        if obj is None:
            if required:
                self.fail("missing required field: text", pointer)
            return
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.fail("must be a text object", pointer)
            return
        if plain and obj["type"] != "plain_text":
            self.fail("must be a plain_text object", pointer + "/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must be more than 0 characters", pointer + "/text")
        else:
            self.length(text, limit, pointer + "/text")

    def blocks(self, blocks: Any, limit: int, pointer: str) -> None:
        for i, block in self.count(blocks, limit, pointer):
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, p: str) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.fail("missing required field: type", p)
            return
        self.length(block.get("block_id"), 255, p + "/block_id")
        kind = block["type"]
        if kind == "header":
            self.text(block.get("text"), 150, p + "/text", required=True, plain=True)
        elif kind == "section":
            if block.get("text") is None and block.get("fields") is None:
                self.fail("must provide either text or fields", p)
            self.text(block.get("text"), 3000, p + "/text")
            for i, item in self.count(block.get("fields"), 10, p + "/fields"):
                self.text(item, 2000, f"{p}/fields/{i}")
            if block.get("accessory") is not None:
                self.element(block["accessory"], p + "/accessory")
        elif kind == "context":
            for i, item in self.count(block.get("elements"), 10, p + "/elements"):
                if isinstance(item, dict) and item.get("type") in ("plain_text", "mrkdwn"):
                    self.text(item, 3000, f"{p}/elements/{i}")
        elif kind == "actions":
            for i, item in self.count(block.get("elements"), 25, p + "/elements"):
                self.element(item, f"{p}/elements/{i}")
        elif kind == "input":
            self.text(block.get("label"), 2000, p + "/label", required=True, plain=True)
            self.text(block.get("hint"), 2000, p + "/hint", plain=True)
            if block.get("element") is None:
                self.fail("missing required field: element", p)
            else:
                self.element(block["element"], p + "/element")
        elif kind == "image":
            self.length(block.get("alt_text"), 2000, p + "/alt_text")
            self.length(block.get("image_url"), 3000, p + "/image_url")

    def element(self, element: Any, p: str) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail("missing required field: type", p)
            return
        self.length(element.get("action_id"), 255, p + "/action_id")
        self.text(element.get("placeholder"), 150, p + "/placeholder", plain=True)
        kind = element["type"]
        if kind == "button":
            self.text(element.get("text"), 75, p + "/text", required=True, plain=True)
            self.length(element.get("value"), 2000, p + "/value")
            self.length(element.get("url"), 3000, p + "/url")
        if kind == "overflow":
            options = element.get("options")
            if not isinstance(options, list) or not options:
                self.fail("must provide at least 1 option", p + "/options")
            for i, option in self.count(options, 5, p + "/options"):
                self.option(option, f"{p}/options/{i}")
        elif "options" in element or "option_groups" in element:
            for i, option in self.count(element.get("options"), 100, p + "/options"):
                self.option(option, f"{p}/options/{i}")
            for i, group in self.count(element.get("option_groups"), 100, p + "/option_groups"):
                gp = f"{p}/option_groups/{i}"
                if isinstance(group, dict):
                    self.text(group.get("label"), 75, gp + "/label", required=True, plain=True)
                    for j, option in self.count(group.get("options"), 100, gp + "/options"):
                        self.option(option, f"{gp}/options/{j}")
        if element.get("initial_option") is not None:
            self.option(element["initial_option"], p + "/initial_option")
        if kind == "plain_text_input":
            max_length = element.get("max_length")
            if isinstance(max_length, int) and max_length > 3000:
                self.fail("must be less than 3001", p + "/max_length")
            self.length(element.get("initial_value"), 3000, p + "/initial_value")
        confirm = element.get("confirm")
        if isinstance(confirm, dict):
            self.text(confirm.get("title"), 100, p + "/confirm/title", required=True, plain=True)
            self.text(confirm.get("text"), 300, p + "/confirm/text", required=True)
            self.text(confirm.get("confirm"), 30, p + "/confirm/confirm", required=True, plain=True)
            self.text(confirm.get("deny"), 30, p + "/confirm/deny", required=True, plain=True)

    def option(self, option: Any, p: str) -> None:
        if not isinstance(option, dict):
            self.fail("must be an option object", p)
            return
        self.text(option.get("text"), 75, p + "/text", required=True)
        value = option.get("value")
        if not isinstance(value, str) or not value:
            self.fail("missing required field: value", p + "/value")
        else:
            self.length(value, 150, p + "/value")
        self.text(option.get("description"), 75, p + "/description")
