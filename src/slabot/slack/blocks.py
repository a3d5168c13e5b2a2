"""Block Kit builders: a ticket, a queue, a policy or a Home tab in, plain JSON-ready dicts out.

Pure functions. Nothing here talks to Slack or the database or reads the wall clock: ``now`` is
a parameter, so every builder is tested without Slack and renders the same way from a command,
a button or the clock process.

Two rules hold everywhere, because every piece of text a user typed (a title, a description,
an update, a reason) ends up here, however long, odd or hostile it is:

* **It can never ping, link or break the layout.** User text goes into ``plain_text`` objects
  where Block Kit allows it (Slack parses nothing there). Where it has to sit inside
  ``mrkdwn`` (a queue line, the history), ``&``, ``<`` and ``>`` are escaped as Slack requires,
  so a typed ``<!channel>`` or ``<@U1>`` shows as text, and those objects carry
  ``verbatim: true`` so Slack does not link-ify bare ``#channel`` names or ``@here`` either
  (our own ``<@U…>`` and ``<!date^…>`` tokens still render: they are manual parsing strings).
  Markdown marks such as ``*bold*`` still format; they cannot reach anyone. Control
  characters, lone surrogates and bidirectional overrides (which could reverse the rest of a
  line we wrote) are dropped before display; the stored text is untouched.
* **It always fits.** Every text is cut to its Block Kit limit, counted in UTF-16 code units
  (what Slack's JavaScript-based limits count, and never fewer than Python's code points, so
  it fits either way), at a grapheme-ish boundary (never inside an emoji sequence, a flag or
  a letter with its accents), escaping included, and marked with "…". Lists are cut to the
  surface's block limit (50 per message, 100 per modal or Home tab) with a "… and N more".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import regex

from ..sla.durations import clock_words, format_duration
from ..sla.policy import EscalationRule, Policy, Severity
from ..sla.schedule import TARGET_LABELS, Deadline, Progress
from .commands import HELP

if TYPE_CHECKING:
    from ..sla.classify import Classification
    from ..tickets.service import TicketView

Block = dict[str, Any]

# -- Block Kit limits (docs.slack.dev, Block Kit reference) -------------------------------------
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
CONTEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
VALUE_MAX = 2000  # a button's value
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OPTION_DESCRIPTION_MAX = 75
OPTIONS_MAX = 100
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
CONFIRM_BUTTON_MAX = 30
MODAL_TITLE_MAX = 24
LABEL_MAX = 2000
INPUT_MAX = 3000  # a plain_text_input's max_length
PRIVATE_METADATA_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
QUEUE_BLOCKS_MAX = 45  # /sla list: leaves room under 50 for whatever the listener adds
FALLBACK_MAX = 3000  # a message's top-level text: what notifications and screen readers show

ELLIPSIS = "…"
NOBODY = "nobody yet"
ACTIVE = ("open", "pending", "waiting_on_customer", "waiting_on_third_party")
WAITING = ("pending", "waiting_on_customer", "waiting_on_third_party")
TICKET_BLOCK = "sla_ticket"
LINE_TITLE_MAX = 150  # a title inside a one-line summary (queue, Home, notifications)
HISTORY_TEXT_MAX = 300  # an update's text inside the history
DEFINITION_MAX = 300  # a severity's definition in the policy view

_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_SLACK_GROUP = re.compile(r"S[A-Z0-9]{2,}")
_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0 controls but tab and newline, DEL, C1 controls, and bidirectional embeddings, overrides
# and isolates: none of them is anything a reader needs, and the bidi ones could reverse our
# own text after them on the same line.
_INVISIBLE = dict.fromkeys(
    [
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)
_GRAPHEME = regex.compile(r"\X")
# ASCII that is not one unit one cluster, or grows when escaped: "\r\n" is one cluster, and
# ``_md`` measures "&", "<" and ">" escaped.
_WIDENS = frozenset("\r&<>")


# -- text: escaping, cutting ------------------------------------------------------------------


# How the card names the systems tickets come from; another source shows its own name.
SOURCE_NAMES = {
    "api": "the API",
    "alertmanager": "Alertmanager",
    "grafana": "Grafana",
    "email": "e-mail",
    "webhook": "a webhook",
    "slack-message": "a Slack message",
    "slack-workflow": "a workflow",
}


def escape(text: str) -> str:
    """Escape the three characters Slack's ``mrkdwn`` treats as control characters.

    ``&`` first, so the entities we add are not escaped again. After this a typed
    ``<!channel>`` reads ``&lt;!channel&gt;``: it shows as typed and pings nobody.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when it was cut.

    Characters are counted as Slack counts them (UTF-16 code units: an emoji outside the
    Basic Multilingual Plane counts two), and the cut falls between grapheme clusters, so it
    never splits a surrogate pair, an emoji ZWJ sequence, a flag, a keycap or a letter from
    its combining accents.
    """
    if limit <= 0:
        return ""
    if len(text) * 2 <= limit or _size(text) <= limit:  # no character is over two units
        return text
    return _cut(text, limit, _size)


def slack_date(at: datetime, fallback_tz: tzinfo | str) -> str:
    """A ``<!date^…>`` token: each reader sees the instant in their own time zone.

    The fallback (for clients that cannot render the token, and for notifications) is
    written in the policy's zone, with the zone's abbreviation, such as
    ``Mon 23 Nov 10:00 GMT``.
    """
    zone = ZoneInfo(fallback_tz) if isinstance(fallback_tz, str) else fallback_tz
    at = _aware(at)
    local = at.astimezone(zone)
    fallback = f"{local:%a} {local.day} {local:%b %H:%M %Z}".strip()
    epoch = int(at.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{escape(fallback)}>"


def left(delta: timedelta) -> str:
    """A duration as people say it: ``2d 3h``, ``1h 20m``, ``45m`` or ``under a minute``.

    Rounded down to the minute (a deadline 1h 20m 59s away still has "1h 20m left"), and
    only the two largest units, because "2d 3h 17m" is more than anyone reads on a card.
    The sign is ignored: callers say "left" or "ago".
    """
    seconds = abs(int(delta.total_seconds()))
    if seconds < 60:
        return "under a minute"
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def _size(text: str) -> int:
    """Length in UTF-16 code units (the encoder counts them at C speed)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _escaped_size(text: str) -> int:
    return _size(escape(text))


