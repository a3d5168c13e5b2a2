"""The Block Kit kit: Slack's limits, text safety, and the small blocks every surface builds on.

Every surface module of this package (card, history, queue, Home, modals, policy views,
reports, outages, notes) composes its blocks from these functions and nothing else, so
the two rules below are kept in one place.

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

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ...graphemes import clusters

if TYPE_CHECKING:
    pass


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
FALLBACK_MAX = 3000  # a message's top-level text: what notifications and screen readers show

ELLIPSIS = "…"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOBODY = "nobody yet"
LINE_TITLE_MAX = 150  # a title inside a one-line summary (queue, Home, notifications)

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
# ASCII that is not one unit one cluster, or grows when escaped: "\r\n" is one cluster, and
# ``md`` measures "&", "<" and ">" escaped.
_WIDENS = frozenset("\r&<>")


# -- text: escaping, cutting ------------------------------------------------------------------


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
    if len(text) * 2 <= limit or slack_len(text) <= limit:  # no character is over two units
        return text
    return _cut(text, limit, slack_len)


def slack_date(at: datetime, fallback_tz: tzinfo | str) -> str:
    """A ``<!date^…>`` token: each reader sees the instant in their own time zone.

    The fallback (for clients that cannot render the token, and for notifications) is
    written in the policy's zone, with the zone's abbreviation, such as
    ``Mon 23 Nov 10:00 GMT``.
    """
    zone = ZoneInfo(fallback_tz) if isinstance(fallback_tz, str) else fallback_tz
    at = aware(at)
    local = at.astimezone(zone)
    # Put together by hand: strftime took half of this function's time (8.3 µs in all, now
    # 2.6), and every card, reminder and page draws several of these.
    day, month = _DAYS[local.weekday()], _MONTHS[local.month - 1]
    clock = f"{local.hour:02}:{local.minute:02} {local.tzname() or ''}".rstrip()
    fallback = f"{day} {local.day} {month} {clock}"
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


def slack_len(text: str) -> int:
    """Length in UTF-16 code units (the encoder counts them at C speed)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _escaped_size(text: str) -> int:
    return slack_len(escape(text))


def _cut(text: str, limit: int, measure) -> str:
    """The longest run of whole clusters whose ``measure`` fits ``limit`` with "…" added."""
    budget = limit - slack_len(ELLIPSIS)
    head = text[: budget + 1]  # one more: a combining mark there would join the last cluster
    if head.isascii() and not _WIDENS.intersection(head):
        return text[:budget].rstrip() + ELLIPSIS  # one unit a character, each its own cluster
    return _cut_clusters(text, limit, measure)


def _cut_clusters(text: str, limit: int, measure) -> str:
    budget = limit - slack_len(ELLIPSIS)
    used, end = 0, 0
    for cluster in clusters(text):
        size = measure(cluster)
        if used + size > budget:
            break
        used += size
        end += len(cluster)
    return text[:end].rstrip() + ELLIPSIS


def clean(text: str) -> str:
    """What we display of user text: no controls, lone surrogates or bidi overrides."""
    text = str(text)
    if text.isascii() and text.isprintable():  # most text: nothing to take out (C speed)
        return text
    text = _SURROGATE.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_INVISIBLE)


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


def md(text: str, limit: int) -> str:
    """User text for ``mrkdwn``: cleaned, escaped, and cut so the *escaped* text fits."""
    text = clean(text)
    if _escaped_size(text) <= limit:
        return escape(text)
    return escape(_cut(text, limit, _escaped_size))


def _plain_text(text: str, limit: int) -> str:
    return truncate(clean(text), limit) or " "


# -- text objects and elements ------------------------------------------------------------------


def plain(text: str, limit: int = SECTION_MAX) -> Block:
    """A ``plain_text`` object: Slack parses nothing in it, so it is where user text goes."""
    return {"type": "plain_text", "text": _plain_text(text, limit), "emoji": True}


def mrkdwn(text: str) -> Block:
    """A ``mrkdwn`` object for text we composed (user parts already escaped with `md`).

    ``verbatim``: Slack must not turn bare ``#names`` or ``@here`` into links or mentions.
    Callers keep ``text`` within limits; this only guards against an empty text (invalid).
    """
    return {"type": "mrkdwn", "text": truncate(text, SECTION_MAX) or " ", "verbatim": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def plain_section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": plain(text, SECTION_MAX), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
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


def option(text: str, value: str, description: str | None = None) -> Block:
    option: Block = {"text": plain(text, OPTION_TEXT_MAX), "value": value[:OPTION_VALUE_MAX]}
    if description and description.strip():
        option["description"] = plain(one_line(description), OPTION_DESCRIPTION_MAX)
    return option


def input_block(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str = ""
):
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
    return md(who, 80)


def aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def lower_first(text: str) -> str:
    """``Waiting on customer`` → ``waiting on customer``, but ``SLA review`` stays."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def join_fitting(lines: Sequence[str], limit: int) -> str:
    """Lines joined by newlines, dropping whole lines from the end when they do not fit."""
    out: list[str] = []
    used = 0
    for line in lines:
        size = slack_len(line) + (1 if out else 0)
        if used + size > limit:
            break
        out.append(line)
        used += size
    return "\n".join(out) if out else truncate(lines[0], limit) if lines else " "


def confirm_dialog(title: str, text: str, verb: str) -> Block:
    return {
        "title": plain(title, CONFIRM_TITLE_MAX),
        "text": plain(text, CONFIRM_TEXT_MAX),
        "confirm": plain(verb, CONFIRM_BUTTON_MAX),
        "deny": plain("Not yet", CONFIRM_BUTTON_MAX),
        "style": "danger",
    }


def pack(lines: Iterable[str], room: int) -> list[list[str]]:
    """Lines in order, packed into at most ``room`` sections of ≤3000 characters each; the
    lines that do not fit are left off the end."""
    sections: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in lines:
        line = truncate(line, SECTION_MAX)
        size = slack_len(line)
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
