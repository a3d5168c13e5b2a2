"""Schema changes through Alembic; the migrations ship inside the package.

Alembic (with Mako and Pygments, which it imports) was an eighth of ``slabot serve``'s start-up
imports, yet a restart almost always finds the schema current. So `upgrade` and `pending` first
compare the revisions the database records with the heads of the shipped migrations, read from
the text of the version files (`heads`), and import Alembic only when they differ.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from .db import Store

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"
# As script.py.mako writes them: ``revision = "0005"``, ``down_revision = "0004"`` (or None, or
# a tuple of revisions for a merge).
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def _config(store: Store) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "slabot.store:migrations")
    config.attributes["engine"] = store.engine
    return config


def heads() -> set[str]:
    """The newest shipped revisions (one, unless migrations branched): every revision that no
    other revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        if down := _DOWN_REVISION.search(source):
            revised.update(_QUOTED.findall(down.group(1)))
    return revisions - revised


def applied(store: Store) -> set[str]:
    """The revisions the database records as applied; none when it has no schema yet."""
    with store.engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return set(rows.scalars())
        except (OperationalError, ProgrammingError):  # no alembic_version table: a new database
            return set()


def is_current(store: Store) -> bool:
    """Whether every shipped migration is applied (and nothing else is recorded)."""
    found = applied(store)
    return bool(found) and found == heads()


def upgrade(store: Store, revision: str = "head") -> None:
    """Apply pending migrations (all of them by default)."""
    if revision == "head" and is_current(store):
        return
    from alembic import command

    command.upgrade(_config(store), revision)


def downgrade(store: Store, revision: str) -> None:
    """Undo the migrations after ``revision``: what an operator rolling a release back runs
    (and the tests that check each migration undoes what it did)."""
    from alembic import command

    command.downgrade(_config(store), revision)


def pending(store: Store) -> list[str]:
    """Revisions not yet applied, oldest first."""
    if is_current(store):
        return []
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config(store))
    with store.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return [
        rev.revision
        for rev in reversed(list(script.walk_revisions()))
        if rev.revision not in current and not _is_ancestor(script, rev.revision, current)
    ]


def _is_ancestor(script: ScriptDirectory, revision: str, heads: set[str]) -> bool:
    return any(
        revision in {r.revision for r in script.iterate_revisions(head, "base")} for head in heads
    )