def _cut(text: str, limit: int, measure) -> str:
    """The longest run of whole clusters whose ``measure`` fits ``limit`` with "…" added."""
    budget = limit - _size(ELLIPSIS)
    head = text[: budget + 1]  # one more: a combining mark there would join the last cluster
    if head.isascii() and not _WIDENS.intersection(head):
        return text[:budget].rstrip() + ELLIPSIS  # one unit a character, each its own cluster
    return _cut_clusters(text, limit, measure)


def _cut_clusters(text: str, limit: int, measure) -> str:
    budget = limit - _size(ELLIPSIS)
    used, end = 0, 0
    for cluster in _clusters(text):
        size = measure(cluster)
        if used + size > budget:
            break
        used += size
        end += len(cluster)
    return text[:end].rstrip() + ELLIPSIS


def _clusters(text: str) -> Iterator[str]:
    """Unicode's extended grapheme clusters (UAX #29, the ``regex`` module's ``\\X``): what a
    reader sees as one character, so a cut never splits Hangul jamo, an Indic conjunct, a
    Thai vowel sign, an Arabic prepended mark, an emoji sequence or a flag."""
    return (match.group() for match in _GRAPHEME.finditer(text))


def _clean(text: str) -> str:
    """What we display of user text: no controls, lone surrogates or bidi overrides."""
    text = str(text)
    if text.isascii() and text.isprintable():  # most text: nothing to take out (C speed)
        return text
    text = _SURROGATE.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_INVISIBLE)


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _md(text: str, limit: int) -> str:
    """User text for ``mrkdwn``: cleaned, escaped, and cut so the *escaped* text fits."""
    text = _clean(text)
    if _escaped_size(text) <= limit:
        return escape(text)
    return escape(_cut(text, limit, _escaped_size))


def _plain_text(text: str, limit: int) -> str:
    return truncate(_clean(text), limit) or " "


# -- text objects and elements ------------------------------------------------------------------


def plain(text: str, limit: int = SECTION_MAX) -> Block:
    """A ``plain_text`` object: Slack parses nothing in it, so it is where user text goes."""
    return {"type": "plain_text", "text": _plain_text(text, limit), "emoji": True}


def mrkdwn(text: str) -> Block:
    """A ``mrkdwn`` object for text we composed (user parts already escaped with `_md`).

    ``verbatim``: Slack must not turn bare ``#names`` or ``@here`` into links or mentions.
    Callers keep ``text`` within limits; this only guards against an empty text (invalid).
    """
    return {"type": "mrkdwn", "text": truncate(text, SECTION_MAX) or " ", "verbatim": True}


def _header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def _section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def _plain_section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": plain(text, SECTION_MAX), **extra}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def _divider() -> Block:
    return {"type": "divider"}


def _button(
    text: str, action_id: str, value: str, *, style: str | None = None, confirm: Block | None = None
) -> Block:
    button: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def _option(text: str, value: str, description: str | None = None) -> Block:
    option: Block = {"text": plain(text, OPTION_TEXT_MAX), "value": value[:OPTION_VALUE_MAX]}
    if description and description.strip():
        option["description"] = plain(_one_line(description), OPTION_DESCRIPTION_MAX)
    return option


def _input(block_id: str, label: str, element: Block, *, optional: bool = False, hint: str = ""):
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, LABEL_MAX),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, LABEL_MAX)
    return block


def mention(who: str | None) -> str:
    """A Slack ID as a mention (``U…`` → ``<@U…>``, ``S…`` → ``<!subteam^S…>``, ``C…`` →
    ``<#C…>``); anything else (a ``#name``, the clock) as escaped text, never a link."""
    if not who:
        return NOBODY
    if _SLACK_USER.fullmatch(who):
        return f"<@{who}>"
    if _SLACK_GROUP.fullmatch(who):
        return f"<!subteam^{who}>"
    if _SLACK_CHANNEL.fullmatch(who):
        return f"<#{who}>"
    return _md(who, 80)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _lower_first(text: str) -> str:
    """``Waiting on customer`` → ``waiting on customer``, but ``SLA review`` stays."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _ref(view: TicketView) -> str:
    return f"SLA-{view.ticket.number}"


def _severity(policy: Policy, key: str) -> Severity | None:
    try:
        return policy.severity(key)
    except KeyError:
        return None  # a policy version that no longer has it: show the key


def _severity_label(policy: Policy, key: str) -> str:
    severity = _severity(policy, key)
    return severity.label if severity else key


def _stamp(view: TicketView) -> str:
    """What every action's value carries: which ticket, at which version (stale clicks)."""
    return f"{view.ticket.number}:{view.ticket.version}"


# -- deadlines ------------------------------------------------------------------------------------


