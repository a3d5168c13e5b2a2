"""The ``/sla`` grammar: text in, a `Command` out, or a `Usage` error that says how to type it.

Pure: no Slack, no storage, no wall clock. Listeners parse with `parse` and hand the command to
a use case. Times (an ETA, a maintenance start) are checked for their shape here and read in
the policy's zone by `read_time`, which takes the zone and ``now`` as parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ..sla.durations import parse_duration

HELP = """\
*slabot* keeps support SLAs as running clocks. Commands:
• `/sla open [severity] [policy:NAME] [customer:NAME] [reported:-2h|09:30] summary` \
open a ticket (no text: a form)
• `/sla ack ID` acknowledge and take a ticket
• `/sla sev ID LEVEL [reason]` change its severity
• `/sla update ID [eta:TIME | workaround] text` post an update
• `/sla release ID DATE who agreed` a release the customer agreed stands for the resolution
• `/sla wait ID customer|third-party`, `/sla resume ID` pause and resume the clock
• `/sla resolve ID [note]`, `/sla reopen ID`, `/sla close ID`
• `/sla assign ID @someone`
• `/sla list` the queue, most urgent first · `/sla show ID` one ticket
• `/sla policy [NAME [customer:NAME]]` show the policy, or bind this channel to NAME (and the \
customer its tickets are for) · `/sla matrix` who gets paged
• `/sla report [YYYY-MM] [policy:NAME] [customer:NAME]` the month's SLA figures and chart \
(default: this month; in a customer's channel, that customer's)
• `/sla outage start [cause:KEY] [at:TIME] [note]`, `/sla outage end [at:TIME] [note]` downtime \
without a ticket (`at:` when it began or ended, such as `at:-20m` or `at:2026-11-30 14:05`); \
`list` the latest with their IDs, `show ID` one and its changes; a lead may \
`edit ID [start:TIME] [end:TIME] [cause:KEY] [note:TEXT] [reason:WHY]` or `delete ID reason:WHY`
• `/sla correct ID not-outage|outage|cause:KEY why` a lead corrects the downtime a ticket counts
• `/sla maintenance START DURATION text` announce planned maintenance (such as `sat 22:00 4h`); \
`preview` first checks the notice rule, `list` shows what is planned, `cancel ID` calls one off
• `/sla oncall` who is on call · `/sla oncall [ROTATION] cover @someone [from START] until END`
IDs are ticket numbers such as `SLA-42` (or just `42`); `/sla 42` alone shows ticket 42.
TIME is `+2h`, `16:30` or `2026-11-23T16:30`; START may also be a day and a time, `sat 22:00`.
`policy:NAME` picks another policy than the channel's."""

