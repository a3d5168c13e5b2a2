"""Opening the database for a command, with errors an operator can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import OperationalError, ProgrammingError

from ..store import Store, StoreError
from ..store.migrate import pending
from .config import settings
from .errors import CliError

if TYPE_CHECKING:
    from ..policies import PolicyBook
    from ..settings import Settings
    from ..tickets import Tickets

T = TypeVar("T")


def use_cases(settings: Settings, store: Store, policies: PolicyBook) -> Tickets:
    """The ticket use cases as a service process runs them: its admins, its default policy."""
    from ..tickets import Tickets

    return Tickets(
        store,
        policies,
        admins=settings.slabot_admins,
        default_policy=settings.slabot_default_policy,
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
