"""The ``/sla`` grammar: text in, a `Command` out, or a `Usage` error that says how to type it.

Pure: no Slack, no storage. Listeners parse with `parse` and hand the command to a use case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HELP = """\
*slabot* keeps support SLAs as running clocks. Commands:
• `/sla open [severity] [policy:NAME] summary` open a ticket (no text: a form)
• `/sla ack ID` acknowledge and take a ticket
• `/sla sev ID LEVEL [reason]` change its severity
• `/sla update ID [eta:TIME | workaround] text` post an update
• `/sla wait ID customer|third-party`, `/sla resume ID` pause and resume the clock
• `/sla resolve ID [note]`, `/sla reopen ID`, `/sla close ID`
• `/sla assign ID @someone`
• `/sla list` the queue, most urgent first · `/sla show ID` one ticket
• `/sla policy [NAME]` show the policy, or bind this channel to NAME · `/sla matrix` who gets paged
IDs are ticket numbers such as `SLA-42` (or just `42`); `/sla 42` alone shows ticket 42.
TIME is `+2h`, `16:30` or `2026-11-23T16:30`."""

USAGE = {
    "open": "/sla open [severity] [policy:NAME] summary",
    "ack": "/sla ack ID",
    "sev": "/sla sev ID LEVEL [reason]",
    "update": "/sla update ID [eta:TIME | workaround] text",
    "wait": "/sla wait ID customer|third-party",
    "resume": "/sla resume ID",
    "resolve": "/sla resolve ID [note]",
    "reopen": "/sla reopen ID",
    "close": "/sla close ID",
    "assign": "/sla assign ID @someone",
    "list": "/sla list [policy:NAME]",
    "show": "/sla show ID",
    "policy": "/sla policy [NAME]",
    "matrix": "/sla matrix [policy:NAME]",
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
}
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
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_BARE_REF = re.compile(r"(?:sla-?)?#?\d{1,9}", re.IGNORECASE)


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
        return Command("open", text=rest, policy=policy)
    if verb in ("help", "list", "matrix"):
        return Command(verb, policy=policy)
    if verb == "policy":
        return Command("policy", policy=rest.split()[0] if rest else policy)
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
    return match.group(1), f"{before} {after}".strip()
