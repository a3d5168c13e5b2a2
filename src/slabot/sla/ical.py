"""On-call rotations and iCalendar (RFC 5545), both ways. Pure: text in, shifts out, and back.

A rotation may be read from a calendar instead of a list of people (``ical:`` in the team
file): each event, recurrences expanded, is a shift of the person it names. The team's
calendar app (Google Calendar, Outlook, an on-call tool's export) then stays the one place
people swap turns. Who an event names: a Slack user ID in its title (``U0ANA00001``,
``On call: @U0ANA00001``), else its title or an attendee's e-mail address looked up in the
source's ``people`` map. Events that overlap: the one that started last is on call, as a
later override wins over the rotation. An event naming nobody the map knows refuses the
whole calendar, with the event's title and start, so a typo never silently leaves a week
uncovered.

The other way, `feed` writes a rotation's shifts (overrides included) as a calendar anyone
can subscribe to. Reading and writing go through ``icalendar`` and ``recurring-ical-events``
rather than our own RFC 5545 code: time zones, all-day events, RRULE/EXDATE/RDATE and
DURATION are theirs to get right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# A Slack user ID in an event's title: the whole title, a mention (``@U0ANA00001``, ``<@U…>``),
# or a word shaped like one (U or W, 8 or more capitals and digits, a digit among them).
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
USER_IN_TEXT = re.compile(r"@([UW][A-Z0-9]{2,})\b|\b([UW](?=[A-Z]*\d)[A-Z0-9]{8,})\b")
BEHIND = timedelta(days=8)  # the feed's past week; a late page asks who was on call then
AHEAD = timedelta(days=120)  # how far ahead a calendar's recurrences are expanded


class IcalError(ValueError):
    """A calendar that cannot be used as a rotation; the message says what to fix."""


@dataclass(frozen=True)
class Slot:
    """One event of a rotation's calendar: ``person`` on call from ``starts_at`` (UTC)."""

    starts_at: datetime
    ends_at: datetime
    person: str


def read_slots(
    text: bytes | str,
    people: Mapping[str, str],
    tz: ZoneInfo,
    since: datetime,
    until: datetime,
) -> tuple[Slot, ...]:
    """The shifts ``text`` (an iCalendar file) holds between ``since`` and ``until``, by
    start. ``people`` maps event titles and attendee e-mail addresses (case-insensitive) to
    Slack user IDs; ``tz`` places floating times and all-day events. IcalError says what is
    wrong: not iCalendar, no events, an event without an end, or one naming nobody known."""
    import icalendar  # here: about a third of the core's import time, for the few that use it
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise IcalError(f"not an iCalendar file ({_short(exc)}): export it as .ics") from None
    if not calendar.walk("VEVENT"):
        raise IcalError("the calendar has no events: each on-call shift is an event")
    try:
        events = recurring_ical_events.of(calendar).between(since, until)
    except Exception as exc:  # the library raises its own and dateutil's errors on bad rules
        raise IcalError(f"cannot expand the calendar's events ({_short(exc)})") from None
    known = {name.casefold(): user for name, user in people.items()}
    slots = []
    for event in events:
        title = str(event.get("SUMMARY", "")).strip()
        starts = _instant(event.get("DTSTART"), tz)
        ends = _instant(event.get("DTEND"), tz)
        if starts is None or ends is None or ends <= starts:
            raise IcalError(f"the event {title!r} at {starts} has no end after its start")
        person = _person(event, title, known)
        if person is None:
            raise IcalError(
                f"the event {title!r} on {starts:%Y-%m-%d %H:%M} UTC names nobody slabot knows: "
                "write the person's Slack user ID in its title, or map its title or attendee "
                "e-mail to one under ical.people"
            )
        slots.append(Slot(starts, ends, person))
    return tuple(sorted(slots, key=lambda s: (s.starts_at, s.ends_at)))


def slot_at(slots: Iterable[Slot], at: datetime) -> tuple[str | None, datetime, datetime]:
    """Who the calendar puts on call at ``at``, and the span that stays so: the latest-started
    event covering ``at``; in a gap, nobody from the last event's end to the next one's start
    (open-ended spans are bounded by ``at`` ± `AHEAD`)."""
    person, starts, ends = None, at - AHEAD, at + AHEAD
    covering = [s for s in slots if s.starts_at <= at < s.ends_at]
    if covering:
        slot = max(covering, key=lambda s: s.starts_at)
        person, starts, ends = slot.person, slot.starts_at, slot.ends_at
    for other in slots:  # the next change: any event starting or ending inside the span
        for edge in (other.starts_at, other.ends_at):
            if at < edge < ends:
                ends = edge
            if starts < edge <= at:
                starts = edge
    return person, starts, ends


def feed(
    name: str,
    key: str,
    shifts: Iterable[tuple[datetime, datetime, str | None]],
    now: datetime,
    describe: Callable[[str], str] = str,
) -> bytes:
    """A calendar of a rotation's shifts (start, end, person), for calendar apps to
    subscribe to. ``describe`` names a person (a Slack ID by default). Each shift's UID is
    stable (rotation and start), so a refreshed feed updates events instead of adding them."""
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//slabot//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{name} (on call)")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for starts, ends, person in shifts:
        event = icalendar.Event()
        event.add("uid", f"{key}-{starts:%Y%m%dT%H%M%SZ}@slabot")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", starts.astimezone(UTC))
        event.add("dtend", ends.astimezone(UTC))
        who = describe(person) if person else "nobody"
        event.add("summary", f"On call: {who}")
        if person:
            event.add("description", f"Slack user {person}")
        event.add("transp", "TRANSPARENT")  # being on call does not make one busy
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _instant(prop: Any, tz: ZoneInfo) -> datetime | None:
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    if isinstance(value, date):  # an all-day event runs from local midnight
        return datetime.combine(value, time(0), tz).astimezone(UTC)
    return None


def _person(event: Any, title: str, known: Mapping[str, str]) -> str | None:
    if USER_ID.fullmatch(title):
        return title
    found = USER_IN_TEXT.search(title)
    if found:
        return found.group(1) or found.group(2)
    if title.casefold() in known:
        return known[title.casefold()]
    attendees = event.get("ATTENDEE") or []
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        address = str(attendee).removeprefix("mailto:").removeprefix("MAILTO:").casefold()
        if address in known:
            return known[address]
    return None


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
