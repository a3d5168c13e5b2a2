"""Only one clock dispatches at a time; the others stand by and take over when it dies.

* **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) held on a dedicated
  connection for as long as the clock leads. PostgreSQL releases it the moment that connection
  drops, so a killed leader frees it at once (its socket closes with the process) and a standby
  takes it at its next try. The lock's key is derived from the database and schema names, so
  deployments sharing a server in separate schemas have a clock each.
* **SQLite**: an exclusive, non-blocking ``flock`` on ``<database file>.clock.lock``. The kernel
  releases it when the process dies, however it dies. (A database in memory belongs to one
  process, so its clock always leads.)

Leadership only keeps clocks from working against each other; correctness does not rest on it:
claims (``FOR UPDATE SKIP LOCKED``) already keep two dispatchers off the same timer.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import zlib
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from ..store import Store

log = logging.getLogger(__name__)


WHERE = "SELECT current_database() || '.' || current_schema()"


def advisory_key(where: str) -> int:
    """The advisory lock's key for the clocks of one database and schema (``WHERE``)."""
    return zlib.crc32(f"slabot clock {where}".encode())


class _Lock(Protocol):
    held: bool

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class Leadership:
    """``acquire()`` tries (never waits) and, when already held, checks it still is. When the
    database cannot be asked, it raises the database's error (``DBAPIError``) and holds
    nothing: that is not "another clock leads", and the caller says which it was."""

    def __init__(self, store: Store):
        self._lock: _Lock = _FileLock(store) if store.is_sqlite else _AdvisoryLock(store)

    @property
    def held(self) -> bool:
        return self._lock.held

    def acquire(self) -> bool:
        return self._lock.acquire()

    def release(self) -> None:
        self._lock.release()


class _AdvisoryLock:
    def __init__(self, store: Store):
        # Its own engine without a pool: the connection lives as long as the leadership, and
        # closing it must really close it (that is what releases the lock).
        self._engine = create_engine(store.url, poolclass=NullPool)
        self._connection: Connection | None = None
        self.held = False

    def acquire(self) -> bool:
        try:
            if self.held:
                self._connection.execute(text("SELECT 1"))  # type: ignore[union-attr]
                return True
            if self._connection is None:
                connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self._connection = connection
            self.held = bool(
                self._connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key()}
                ).scalar()
            )
        except DBAPIError as exc:
            if self.held:
                log.warning("lost the clock's lock with the database connection: %s", exc.orig)
            self._drop()
            raise
        return self.held

    def release(self) -> None:
        # Unlock before closing: the server ends a closed session's backend (and with it the
        # lock) a moment later, and a standby asking in that moment would be refused.
        if self.held and self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key()}
                )
        self._drop()

    def _key(self) -> int:
        where = self._connection.execute(text(WHERE)).scalar_one()  # type: ignore[union-attr]
        return advisory_key(where)

    def _drop(self) -> None:
        """Closing the session releases a session-level advisory lock."""
        self.held = False
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):  # gone already, and the lock with it
                self._connection.close()
            self._connection = None


class _FileLock:
    def __init__(self, store: Store):
        database = store.url.database
        in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
        self._path = None if in_memory else Path(f"{database}.clock.lock")
        self._fd: int | None = None
        self.held = False

    def acquire(self) -> bool:
        if self.held:
            return True
        if self._path is None:
            self.held = True
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who leads, for an operator
        self._fd, self.held = fd, True
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self.held = False