DONE_WORDS = {"time_to_open": "opened", "first_response": "answered"}  # else "done"


def deadline_state(deadline: Deadline, now: datetime, tz: tzinfo) -> str:
    """What a deadline means right now, in words: left, met, missed, breached, paused…"""
    due = deadline.due
    if deadline.state == "met" and deadline.met_at:
        return f"met ✓ {slack_date(deadline.met_at, tz)}"
    if deadline.state == "missed" and deadline.met_at:
        # "missed … (met 10:56)" read as a contradiction: say what happened, and when.
        late = f" by {left(deadline.met_at - due)}" if due else ""
        done = DONE_WORDS.get(deadline.target, "done")
        return f"missed{late} ({done} {slack_date(deadline.met_at, tz)})"
    if deadline.state == "paused":
        return f"paused: {_md(_lower_first(deadline.paused_by or 'on hold'), 200)}"
    if deadline.state == "stopped":
        return "stopped: the ticket is resolved"
    if due is None:
        return "no deadline while the clock is stopped"
    if deadline.state == "breached" or now > due:
        return f"*breached* {left(now - due)} ago"
    text = f"{left(due - now)} left"
    if deadline.resumes_at is not None:
        text += " · clock stopped outside support hours — resumes " + slack_date(
            deadline.resumes_at, tz
        )
    return text


def _deadline_line(deadline: Deadline, now: datetime, tz: tzinfo) -> str:
    due = f" · due {slack_date(deadline.due, tz)}" if deadline.due else ""
    if deadline.state in ("met", "missed", "stopped"):
        due = ""  # the outcome says it all
    return f"*{deadline.label}*{due} — {deadline_state(deadline, now, tz)}"


def _next_up(view: TicketView, now: datetime) -> str:
    """The queue's "what happens next" for one ticket: its nearest deadline, or why none."""
    tz = view.policy.tz
    nearest = view.schedule.next_breach
    if nearest is not None and nearest.due is not None:
        if now > nearest.due:
            text = f"{nearest.label} *breached* {left(now - nearest.due)} ago"
        else:
            text = f"{nearest.label} in {left(nearest.due - now)}"
            if nearest.resumes_at is not None:
                text += f" (clock stopped — resumes {slack_date(nearest.resumes_at, tz)})"
        return text
    paused = next((d for d in view.schedule.deadlines if d.state == "paused"), None)
    if paused is not None:
        return f"paused: {_md(_lower_first(paused.paused_by or 'on hold'), 200)}"
    return _md(view.policy.state_label(view.ticket.status), 200)


def _next_page(view: TicketView, now: datetime) -> str | None:
    """ "Next page: Level 2 <date>": the earliest page still to come, if any."""
    escalation = view.policy.escalation
    pages = [t for t in view.schedule.timers if t.kind == "page" and t.due_at >= now]
    if escalation is None or not pages:
        return None
    page = min(pages, key=lambda t: t.due_at)
    try:
        label = escalation.level(page.level or "").label
    except KeyError:
        label = page.level or "escalation"
    # The level's contacts are named in /sla matrix, not here: the card is posted to the
    # channel, and a mention would ping them before the page is due.
    return f"Next page: {_md(label, 150)} {slack_date(page.due_at, view.policy.tz)}"


# -- the ticket card ------------------------------------------------------------------------------


def ticket_text(view: TicketView) -> str:
    """One line for threads and notifications: ``SLA-42 (High): title``.

    Escaped and cut, because a message's top-level text is parsed like ``mrkdwn``: a title
    typed as ``<!channel>`` must not ping the channel from a notification.
    """
    label = _severity_label(view.policy, view.ticket.severity)
    title = _md(_one_line(view.ticket.title), LINE_TITLE_MAX)
    return f"{_ref(view)} ({_md(label, 80)}): {title}"


def _card_blocks(view: TicketView, now: datetime) -> list[Block]:
    """Everything the card shows but its buttons: shared by the card and ``/sla show``."""
    ticket, policy, plan = view.ticket, view.policy, view.schedule
    tz = policy.tz
    label = _severity_label(policy, ticket.severity)
    blocks: list[Block] = [
        _header(f"{_ref(view)} · {_one_line(label)} · {_one_line(ticket.title)}"),
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Status*\n{_md(policy.state_label(ticket.status), 200)}"),
                mrkdwn(f"*Owner*\n{mention(ticket.owner)}"),
                mrkdwn(f"*Reporter*\n{mention(ticket.reporter)}"),
                mrkdwn(f"*Policy*\n{_md(policy.title or policy.name, 200)}"),
            ],
        },
    ]
    if plan.deadlines:
        lines = [_deadline_line(d, now, tz) for d in plan.deadlines]
        blocks.append(_section(_join_fitting(lines, SECTION_MAX)))
    else:
        blocks.append(_section("_No timed targets for this severity._"))
    page = _next_page(view, now)
    if page:
        blocks.append(_context(f":rotating_light: {page}"))
    if plan.progress is not None:
        blocks.append(_context(_progress_line(plan.progress, tz)))
    if ticket.description and ticket.description.strip():
        blocks.append(_plain_section(ticket.description.strip()))
    opened = f"Opened {slack_date(ticket.opened_at, tz)}"
    if ticket.reported_at and ticket.reported_at < ticket.opened_at:
        opened += f" · reported {slack_date(ticket.reported_at, tz)}"
    if ticket.source != "slack":
        opened += f" · from {source_words(ticket.source, ticket.source_ref)}"
    if plan.status == "resolved" and plan.reopen_until is not None:
        opened += f" · can be reopened until {slack_date(plan.reopen_until, tz)}"
    blocks.append(_context(opened))
    return blocks


