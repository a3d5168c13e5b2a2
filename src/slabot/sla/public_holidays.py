"""A country's public holidays a year at a time, kept in a small file between runs.

Why: the ``holidays`` package cannot load one country. Importing it loads every calendar it
ships, and asking for one country imports all 250 (bench/README.md, "start-up"): about 0.09 s
of CPU and 12 MB on top of the policy language's own imports, a third of ``slabot deadlines``
(more where bytecode is not cached). A policy needs a few years of one country's dates. So,
when a cache directory is set (`use_cache`, which the ``slabot`` command does), each country
and subdivision keeps its dates by year in a JSON file named for the ``holidays`` version that
computed them: a new version, with corrected dates, starts afresh. ``holidays`` is imported
only for a country or a year no file holds yet. Without a cache directory (the default)
nothing is read or written, and the dates are computed in the process, as they always were.

A day is closed when it is among the dates ``holidays`` gives for that day's own year, which is
what asking ``holidays`` itself answers (it fills in a year at a time, each with its own dates).
A file that cannot be read or written is left alone: the dates are computed instead.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path

# Years computed together when one is missing: importing ``holidays`` is the cost, a year of
# one country's dates takes about a millisecond, so a miss fills the years around it as well.
SPAN = 5
_CODE = re.compile(r"[A-Za-z0-9-]{1,16}")  # what may go into a file name as it is

_cache_dir: Path | None = None


def use_cache(directory: Path | None) -> None:
    """Keep computed dates under ``directory`` from now on (None: keep nothing on disk)."""
    global _cache_dir
    _cache_dir = directory


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/slabot``, else ``~/.cache/slabot``: where the XDG convention puts
    files a program may delete and make again. None when there is no home to put them in."""
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "slabot"
    home = os.path.expanduser("~")
    return Path(home) / ".cache" / "slabot" if home != "~" else None


class PublicHolidays:
    """One country's (and subdivision's) public holidays, answering ``day in holidays``.

    Made with `public_holidays`, which checks the country first."""

    def __init__(self, country: str, subdiv: str | None, years: dict[int, frozenset[date]]):
        self.country = country
        self.subdiv = subdiv
        self._years = dict(years)

    def __contains__(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = day.date()  # as ``holidays`` reads one
        dates = self._years.get(day.year)
        if dates is None:
            self._years.update(_known(self.country, self.subdiv, day.year))
            dates = self._years[day.year]
        return day in dates

    def __repr__(self) -> str:
        return f"PublicHolidays({self.country!r}, {self.subdiv!r})"


def public_holidays(country: str, subdiv: str | None) -> PublicHolidays:
    """The holidays of ``country`` (and ``subdiv``); NotImplementedError from ``holidays``
    when it knows neither. A country with a file is known: only known ones get a file."""
    path = _path(country, subdiv)
    years = _read(path) if path else None
    if years is None:
        years = _compute(country, subdiv, ())  # checks the country and subdivision
        if path:
            _write(path, years)
    return PublicHolidays(country, subdiv, years)


def _known(country: str, subdiv: str | None, year: int) -> dict[int, frozenset[date]]:
    """The years around ``year``, from the file if another process computed them, else
    computed now and added to it."""
    path = _path(country, subdiv)
    years = (_read(path) if path else None) or {}
    if year not in years:
        years |= _compute(country, subdiv, range(max(1, year - SPAN), min(year + SPAN, 9999) + 1))
        if path:
            _write(path, years)
    return years


def _compute(
    country: str, subdiv: str | None, years: range | tuple[()]
) -> dict[int, frozenset[date]]:
    import holidays

    found = holidays.country_holidays(country, subdiv=subdiv, years=years)
    return {y: frozenset(d for d in found if d.year == y) for y in years}


def _path(country: str, subdiv: str | None) -> Path | None:
    if _cache_dir is None or not _CODE.fullmatch(country):
        return None
    if subdiv is not None and not _CODE.fullmatch(subdiv):
        return None
    version = _holidays_version()
    if version is None:
        return None
    return _cache_dir / f"holidays-{version}-{country}-{subdiv or ''}.json"


@cache
def _holidays_version() -> str | None:
    """The installed ``holidays`` version, read from its metadata (importing it is the cost
    this module saves)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("holidays")
    except PackageNotFoundError:
        return None
    return found if _CODE.fullmatch(found.replace(".", "-")) else None


def _read(path: Path) -> dict[int, frozenset[date]] | None:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {
            int(year): frozenset(date.fromisoformat(d) for d in days)
            for year, days in stored["years"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # none yet, or not ours: computed again and written afresh


def _write(path: Path, years: dict[int, frozenset[date]]) -> None:
    """Replace the file at once (several processes may write it; the last one wins, and each
    holds whatever it read plus what it computed)."""
    text = json.dumps({"years": {y: sorted(d.isoformat() for d in ds) for y, ds in years.items()}})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".holidays-")
    except OSError:
        return  # a read-only home: the dates stay in this process
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)  # a full disk: nothing half written stays
