"""The deployment's policies: every file in the policies folder, by name and by version.

A ticket keeps the digest of the policy it was opened under, and the text of every version is
stored, so editing a file changes the rules for new tickets only. Parsed versions are cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .sla import Policy, PolicyError, Problem, parse_policy


@dataclass(frozen=True)
class PolicyFile:
    policy: Policy
    text: str


class PolicyBook:
    def __init__(self, files: dict[str, PolicyFile]):
        self._files = files
        self._versions: dict[str, Policy] = {f.policy.digest: f.policy for f in files.values()}

    @classmethod
    def load(cls, folder: str | Path) -> PolicyBook:
        """Every ``*.yaml`` in ``folder``; PolicyError lists every problem in every file."""
        folder = Path(folder)
        paths = sorted(folder.glob("*.yaml"))
        if not paths:
            raise PolicyError([Problem("", f"no policy files (*.yaml) in {folder}")])
        files: dict[str, PolicyFile] = {}
        problems: list[str] = []
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
                policy = parse_policy(text, str(path))
            except PolicyError as exc:
                problems.append(str(exc))
                continue
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{path}: cannot read the file: {exc}")
                continue
            if policy.name in files:
                problems.append(f"{path}: policy name {policy.name!r} is used by another file")
                continue
            files[policy.name] = PolicyFile(policy, text)
        if problems:
            raise PolicyError([Problem("", "\n".join(problems))])
        return cls(files)

    def names(self) -> list[str]:
        return sorted(self._files)

    def get(self, name: str) -> Policy:
        try:
            return self._files[name].policy
        except KeyError:
            raise KeyError(
                f"unknown policy {name!r}: use one of {', '.join(self.names())}"
            ) from None

    def text(self, name: str) -> str:
        return self._files[name].text

    def version(self, digest: str, text: str | None) -> Policy:
        """The policy a ticket runs under; ``text`` (from the store) parses an old version."""
        policy = self._versions.get(digest)
        if policy is None:
            if text is None:
                raise KeyError(f"policy version {digest} is not stored")
            policy = self._versions[digest] = parse_policy(text, f"version {digest}")
        return policy
