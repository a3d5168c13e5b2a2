"""The on-call use cases: who is on call now and next, overrides, and the deployment's roles.

The rotations are the team file's (`slabot.sla.oncall`); the overrides are rows of
``oncall_overrides``, which this package owns: they are written here and read through
`overrides.overrides_in`.
Each write is one transaction and a refusal raises a `TicketError` before anything is written,
as the ticket use cases do, so Slack shows both alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from ..actors import HOOK_ROLES, is_hook
from ..refusals import Forbidden, Invalid, NotFound
from ..sla.loader import load_team
from ..sla.oncall import ROLE_WORDS, Override, Rotation, Shift, Team
from ..store import Store
from ..store.tables import OnCallOverride
from .overrides import as_override, overrides_in

MAX_OVERRIDE = timedelta(days=90)  # longer is a typo, or a change of the rotation itself


def team_from(path: Path | None) -> Team:
    """The team file named by ``SLABOT_TEAM``; none: a team with no leads and no rotations."""
    return load_team(path) if path is not None else Team()


@dataclass(frozen=True)
class Watch:
    """One rotation as ``/sla oncall`` shows it: who is on call, and the shifts after."""

    rotation: Rotation
    now: Shift
    next: list[Shift]


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
            current = rotation.shift(now, overrides)
            upcoming: list[Shift] = []
            at = current.ends_at
            while len(upcoming) < ahead:
                shift = rotation.shift(at, overrides)
                upcoming.append(shift)
                at = shift.ends_at
            watches.append(Watch(rotation, current, upcoming))
        return watches

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
