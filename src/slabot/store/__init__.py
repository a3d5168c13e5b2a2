"""Storage: SQLAlchemy Core tables on SQLite or PostgreSQL, and their Alembic migrations."""

from .db import Store, StoreError, database_url, unavailable

__all__ = ["Store", "StoreError", "database_url", "unavailable"]
