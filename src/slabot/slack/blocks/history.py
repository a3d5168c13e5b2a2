"""``/sla show``: the card without its buttons, then the ticket's story, one line per change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from ...sla.policy import Policy
from .card import card_body, severity_label
from .kit import (
    MESSAGE_BLOCKS_MAX,
    Block,
    context,
    divider,
    header,
    md,
    mention,
    one_line,
    pack,
    section,
    slack_date,
)

if TYPE_CHECKING:
    from ...tickets.views import TicketView


HISTORY_TEXT_MAX = 300  # an update's text inside the history


def detail_blocks(view: TicketView, events: Sequence[Any], now: datetime) -> list[Block]:
    """``/sla show``: the card without its buttons, then the ticket's story, newest last.

    Read-only on purpose: buttons on an ephemeral copy would act on the channel's card
    from somewhere nobody else sees. History lines are packed into few sections; when the
    story is longer than a message holds, the oldest lines give way and a note says so.
    """
    blocks = card_body(view, now)
    blocks += [divider(), header("History")]
    tz = view.policy.tz
    lines = [_event_line(event, view.policy, tz) for event in events]
    room = MESSAGE_BLOCKS_MAX - len(blocks) - 1  # one for the "earlier changes" note
    # Packed newest first, so it is the oldest lines that give way.
    sections = [s[::-1] for s in pack(reversed(lines), room)][::-1]
    shown = sum(len(s) for s in sections)
    if not lines:
        blocks.append(section("_No history yet._"))
    if shown < len(lines):
        blocks.append(context(f"… {len(lines) - shown} earlier changes not shown"))
    blocks += [section("\n".join(s)) for s in sections]
    return blocks


def _event_line(event: Any, policy: Policy, tz: tzinfo) -> str:
    after: dict[str, Any] = getattr(event, "after", None) or {}
    before: dict[str, Any] = getattr(event, "before", None) or {}
    actor = mention(getattr(event, "actor", None)) if getattr(event, "actor", None) else "slabot"
    return f"{slack_date(event.at, tz)} · {actor} {_event_words(event.kind, before, after, policy)}"


def _event_words(kind: str, before: dict, after: dict, policy: Policy) -> str:
    def state(key: Any) -> str:
        return md(policy.state_label(str(key)), 100)

    def severity(key: Any) -> str:
        return md(severity_label(policy, str(key)), 100)

    if kind == "opened":
        text = f"opened it as {severity(after.get('severity', '?'))}"
        if after.get("classified"):
            text += f" ({md(str(after['classified']), 200)})"
        return text
    if kind == "acknowledged":
        return "acknowledged it"
    if kind == "owner_assigned":
        return f"assigned it to {mention(after.get('owner'))}"
    if kind == "severity_changed":
        text = f"changed the severity from {severity(before.get('severity', '?'))} to "
        text += severity(after.get("severity", "?"))
        if after.get("reason"):
            text += f": {md(one_line(str(after['reason'])), HISTORY_TEXT_MAX)}"
        return text
    if kind == "update_posted":
        extra = []
        if after.get("eta"):
            try:
                extra.append("ETA " + slack_date(datetime.fromisoformat(after["eta"]), policy.tz))
            except (TypeError, ValueError):
                extra.append("ETA " + md(str(after["eta"]), 40))
        if after.get("workaround"):
            extra.append("workaround in place")
        text = "posted an update"
        if extra:
            text += f" ({', '.join(extra)})"
        return text + f": {md(one_line(str(after.get('text', ''))), HISTORY_TEXT_MAX)}"
    if kind == "status_changed":
        status = after.get("status", "?")
        if status == "resolved":
            text = "resolved it"
        elif status == "open" and before.get("status") == "resolved":
            text = "reopened it"
        elif status == "open":
            text = "resumed the clock"
        elif status == "closed":
            text = "closed it"
        else:
            text = f"set it to {state(status)}"
        if after.get("note"):
            text += f": {md(one_line(str(after['note'])), HISTORY_TEXT_MAX)}"
        return text
    if kind == "page_acknowledged":
        level = policy.level_label(str(after.get("level", "?")))
        return f"answered the page for {md(level, 100)}"
    if kind == "downtime_corrected":
        verdict = {"yes": "counts as downtime", "no": "was not an outage"}.get(
            str(after.get("counts"))
        )
        cause = after.get("cause")
        said = [verdict] if verdict else []
        if cause:
            causes = policy.uptime.causes if policy.uptime else {}
            label = causes[cause].label if cause in causes else cause
            said.append(f"was caused by {md(label, 200)}")
        why = md(one_line(str(after.get("reason", ""))), HISTORY_TEXT_MAX)
        return f"corrected the downtime: it {' and '.join(said)}. Why: {why}"
    if kind == "release_agreed":
        release = datetime.fromisoformat(str(after.get("release_at")))
        who = md(str(after.get("agreed_by", "?")), 200)
        return f"recorded a release agreed by {who} for {slack_date(release, policy.tz)}"
    if kind == "message_posted":
        return "posted the card"
    if kind == "customer_replied":
        return f"wrote: {md(one_line(str(after.get('text', ''))), HISTORY_TEXT_MAX)}"
    return md(kind.replace("_", " "), 100)
