"""Schema changes through Alembic; the migrations ship inside the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Store


def _config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", "slabot.store:migrations")
    config.attributes["engine"] = store.engine
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    """Apply pending migrations (all of them by default)."""
    command.upgrade(_config(store), revision)


def pending(store: Store) -> list[str]:
    """Revisions not yet applied, oldest first."""
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
