"""The hooks file (``SLABOT_HOOKS``): which alerts open tickets, under which policy, where.

::

    workspace: T0123ABCD        # optional: the Slack workspace serve is connected to
    channel: C0ALERTS           # where a source's tickets go when a route names none
    routes:                     # the first route whose labels all match takes the group
      - match: {service: checkout, env: prod}
        sources: [alertmanager] # optional: alertmanager, grafana (default: both)
        policy: liveops
        customer: Acme          # optional: the tickets' customer (else the policy's own)
        severity: P1            # a severity of the policy, or read from a label:
        # severity_from: {label: severity, values: {critical: P1, warning: P3}}
        firing: ticket          # ticket (default) | outage: record downtime, no ticket
        resolved: resolve       # resolve (default) | update: post the recovery as an update
        channel: C0CHECKOUT

A route matches an alert group by its common labels (the labels every alert in it shares).
A route with neither ``severity`` nor ``severity_from`` classifies the alert's title like
``/sla open`` does. Problems are reported like a policy file's: every one, each with its line
and key path, so the file can be fixed in one pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ..policies import PolicyBook
from ..sla.loader import StrictLoader, yaml_problem

ALERT_SOURCES: tuple[Literal["alertmanager", "grafana"], ...] = ("alertmanager", "grafana")
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SlackChannel = Annotated[str, StringConstraints(pattern=r"^[CG][A-Z0-9]{2,}$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SeverityFrom(_Model):
    label: Name
    values: dict[str, Name] = Field(min_length=1)


class Route(_Model):
    match: dict[str, str] = Field(default_factory=dict)
    sources: tuple[Literal["alertmanager", "grafana"], ...] = ALERT_SOURCES
    policy: Name | None = None
    customer: Name | None = None
    severity: Name | None = None
    severity_from: SeverityFrom | None = None
    firing: Literal["ticket", "outage"] = "ticket"
    resolved: Literal["resolve", "update"] = "resolve"
    channel: SlackChannel | None = None

    def matches(self, source: str, labels: dict[str, str]) -> bool:
        return source in self.sources and all(labels.get(k) == v for k, v in self.match.items())

    def severity_for(self, labels: dict[str, str]) -> str | None:
        """The severity the route gives a group with these labels; None: classify the title."""
        if self.severity_from is not None:
            value = labels.get(self.severity_from.label)
            return self.severity_from.values.get(value) if value is not None else None
        return self.severity


class Hooks(_Model):
    workspace: Annotated[str, StringConstraints(pattern=r"^[TE][A-Z0-9]{2,}$")] | None = None
    channel: SlackChannel | None = None
    routes: tuple[Route, ...] = ()

    def route(self, source: str, labels: dict[str, str]) -> Route | None:
        return next((r for r in self.routes if r.matches(source, labels)), None)

    def check(self, policies: PolicyBook) -> list[str]:
        """What the file names that the policies do not have (each route's policy, its
        severities), and routes that open a ticket nowhere."""
        problems = []
        for i, route in enumerate(self.routes):
            where = f"routes[{i}]"
            if route.firing == "outage" and route.policy is None:
                problems.append(f"{where}.policy: an outage is recorded against a policy: name one")
            if route.firing == "ticket" and (route.channel or self.channel) is None:
                problems.append(
                    f"{where}.channel: no channel for its tickets: give one here or at the top"
                )
            if route.policy is None:
                continue
            try:
                policy = policies.get(route.policy)
            except KeyError as exc:
                problems.append(f"{where}.policy: {exc.args[0]}")
                continue
            named = [route.severity] if route.severity else []
            named += route.severity_from.values.values() if route.severity_from else []
            for severity in named:
                try:
                    policy.severity(severity)
                except KeyError as exc:
                    problems.append(f"{where}: {exc.args[0]}")
        return problems


class HooksError(Exception):
    """A hooks file that cannot be used: one line per problem, each naming file and line."""


def load_hooks(path: str | Path) -> Hooks:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise HooksError(f"{path}: cannot read the hooks file: {reason}") from None
    return parse_hooks(text, str(path))


def parse_hooks(text: str, file: str = "hooks") -> Hooks:
    try:
        node = yaml.compose(text, Loader=StrictLoader)
        data = yaml.load(text, Loader=StrictLoader) if node is not None else {}
    except yaml.YAMLError as exc:
        raise HooksError(f"{file}: {yaml_problem(exc, text)}") from None
    if not isinstance(data, dict):
        raise HooksError(f"{file}: the hooks file is a YAML mapping with routes (see README)")
    try:
        return Hooks.model_validate(data)
    except ValidationError as exc:
        raise HooksError(
            "\n".join(f"{file}: {_problem(node, error)}" for error in exc.errors())
        ) from None


def _problem(root: yaml.Node | None, error: Any) -> str:
    loc = [p for p in error["loc"] if isinstance(p, int) or not _internal(p)]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling against the README's hooks file)"
    elif error["type"] == "missing":
        message = "required key is missing"
    line = _line(root, loc)
    return f"line {line}: {path}: {message}" if line else f"{path}: {message}"


def _internal(part: str) -> bool:
    return part.startswith(("function-", "tagged-union")) or "[" in part


def _line(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """The line of the YAML node at ``loc`` (or of the nearest enclosing one)."""
    if node is None:
        return None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
    return node.start_mark.line + 1
