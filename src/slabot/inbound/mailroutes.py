"""Which customer an e-mail comes from, and where its ticket goes: the ``MAIL_ROUTES`` file.

A support mailbox hears from many customers, each under its own contract. The file maps a
sender (an address, or a domain and its subdomains) to the customer's name, its policy and the
channel its tickets are posted in::

    workspace: T0123ABCD          # the Slack workspace tickets are opened in
    channel: C0SUPPORT            # where a sender without a channel of its own goes
    severity: p3                  # when a message names no severity (else the least severe)
    senders:
      acme.example: {customer: Acme, policy: leadpro, channel: C0ACME}
      cto@globex.example: {customer: Globex, policy: liveops, severity: p2}
      "*": {customer: Unknown sender, policy: leadpro}   # optional: everyone else

A sender no entry matches opens nothing: its message stays in the mailbox, unmarked, and the
log says which domain to add. A channel is known for every entry, or the file is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

log = logging.getLogger(__name__)
ANYONE = "*"


class RoutesError(Exception):
    """The file cannot be used; the message names the file and what to fix."""


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: str = Field(min_length=1, max_length=200)
    policy: str | None = None
    channel: str | None = Field(default=None, pattern=r"^[CGD][A-Z0-9]{2,}$")
    severity: str | None = None


class MailRoutes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace: str = Field(pattern=r"^[TE][A-Z0-9]{2,}$")
    channel: str | None = Field(default=None, pattern=r"^[CGD][A-Z0-9]{2,}$")
    severity: str | None = None
    senders: dict[str, Route] = Field(min_length=1)

    @model_validator(mode="after")
    def _channels(self) -> MailRoutes:
        lost = [name for name, route in self.senders.items() if not (route.channel or self.channel)]
        if lost:
            raise ValueError(
                f"no channel for {', '.join(lost)}: give each a channel, or a default "
                "`channel:` at the top"
            )
        return self

    def route(self, sender: str) -> Found | None:
        """The entry for ``sender``: its address, its domain, a parent domain, else ``*``."""
        address = sender.lower()
        domain = address.rpartition("@")[2]
        names = [address]
        parts = domain.split(".")
        names += [".".join(parts[i:]) for i in range(len(parts) - 1)]
        names.append(ANYONE)
        for name in names:
            route = self.senders.get(name)
            if route is not None:
                return Found(
                    customer=route.customer,
                    policy=route.policy,
                    channel=route.channel or self.channel or "",
                    severity=route.severity or self.severity,
                )
        return None


@dataclass(frozen=True)
class Found:
    customer: str
    policy: str | None
    channel: str
    severity: str | None


def load_routes(path: Path) -> MailRoutes:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoutesError(f"{path}: cannot read it ({exc.strerror}); set MAIL_ROUTES") from None
    except yaml.YAMLError as exc:
        raise RoutesError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise RoutesError(f"{path}: expected workspace, channel and senders (see the README)")
    if isinstance(data.get("senders"), dict):
        data["senders"] = {str(k).lower(): v for k, v in data["senders"].items()}
    try:
        return MailRoutes.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: "
            + "".join(f"{p}." for p in e["loc"]).rstrip(".")
            + (": " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        ]
        raise RoutesError("\n".join(lines)) from None


class RoutesFile:
    """The routes as the file says them now: read again on each pass, so a sender added to
    the file is routed without a restart. A file that stops parsing keeps its last good
    version (and says why once), as the policy book does."""

    def __init__(self, path: Path):
        self.path = path
        self._text = path.read_text(encoding="utf-8") if path.exists() else ""
        self._routes = load_routes(path)

    def __call__(self) -> MailRoutes:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return self._routes
        if text != self._text:
            self._text = text
            try:
                self._routes = load_routes(self.path)
            except RoutesError as exc:
                log.error("%s; keeping the routes read before", exc)
        return self._routes
