"""Block Kit for outages and planned maintenance: the channel's announcements, the warning.

Pure, like `blocks`: a stored outage or maintenance (`slabot.store.tables.OutageRecord`,
`MaintenanceRecord`, read by their fields only), the policy and ``now`` in, ``(fallback text,
blocks)`` out. Notes are user text: they go into ``plain_text`` where Slack parses nothing, and
into fallbacks escaped.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from ...sla.figures import Interruption, exclusion
from ...sla.policy import Policy
from .kit import (
    FALLBACK_MAX,
    LINE_TITLE_MAX,
    MESSAGE_BLOCKS_MAX,
    SECTION_MAX,
    Block,
    context,
    escape,
    join_fitting,
    left,
    md,
    mention,
    one_line,
    pack,
    plain_section,
    section,
    slack_date,
    truncate,
)


def local_span(start: datetime, end: datetime, tz: tzinfo) -> str:
    """ "Sat 28 Nov 22:00 – Sun 29 Nov 02:00 GMT": both ends in the policy's zone, as text,
    for readers who need the contract's own clock (the ``<!date>`` tokens show their own)."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    first = f"{a:%a} {a.day} {a:%b %H:%M}"
    if a.date() == b.date():
        return f"{first}–{b:%H:%M %Z}"
    if a.tzname() != b.tzname():  # a clock change inside: name both zones
        first += f" {a:%Z}"
    return f"{first} – {b:%a} {b.day} {b:%b %H:%M %Z}"


def _title(policy: Policy) -> str:
    return md(one_line(policy.title or policy.name), 150)


def _note_blocks(note: str) -> list[Block]:
    return [plain_section(note.strip())] if note and note.strip() else []


def _fallback(text: str, note: str) -> str:
    if note and note.strip():
        text += f": {md(one_line(note), LINE_TITLE_MAX)}"
    return truncate(text, FALLBACK_MAX)


def outage_started(record: Any, policy: Policy, note: str) -> tuple[str, list[Block]]:
    """In the channel: who declared the outage, when, and how to end it."""
    tz = policy.tz
    text = (
        f":red_circle: {mention(record.started_by)} declared an outage of *{_title(policy)}* "
        f"from {slack_date(record.started_at, tz)}."
    )
    extra = f"{_counted(record, policy)} End it with `/sla outage end [note]`."
    blocks = [section(text), *_note_blocks(note), context(extra)]
    return _fallback(f"Outage of {_title(policy)} declared", note), blocks


def outage_ended(record: Any, policy: Policy, note: str) -> tuple[str, list[Block]]:
    """In the channel: who ended it, when, and how long it lasted."""
    tz = policy.tz
    lasted = left(record.ended_at - record.started_at)
    text = (
        f":large_green_circle: {mention(record.ended_by)} ended the outage of "
        f"*{_title(policy)}* at {slack_date(record.ended_at, tz)}: it lasted *{lasted}* "
        f"(from {slack_date(record.started_at, tz)}, declared by {mention(record.started_by)})."
    )
    blocks = [section(text), *_note_blocks(note), context(_counted(record, policy))]
    return _fallback(f"Outage of {_title(policy)} over after {lasted}", note), blocks


def _counted(record: Any, policy: Policy) -> str:
    """What the outage does to the month's figures, as the policy's causes decide it."""
    outage = Interruption(
        record.started_at, record.ended_at, force_majeure=record.force_majeure, cause=record.cause
    )
    left_out = exclusion(policy, outage)
    if left_out is None:
        return "It counts as downtime in this month's uptime (`/sla report`)."
    why, scope = left_out
    if scope == "credits":
        return f"Caused by *{md(why, 200)}*: it counts as downtime but earns no service credit."
    return f"Caused by *{md(why, 200)}*: it is left out of uptime and service credits."


def notice_broken(policy: Policy, problems: list[str]) -> str:
    """Why the maintenance breaks the policy's notice rule, in one paragraph of ``mrkdwn``."""
    reasons = "; ".join(md(one_line(p), 500) for p in problems)
    return (
        f"This maintenance breaks the notice rule of *{_title(policy)}*: {reasons}. "
        "Its minutes will count as downtime."
    )


