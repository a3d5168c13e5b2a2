"""Alembic's entry point: slabot passes its engine in; there is no alembic.ini."""

from alembic import context

from slabot.store import oauth_tables, tables  # noqa: F401  (register the tables on the metadata)
from slabot.store.records import METADATA

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
