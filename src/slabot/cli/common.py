"""What the policy commands share: loading a policy, reading and showing instants."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from ..sla import Policy, PolicyError, load_policy
from .config import one_setting, settings
from .errors import CliError

# Contracts run for years, not millennia: refusing far-off instants keeps every sum in range.
EARLIEST, LATEST = 1971, 2200


def add_ticket_arguments(
    parser: argparse.ArgumentParser, *, many: bool, required: bool = True
) -> None:
    """FILE, --severity and --opened: what `deadlines` and `simulate` both take (``simulate
    --replay`` needs no ticket, so its run checks them itself)."""
    parser.add_argument(
        "file", metavar="FILE", help="a policy file, or a policy name in $SLABOT_POLICIES"
    )
    parser.add_argument("--severity", required=required, help="a severity key or alias")
    parser.add_argument(
        "--opened",
        required=required,
        action="append" if many else "store",
        metavar="ISO",
        help="when the ticket opens"
        + (" (repeatable)" if many else "")
        + "; without an offset, in the policy's zone",
    )


def policies_dir() -> Path:
    """The folder the ``SLABOT_POLICIES`` setting names (``policies/`` by default)."""
    return settings().slabot_policies


def policy_path(name: str) -> Path:
    """A file as given, or a policy's name looked up in ``$SLABOT_POLICIES`` (``policies/``)."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    folder = one_setting("slabot_policies")  # no other setting is needed to find a policy
    return (policies_dir() if folder is None else Path(folder)) / f"{name}.yaml"


def policy_from(name: str) -> Policy:
    try:
        return load_policy(policy_path(name))
    except PolicyError as exc:
        raise CliError(f"invalid policy\n{exc}") from None


def severity_key(policy: Policy, name: str) -> str:
    try:
        return policy.severity(name).key
    except KeyError as exc:
        raise CliError(str(exc.args[0]), code=2) from None


def instant(text: str, tz: ZoneInfo, what: str = "time") -> datetime:
    """An ISO 8601 instant; one without an offset is read as wall-clock time in ``tz``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError):
        raise CliError(
            f"{what} {text!r} is not an ISO 8601 time: write it like 2026-11-23T09:30 "
            f"(read in {tz.key}) or 2026-11-23T09:30+00:00",
            code=2,
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)  # a skipped local time reads as after the jump
    if not EARLIEST <= value.year <= LATEST:
        raise CliError(f"{what} {text!r} must fall between {EARLIEST} and {LATEST}", code=2)
    return value.astimezone(UTC)


def pause(text: str, tz: ZoneInfo) -> tuple[datetime, datetime | None]:
    """``START/END`` (``START/`` for a pause still going on)."""
    start, slash, end = text.partition("/")
    if not slash:
        raise CliError(
            f"pause {text!r} needs a start and an end: write START/END, such as "
            "2026-11-23T10:00/2026-11-23T12:00 (or START/ for a pause still going on)",
            code=2,
        )
    first = instant(start, tz, "pause start")
    last = instant(end, tz, "pause end") if end.strip() else None
    if last is not None and last < first:
        raise CliError(f"pause {text!r} ends before it starts", code=2)
    return first, last


def iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 in the policy's zone with its UTC offset; None stays None (JSON null)."""
    return None if value is None else value.astimezone(tz).isoformat()


def shown(value: datetime | None, tz: tzinfo) -> str:
    """A time as a support lead reads it: ``Mon 23 Nov 2026 10:30 GMT``."""
    if value is None:
        return "—"
    return value.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")
