"""Who is on call, and who may do what: the deployment's team as pure functions of ``at``.

Rotations belong to the deployment, not to a contract: several policies page the same "support
team", and the team's turns do not change with a contract. A rotation is people in order, each
on call for ``every`` (whole days) from a hand-off at ``handoff`` o'clock in its time zone: the
first person from ``starts`` at that hour, the next one ``every`` later, and round again.
Hand-offs are computed in local wall-clock time, day by day, so a weekly hand-off stays at
09:00 across a DST change (the shift that spans the change is an hour longer or shorter). A
hand-off time that a spring-forward skips happens at the jump.

A rotation may instead be read from an iCalendar file or URL (``ical:``, `slabot.sla.ical`):
its events are the shifts, and a gap between them is a span with nobody on call. The adapter
reads the source and hands the events to `Rotation.use_calendar`, again at each refresh.

An override puts someone on call for a span (a holiday, a swap): the latest recorded override
covering an instant wins, and the rotation's order is unchanged by it.

A hand-off (`Rotation.latest_handoff`) is the moment the person on call changes, whatever changed
it: the rotation's own turn, an override starting or ending, a calendar's next event. Shifts
that merely split one person's time (an override naming whoever was on call anyway) are not
hand-offs. A rotation naming ``announce`` (a channel) and ``usergroup`` (a Slack user group)
has each hand-off announced there and the group set to whoever is on call
(`slabot.clock.handoffs`); ``workspace`` says which workspace they are in when slabot is
installed in several.

Roles (``Roles``) say who may record an outage, edit or delete one recorded, announce
maintenance, rebind a channel to a policy and edit on-call: deployment admins always;
``leads``; ``oncall``, whoever is on call in any rotation at that moment; ``members``, the
rotation's own people (for on-call edits).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, PrivateAttr, field_validator, model_validator

from .ical import Slot, slot_at
from .policy import Duration, EscalationLevel, Key, Model, TimeZoneName

_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}")
_GROUP = re.compile(r"S[A-Z0-9]{2,}")
_WORKSPACE = re.compile(r"[TE][A-Z0-9]{2,}")
SPANS = 64  # shifts joined at most into one person's time ahead ("until" in a hand-off)
# How far back a hand-off is looked for: one found later than this is not said at all.
HANDOFFS_WITHIN = timedelta(days=35)
_EVERY = re.compile(r"(\d{1,3})\s*([dw])")


def _user(value: Any) -> str:
    text = str(value)
    if not _USER.fullmatch(text):
        raise ValueError(f"{text!r} is not a Slack user ID: write one such as U0123ABCD")
    return text


def _every(value: Any) -> int:
    """A shift's length in whole days: ``1d``, ``3d``, ``1w``, ``2w``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _EVERY.fullmatch(str(value).strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{value!r} is not a shift length: write whole days or weeks, as 1d or 1w")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def _clock_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 09:00 as a sexagesimal 540
        return time(value // 60 % 24, value % 60)
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day: write HH:MM, such as 09:00") from None


def _slack_id(pattern: re.Pattern[str], what: str, example: str) -> Any:
    def check(value: Any) -> str:
        text = str(value)
        if not pattern.fullmatch(text):
            raise ValueError(f"{text!r} is not {what}: write its ID, such as {example}")
        return text

    return BeforeValidator(check)


UserId = Annotated[str, BeforeValidator(_user)]
ChannelId = Annotated[str, _slack_id(_CHANNEL, "a Slack channel ID", "C0123ABCD")]
GroupId = Annotated[str, _slack_id(_GROUP, "a Slack user group ID", "S0123ABCD")]
WorkspaceId = Annotated[str, _slack_id(_WORKSPACE, "a Slack workspace ID", "T0123ABCD")]
Days = Annotated[int, BeforeValidator(_every)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Role = Literal["anyone", "leads", "oncall", "members"]


@dataclass(frozen=True)
class Override:
    """``person`` is on call in ``rotation`` from ``starts_at`` until ``ends_at`` (UTC)."""

    rotation: str
    person: str
    starts_at: datetime
    ends_at: datetime
    by: str = ""  # who recorded it
    recorded_at: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class HandOff:
    """``person`` on call in ``rotation`` from ``since`` (the hand-off) until ``until``, and
    ``next`` after them. ``known`` is when the hand-off could first be known: its instant, or
    later when an override recorded after it started made it."""

    rotation: str
    person: str | None
    since: datetime
    until: datetime
    next: str | None
    known: datetime


@dataclass(frozen=True)
class Shift:
    """Who is on call in a rotation at an instant, and until when.

    ``scheduled`` is whose turn the rotation says it is; ``person`` differs from it while an
    override runs. ``ends_at`` is the next change: a hand-off, or an override starting or
    ending, whichever comes first. Both are None in a gap of a calendar rotation: nobody."""

    rotation: str
    person: str | None
    scheduled: str | None
    starts_at: datetime
    ends_at: datetime
    override: Override | None = None


class IcalSource(Model):
    """Where a calendar rotation's shifts come from, and who its events name."""

    url: str  # a file path, or an http(s) address (a calendar app's secret iCal link)
    # An event's title or attendee e-mail -> the Slack user ID it names.
    people: dict[str, UserId] = Field(default_factory=dict)
    refresh: Duration = timedelta(minutes=15)  # how often the source is read again

    @field_validator("refresh")
    @classmethod
    def _sane(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= value <= timedelta(days=1):
            raise ValueError("refresh a calendar between every 1m and every 1d")
        return value


class Rotation(Model):
    key: Key
    label: str = ""
    people: tuple[UserId, ...] = ()
    timezone: TimeZoneName
    starts: date | None = None  # the day the first person's first shift begins
    handoff: ClockTime = time(9, 0)
    every: Days = 7
    ical: IcalSource | None = None  # instead of people: the shifts are a calendar's events
    announce: ChannelId | None = None  # each hand-off is announced in this channel
    usergroup: GroupId | None = None  # kept to whoever is on call (``@support-oncall``)
    workspace: WorkspaceId | None = None  # where both are; default: the one bot token's
    # The calendar's events as last read (`use_calendar`): the adapter refreshes them.
    _slots: tuple[Slot, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _one_source(self) -> Rotation:
        if self.ical is not None:
            if self.people or self.starts is not None:
                raise ValueError(
                    "give either people and starts, or ical (a calendar of the shifts), not both"
                )
        elif not self.people or self.starts is None:
            raise ValueError(
                "a rotation needs people and starts (the day the first shift begins), or "
                "ical: a calendar file or URL of its shifts"
            )
        return self

    @property
    def title(self) -> str:
        return self.label or self.key

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def members(self) -> tuple[str, ...]:
        """The rotation's people: listed, or named by its calendar."""
        if self.ical is None:
            return self.people
        named = [*self.ical.people.values(), *(slot.person for slot in self._slots)]
        return tuple(dict.fromkeys(named))

    def use_calendar(self, slots: tuple[Slot, ...]) -> None:
        """Take a calendar rotation's events as last read from its source. The one mutable
        part of a team: every holder of the team (the app, the clock) sees a refresh at once,
        and a failed read keeps the last good events."""
        self._slots = slots

    def handoff_at(self, turn: int) -> datetime:
        """The instant turn ``turn`` begins (turn 0 is the first person's first shift)."""
        assert self.starts is not None, "a calendar rotation has no turns"
        day = self.starts + timedelta(days=turn * self.every)
        return datetime.combine(day, self.handoff, self.tz).astimezone(UTC)

    def turn(self, at: datetime) -> int:
        """The turn running at ``at`` (negative before ``starts``: the order runs backwards)."""
        assert self.starts is not None, "a calendar rotation has no turns"
        local = at.astimezone(self.tz)
        days = (local.date() - self.starts).days
        guess = days // self.every
        # The hand-off on the guessed day may still be ahead (earlier in the day than it).
        while self.handoff_at(guess) > at:
            guess -= 1
        while self.handoff_at(guess + 1) <= at:
            guess += 1
        return guess

    def scheduled(self, turn: int) -> str:
        return self.people[turn % len(self.people)]

    def _turn_at(self, at: datetime) -> tuple[str | None, datetime, datetime]:
        """Whose turn it is at ``at`` without overrides, and the span it runs."""
        if self.ical is not None:
            return slot_at(self._slots, at)
        turn = self.turn(at)
        return self.scheduled(turn), self.handoff_at(turn), self.handoff_at(turn + 1)

    def shift(self, at: datetime, overrides: Iterable[Override] = ()) -> Shift:
        """Who is on call at ``at``, overrides applied (the latest recorded one wins)."""
        scheduled, starts, ends = self._turn_at(at)
        mine = [o for o in overrides if o.rotation == self.key]
        covering = _latest(o for o in mine if o.covers(at))
        # The next change: the shift's end, or any override's edge inside it.
        for o in mine:
            if at < o.starts_at < ends:
                ends = o.starts_at
            if at < o.ends_at < ends:
                ends = o.ends_at
            if o.starts_at <= at and o.starts_at > starts:
                starts = o.starts_at
            if o.ends_at <= at and o.ends_at > starts:
                starts = o.ends_at
        person = covering.person if covering else scheduled
        return Shift(self.key, person, scheduled, starts, ends, covering)

    def latest_handoff(self, at: datetime, overrides: Sequence[Override] = ()) -> HandOff | None:
        """The latest hand-off at or before ``at``: who is on call, since when and until when
        (shifts of the same person joined), and who is next. None when the person on call has
        not changed within `HANDOFFS_WITHIN` before ``at`` (a rotation of one person, a
        calendar not read yet or whose events are all ahead): there is no hand-off to say.
        ``overrides`` must hold every one of the rotation's that ends in that span."""
        shift = start = self.shift(at, overrides)
        while True:
            if start.starts_at <= at - HANDOFFS_WITHIN:
                return None
            before = self.shift(start.starts_at - timedelta(microseconds=1), overrides)
            if before.person != shift.person:
                break
            start = before
        until = shift.ends_at
        after = self.shift(until, overrides)
        for _ in range(SPANS):
            if after.person != shift.person:
                break
            until = after.ends_at
            after = self.shift(until, overrides)
        since = start.starts_at
        return HandOff(self.key, shift.person, since, until, after.person, _known(start))


def _known(shift: Shift) -> datetime:
    """When ``shift``'s start could first be known: an override recorded late moves it."""
    recorded = shift.override.recorded_at if shift.override is not None else None
    return max(shift.starts_at, recorded) if recorded is not None else shift.starts_at


def gaps(rotation: Rotation, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """The spans between ``since`` and ``until`` with nobody on call in ``rotation`` (only a
    calendar rotation has any: between its events, or past its last)."""
    found, at = [], since
    while at < until:
        shift = rotation.shift(at)
        if shift.person is None:
            found.append((max(shift.starts_at, since), min(shift.ends_at, until)))
        at = shift.ends_at
    return found


def _latest(overrides: Iterable[Override]) -> Override | None:
    ordered = sorted(overrides, key=lambda o: (o.recorded_at or o.starts_at, o.starts_at))
    return ordered[-1] if ordered else None


class Roles(Model):
    """Who may make the deployment-wide changes, besides admins (who always may)."""

    outage: tuple[Role, ...] = ("leads", "oncall")
    maintenance: tuple[Role, ...] = ("leads", "oncall")
    bind_channel: tuple[Role, ...] = ("leads",)
    oncall: tuple[Role, ...] = ("leads", "members")
    # Editing or deleting an outage already recorded moves the month's uptime and the credits
    # owed, so the leads (and admins) only, as a ticket's downtime correction is.
    correct_outage: tuple[Role, ...] = ("leads",)


ROLE_WORDS = {
    "outage": "record an outage",
    "maintenance": "announce maintenance",
    "bind_channel": "change which policy a channel runs under",
    "oncall": "change who is on call",
    "correct_outage": "edit or delete a recorded outage",
}
ROLE_NAMES = {
    "anyone": "anyone",
    "leads": "the leads",
    "oncall": "whoever is on call",
    "members": "the rotation's people",
}


class Team(Model):
    """The deployment's people: its leads, its rotations and what each role may do."""

    leads: tuple[UserId, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    roles: Roles = Roles()

    @field_validator("rotations")
    @classmethod
    def _unique(cls, rotations: tuple[Rotation, ...]) -> tuple[Rotation, ...]:
        keys = [r.key for r in rotations]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"rotation {twice[0]!r} is given twice")
        return rotations

    def rotation(self, key: str) -> Rotation:
        """The rotation ``key``; KeyError with what there is."""
        for rotation in self.rotations:
            if rotation.key == key:
                return rotation
        known = ", ".join(r.key for r in self.rotations) or "none are configured"
        raise KeyError(f"unknown rotation {key!r}: the rotations are {known}")

    def on_call(self, at: datetime, overrides: Sequence[Override] = ()) -> set[str]:
        """Everyone on call in any rotation at ``at``."""
        people = (r.shift(at, overrides).person for r in self.rotations)
        return {person for person in people if person is not None}

    def paged(
        self, level: EscalationLevel, at: datetime, overrides: Sequence[Override] = ()
    ) -> tuple[str, ...]:
        """Whom a page to ``level`` due at ``at`` reaches: its contacts, and whoever is on call
        then in its rotation. A rotation this team lacks adds nobody (`policy check` and
        ``/sla oncall`` say so); the contacts are still paged."""
        if level.rotation is None:
            return level.contacts
        try:
            person = self.rotation(level.rotation).shift(at, overrides).person
        except KeyError:
            return level.contacts
        if person is None or person in level.contacts:
            return level.contacts
        return (*level.contacts, person)

    def may(
        self,
        action: str,
        user: str,
        at: datetime,
        overrides: Sequence[Override] = (),
        *,
        rotation: Rotation | None = None,
    ) -> bool:
        """Whether ``user`` holds a role allowed to ``action`` (a field of `Roles`)."""
        allowed: tuple[Role, ...] = getattr(self.roles, action)
        return (
            "anyone" in allowed
            or ("leads" in allowed and user in self.leads)
            or ("members" in allowed and rotation is not None and user in rotation.members)
            or ("oncall" in allowed and user in self.on_call(at, overrides))
        )

    def who_may(self, action: str) -> str:
        """The roles allowed to ``action``, in words, for a refusal."""
        names = [ROLE_NAMES[r] for r in getattr(self.roles, action)]
        return ", ".join([*names, "admins"])