def source_words(source: str, ref: str | None) -> str:
    """ "Alertmanager (group …)": where a ticket came from, so whoever reads the card can go
    back to the alert, the e-mail or the other helpdesk's ticket."""
    words = SOURCE_NAMES.get(source, source)
    return f"{words} ({_md(_one_line(ref), 120)})" if ref else words


def _progress_line(progress: Progress, tz: tzinfo) -> str:
    """ "Last update <date> · ETA <date> · workaround in place since <date>": what the
    updates promised, on the card, so nobody has to scroll the thread for it."""
    parts = [f":memo: Last update {slack_date(progress.last_at, tz)}"]
    if progress.eta is not None:
        parts.append(f"ETA {slack_date(progress.eta, tz)}")
    if progress.workaround_since is not None:
        parts.append(f"workaround in place since {slack_date(progress.workaround_since, tz)}")
    return " · ".join(parts)


def _join_fitting(lines: Sequence[str], limit: int) -> str:
    """Lines joined by newlines, dropping whole lines from the end when they do not fit."""
    out: list[str] = []
    used = 0
    for line in lines:
        size = _size(line) + (1 if out else 0)
        if used + size > limit:
            break
        out.append(line)
        used += size
    return "\n".join(out) if out else truncate(lines[0], limit) if lines else " "


def ticket_actions(view: TicketView, now: datetime) -> Block | None:
    """The card's buttons (block ``sla_ticket``); None when nothing can be done any more.

    Every value is ``"<number>:<version>"`` (the select's options add ``:<severity key>``),
    so a click on a card that changed since it was drawn is refused by the handler instead
    of acting on a ticket the clicker has not seen.
    """
    ticket, plan = view.ticket, view.schedule
    stamp = _stamp(view)
    elements: list[Block] = []
    if ticket.status in ACTIVE:
        if ticket.acknowledged_at is None:
            elements.append(_button("Acknowledge", "sla_ack", stamp, style="primary"))
        elements.append(_severity_select(view))
        elements.append(_button("Post update", "sla_update", stamp))
        if ticket.status in WAITING:
            elements.append(_button("Resume", "sla_resume", stamp))
        else:
            elements.append(_button("Waiting on customer", "sla_wait", stamp))
        elements.append(
            _button("Resolve", "sla_resolve", stamp, style="danger", confirm=_resolve_confirm(view))
        )
    elif ticket.status == "resolved":
        if plan.reopen_until is None or plan.reopen_until >= now:
            elements.append(_button("Reopen", "sla_reopen", stamp))
        # Closing is for good (a closed ticket cannot be reopened): ask first.
        elements.append(_button("Close", "sla_close", stamp, confirm=_close_confirm(view)))
    if not elements:
        return None
    return {"type": "actions", "block_id": TICKET_BLOCK, "elements": elements}


def _severity_select(view: TicketView) -> Block:
    stamp = _stamp(view)
    options = [
        _option(s.label, f"{stamp}:{s.key}", s.definition)
        for s in view.policy.severities[:OPTIONS_MAX]
    ]
    select: Block = {
        "type": "static_select",
        "action_id": "sla_severity",
        "placeholder": plain("Severity", 150),
        "options": options,
    }
    current = next((o for o in options if o["value"] == f"{stamp}:{view.ticket.severity}"), None)
    if current is not None:
        select["initial_option"] = current
    return select


def _resolve_confirm(view: TicketView) -> Block:
    window = view.policy.lifecycle.reopen_within
    text = "Resolving stops its clocks."
    if window:
        text += f" It can be reopened within {format_duration(window)}."
    return _confirm(f"Resolve {_ref(view)}?", text, "Resolve")


def _close_confirm(view: TicketView) -> Block:
    return _confirm(
        f"Close {_ref(view)}?", "A closed ticket is archived and cannot be reopened.", "Close"
    )


def _confirm(title: str, text: str, verb: str) -> Block:
    return {
        "title": plain(title, CONFIRM_TITLE_MAX),
        "text": plain(text, CONFIRM_TEXT_MAX),
        "confirm": plain(verb, CONFIRM_BUTTON_MAX),
        "deny": plain("Not yet", CONFIRM_BUTTON_MAX),
        "style": "danger",
    }


def ticket_card(view: TicketView, now: datetime) -> tuple[str, list[Block]]:
    """The ticket's card: ``(fallback text, blocks)`` for ``chat.postMessage``/``update``.

    Header (number, severity, title), status, owner, reporter, policy; each deadline with
    what remains; the next page; the description; and the buttons that fit its state.
    """
    blocks = _card_blocks(view, now)
    actions = ticket_actions(view, now)
    if actions is not None:
        blocks.append(actions)
    status = view.policy.state_label(view.ticket.status)
    fallback = f"{ticket_text(view)} · {_md(status, 100)}"
    return truncate(fallback, FALLBACK_MAX), blocks


# -- /sla show ------------------------------------------------------------------------------------


