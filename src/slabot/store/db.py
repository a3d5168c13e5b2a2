"""Opening the database named by ``DATABASE_URL``: a SQLite file by default, or PostgreSQL.

SQLite is the embedded default (nothing to install). Its writers take the write lock as they
begin (``BEGIN IMMEDIATE``) rather than on their first write, so two use cases on one ticket
queue up instead of failing half-way; reads go through a second engine that never takes it.
WAL lets those reads run alongside a writer. Within one process, writers also take turns
on a Python lock first (`WriteTurns`): SQLite's own busy handler sleeps in growing steps (up to
100 ms) while it waits, which would make the slowest Slack requests wait for nothing. A person
waiting for an answer writes before the clock's background work (`Store.background`).
PostgreSQL serves several replicas; use cases lock the rows they change (``SELECT … FOR
UPDATE``). Each dialect's module is loaded only where its database is used: SQLAlchemy's
PostgreSQL dialect holds about 2 MB of a process that never speaks to PostgreSQL.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool
from sqlalchemy.sql.dml import Insert

from .records import Session

DEFAULT_URL = "sqlite:///slabot.db"


class StoreError(Exception):
    """The database cannot be used as configured; the message says what to change."""


def unavailable(exc: BaseException) -> str | None:
    """Why the database cannot be used right now, in the driver's one line, or None when
    ``exc`` is not that: the server is down or unreachable, the connection dropped (mid-
    transaction too: the server then rolls the transaction back, so nothing is half written),
    or SQLite stayed locked past its busy timeout. The same request may succeed later as it is,
    so whoever asked is told to try again rather than that something went wrong."""
    if not isinstance(exc, DBAPIError):
        return None
    if not (isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated):
        return None
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def database_url(url: str | None = None) -> URL:
    """``url`` (the ``DATABASE_URL`` setting), else a SQLite file in the working directory."""
    text = url or DEFAULT_URL
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise StoreError(
            f"DATABASE_URL {text!r} is not a database URL: use sqlite:///slabot.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):  # as Heroku and others write it
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}: slabot supports sqlite and "
            "postgresql"
        )
    return parsed


class WriteTurns:
    """Whose turn it is to write to a SQLite file, within one process: one writer at a time,
    and a person's request before the clock's background work.

    `slabot serve` runs the clock beside the requests, and both write: a ticket opened, then
    its card claimed and recorded. With one lock for all, a request waited behind whichever
    of the clock's transactions came first (each a commit to disk), and a person waited for
    work nobody was waiting on. So a background writer waits while a foreground one is
    waiting, but only for `AHEAD` foreground turns in a row: under a stream of requests the
    clock still writes, so the cards and pages it owes never stall.
    """

    AHEAD = 8  # foreground turns taken, at most, while a background writer waits

    def __init__(self) -> None:
        self._turn = threading.Condition(threading.Lock())
        self._busy = False
        self._waiting = 0  # foreground writers waiting for their turn
        self._behind = 0  # background writers waiting for theirs
        self._ahead = 0  # foreground turns taken since a background writer last wrote

    @contextmanager
    def foreground(self) -> Iterator[None]:
        with self._turn:
            self._waiting += 1
            try:
                while self._busy or (self._behind and self._ahead >= self.AHEAD):
                    self._turn.wait()
            finally:
                self._waiting -= 1
            self._busy = True
            if self._behind:
                self._ahead += 1
        try:
            yield
        finally:
            self._done()

    @contextmanager
    def background(self) -> Iterator[None]:
        with self._turn:
            self._behind += 1
            try:
                while self._busy or (self._waiting and self._ahead < self.AHEAD):
                    self._turn.wait()
            finally:
                self._behind -= 1
            self._busy = True
            self._ahead = 0
        try:
            yield
        finally:
            self._done()

    def _done(self) -> None:
        with self._turn:
            self._busy = False
            self._turn.notify_all()


class Store:
    """One database: a writing engine, a reading engine, and sessions on them."""

    def __init__(self, url: str | URL | None = None, **engine_options: Any):
        self.url = url if isinstance(url, URL) else database_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            options = {"connect_args": {"check_same_thread": False, "timeout": 30}}
            self.engine = create_engine(self.url, **options, **engine_options)
            self.reader = create_engine(self.url, **options, **engine_options)
            _sqlite_setup(self.engine, immediate=True)
            _sqlite_setup(self.reader, immediate=False)
            self._turns: WriteTurns | None = WriteTurns()
            self._writers: Callable[[], AbstractContextManager[Any]] = self._turns.foreground
        else:
            try:
                self.engine = create_engine(self.url, pool_pre_ping=True, **engine_options)
            except ImportError:  # the driver is the `postgres` extra: SQLite needs none
                raise StoreError(
                    "DATABASE_URL names PostgreSQL, but its driver is not installed: "
                    "pip install 'slabot[postgres]'"
                ) from None
            self.reader = self.engine
            self._turns = None
            self._writers = nullcontext  # PostgreSQL locks rows, not the database
            from .tables import partial_indexes_on_postgresql

            partial_indexes_on_postgresql()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction that commits when the block ends, or rolls back on an error."""
        with self._writers(), self.engine.begin() as connection:
            session = Session(connection, writing=True)
            yield session
            session.flush()

    def background(self) -> Store:
        """This database, for work nobody is waiting on: its writers give way to this store's
        (on SQLite; `WriteTurns`). `slabot serve` hands it to the clock it runs beside the
        requests. The two share their engines and connections."""
        behind = copy.copy(self)
        if self._turns is not None:
            behind._writers = self._turns.background
        return behind

    def insert_if_new(self, table: Any) -> Insert:
        """``INSERT … ON CONFLICT DO NOTHING`` into ``table``, in this database's dialect:
        a row already there (by any unique key) stays as it is, and the insert adds nothing."""
        if self.is_sqlite:
            from sqlalchemy.dialects import sqlite as dialect
        else:
            from sqlalchemy.dialects import postgresql as dialect  # type: ignore[no-redef]
        return dialect.insert(table).on_conflict_do_nothing()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.reader.connect() as connection:
            yield Session(connection, writing=False)

    def reading_connections(self) -> int | None:
        """How many reading connections threads can hold at once without one waiting for
        another: the size of the reading engine's pool (SQLite's and PostgreSQL's `QueuePool`
        keep five unless told otherwise), None for no bound (`NullPool` opens one per
        checkout), and 1 for one connection shared by every thread (`StaticPool`) or one per
        thread (`SingletonThreadPool`: an in-memory SQLite database would be another, empty,
        one on another thread). A report reads policies' months ahead on worker threads only
        within this (`tickets.histories.in_turn`)."""
        pool = self.reader.pool
        if isinstance(pool, NullPool):
            return None
        return pool.size() if isinstance(pool, QueuePool) else 1

    def forked(self) -> None:
        """In a forked child process: pools of its own, so its reads open new connections.
        The parent's connections, which the child inherited, are dropped here without being
        closed (SQLAlchemy's way after a fork): they stay the parent's, and a child using or
        closing one would talk over the parent on the same socket or file."""
        self.engine.dispose(close=False)
        if self.reader is not self.engine:
            self.reader.dispose(close=False)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.reader is not self.engine:
            self.reader.dispose()


def _sqlite_setup(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not the driver, start transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
