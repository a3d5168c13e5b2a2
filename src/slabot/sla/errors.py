"""Errors a policy author reads: every problem names the key path it sits at."""

from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    path: str  # such as "severities[2].targets.resolution.within"; "" for the whole file
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PolicyError(Exception):
    """A policy that cannot be used, with every problem found (not just the first)."""

    def __init__(self, problems: list[Problem], file: str | None = None):
        self.problems = problems
        self.file = file
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"{self.file}: " if self.file else ""
        return "\n".join(prefix + str(problem) for problem in self.problems)