def detail_blocks(view: TicketView, events: Sequence[Any], now: datetime) -> list[Block]:
    """``/sla show``: the card without its buttons, then the ticket's story, newest last.

    Read-only on purpose: buttons on an ephemeral copy would act on the channel's card
    from somewhere nobody else sees. History lines are packed into few sections; when the
    story is longer than a message holds, the oldest lines give way and a note says so.
    """
    blocks = _card_blocks(view, now)
    blocks += [_divider(), _header("History")]
    tz = view.policy.tz
    lines = [_event_line(event, view.policy, tz) for event in events]
    room = MESSAGE_BLOCKS_MAX - len(blocks) - 1  # one for the "earlier changes" note
    # Packed newest first, so it is the oldest lines that give way.
    sections = [s[::-1] for s in _pack(reversed(lines), room)][::-1]
    shown = sum(len(s) for s in sections)
    if not lines:
        blocks.append(_section("_No history yet._"))
    if shown < len(lines):
        blocks.append(_context(f"… {len(lines) - shown} earlier changes not shown"))
    blocks += [_section("\n".join(s)) for s in sections]
    return blocks


def _pack(lines: Iterable[str], room: int) -> list[list[str]]:
    """Lines in order, packed into at most ``room`` sections of ≤3000 characters each; the
    lines that do not fit are left off the end."""
    sections: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in lines:
        line = truncate(line, SECTION_MAX)
        size = _size(line)
        if current and used + 1 + size > SECTION_MAX:
            sections.append(current)
            current, used = [], 0
            if len(sections) >= room:
                return sections
        used += size + (1 if current else 0)
        current.append(line)
    if current:
        sections.append(current)
    return sections[: max(room, 0)]


def _event_line(event: Any, policy: Policy, tz: tzinfo) -> str:
    after: dict[str, Any] = getattr(event, "after", None) or {}
    before: dict[str, Any] = getattr(event, "before", None) or {}
    actor = mention(getattr(event, "actor", None)) if getattr(event, "actor", None) else "slabot"
    return f"{slack_date(event.at, tz)} · {actor} {_event_words(event.kind, before, after, policy)}"


def _event_words(kind: str, before: dict, after: dict, policy: Policy) -> str:
    def state(key: Any) -> str:
        return _md(policy.state_label(str(key)), 100)

    def severity(key: Any) -> str:
        return _md(_severity_label(policy, str(key)), 100)

    if kind == "opened":
        text = f"opened it as {severity(after.get('severity', '?'))}"
        if after.get("classified"):
            text += f" ({_md(str(after['classified']), 200)})"
        return text
    if kind == "acknowledged":
        return "acknowledged it"
    if kind == "owner_assigned":
        return f"assigned it to {mention(after.get('owner'))}"
    if kind == "severity_changed":
        text = f"changed the severity from {severity(before.get('severity', '?'))} to "
        text += severity(after.get("severity", "?"))
        if after.get("reason"):
            text += f": {_md(_one_line(str(after['reason'])), HISTORY_TEXT_MAX)}"
        return text
    if kind == "update_posted":
        extra = []
        if after.get("eta"):
            try:
                extra.append("ETA " + slack_date(datetime.fromisoformat(after["eta"]), policy.tz))
            except (TypeError, ValueError):
                extra.append("ETA " + _md(str(after["eta"]), 40))
        if after.get("workaround"):
            extra.append("workaround in place")
        text = "posted an update"
        if extra:
            text += f" ({', '.join(extra)})"
        return text + f": {_md(_one_line(str(after.get('text', ''))), HISTORY_TEXT_MAX)}"
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
            text += f": {_md(_one_line(str(after['note'])), HISTORY_TEXT_MAX)}"
        return text
    if kind == "page_acknowledged":
        level = _level_label(policy, str(after.get("level", "?")))
        return f"answered the page for {_md(level, 100)}"
    if kind == "message_posted":
        return "posted the card"
    if kind == "customer_replied":
        return f"wrote: {_md(_one_line(str(after.get('text', ''))), HISTORY_TEXT_MAX)}"
    return _md(kind.replace("_", " "), 100)


# -- the queue and App Home -----------------------------------------------------------------------


def queue_line(view: TicketView, now: datetime) -> str:
    """ "*SLA-42* · High · title — First response in 1h 20m · <@owner>": one ticket."""
    label = _severity_label(view.policy, view.ticket.severity)
    title = _md(_one_line(view.ticket.title), LINE_TITLE_MAX)
    owner = mention(view.ticket.owner)
    return f"*{_ref(view)}* · {_md(label, 80)} · {title} — {_next_up(view, now)} · {owner}"


def _ticket_sections(items: Sequence[TicketView], now: datetime, room: int) -> list[Block]:
    """One section per ticket, at most ``room`` blocks, the last a "… and N more" if cut."""
    if len(items) <= room:
        return [_section(queue_line(v, now)) for v in items]
    shown = max(room - 1, 0)
    blocks = [_section(queue_line(v, now)) for v in items[:shown]]
    return [*blocks, _context(f"… and {len(items) - shown} more")]


def queue_blocks(items: Sequence[TicketView], now: datetime) -> list[Block]:
    """``/sla list``: the queue as given (most urgent first), one compact line per ticket."""
    if not items:
        return [_section("No open tickets: the queue is empty. :tada:")]
    return _ticket_sections(items, now, QUEUE_BLOCKS_MAX)


HOME_TICKETS_MAX = 40  # blocks per ticket list on the Home tab
HOME_COUNTS_MAX = 10
HOME_MONTH_BLOCKS_MAX = 2  # 1 + 1 + 40 + 2 + 40 + 2 + 10 + 2 + 2 = 100


