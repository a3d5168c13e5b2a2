"""Rows as plain Python objects, and the transaction that reads and writes them.

The store speaks SQLAlchemy Core. Each table is declared once, as a dataclass whose fields
are its columns (`table`, `column`): the class is the row as the use cases handle it, and
``Class.c`` its columns as queries name them. SQLAlchemy's ORM did the same for us, and
SQLModel on top of it; together they held 9 MB of every process (bench/README.md,
"start-up"), for the little of them slabot used, which `Session` keeps: a statement that
selects a whole table gives its rows as objects, an object added is inserted, and one read
or added in a writing transaction is written back when its fields change (before the next
statement, and at commit), so a use case changes a ticket as it would any object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import attrgetter
from typing import (
    Any,
    ClassVar,
    Generic,
    TypeVar,
    TypeVarTuple,
    dataclass_transform,
    overload,
)

from sqlalchemy import (
    Column,
    ColumnCollection,
    Connection,
    ForeignKey,
    MetaData,
    Result,
    Select,
    Table,
    TextClause,
    select,
)
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.types import TypeEngine

R = TypeVar("R", bound="Record")
T = TypeVar("T")
Ts = TypeVarTuple("Ts")

METADATA = MetaData()  # every table of the store, as the migrations build them (a test checks)


def column(
    type_: TypeEngine[Any] | type[TypeEngine[Any]],
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    primary_key: bool = False,
    foreign_key: str | None = None,
    ondelete: str | None = None,
    index: bool = False,
    unique: bool = False,
    server_default: str | None = None,
) -> Any:
    """A field that is a column. It may hold NULL when its default is None (and it is not a
    key), as an optional field does."""
    nullable = default is None and not primary_key
    keys = [ForeignKey(foreign_key, ondelete=ondelete)] if foreign_key else []

    def make(name: str) -> Column[Any]:
        return Column(
            name,
            type_,
            *keys,
            primary_key=primary_key,
            nullable=nullable,
            index=index or None,
            unique=unique or None,
            server_default=server_default,
            autoincrement="auto" if primary_key else False,
        )

    return dataclasses.field(
        default=default, default_factory=default_factory, metadata={"column": make}
    )


class Record:
    """A row of one table (see `table`)."""

    __table__: ClassVar[Table]
    c: ClassVar[ColumnCollection[str, Column[Any]]]
    _names: ClassVar[tuple[str, ...]]
    _values: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _key: ClassVar[tuple[str, ...]]

    @classmethod
    def __clause_element__(cls) -> Table:
        """So that ``select(Ticket)`` selects the table's columns."""
        return cls.__table__

    @classmethod
    def from_row(cls: type[R], row: Iterable[Any]) -> R:
        record = cls.__new__(cls)
        record.__dict__.update(zip(cls._names, row, strict=True))
        return record

    def values(self) -> tuple[Any, ...]:
        """Every column's value, in the table's order."""
        return type(self)._values(self)

    def copy(self: R) -> R:
        return dataclasses.replace(self)  # type: ignore[type-var]


