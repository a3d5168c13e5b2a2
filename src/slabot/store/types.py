"""Column types that keep the project's rule everywhere: instants are timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"{value.isoformat()} has no time zone: instants must be aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any]:
        """One function a value, the driver's conversion (SQLite's text) and the zone's
        together: TypeDecorator's way wraps `process_result_value` around the driver's, three
        Python calls a value, and a burst of the clock reads a hundred thousand instants
        (bench/README.md, "clock", seventh round)."""
        parse = self.impl_instance.result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if parse is not None:
                value = parse(value)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        return process