def maintenance_announcement(
    record: Any, policy: Policy, problems: list[str]
) -> tuple[str, list[Block]]:
    """In the channel: when (each reader's time and the policy's), how long, what, and
    whether the notice rule was met, saying why not when it was broken."""
    tz = policy.tz
    start, end = record.started_at, record.ended_at
    lines = [
        f":calendar: *Planned maintenance of {_title(policy)}* from {slack_date(start, tz)} "
        f"to {slack_date(end, tz)} ({left(end - start)})",
        f"{local_span(start, end, tz)} in the policy's time zone · announced by "
        f"{mention(record.started_by)}",
    ]
    blocks: list[Block] = [section(join_fitting(lines, SECTION_MAX)), *_note_blocks(record.note)]
    rule = policy.uptime.maintenance if policy.uptime else None
    if problems:
        blocks.append(section(f":warning: {notice_broken(policy, problems)}"))
    elif rule is not None:
        blocks.append(
            context("Announced with the notice the policy asks for: it does not count as downtime.")
        )
    fallback = f"Planned maintenance of {_title(policy)}, {local_span(start, end, tz)}"
    return _fallback(fallback, record.note), blocks


# What the channel hears is posted by the clock (`slabot.outages.notices`); the lead who typed
# is told at once what was recorded and where the channel will hear of it.
NOT_SEEN = (
    "Not there within a minute? Invite me (`/invite @slabot`) and ask whoever runs slabot to "
    "send it again (`slabot timers --notices --retry`)."
)


def recorded(done: str, channel: str | None, what: str = "it", how: str = "") -> str:
    """The lead's answer to a change the clock will announce: ``done`` ("Outage #3 is
    ended"), and where ``what`` will be announced (``how``) as soon as Slack answers."""
    if not channel:
        return f"{done}."
    where = f"will be announced in <#{channel}>{how}"
    return f"{done}; {what} {where} as soon as Slack answers. {NOT_SEEN}"


def maintenance_recorded(record: Any, policy: Policy, problems: list[str]) -> str:
    """The lead's answer to ``/sla maintenance``: recorded (with why it counts as downtime,
    when it breaks the notice rule), and announced in the channel as soon as Slack answers."""
    warning = f":warning: {notice_broken(policy, problems)} " if problems else ""
    how = ", with the reason," if problems else ""
    return warning + recorded(f"Maintenance #{record.id} is recorded", record.channel, how=how)


def maintenance_called_off(record: Any) -> str:
    """The lead's answer to ``/sla maintenance cancel``."""
    return recorded(f"Maintenance #{record.id} is called off", record.channel, "that")


def owed_notice(
    record: Any, change: Any, policy: Policy | None, stage: str
) -> tuple[str, list[Block]]:
    """What a channel hears, posted by the clock: planned maintenance ``record`` announced,
    called off or recalled (`maintenance_reminder`) at ``stage``, or outage ``record``'s
    ``change`` (a `slabot.outages.trail.Change`). ``policy``: None when the deployment no
    longer has it; plain words then stand in."""
    if policy is None:
        if change is not None:
            return f"Outage #{record.id} of {escape(record.policy)}: {change.kind}", []
        return maintenance_reminder(record, policy, stage), []
    if stage == "started":
        return outage_started(record, policy, change.after.get("note") or "")
    if stage == "ended":
        return outage_ended(record, policy, _added_note(change))
    if stage in ("edited", "deleted"):
        return outage_corrected(record, change, policy)
    if stage == "announce":
        return maintenance_announcement(record, policy, record.notice_problems)
    if stage == "called_off":
        return maintenance_cancelled(record, policy)
    return maintenance_reminder(record, policy, stage), []


def _added_note(change: Any) -> str:
    """The note an end added to the outage's (`Outages.end` appends it on a line of its own)."""
    before, after = change.before.get("note") or "", change.after.get("note")
    if after is None:  # the note did not move
        return ""
    return after.removeprefix(before).lstrip("\n") if before else after


