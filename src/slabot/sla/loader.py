"""Reading policy files: YAML in, an immutable `Policy` or a `PolicyError` out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from .errors import PolicyError, Problem
from .policy import Policy

if TYPE_CHECKING:
    from .oncall import Team


def load_policy(path: str | Path) -> Policy:
    """Load and validate one policy file; PolicyError names the file and each key path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = Problem("", f"cannot read the file: {exc.strerror}")
        raise PolicyError([problem], str(path)) from None
    except UnicodeDecodeError:
        raise PolicyError([Problem("", "the file is not UTF-8 text")], str(path)) from None
    return parse_policy(text, str(path))


def parse_policy(text: str, file: str | None = None) -> Policy:
    """Validate policy YAML given as text (the file name only labels the errors)."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise PolicyError([yaml_problem(exc, text)], file) from None
    if not isinstance(data, dict):
        raise PolicyError(
            [Problem("", "a policy is a YAML mapping with name, timezone and severities")], file
        )
    data.setdefault("digest", hashlib.sha256(text.encode()).hexdigest()[:16])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_problem(error) for error in exc.errors()], file) from None
    except PolicyError as exc:
        exc.file = file
        raise


def load_team(path: str | Path) -> Team:
    """The deployment's team file (leads, rotations, roles); PolicyError names each key path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([Problem("", f"cannot read the team file: {exc}")], str(path)) from None
    return parse_team(text, str(path))


def parse_team(text: str, file: str | None = None) -> Team:
    """Validate team YAML given as text (the file name only labels the errors)."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise PolicyError([yaml_problem(exc, text)], file) from None
    if not isinstance(data, dict):
        problem = Problem("", "a team file is a YAML mapping with leads and rotations")
        raise PolicyError([problem], file)
    from .oncall import Team  # here: the policy tools, which never read a team, skip its models

    try:
        return Team.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_problem(error) for error in exc.errors()], file) from None


def load_yaml(text: str) -> Any:
    """``text`` read by `StrictLoader`, parsed by libyaml when PyYAML was built with it.

    PyYAML's own parser, in Python, took most of the time of loading the policies at every
    start (50 ms for the five seed policies, with ``slabot serve`` ready in about 0.8 s);
    libyaml's builds the same nodes in 6 ms, and the same constructor (safe, no key twice)
    makes the values. Its error messages
    differ, so any error is read again by PyYAML's parser, whose messages and marks the
    problems (`yaml_problem`) are written for.
    """
    if _FastLoader is not None:
        try:
            return yaml.load(text, Loader=_FastLoader)
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=StrictLoader)


class _OneKeyOnce(yaml.constructor.SafeConstructor):
    """Refuses a key given twice in one mapping, at any depth.

    Plain PyYAML keeps the last value silently, so a second ``first_response:`` further down
    a severity would replace the first without a word. Merge keys (``<<``) may still override.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # an unhashable key: the base class says why it cannot be one
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    problem=f"{key!r} is given twice in one mapping (first on line "
                    f"{first.start_mark.line + 1}, column {first.start_mark.column + 1}, "
                    "whose value this one would silently replace): keep one",
                    problem_mark=key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


class StrictLoader(_OneKeyOnce, yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key given twice in one mapping, at any depth."""


_C = getattr(yaml, "CSafeLoader", None)  # PyYAML built without libyaml has none
_FastLoader: type | None = type("_FastLoader", (_OneKeyOnce, _C), {}) if _C else None


def yaml_problem(exc: yaml.YAMLError, text: str) -> Problem:
    """Where YAML went wrong: for a quote or bracket never closed, where it opened.

    PyYAML's own mark is where it gave up, often lines further down: an unclosed quote runs on
    to the next quote in the file (in a comment, say), and only what follows fails to parse.
    """
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None) or ""
    opened = getattr(exc, "context_mark", None)
    if opened and mark and context.startswith(_UNCLOSED):
        what = context.removeprefix("while scanning ").removeprefix("while parsing ")
        problem = f"{what} starts here and is not closed ({problem} on line {mark.line + 1})"
        mark = opened
    elif mark and (quote := _runaway_quote(text, mark.index)):
        problem = (
            f"a quoted value starts here and runs on to line {quote.end_mark.line + 1}: is "
            f"its closing quote missing? ({problem} on line {mark.line + 1})"
        )
        mark = quote.start_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return Problem(where, f"not valid YAML: {problem}")


_UNCLOSED = ("while scanning a quoted scalar", "while parsing a flow")


def _runaway_quote(text: str, before: int) -> yaml.ScalarToken | None:
    """The last quoted value before offset ``before`` if it spans lines (policies write long
    text as ``>-`` blocks, so a quoted value over several lines is most likely a quote left
    open); None otherwise."""
    last = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= before:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'"):
                last = token
    except yaml.YAMLError:
        pass  # the tokens up to the error are all this needs
    if last is not None and last.end_mark.line > last.start_mark.line:
        return last
    return None


def _problem(error: Any) -> Problem:
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "tagged-union")) or "[" in part:
            continue  # pydantic's names for validator steps, not keys the author wrote
        else:
            path += f".{part}" if path else part
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling and the policy language in the README)"
    elif error["type"] == "missing":
        message = "required key is missing"
    return Problem(path, message)