@dataclass_transform(field_specifiers=(column,), kw_only_default=True)
def table(name: str, *constraints: Any) -> Callable[[type[R]], type[R]]:
    """Declare ``cls`` the rows of table ``name``: a dataclass (equal when every field is,
    as two reads of one row are) whose `column` fields are the table's columns, in order,
    with ``constraints`` (indexes, unique and check constraints)."""

    def declare(cls: type[R]) -> type[R]:
        cls = dataclasses.dataclass(kw_only=True)(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        columns = [f.metadata["column"](f.name) for f in fields]
        cls.__table__ = Table(name, METADATA, *columns, *constraints)
        cls.__table__.info["record"] = cls
        cls.c = cls.__table__.c
        cls._names = tuple(f.name for f in fields)
        cls._values = staticmethod(attrgetter(*cls._names))
        cls._key = tuple(c.name for c in cls.__table__.primary_key)
        return cls

    return declare


@dataclass_transform(field_specifiers=(column,), kw_only_default=True)
def shared(cls: type[R]) -> type[R]:
    """Columns that several tables declare alike, for their records to inherit: `table`
    puts a base's columns first."""
    return dataclasses.dataclass(kw_only=True)(cls)


def _reader(statement: Select[*tuple[Any, ...]]) -> Callable[[Any], Any] | None:
    """How to read a row of ``statement``: None for its first column's value, else a
    function making what the select named (a record for each whole table in it, the values
    of its other columns) from the row."""
    columns = list(statement.selected_columns)
    parts: list[tuple[type[Record] | None, int]] = []  # (record or None, first column)
    at = 0
    while at < len(columns):
        table = getattr(columns[at], "table", None)
        record = table.info.get("record") if table is not None and hasattr(table, "info") else None
        width = len(record._names) if record is not None else 0
        if (
            record is not None
            and at + width <= len(columns)
            and all(a is b for a, b in zip(columns[at : at + width], record.c, strict=True))
        ):
            parts.append((record, at))
            at += width
        else:
            parts.append((None, at))
            at += 1
    if parts == [(None, 0)]:
        return None
    if len(parts) == 1 and parts[0][0] is not None:
        return parts[0][0].from_row
    if all(record is None for record, _ in parts):
        return _row
    spans = [
        (record, start, start + len(record._names) if record else start + 1)
        for record, start in parts
    ]
    keys = [  # where each record's key is in the row: None there is no row (an outer join)
        start + record._names.index(record._key[0]) if record else start for record, start in parts
    ]

    def read(row: Any) -> tuple[Any, ...]:
        return tuple(
            (record.from_row(row[start:end]) if row[key] is not None else None)
            if record
            else row[start]
            for (record, start, end), key in zip(spans, keys, strict=True)
        )

    return read


def _row(row: Any) -> Any:
    return row


def _by_key(record: type[R], key: Any) -> Select[R]:
    keys = key if isinstance(key, tuple) else (key,)
    where = [record.c[name] == value for name, value in zip(record._key, keys, strict=True)]
    return select(record).where(*where)


class Found(Generic[T]):
    """What a select found: its rows as `_reader` reads them (records for whole tables),
    or the values of its one column."""

    def __init__(self, result: Result[Any], make: Callable[[Any], T] | None):
        self._result = result
        self._make = make

    def __iter__(self) -> Iterator[T]:
        if self._make is None:
            return iter(self._result.scalars())
        return map(self._make, self._result)

    def all(self) -> list[T]:
        return list(self)

    def first(self) -> T | None:
        row = self._result.first()
        if row is None:
            return None
        return self._make(row) if self._make else row[0]

    def one(self) -> T:
        row = self._result.one()
        return self._make(row) if self._make else row[0]


class Session:
    """One transaction on one connection. In a writing one, the records it reads or adds are
    kept, and written back when they change (`flush`)."""

    def __init__(self, connection: Connection, *, writing: bool):
        self.connection = connection
        self._writing = writing
        self._kept: list[tuple[Record, tuple[Any, ...]]] = []
        self._keeping: set[int] = set()  # id() of each record kept

    @overload
    def exec(self, statement: Select[T], params: Mapping[str, Any] | None = None) -> Found[T]: ...

    @overload
    def exec(  # type: ignore[overload-cannot-match]
        self, statement: Select[*Ts], params: Mapping[str, Any] | None = None
    ) -> Found[tuple[*Ts]]: ...

    @overload
    def exec(
        self, statement: TextClause, params: Mapping[str, Any] | None = None
    ) -> Result[*tuple[Any, ...]]: ...

    def exec(self, statement: Any, params: Mapping[str, Any] | None = None) -> Any:
        """``statement``'s result: records for a whole table, values for one column, rows."""
        self.flush()
        result = self.connection.execute(statement, params)
        if not isinstance(statement, Select):
            return result
        read = _reader(statement)
        if read is None or read is _row or not self._writing:
            return Found(result, read)
        return Found(result, lambda row: self._keep_all(read(row)))

    def execute(self, statement: Insert | Update | Any, params: Any = None) -> Result[Any]:
        """A statement as it is (inserts, updates, deletes, Core selects' rows)."""
        self.flush()
        return self.connection.execute(statement, params)

    def get(self, record: type[R], key: Any) -> R | None:
        """The row of ``record``'s table whose primary key is ``key`` (a tuple when it has
        several columns), or None."""
        return self.exec(_by_key(record, key)).first()

    def get_one(self, record: type[R], key: Any) -> R:
        """As `get`, for a row that must be there (`sqlalchemy.exc.NoResultFound` if not)."""
        return self.exec(_by_key(record, key)).one()

    def refresh(self, record: Record) -> None:
        """Read ``record``'s row again: what statements wrote to it since."""
        kind = type(record)
        key = tuple(getattr(record, name) for name in kind._key)
        self.flush()
        row = self.connection.execute(_by_key(kind, key)).one()
        record.__dict__.update(zip(kind._names, row, strict=True))
        for index, (kept, _) in enumerate(self._kept):
            if kept is record:
                self._kept[index] = (record, record.values())

    def add(self, record: Record) -> None:
        """Insert ``record`` now; an autoincrement key left None is set to the one given. A
        record this session already keeps is its row already: its changes are written."""
        self.flush()
        if id(record) in self._keeping:
            return
        kind = type(record)
        values = dict(zip(kind._names, record.values(), strict=True))
        generated = [name for name in kind._key if values[name] is None]
        for name in generated:
            del values[name]
        result = self.connection.execute(kind.__table__.insert().values(values))
        for name, value in zip(kind._key, result.inserted_primary_key or (), strict=False):
            if name in generated:
                setattr(record, name, value)
        self.keep(record)

    def merge(self, record: Record) -> None:
        """Make ``record``'s row what it says: inserted, or updated where its key is."""
        kind = type(record)
        found = self.get(kind, tuple(getattr(record, name) for name in kind._key))
        if found is None:
            self.add(record)
        else:  # kept: written at the next statement or at commit
            found.__dict__.update(zip(kind._names, record.values(), strict=True))

    def add_all(self, records: Iterable[Record]) -> None:
        for record in records:
            self.add(record)

    def _keep_all(self, made: Any) -> Any:
        if isinstance(made, Record):
            return self.keep(made)
        for part in made:
            if isinstance(part, Record):
                self.keep(part)
        return made

    def keep(self, record: R) -> R:
        """Write ``record`` back when it changes (a writing session's records are kept as
        they are read or added)."""
        if self._writing and id(record) not in self._keeping:
            self._kept.append((record, record.values()))
            self._keeping.add(id(record))
        return record

    def flush(self) -> None:
        """Write what changed in the kept records since they were read or last written."""
        for index, (record, was) in enumerate(self._kept):
            now = record.values()
            if now == was:
                continue
            kind = type(record)
            changed = {n: v for n, v, w in zip(kind._names, now, was, strict=True) if v != w}
            where = [kind.c[name] == getattr(record, name) for name in kind._key]
            self.connection.execute(kind.__table__.update().where(*where).values(changed))
            self._kept[index] = (record, now)
