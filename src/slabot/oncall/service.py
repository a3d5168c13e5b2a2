"""The on-call use cases: who is on call now and next, overrides, and the deployment's roles.

The rotations are the team file's (`slabot.sla.oncall`); the overrides are rows of
``oncall_overrides``, which this package owns: they are written here and read through
`overrides.overrides_in`.
Each write is one transaction and a refusal raises a `TicketError` before anything is written,
as the ticket use cases do, so Slack shows both alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..actors import HOOK_ROLES, is_hook
from ..refusals import Forbidden, Invalid, NotFound
from ..sla.ical import feed
from ..sla.loader import load_team
from ..sla.oncall import ROLE_WORDS, Override, Rotation, Shift, Team
from ..store import Store
from ..store.records import Session
from ..store.tables import OnCallOverride
from .calendars import read_calendars
from .overrides import as_override, overrides_in

MAX_OVERRIDE = timedelta(days=90)  # longer is a typo, or a change of the rotation itself
FEED_BEHIND, FEED_AHEAD = timedelta(days=7), timedelta(weeks=8)  # what a feed lists
MAX_SHIFTS = 1000  # a feed's bound, whatever the rotation (a daily one has about 63)
Describe = Callable[[str], str]


def team_from(path: Path | None, now: datetime | None = None, *, strict: bool = True) -> Team:
    """The team file named by ``SLABOT_TEAM``, its calendar rotations read around ``now``
    (default: the wall clock's); none: a team with no leads and no rotations. PolicyError
    says what is wrong with the file, or (when ``strict``, as `policy check` is) a calendar;
    a service starts without the calendars it cannot read, and reads them again later."""
    if path is None:
        return Team()
    team = load_team(path)
    read_calendars(team, now or datetime.now(UTC), path, strict=strict)
    return team


@dataclass(frozen=True)
class Watch:
    """One rotation as ``/sla oncall`` shows it: who is on call, and the shifts after."""

    rotation: Rotation
    now: Shift
    next: list[Shift]


def _shifts(
    rotation: Rotation,
    since: datetime,
    overrides: list[Override],
    *,
    count: int = MAX_SHIFTS,
    until: datetime | None = None,
) -> list[Shift]:
    """The shift running at ``since`` and those after it: ``count`` of them, or all that start
    before ``until``."""
    shifts = [rotation.shift(since, overrides)]
    while len(shifts) < count and (until is None or shifts[-1].ends_at < until):
        shifts.append(rotation.shift(shifts[-1].ends_at, overrides))
    return shifts


class OnCall:
    def __init__(self, store: Store, team: Team, *, admins: Iterable[str] = ()):
        self.store = store
        self.team = team
        self.admins = frozenset(admins)

    # -- reading -----------------------------------------------------------------------------

    def overrides(self, workspace: str, since: datetime) -> list[Override]:
        """The overrides of ``workspace`` still running or to come at ``since``."""
        with self.store.reading() as session:
            return overrides_in(session, workspace, since)

    def watch(self, workspace: str, now: datetime, *, ahead: int = 2) -> list[Watch]:
        """Each rotation: who is on call at ``now`` and the next ``ahead`` shifts."""
        overrides = self.overrides(workspace, now)
        watches = []
        for rotation in self.team.rotations:
            current, *upcoming = _shifts(rotation, now, overrides, count=ahead + 1)
            watches.append(Watch(rotation, current, upcoming))
        return watches

    def feed(self, workspace: str, key: str, now: datetime, describe: Describe = str) -> bytes:
        """Rotation ``key``'s shifts as an iCalendar feed: from a week before ``now`` to
        `FEED_AHEAD` after, overrides included, the same shifts ``/sla oncall`` shows.
        KeyError for an unknown rotation."""
        rotation = self.team.rotation(key)
        since = now - FEED_BEHIND
        overrides = self.overrides(workspace, since)
        shifts = [
            (s.starts_at, s.ends_at, s.person)
            for s in _shifts(rotation, since, overrides, until=now + FEED_AHEAD)
        ]
        return feed(rotation.title, rotation.key, shifts, now, describe)

    # -- changing ----------------------------------------------------------------------------

    def override(
        self,
        workspace: str,
        rotation: str,
        person: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        actor: str,
        now: datetime,
    ) -> Override:
        """Put ``person`` on call in ``rotation`` from ``starts_at`` until ``ends_at``."""
        try:
            chosen = self.team.rotation(rotation)
        except KeyError as exc:
            raise NotFound(exc.args[0]) from None
        if ends_at <= starts_at:
            raise Invalid("the cover must end after it starts: give `from … to …` in order")
        if ends_at <= now:
            raise Invalid("that span is over already: give one that ends in the future")
        if ends_at - starts_at > MAX_OVERRIDE:
            raise Invalid(
                "a cover is at most 90 days: for a lasting change, edit the rotation's people "
                "in the team file"
            )
        with self.store.writing() as session:
            self._allowed(session, "oncall", workspace, actor, now, rotation=chosen)
            row = OnCallOverride(
                workspace=workspace,
                rotation=chosen.key,
                person=person,
                starts_at=starts_at,
                ends_at=ends_at,
                recorded_by=actor,
                recorded_at=now,
            )
            session.add(row)
        return as_override(row)

    def allow(self, action: str, workspace: str, actor: str, now: datetime) -> None:
        """Refuse (`Forbidden`, naming who may) unless ``actor`` may make a deployment-wide
        change: ``outage``, ``maintenance`` or ``bind_channel`` (see `slabot.sla.oncall.Roles`)."""
        with self.store.reading() as session:
            self._allowed(session, action, workspace, actor, now)

    def _allowed(
        self,
        session: Session,
        action: str,
        workspace: str,
        actor: str,
        now: datetime,
        *,
        rotation: Rotation | None = None,
    ) -> None:
        if is_hook(actor):  # the deployment's own hook: exactly what `slabot.actors` grants
            if action in HOOK_ROLES:
                return
            raise Forbidden(f"the {actor} hook may not {ROLE_WORDS[action]}: ask a lead")
        if actor in self.admins:
            return
        overrides = overrides_in(session, workspace, now)
        if self.team.may(action, actor, now, overrides, rotation=rotation):
            return
        people = {f"lead{i}": lead for i, lead in enumerate(self.team.leads)}
        leads = " ".join(f"{{{role}}}" for role in people)
        raise Forbidden(
            f"you may not {ROLE_WORDS[action]}: {self.team.who_may(action)} may"
            + (f". Ask {leads}" if leads else ". Ask an admin (SLABOT_ADMINS)"),
            people=people,
        )