def home_view(
    owned: Sequence[TicketView],
    at_risk: Sequence[TicketView],
    counts: dict[tuple[str, str], int],
    now: datetime,
    *,
    month: Sequence[Block] = (),
) -> Block:
    """A user's Home tab: their tickets, the queue at risk, counts per policy and severity,
    and ``month``, this month's figures (`report_blocks.month_blocks`: two blocks at most).

    A snapshot at ``now`` (the context line says when). Each list is capped so the whole
    view stays under Slack's 100 blocks however many tickets there are.
    """
    blocks: list[Block] = [
        _context(f"Updated {slack_date(now, UTC)} · `/sla help` for commands"),
        _header("Your tickets"),
    ]
    if owned:
        blocks += _ticket_sections(owned, now, HOME_TICKETS_MAX)
    else:
        blocks.append(
            _section("_You own no open tickets._ Acknowledge one to take it, or `/sla list`.")
        )
    blocks += [_divider(), _header("At risk (closest to breach)")]
    if at_risk:
        blocks += _ticket_sections(at_risk, now, HOME_TICKETS_MAX)
    else:
        blocks.append(_section("_Nothing at risk: no open ticket is near a deadline._"))
    blocks += [_divider(), _header("Open tickets by policy and severity")]
    blocks += _count_sections(counts)
    if month:
        blocks += [_divider(), _header("This month"), *month[:HOME_MONTH_BLOCKS_MAX]]
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}


def _count_sections(counts: dict[tuple[str, str], int]) -> list[Block]:
    """One line per policy (``*liveops* · p1: 3 · p2: 5``), packed into a few sections."""
    by_policy: dict[str, list[tuple[str, int]]] = {}
    for (policy, severity), n in counts.items():
        if n:
            by_policy.setdefault(policy, []).append((severity, n))
    if not by_policy:
        return [_section("_No open tickets._")]
    lines = []
    for policy, rows in by_policy.items():
        total = sum(n for _, n in rows)
        parts = " · ".join(f"{_md(sev, 64)}: {n}" for sev, n in rows)
        lines.append(truncate(f"*{_md(policy, 64)}* ({total}) — {parts}", SECTION_MAX))
    sections = _pack(lines, HOME_COUNTS_MAX)
    if sum(len(s) for s in sections) < len(lines):
        sections = _pack(lines, HOME_COUNTS_MAX - 1)  # room for the note
    blocks = [_section("\n".join(s)) for s in sections]
    shown = sum(len(s) for s in sections)
    if shown < len(lines):
        blocks.append(_context(f"… and {len(lines) - shown} more policies"))
    return blocks


# -- modals ---------------------------------------------------------------------------------------


OPEN_POLICY = "sla_open_policy"  # the open form's policy menu: choosing redraws the form


def open_modal(
    policies: Sequence[Policy],
    *,
    policy: str | None,
    summary: str,
    channel: str | None,
    severity: str | None = None,
    description: str = "",
    reported: datetime | None = None,
    origin: tuple[str, str] | None = None,
    picked_channel: str | None = None,
) -> Block:
    """``/sla open`` with no text: title, severity (each with its definition), policy, and
    description. The severities offered are the chosen policy's only (its name ``policy``,
    else the first): choosing another policy in the menu (left out when there is only one)
    redraws the form with that policy's severities (`OPEN_POLICY`), so a severity of one
    contract can no longer be picked under another. A severity's value is
    ``"<policy>:<key>"``, which the submission checks against the menu. ``severity`` (a key of
    the chosen policy) comes chosen (``/sla open p1``); ``summary`` and ``description`` fill
    what was typed before a redraw.

    The shortcuts fill in the rest: a form that does not know its channel (the global
    shortcut) asks for one, ``picked_channel`` chosen; ``reported`` comes filled in (a
    message's time); ``origin``, ``(source, source_ref)``, names the outside item the ticket
    is opened from (a message), kept in the form's metadata for the submission."""
    if not policies:
        raise ValueError("open_modal needs at least one policy")
    ordered = sorted(policies, key=lambda p: p.name != policy)  # the chosen policy first
    chosen = ordered[0]
    levels: Block = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain(f"How bad is it, under {chosen.title or chosen.name}?", 150),
        "options": _severity_options(chosen),
    }
    initial = next(
        (o for o in levels["options"] if o["value"] == f"{chosen.name}:{severity}"), None
    )
    if initial is not None:
        levels["initial_option"] = initial
    title_input: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": INPUT_MAX,
        "placeholder": plain("What is wrong, in a few words", 150),
    }
    if summary and summary.strip():
        title_input["initial_value"] = truncate(summary.strip(), INPUT_MAX)
    blocks: list[Block] = [_input("title", "Title", title_input)]
    if len(ordered) > 1:
        picker: Block = {
            "type": "static_select",
            "action_id": OPEN_POLICY,
            "placeholder": plain("Which contract?", 150),
            "options": [
                _option(p.title or p.name, p.name, p.source) for p in ordered[:OPTIONS_MAX]
            ],
        }
        picker["initial_option"] = picker["options"][0]
        policy_block = _input(
            "policy", "Policy", picker, hint="Choosing another redraws the severities."
        )
        policy_block["dispatch_action"] = True
        blocks.append(policy_block)
    blocks.append(
        _input(
            "severity",
            "Severity",
            levels,
            hint="Each level's definition comes from the support policy.",
        )
    )
    text_area: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": INPUT_MAX,
    }
    if description.strip():
        text_area["initial_value"] = truncate(description.strip(), INPUT_MAX)
    blocks.append(_input("description", "Description", text_area, optional=True))
    if channel is None:
        where: Block = {
            "type": "conversations_select",
            "action_id": "value",
            "placeholder": plain("The channel its card goes to", 150),
        }
        if picked_channel:
            where["initial_conversation"] = picked_channel
        blocks.append(_input("channel", "Channel", where, hint="Its card and thread go there."))
    picker_at: Block = {"type": "datetimepicker", "action_id": "value"}
    if reported is not None:
        picker_at["initial_date_time"] = int(reported.timestamp())
    blocks.append(
        _input(
            "reported",
            "Reported at",
            picker_at,
            optional=True,
            hint="When the customer reported it, in your own time zone (empty: now). The "
            "contract's time to open counts from then.",
        )
    )
    return {
        "type": "modal",
        "callback_id": "sla_open",
        "title": plain("Open a ticket", MODAL_TITLE_MAX),
        "submit": plain("Open", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": json.dumps(
            {"channel": channel, **({"source": origin[0], "ref": origin[1]} if origin else {})}
        ),
        "blocks": blocks,
    }