USAGE = {
    "open": "/sla open [severity] [policy:NAME] [customer:NAME] [reported:-2h|09:30] summary",
    "ack": "/sla ack ID",
    "sev": "/sla sev ID LEVEL [reason]",
    "update": "/sla update ID [eta:TIME | workaround] text",
    "release": "/sla release ID DATE who agreed (such as 2027-01-15 Priya, Acme IT, by e-mail)",
    "wait": "/sla wait ID customer|third-party",
    "resume": "/sla resume ID",
    "resolve": "/sla resolve ID [note]",
    "reopen": "/sla reopen ID",
    "close": "/sla close ID",
    "assign": "/sla assign ID @someone",
    "list": "/sla list [policy:NAME]",
    "show": "/sla show ID",
    "policy": "/sla policy [NAME [customer:NAME]]",
    "matrix": "/sla matrix [policy:NAME]",
    "report": "/sla report [YYYY-MM] [policy:NAME] [customer:NAME]",
    "outage": "/sla outage start [cause:KEY | force-majeure] [at:TIME] [note] | end [at:TIME] "
    "[note] | list | show ID | edit ID [start:TIME] [end:TIME] [cause:KEY|none] [note:TEXT] "
    "[reason:WHY] | delete ID reason:WHY",
    "correct": "/sla correct ID not-outage|outage|cause:KEY why (a lead's downtime correction)",
    "maintenance": "/sla maintenance [preview] START DURATION text | list | cancel ID",
    "oncall": "/sla oncall | /sla oncall [ROTATION] cover @someone [from START] until END",
    "help": "/sla help",
}
ALIASES = {
    "new": "open",
    "acknowledge": "ack",
    "severity": "sev",
    "status": "update",
    "pause": "wait",
    "unpause": "resume",
    "queue": "list",
    "ls": "list",
    "info": "show",
    "solve": "resolve",
    "maint": "maintenance",
    "downtime": "outage",
}
COVER_ACTIONS = ("cover", "override")
OUTAGE_ACTIONS = {"start": "start", "begin": "start", "end": "end", "stop": "end", "over": "end"}
# A lead's corrections of an outage recorded, and what reads it, each naming its ID.
OUTAGE_CORRECTIONS = {
    "edit": "edit",
    "correct": "edit",
    "delete": "delete",
    "remove": "delete",
    "show": "show",
    "history": "show",
}
OUTAGE_FIELDS = ("start", "end", "cause", "note")
FORCE_MAJEURE = ("force-majeure", "force_majeure")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WAIT_FOR = {
    "customer": "waiting_on_customer",
    "third-party": "waiting_on_third_party",
    "third_party": "waiting_on_third_party",
    "vendor": "waiting_on_third_party",
    "internal": "pending",
    "pending": "pending",
}
_POLICY = re.compile(r"(?:^|\s)policy:(\S+)", re.IGNORECASE)
_ETA = re.compile(r"(?:^|\s)eta:(\S+)", re.IGNORECASE)
_CAUSE = re.compile(r"(?:^|\s)cause:(\S+)", re.IGNORECASE)
# at:-20m, at:14:05, at:2026-11-30T14:05, or a date and a time as two words: at:2026-11-30 14:05
_AT = re.compile(r"(?:^|\s)at:(\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}|\S+)", re.IGNORECASE)
# An outage edit's fields: each value runs to the next field (a note or a reason has spaces).
_REASON = re.compile(r"^reason:", re.IGNORECASE)
_EDIT_FIELD = re.compile(r"(?:^|\s)(start|end|cause|note|reason):", re.IGNORECASE)
DOWNTIME_VERDICTS = {"not-outage": "no", "no-outage": "no", "outage": "yes"}
_REPORTED = re.compile(r"(?:^|\s)reported:(\S+)", re.IGNORECASE)
# customer:Acme, or a name of several words in quotes: customer:"Acme Ltd" (Slack's “ ” too)
_CUSTOMER = re.compile(r"(?:^|\s)customer:(?:[\"“”]([^\"“”]+)[\"“”]|(\S+))", re.IGNORECASE)
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_BARE_REF = re.compile(r"(?:sla-?)?#?\d{1,9}", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
# A start written as two words: a day (a weekday, today, tomorrow or a date) and a clock time.
_DAY_AND_TIME = re.compile(
    r"((?:mon|tue|wed|thu|fri|sat|sun)[a-z]*|today|tomorrow|\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})",
    re.IGNORECASE,
)
TIME_FORMS = "`+2h`, `16:30`, `sat 22:00` or `2026-11-28T22:00`"


class Usage(Exception):
    """The text does not fit the grammar; the message shows how to type it."""


@dataclass(frozen=True)
class Command:
    verb: str
    ref: str | None = None
    text: str = ""  # the summary, reason, update or note, as typed
    severity: str | None = None  # open's explicit severity is left to the classifier
    policy: str | None = None
    status: str | None = None  # wait's target state
    eta: str | None = None  # as typed; read in the policy's zone by the handler
    workaround: bool = False
    user: str | None = None  # assign's new owner
    month: str | None = None  # report's YYYY-MM; None: the current month
    action: str | None = None  # outage's start, end, list, show, edit or delete
    at: str | None = None  # outage start or end's at:, as typed; read in the policy's zone
    # outage edit's fields as typed (start, end, cause, note), each given at most once
    changes: tuple[tuple[str, str], ...] = ()
    force_majeure: bool = False  # outage start: the downtime is excluded from uptime
    cause: str | None = None  # outage start, downtime: a key of the policy's causes
    counts: bool | None = None  # downtime: it was (True) or was not (False) an outage
    start: str | None = None  # maintenance's start or release's date, as typed (policy's zone)
    reported: str | None = None  # open's reported:, as typed; read in the policy's zone
    # open's and report's customer: (None: the channel's or policy's, if any); policy's, bound
    # to the channel
    customer: str | None = None
    duration: timedelta | None = None  # maintenance's length
    rotation: str | None = None  # oncall cover's rotation (None: the only one there is)
    end: str | None = None  # oncall cover's end, as typed


def parse(text: str) -> Command:
    words = text.strip().split(maxsplit=1)
    if not words:
        return Command("help")
    if len(words) == 1 and _BARE_REF.fullmatch(words[0]):
        return Command("show", words[0])  # `/sla 42`: the ticket's ID alone shows it
    verb = ALIASES.get(words[0].lower(), words[0].lower())
    rest = words[1].strip() if len(words) > 1 else ""
    if verb not in USAGE:
        raise Usage(f"I don't know `{words[0][:30]}`. Try `/sla help`.")
    policy, rest = _take(_POLICY, rest)
    if verb == "open":
        reported, rest = _take(_REPORTED, rest)
        customer, rest = _take(_CUSTOMER, rest)
        return Command("open", text=rest, policy=policy, reported=reported, customer=customer)
    if verb in ("help", "list", "matrix"):
        return Command(verb, policy=policy)
    if verb == "report":
        customer, rest = _take(_CUSTOMER, rest)
        return _report(rest, policy, customer)
    if verb == "outage":
        return _outage(rest, policy)
    if verb == "maintenance":
        return _maintenance(rest, policy)
    if verb == "oncall":
        return _oncall(rest)
    if verb == "policy":
        customer, rest = _take(_CUSTOMER, rest)
        name = rest.split()[0] if rest else policy
        if customer is not None and name is None:
            raise Usage(f"Which policy is the customer's? `{USAGE['policy']}`")
        return Command("policy", policy=name, customer=customer)
    ref, rest = _ref(verb, rest)
    if verb == "sev":
        level, _, reason = rest.partition(" ")
        if not level:
            raise Usage(f"Which severity? `{USAGE['sev']}`")
        return Command("sev", ref, text=reason.strip(), severity=level)
    if verb == "update":
        eta, rest = _take(_ETA, rest)
        first, _, after = rest.partition(" ")
        workaround = first.lower() in ("workaround", "workaround:")
        body = after.strip() if workaround else rest
        if not body:
            raise Usage(f"An update needs some text. `{USAGE['update']}`")
        return Command("update", ref, text=body, eta=eta, workaround=workaround)
    if verb == "correct":
        return _correction(ref, rest)
    if verb == "release":
        when, _, who = rest.partition(" ")
        if not when or not who.strip():
            raise Usage(f"Which date, and who agreed it? `{USAGE['release']}`")
        return Command("release", ref, text=who.strip(), start=when)
    if verb == "wait":
        status = WAIT_FOR.get(rest.split()[0].lower()) if rest else None
        if status is None:
            raise Usage(f"Waiting on whom? `{USAGE['wait']}`")
        return Command("wait", ref, status=status)
    if verb == "assign":
        match = _USER.search(rest)
        if match is None:
            raise Usage(f"Assign to whom? Mention them: `{USAGE['assign']}`")
        return Command("assign", ref, user=match.group(1))
    return Command(verb, ref, text=rest)


def _report(rest: str, policy: str | None, customer: str | None) -> Command:
    if not rest:
        return Command("report", policy=policy, customer=customer)
    match = _MONTH.fullmatch(rest)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise Usage(
            f"I can't read the month {rest[:20]!r}: write it as YYYY-MM, such as 2026-11. "
            f"`{USAGE['report']}`"
        )
    return Command("report", policy=policy, month=rest, customer=customer)


def _outage(rest: str, policy: str | None) -> Command:
    first, _, after = rest.partition(" ")
    if first.lower() == "list" and not after.strip():
        return Command("outage", policy=policy, action="list")
    if first.lower() in OUTAGE_CORRECTIONS:
        return _outage_correction(OUTAGE_CORRECTIONS[first.lower()], after.strip(), policy)
    action = OUTAGE_ACTIONS.get(first.lower())
    if action is None:
        raise Usage(f"Start or end? `{USAGE['outage']}`")
    at, note = _take(_AT, after.strip())
    cause = None
    if action == "start":
        cause, note = _take(_CAUSE, note)
    flag, _, more = note.partition(" ")
    force_majeure = action == "start" and flag.lower() in FORCE_MAJEURE
    if force_majeure:
        note = more.strip()
    return Command(
        "outage",
        text=note,
        policy=policy,
        action=action,
        force_majeure=force_majeure,
        cause=cause.lower() if cause else None,
        at=at,
    )


def _outage_correction(action: str, rest: str, policy: str | None) -> Command:
    """``show ID``, ``delete ID [reason:]WHY`` or ``edit ID field:value …`` (start, end, cause,
    note, and the reason, each at most once; a value runs to the next field)."""
    ident, _, rest = rest.partition(" ")
    ident = ident.lstrip("#")
    if not ident.isdigit():
        raise Usage(f"Which outage? Give its ID from `/sla outage list`: `{USAGE['outage']}`")
    if action == "show":
        return Command("outage", ident, policy=policy, action="show")
    if action == "delete":
        why = _REASON.sub("", rest.strip(), count=1).strip()
        if not why:
            raise Usage(f"Say why, for the audit trail: `/sla outage delete {ident} reason:WHY`")
        return Command("outage", ident, text=why, policy=policy, action="delete")
    parts = _EDIT_FIELD.split(rest.strip())
    if parts[0].strip():
        raise Usage(
            f"I can't read {parts[0].strip()[:30]!r}: give each change as a field, such as "
            f"`/sla outage edit {ident} start:2026-11-30 14:05 reason:monitoring saw it first`"
        )
    given: dict[str, str] = {}
    for name, value in zip(parts[1::2], parts[2::2], strict=True):
        if name.lower() in given:
            raise Usage(f"`{name.lower()}:` is given twice: give each field once.")
        given[name.lower()] = value.strip()
    changes = tuple((name, given[name]) for name in OUTAGE_FIELDS if name in given)
    if not changes:
        raise Usage(
            f"What should change? `/sla outage edit {ident} [start:TIME] [end:TIME] "
            "[cause:KEY|none] [note:TEXT] [reason:WHY]`"
        )
    empty = [name for name, value in changes if not value and name != "note"]
    if empty:
        raise Usage(f"`{empty[0]}:` needs a value, such as `{empty[0]}:{_EXAMPLES[empty[0]]}`.")
    return Command(
        "outage",
        ident,
        text=given.get("reason", ""),
        policy=policy,
        action="edit",
        changes=changes,
    )


_EXAMPLES = {"start": "2026-11-30 14:05", "end": "-10m", "cause": "aws"}


def _correction(ref: str, rest: str) -> Command:
    """``not-outage``, ``outage`` or ``cause:KEY`` (or a cause with a verdict), then why."""
    cause, rest = _take(_CAUSE, rest)
    first, _, why = rest.partition(" ")
    counts = DOWNTIME_VERDICTS.get(first.lower())
    if counts is None:
        why = rest
    if counts is None and cause is None:
        raise Usage(f"Not an outage, an outage, or which cause? `{USAGE['correct']}`")
    if not why.strip():
        raise Usage(f"Say why, for the audit trail. `{USAGE['correct']}`")
    verdict = None if counts is None else counts == "yes"
    return Command(
        "correct", ref, text=why.strip(), counts=verdict, cause=cause.lower() if cause else None
    )


def _maintenance(rest: str, policy: str | None) -> Command:
    """``list``, ``cancel ID``, or ``[preview] START DURATION text`` (a preview records
    nothing: it says whether the window would meet the contract's notice rule)."""
    first, _, after = rest.partition(" ")
    word = first.lower()
    if word == "list" and not after.strip():
        return Command("maintenance", policy=policy, action="list")
    if word == "cancel":
        ident = after.strip().lstrip("#")
        if not ident.isdigit():
            raise Usage(
                "Which maintenance? Give its ID from `/sla maintenance list`: "
                f"`{USAGE['maintenance']}`"
            )
        return Command("maintenance", ident, policy=policy, action="cancel")
    if word == "preview":
        found = _window(after.strip(), policy)
        return Command(
            "maintenance",
            text=found.text,
            policy=policy,
            start=found.start,
            duration=found.duration,
            action="preview",
        )
    return _window(rest, policy)


def _window(rest: str, policy: str | None) -> Command:
    two = _DAY_AND_TIME.match(rest)
    if two is not None and (two.end() == len(rest) or rest[two.end()].isspace()):
        start, rest = f"{two.group(1)} {two.group(2)}", rest[two.end() :].strip()
    else:
        start, _, rest = rest.partition(" ")
    length, _, note = rest.strip().partition(" ")
    if _CLOCK.fullmatch(length):
        # "31/12 22:00 4h": a day written some other way, taken for the start, leaves the time
        # where the duration goes. Say what was not understood: the day.
        raise Usage(
            f"I can't read the day {start[:20]!r}: write it as 2026-12-31, a weekday (sat), "
            f"today or tomorrow, before the time, such as `/sla maintenance 2026-12-31 "
            f"{length} 4h upgrade`; or give the start as {TIME_FORMS}. "
            f"`{USAGE['maintenance']}`"
        )
    if not start or not length:
        raise Usage(
            f"When, and for how long? `{USAGE['maintenance']}`, such as "
            "`/sla maintenance sat 22:00 4h database upgrade`"
        )
    try:
        duration = parse_duration(length)
    except ValueError:
        raise Usage(
            f"I can't read the duration {length[:20]!r}: write it like `4h`, `90m` or `1h30m`. "
            f"`{USAGE['maintenance']}`"
        ) from None
    if duration <= timedelta(0):
        raise Usage(f"Maintenance must last longer than zero. `{USAGE['maintenance']}`")
    if not note.strip():
        raise Usage(f"Say what the maintenance is, for the announcement. `{USAGE['maintenance']}`")
    return Command("maintenance", text=note.strip(), policy=policy, start=start, duration=duration)


_SPAN = re.compile(r"(?:\s+from\s+(?P<start>.+?))?\s+(?:to|until|till)\s+(?P<end>.+)$", re.I)


def _oncall(rest: str) -> Command:
    """``/sla oncall``, or ``[ROTATION] cover @someone [from START] until END``."""
    if not rest:
        return Command("oncall")
    words = rest.split(maxsplit=1)
    rotation = None
    if words[0].lower() not in COVER_ACTIONS:
        rotation, rest = words[0], words[1] if len(words) > 1 else ""
    action, _, rest = rest.strip().partition(" ")
    if action.lower() not in COVER_ACTIONS:
        raise Usage(f"Show or cover? `{USAGE['oncall']}`")
    who = _USER.match(rest.strip())
    if who is None:
        raise Usage(f"Who covers? Mention them: `{USAGE['oncall']}`")
    span = _SPAN.match(" " + rest.strip()[who.end() :].strip())
    if span is None:
        raise Usage(
            f"Until when? `{USAGE['oncall']}`, such as "
            "`/sla oncall cover @ana from fri 18:00 until mon 09:00`"
        )
    return Command(
        "oncall",
        action="cover",
        user=who.group(1),
        rotation=rotation,
        start=span.group("start"),
        end=span.group("end").strip(),
    )


def read_time(text: str, tz: tzinfo, now: datetime) -> datetime:
    """An instant typed by a person, read in the policy's zone ``tz``; ValueError when unread.

    ``+2h`` (from ``now``), ``16:30`` (the next time the policy's clock shows it), ``sat 22:00``
    (the next Saturday at 22:00, today if still to come; also ``today`` and ``tomorrow``),
    ``2026-11-28 22:00``, or an ISO time (``2026-11-28T22:00``; an offset is honoured).
    """
    text = text.strip()
    if text.startswith("+"):
        return now + parse_duration(text[1:])
    if _CLOCK.fullmatch(text):
        local = _at(now.astimezone(tz), text, tz)
        return local if local > now else _at(local + timedelta(days=1), text, tz)
    two = _DAY_AND_TIME.fullmatch(text)
    if two is not None:
        return _on_day(two.group(1).lower(), two.group(2), tz, now)
    return _iso(text, tz)


def read_day_end(text: str, tz: tzinfo, now: datetime) -> datetime:
    """A date by which something is promised (an agreed release), read in ``tz``; ValueError
    when unread. A bare date (``2027-01-15``) means by the end of that day, so the next
    midnight in ``tz``; anything else reads as `read_time`."""
    text = text.strip()
    if _ISO_DATE.fullmatch(text):
        day = datetime.fromisoformat(text) + timedelta(days=1)
        return day.replace(tzinfo=tz)
    return read_time(text, tz, now)


def read_past_time(text: str, tz: tzinfo, now: datetime) -> datetime:
    """An instant in the past typed by a person (when a problem was reported), read in ``tz``;
    ValueError when unread. ``-2h`` (before ``now``), ``09:30`` (the last time the policy's
    clock showed it: today, or yesterday when that is still to come), or an ISO time."""
    text = text.strip()
    if text.startswith("-"):
        return now - parse_duration(text[1:])
    if _CLOCK.fullmatch(text):
        local = _at(now.astimezone(tz), text, tz)
        return local if local <= now else _at(local - timedelta(days=1), text, tz)
    return _iso(text, tz)


def _iso(text: str, tz: tzinfo) -> datetime:
    """An ISO time; one without an offset is read in ``tz``. ValueError when it is not one."""
    if not _ISO_DATE.match(text):  # a date first: not a week (2026-W48) nor a bare number
        raise ValueError(text)
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _at(day: datetime, clock: str, tz: tzinfo) -> datetime:
    """``clock`` (HH:MM) on ``day``'s local date in ``tz``."""
    match = _CLOCK.fullmatch(clock)
    if match is None:
        raise ValueError(clock)
    hours, minutes = int(match.group(1)), int(match.group(2))
    local = day.astimezone(tz)
    return datetime(local.year, local.month, local.day, hours, minutes, tzinfo=tz)


def _on_day(day: str, clock: str, tz: tzinfo, now: datetime) -> datetime:
    if _ISO_DATE.fullmatch(day):
        return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz)
    local = now.astimezone(tz)
    if day in ("today", "tomorrow"):
        return _at(local + timedelta(days=day == "tomorrow"), clock, tz)
    weekday = next((i for i, name in enumerate(WEEKDAYS) if day.startswith(name)), None)
    if weekday is None:
        raise ValueError(day)
    ahead = (weekday - local.weekday()) % 7
    when = _at(local + timedelta(days=ahead), clock, tz)
    return when if when > now else _at(local + timedelta(days=ahead + 7), clock, tz)


def _ref(verb: str, rest: str) -> tuple[str, str]:
    ref, _, after = rest.partition(" ")
    if not ref:
        raise Usage(f"Which ticket? `{USAGE[verb]}`")
    return ref, after.strip()


def _take(pattern: re.Pattern[str], text: str) -> tuple[str | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    before, after = text[: match.start()].rstrip(), text[match.end() :].lstrip()
    value = next((g for g in match.groups() if g is not None), None)
    return value, f"{before} {after}".strip()
