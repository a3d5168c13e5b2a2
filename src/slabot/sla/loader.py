"""Reading policy files: YAML in, an immutable `Policy` or a `PolicyError` out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import PolicyError, Problem
from .policy import Policy


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
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([Problem(where, f"not valid YAML: {problem}")], file) from None
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