def _severity_options(policy: Policy) -> list[Block]:
    return [
        _option(s.label, f"{policy.name}:{s.key}", s.definition)
        for s in policy.severities[:OPTIONS_MAX]
    ]


def update_modal(number: int, version: int, policy: Policy) -> Block:
    """Post an update: the text, an optional ETA and whether a workaround is in place.

    ``private_metadata`` is ``"<number>:<version>"`` so a ticket that changed while the form
    was open is refused on submit. The hint says what an ETA or a workaround answers under
    this policy (such as an elevation rule), so people know why the fields are there.
    """
    answers = _answered_by(policy)
    return {
        "type": "modal",
        "callback_id": "sla_update",
        "title": plain(f"Update SLA-{number}", MODAL_TITLE_MAX),
        "submit": plain("Post", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": f"{number}:{version}",
        "blocks": [
            _input(
                "text",
                "Update",
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": INPUT_MAX,
                    "placeholder": plain("What changed, and what happens next", 150),
                },
            ),
            _input(
                "eta",
                "ETA",
                {"type": "datetimepicker", "action_id": "value"},
                optional=True,
                hint="When you expect a fix, in your own time zone." + answers,
            ),
            _input(
                "workaround",
                "Workaround",
                {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [_option("A workaround is in place", "workaround")],
                },
                optional=True,
            ),
        ],
    }


def _answered_by(policy: Policy) -> str:
    """ " An ETA or a workaround stops the page to Level 2." for policies that say so."""
    if policy.escalation is None:
        return ""
    levels = []
    for rule in policy.escalation.rules:
        if rule.unless:
            label = _level_label(policy, rule.page)
            if label not in levels:
                levels.append(label)
    if not levels:
        return ""
    return f" An ETA or a workaround stops the page to {', '.join(levels)}."


def severity_question(policy: Policy, classification: Classification, summary: str) -> list[Block]:
    """Ephemeral: which severity is it? Asked instead of guessing when the classifier is
    unsure. One button per severity of the policy, each beside the start of its definition:
    the likely ones (the classifier's candidates) first, then every other, so a weak match
    that names one candidate never leaves the right severity out.

    A button's value is JSON ``{"policy", "severity", "summary"}``: the click alone has all it
    takes to open the ticket. The summary is cut so the whole value stays within 2000.
    """
    likely = [k for k in classification.candidates if _severity(policy, k) is not None]
    keys = likely + [s.key for s in policy.severities if s.key not in likely]
    blocks: list[Block] = [
        _plain_section(f"Which severity fits “{_one_line(summary)}”?"),
        {"type": "context", "elements": [plain(f"Why I ask: {classification.reason}.", 3000)]},
    ]
    for key in keys[: MESSAGE_BLOCKS_MAX - 3]:
        severity = _severity(policy, key)
        if severity is None:
            continue
        definition = _one_line(severity.definition) or "No definition in the policy."
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(f"*{_md(severity.label, 150)}*\n{_md(definition, DEFINITION_MAX)}"),
                "accessory": _button(
                    severity.label,
                    f"sla_pick_severity_{severity.key}",
                    _pick_value(policy.name, severity.key, summary),
                ),
            }
        )
    return blocks


def _pick_value(policy: str, severity: str, summary: str) -> str:
    def dump(text: str) -> str:
        data = {"policy": policy, "severity": severity, "summary": text}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    text = _clean(summary).strip()
    value = dump(text)
    budget = VALUE_MAX - _size(dump(""))
    while _size(value) > VALUE_MAX and budget > 0:
        text = truncate(text, budget)
        value = dump(text)
        budget -= max(_size(value) - VALUE_MAX, 1)
    return value if _size(value) <= VALUE_MAX else dump("")


# -- policy and matrix ----------------------------------------------------------------------------

TARGET_WORDS = {
    "time_to_open": "Time to open",
    "first_response": "First response",
    "resolution": "Resolution",
    "update_every": "Updates every",
}


def target_words(policy: Policy, name: str, target: Any) -> str:
    """ "First response 1h (support hours; 30m if opened in peak hours)"; on a calendar open
    less than a day, "Resolution 24h (2 days of 12h) (business hours)", never "1d"."""
    words = f"{TARGET_WORDS.get(name, TARGET_LABELS.get(name, name))} "
    words += f"{_within_words(policy, target.within, target.clock)} ({clock_words(target.clock)}"
    for calendar, within in target.opened_in.items():
        if within != target.within:  # "4h; 4h if opened in peak hours" says nothing
            words += (
                f"; {_within_words(policy, within, target.clock)} if opened in "
                f"{clock_words(calendar)}"
            )
    if target.mitigation:
        words += "; a workaround meets it"
    return words + ")"