def maintenance_list(records: list[Any], policy: Policy) -> tuple[str, list[Block]]:
    """``/sla maintenance list``: each planned window not over, soonest first, with its ID
    (to call it off), when, what, and whether it counts as downtime."""
    tz = policy.tz
    if not records:
        text = f"No maintenance of {_title(policy)} is planned."
        return text, [section(text)]
    lines = []
    for record in records:
        start, end = record.started_at, record.ended_at
        counts = " · :warning: counts as downtime (short notice)" if record.notice_problems else ""
        lines.append(
            f"*#{record.id}* {slack_date(start, tz)} to {slack_date(end, tz)} "
            f"({local_span(start, end, tz)}) · {md(one_line(record.note), 200)}{counts}"
        )
    text = f"{len(records)} planned maintenance window{'' if len(records) == 1 else 's'}"
    hint = context("Call one off with `/sla maintenance cancel ID`.")
    return text, [section(join_fitting(lines, SECTION_MAX)), hint]


def maintenance_preview(policy: Policy, start: datetime, end: datetime, problems: list[str]) -> str:
    """``/sla maintenance preview``: whether the window would meet the notice rule, before it
    is recorded (nothing is)."""
    span = f"{local_span(start, end, policy.tz)} ({left(end - start)})"
    if problems:
        return (
            f":warning: Announced now, maintenance {span} would count as downtime: "
            f"{notice_broken(policy, problems)} Nothing is recorded."
        )
    return (
        f":white_check_mark: Announced now, maintenance {span} meets the policy's notice rule. "
        "Nothing is recorded yet: announce it without `preview`."
    )


def maintenance_cancelled(record: Any, policy: Policy) -> tuple[str, list[Block]]:
    """In the channel: who called off which maintenance."""
    tz = policy.tz
    start, end = record.started_at, record.ended_at
    text = (
        f":no_entry_sign: {mention(record.cancelled_by)} called off the planned maintenance of "
        f"{_title(policy)} from {slack_date(start, tz)} to {slack_date(end, tz)} "
        f"(#{record.id})"
    )
    fallback = f"Maintenance of {_title(policy)} called off, {local_span(start, end, tz)}"
    return _fallback(fallback, record.note), [section(text), *_note_blocks(record.note)]


# -- a lead's corrections: the list, an outage's trail, a correction announced -------------------

FIELD_WORDS = {
    "started_at": "start",
    "ended_at": "end",
    "cause": "cause",
    "note": "note",
    "force_majeure": "force majeure",
}
# What each kind of change shows of what it moved: a start its start, an end its end.
SHOWN = {"started": ("started_at",), "ended": ("ended_at",), "edited": tuple(FIELD_WORDS)}
DONE = {
    "started": "recorded it",
    "ended": "ended it",
    "edited": "changed",
    "deleted": "deleted it (it counts nowhere since)",
}


def outage_list(records: list[Any], policy: Policy) -> tuple[str, list[Block]]:
    """``/sla outage list``: the latest outages, newest first, each with its ID (to show,
    edit or delete it), its span, cause and note."""
    if not records:
        text = f"No outage of {_title(policy)} is recorded."
        return text, [section(text)]
    lines = [
        f"*#{record.id}* {_span(record, policy)} · {_about(record, policy)}" for record in records
    ]
    text = f"The latest {len(records)} outage{'' if len(records) == 1 else 's'} of {_title(policy)}"
    hint = context(
        "`/sla outage show ID` shows one and its changes; a lead corrects one with "
        "`/sla outage edit ID start:… end:… reason:…` or `/sla outage delete ID reason:…`."
    )
    return text, [section(join_fitting([f"*{text}*", *lines], SECTION_MAX)), hint]


def outage_history(record: Any, changes: list[Any], policy: Policy) -> tuple[str, list[Block]]:
    """``/sla outage show ID``: the outage as it stands and every change to it, oldest first
    (who, when, from what to what, why)."""
    state = " · *counts nowhere*" if record.deleted_at is not None else ""
    head = f"*Outage #{record.id}* of {_title(policy)}: {_span(record, policy)}{state}"
    text = f"Outage #{record.id} of {_title(policy)} and its changes"
    lines = [change_line(change, policy) for change in changes] or [
        "No change is on record: it was recorded before slabot kept outages' trails."
    ]
    blocks = [section(join_fitting([head, _about(record, policy)], SECTION_MAX))]
    blocks += [section("\n".join(part)) for part in pack(lines, MESSAGE_BLOCKS_MAX - 1)]
    return text, blocks


