"""Opening the database for a command, and what a service process runs on, with errors an
operator can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from sqlalchemy.exc import OperationalError, ProgrammingError

from ..store import Store, StoreError
from ..store.migrate import pending
from .config import settings
from .errors import CliError

if TYPE_CHECKING:
    from ..policies import PolicyBook
    from ..settings import Settings
    from ..sla.oncall import Team
    from ..tickets import Tickets

T = TypeVar("T")


class Service(NamedTuple):
    """What a service process (``serve``, ``clock``, ``mail``) runs on."""

    store: Store
    policies: PolicyBook
    team: Team


def open_service(settings: Settings) -> Service:
    """The database, the policy book and the team (its calendar rotations read again for as
    long as the process runs) as every service process opens them; a bad setting or file is
    one line and exit 2. The database is not reached yet: see `reach`."""
    from ..oncall import keep_fresh, team_from
    from ..policies import PolicyBook
    from ..sla import PolicyError

    try:
        store = Store(settings.database_url)
        policies = PolicyBook.load(settings.slabot_policies)
        team = team_from(settings.slabot_team, strict=False)
    except (StoreError, PolicyError) as exc:
        raise CliError(str(exc), code=2) from None
    keep_fresh(team, settings.slabot_team)
    return Service(store, policies, team)


def use_cases(settings: Settings, store: Store, policies: PolicyBook, team: Team) -> Tickets:
    """The ticket use cases as a service process runs them: its admins, its default policy,
    its team (rotations, leads, roles)."""
    from ..tickets import Tickets

    return Tickets(
        store,
        policies,
        admins=settings.slabot_admins,
        default_policy=settings.slabot_default_policy,
        team=team,
    )


def open_store(*, migrated: bool = True) -> Store:
    """The store the ``DATABASE_URL`` setting names; with ``migrated``, refuse a schema that is
    behind."""
    try:
        store = Store(settings().database_url)
    except StoreError as exc:
        raise CliError(str(exc), code=2) from None
    if migrated:
        missing = reach(store, lambda: pending(store))
        if missing:
            raise CliError(
                f"the database at {store.url.render_as_string(hide_password=True)} lacks "
                f"{len(missing)} migration(s): run `slabot db upgrade` first"
            )
    return store


def reach(store: Store, action: Callable[[], T]) -> T:
    """Run ``action``; a database that cannot be reached is one clear line, not a traceback."""
    try:
        return action()
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CliError(
            f"cannot use the database at {store.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