def _within_words(policy: Policy, within: timedelta, clock: str) -> str:
    return policy.duration_words(within, clock) if within > timedelta(0) else "immediately"


def policy_blocks(policy: Policy) -> list[Block]:
    """``/sla policy``: each severity with its targets in words, the support hours, and
    which states stop the clocks: what a support lead checks before binding a channel."""
    tz_line = f"Times in {policy.timezone}"
    if policy.source:
        tz_line = f"From _{_md(policy.source, 500)}_ · {tz_line}"
    blocks: list[Block] = [
        _header(f"Policy: {policy.title or policy.name}"),
        _context(f"`{_md(policy.name, 64)}` · {tz_line}"),
    ]
    for severity in policy.severities[: MESSAGE_BLOCKS_MAX - 10]:
        names = ", ".join((severity.key, *severity.aliases))
        lines = [f"*{_md(severity.label, 150)}* ({_md(names, 300)})"]
        if severity.definition:
            lines.append(_md(_one_line(severity.definition), DEFINITION_MAX))
        targets = [f"• {target_words(policy, n, t)}" for n, t in severity.targets.items()]
        lines += targets or ["• no timed targets"]
        blocks.append(_section(_join_fitting(lines, SECTION_MAX)))
    support = []
    if policy.support and policy.support.hours:
        support.append(f"*Support hours:* {_md(_one_line(policy.support.hours), 1000)}")
    for name, spec in policy.calendars.items():
        days = "; ".join(
            f"{day} {', '.join(str(w) for w in windows) or 'closed'}"
            for day, windows in spec.hours.items()
        )
        closed = ""
        if spec.holidays and (spec.holidays.country or spec.holidays.dates or spec.holidays.annual):
            closed = " (closed on holidays)"
        support.append(f"*{_md(clock_words(name), 100)}:* {_md(days, 500)}{closed}")
    if policy.support and policy.support.channels:
        support.append("*Channels:* " + _md(", ".join(policy.support.channels), 500))
    pausing = [policy.state_label(k) for k in policy.states if k in policy.pausing_states]
    if pausing:
        support.append("*Clocks pause while:* " + _md(", ".join(pausing), 500))
    life = policy.lifecycle
    if life.reopen_within:
        support.append(f"*Reopen within:* {format_duration(life.reopen_within)}")
    if support:
        blocks += [_divider(), _section(_join_fitting(support, SECTION_MAX))]
    blocks.append(_context("`/sla matrix` shows who gets paged, level by level."))
    return blocks


def _level_label(policy: Policy, key: str) -> str:
    if policy.escalation is None:
        return key
    try:
        return policy.escalation.level(key).label
    except KeyError:
        return key


def rule_words(rule: EscalationRule, policy: Policy) -> str:
    """ "at 75% of first response for urgent, high; repeats every 30m"."""
    whom = "every severity" if rule.severities is None else ", ".join(rule.severities)
    target = TARGET_LABELS.get(rule.of or "", rule.of or "").lower()
    if rule.at == "open":
        words = "when a ticket opens"
    elif rule.at == "breach":
        words = f"when {target} is breached"
    elif rule.at is not None:
        words = f"at {rule.at.strip()} of {target}"
    else:
        words = f"{policy.duration_words(rule.after or timedelta(0), rule.clock)} after opening"
        if rule.clock != "24x7":
            words += f" ({clock_words(rule.clock)})"
        if rule.unless:
            words += (
                " unless "
                + " or ".join("an ETA" if u == "eta" else "a workaround" for u in rule.unless)
                + " is given"
            )
    words += f" for {whom}"
    if rule.repeat:
        words += f"; repeats every {policy.duration_words(rule.repeat, rule.clock)}"
        if rule.clock != "24x7" and rule.after is None:
            words += f" ({clock_words(rule.clock)})"
    return words


def matrix_blocks(policy: Policy) -> list[Block]:
    """``/sla matrix``: each escalation level in order, its contacts as mentions, and the
    rules that page it in words. Empty contacts say where to set them."""
    blocks: list[Block] = [_header(f"Escalation: {policy.title or policy.name}")]
    escalation = policy.escalation
    if escalation is None or not escalation.levels:
        blocks.append(_section("This policy has no escalation matrix: nobody is paged."))
        return blocks
    for i, level in enumerate(escalation.levels[: MESSAGE_BLOCKS_MAX - 2], start=1):
        contacts = ", ".join(mention(c) for c in level.contacts)
        contacts = contacts or "_no contacts configured (set them in the policy file)_"
        rules = [
            f"• {_md(rule_words(r, policy), 500)}" for r in escalation.rules if r.page == level.key
        ]
        lines = [f"*{i}. {_md(level.label, 150)}* — {contacts}"]
        lines += rules or ["• not paged by any rule"]
        blocks.append(_section(_join_fitting(lines, SECTION_MAX)))
    return blocks


# -- help -----------------------------------------------------------------------------------------


def help_blocks() -> list[Block]:
    """``/sla help``: the grammar's own help text, so the two never disagree."""
    return [_section(truncate(HELP, SECTION_MAX))]


__all__ = [
    "deadline_state",
    "detail_blocks",
    "escape",
    "help_blocks",
    "home_view",
    "left",
    "matrix_blocks",
    "mention",
    "mrkdwn",
    "open_modal",
    "plain",
    "policy_blocks",
    "queue_blocks",
    "queue_line",
    "rule_words",
    "severity_question",
    "slack_date",
    "target_words",
    "ticket_actions",
    "ticket_card",
    "ticket_text",
    "truncate",
    "update_modal",
]