def outage_corrected(record: Any, change: Any, policy: Policy) -> tuple[str, list[Block]]:
    """In the channel: a lead's edit or deletion of an outage, with why; the month's figures
    read the outage as it now stands."""
    what = "deleted" if change.kind == "deleted" else "corrected"
    text = f"Outage #{record.id} of {_title(policy)} {what}"
    counted = (
        "It no longer counts in uptime or service credits (`/sla report`)."
        if change.kind == "deleted"
        else _counted(record, policy)
    )
    line = f":pencil2: *Outage #{record.id}* of {_title(policy)}: {change_line(change, policy)}"
    return text, [section(truncate(line, SECTION_MAX)), context(counted)]


def change_line(change: Any, policy: Policy) -> str:
    """One entry of an outage's trail: when, who, what moved (before → after), and why."""
    shown = SHOWN.get(change.kind, ())
    moved = [
        f"{FIELD_WORDS[key]} {_value(key, change.before[key], policy)} → "
        f"{_value(key, change.after[key], policy)}"
        if key in change.before and change.kind == "edited"
        else f"{FIELD_WORDS[key]} {_value(key, change.after[key], policy)}"
        for key in FIELD_WORDS
        if key in change.after and key in shown
    ]
    line = f"{slack_date(change.at, policy.tz)} · {mention(change.actor)} "
    line += DONE.get(change.kind, change.kind)
    if change.kind == "started" and change.after.get("started_at", change.at) < change.at:
        line += " (backdated)"
    if moved:
        line += (" " if change.kind == "edited" else ": ") + "; ".join(moved)
    if change.reason:
        line += f" · why: {md(one_line(change.reason), 300)}"
    return truncate(line, SECTION_MAX)


def _span(record: Any, policy: Policy) -> str:
    start, end = record.started_at, record.ended_at
    if end is None:
        return f"running since {slack_date(start, policy.tz)}"
    return f"{slack_date(start, policy.tz)} to {slack_date(end, policy.tz)} ({left(end - start)})"


def _about(record: Any, policy: Policy) -> str:
    causes = policy.uptime.causes if policy.uptime else {}
    cause = causes[record.cause].label if record.cause in causes else record.cause
    parts = [f"cause: {md(cause, 100)}"] if cause else []
    if record.note:
        parts.append(md(one_line(record.note), 200))
    return " · ".join(parts) or "no cause or note given"


def _value(key: str, value: Any, policy: Policy) -> str:
    if key in ("started_at", "ended_at"):
        return "running" if value is None else slack_date(value, policy.tz)
    if key == "force_majeure":
        return "yes" if value else "no"
    if not value:
        return "none"
    return f"“{md(one_line(str(value)), 200)}”"


REMINDER_NOTE_MAX = 1000


def maintenance_reminder(record: Any, policy: Policy | None, stage: str) -> str:
    """What the channel hears of planned maintenance ``record`` at ``stage`` (``before``,
    ``start``, ``end``; and ``announce``, ``called_off`` when its policy is gone): what,
    when (a date token each reader sees in their own zone), the note, and whether its minutes
    count as downtime. ``policy``: None when the deployment no longer has it (its name stands
    in, and UTC)."""
    title, tz = (policy.title or policy.name, policy.tz) if policy else (record.policy, "UTC")
    start = slack_date(record.started_at, tz)
    end = slack_date(record.ended_at or record.started_at, tz)
    name = f"planned maintenance of *{escape(title)}*"
    if stage == "announce":
        text = f":calendar: The {name} runs from {start} to {end}."
    elif stage == "called_off":
        text = f":no_entry_sign: The {name} ({start} to {end}) is called off."
    elif stage == "before":
        text = f":construction: Reminder: {name} starts {start} and runs until {end}."
    elif stage == "start":
        text = f":construction: The {name} starts now; it runs until {end}."
    else:
        text = f":white_check_mark: The {name} ({start} to {end}) is over."
    if record.note:
        lines = escape(truncate(record.note, REMINDER_NOTE_MAX)).splitlines()
        text += "".join(f"\n> {line}" for line in lines)
    if record.notice_problems and stage in ("announce", "before", "start"):
        text += "\nIt was announced without the notice the contract asks for, so it counts "
        text += "as downtime."
    return text
