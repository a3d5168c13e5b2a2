"""Reading calendar rotations (``ical:`` in the team file) from their files and URLs, at start
and again every ``refresh``. The parsing is pure (`slabot.sla.ical`); this is the I/O.

A calendar that cannot be used fails `slabot policy check` (the release step of a deploy),
with the rotation and the reason. A running service is forgiving instead: one that breaks
later keeps its last good events, and one that cannot be read when a service starts (the
calendar's server is down while slabot restarts) is logged as an error and read again at each
refresh, so a calendar app's hiccup never stops the pages of the other levels.
A refresh runs on its own thread: a slow calendar server never delays a page.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from ..sla.errors import PolicyError, Problem
from ..sla.ical import AHEAD, BEHIND, IcalError, read_slots
from ..sla.oncall import Rotation, Team

log = logging.getLogger("slabot.oncall")
TIMEOUT = 10.0  # seconds for a calendar URL to answer
MAX_BYTES = 5 * 1024 * 1024  # an on-call calendar is kilobytes; more is the wrong link


def read_calendar(rotation: Rotation, now: datetime, base: Path = Path()) -> None:
    """Read ``rotation``'s calendar source (a relative path: from ``base``, the team file's
    folder) and take its events around ``now``; IcalError (the message names what to fix)
    leaves the events it had."""
    assert rotation.ical is not None
    text = _fetch(rotation.ical.url, base)
    slots = read_slots(text, rotation.ical.people, rotation.tz, now - BEHIND, now + AHEAD)
    rotation.use_calendar(slots)


def read_calendars(
    team: Team, now: datetime, file: Path | None = None, *, strict: bool = True
) -> None:
    """Read every calendar rotation of ``team``; PolicyError lists each that cannot be used,
    at its key path in the team file (``file``, whose folder relative paths start from).
    Not ``strict``: each is logged as an error instead."""
    problems = []
    for index, rotation in enumerate(team.rotations):
        if rotation.ical is None:
            continue
        try:
            read_calendar(rotation, now, _base(file))
        except IcalError as exc:
            problems.append(Problem(f"rotations[{index}].ical.url", f"{rotation.ical.url}: {exc}"))
    if problems and strict:
        raise PolicyError(problems, None if file is None else str(file))
    for problem in problems:
        log.error("%s: %s (nobody is on call in it until it reads)", file, problem)


def keep_fresh(team: Team, file: Path | None) -> None:
    """Start a daemon thread that reads each calendar rotation of ``team`` (from the team
    file ``file``) again every ``refresh``; nothing when the team has none."""
    calendars = [r for r in team.rotations if r.ical is not None]
    if calendars:
        args = (calendars, _base(file))
        threading.Thread(target=_refresh, args=args, name="calendars", daemon=True).start()


def _base(file: Path | None) -> Path:
    return Path() if file is None else Path(file).parent


def _refresh(calendars: list[Rotation], base: Path) -> None:
    due = {r.key: datetime.now(UTC) + r.ical.refresh for r in calendars if r.ical}
    while True:
        now = datetime.now(UTC)
        for rotation in calendars:
            if rotation.ical is None or due[rotation.key] > now:
                continue
            due[rotation.key] = now + rotation.ical.refresh
            try:
                read_calendar(rotation, now, base)
            except IcalError as exc:
                log.warning("rotation %s: keeping the calendar as last read: %s", rotation.key, exc)
            except Exception:  # a bug must not end the refreshes for good
                log.exception("rotation %s: could not refresh its calendar", rotation.key)
        time.sleep(max(1.0, (min(due.values()) - datetime.now(UTC)).total_seconds()))


def _fetch(url: str, base: Path) -> bytes:
    """The calendar's bytes from a file or an http(s) URL (``webcal://`` is https)."""
    if url.startswith("webcal://"):
        url = "https://" + url.removeprefix("webcal://")
    if url.startswith(("https://", "http://")):
        import httpx  # here: a team without calendars online never needs it

        try:
            response = httpx.get(url, timeout=TIMEOUT, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise IcalError(f"cannot fetch the calendar ({type(exc).__name__}: {exc})") from None
        if response.status_code != 200:
            raise IcalError(
                f"the calendar's address answered {response.status_code}: check the link "
                "(a calendar app's secret iCal address)"
            )
        if len(response.content) > MAX_BYTES:
            raise IcalError("the calendar is over 5 MB: is this the right address?")
        return response.content
    try:
        return (base / url).read_bytes()
    except OSError as exc:
        raise IcalError(f"cannot read the calendar file ({exc.strerror})") from None
