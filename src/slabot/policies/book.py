"""The deployment's policies: every file in the policies folder, by name and by version.

A ticket keeps the digest of the policy it was opened under, and the text of every version is
stored, so editing a file changes the rules for new tickets only. Parsed versions are cached.

A running deployment picks up a new or edited file without a restart: a lookup by name first
reads the folder again (at most once a second) and parses only the files whose text changed.
The text, not the modification time, decides: two saves within the file system's clock tick
leave the same time, and a few small files are read in microseconds. A file that no longer
parses keeps serving its last good version, and its problem is told to whoever asks for a
policy that is not there.
Versions are kept by digest, so a ticket opened under the old text keeps running under it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

from ..sla import Policy, PolicyError, Problem, parse_policy

RECHECK = 1.0  # seconds between two looks at the folder


@dataclass(frozen=True)
class PolicyFile:
    policy: Policy
    text: str


class PolicyBook:
    def __init__(
        self, files: dict[str, PolicyFile], folder: Path | None = None, *, recheck: float = RECHECK
    ):
        self._files = files
        self._versions: dict[str, Policy] = {f.policy.digest: f.policy for f in files.values()}
        self._texts: dict[str, str] = {f.policy.digest: f.text for f in files.values()}
        self._folder = folder
        self._recheck = recheck
        self._lock = threading.Lock()
        self._checked = monotonic()
        self._seen: dict[Path, str] = {}  # each file's text as last read
        self._by_path: dict[Path, PolicyFile] = {}
        self._problems: list[str] = []

    @classmethod
    def load(cls, folder: str | Path, *, recheck: float = RECHECK) -> PolicyBook:
        """Every ``*.yaml`` in ``folder``; PolicyError lists every problem in every file.
        Lookups by name then notice files added or edited there (``recheck``: how often)."""
        folder = Path(folder)
        texts, problems = _texts(folder)
        if not texts and not problems:
            raise PolicyError([Problem("", f"no policy files (*.yaml) in {folder}")])
        by_path = _parse(texts, {}, problems)
        files = _by_name(by_path, problems)
        if problems:
            raise PolicyError([Problem("", "\n".join(problems))])
        book = cls(files, folder, recheck=recheck)
        book._seen, book._by_path = texts, by_path
        return book

    def names(self) -> list[str]:
        self._refresh()
        return sorted(self._files)

    def get(self, name: str) -> Policy:
        self._refresh()
        try:
            return self._files[name].policy
        except KeyError:
            raise KeyError(self._unknown(name)) from None

    def source(self, policy: Policy) -> str:
        """The text ``policy`` was parsed from (by digest, so an edit made meanwhile does not
        pair one version's policy with another's text)."""
        return self._texts[policy.digest]

    def version(self, digest: str, text: str | None) -> Policy:
        """The policy a ticket runs under; ``text`` (from the store) parses an old version."""
        policy = self._versions.get(digest)
        if policy is None:
            if text is None:
                raise KeyError(f"policy version {digest} is not stored")
            policy = self._versions[digest] = parse_policy(text, f"version {digest}")
        return policy

    def _unknown(self, name: str) -> str:
        message = f"unknown policy {name!r}: use one of {', '.join(sorted(self._files))}"
        if self._folder is not None:
            message += (
                f". Policies are read from {self._folder}/*.yaml ($SLABOT_POLICIES; the name: "
                "key in the file names the policy): a new or edited file there is taken up "
                "without a restart"
            )
        if self._problems:
            message += ". These files could not be read: " + "; ".join(self._problems)
        return message

    def _refresh(self) -> None:
        """Read again the files added or changed since the last look, at most every
        ``recheck`` seconds; unchanged files are not parsed again."""
        if self._folder is None or monotonic() - self._checked < self._recheck:
            return
        with self._lock:
            if monotonic() - self._checked < self._recheck:
                return  # another thread looked meanwhile
            self._checked = monotonic()
            texts, problems = _texts(self._folder)
            if texts == self._seen or not texts:
                return  # unchanged, or the folder is gone for now: keep what we have
            by_path = _parse(texts, self._by_path, problems)
            files = _by_name(by_path, problems)
            for file in files.values():
                self._versions.setdefault(file.policy.digest, file.policy)
                self._texts.setdefault(file.policy.digest, file.text)
            self._by_path, self._seen, self._problems = by_path, texts, problems
            self._files = files


def _texts(folder: Path) -> tuple[dict[Path, str], list[str]]:
    """Each ``*.yaml`` file's text, and why a file could not be read."""
    texts, problems = {}, []
    for path in sorted(folder.glob("*.yaml")):
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue  # removed between the listing and the read
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read the file: {exc}")
    return texts, problems


def _parse(
    texts: dict[Path, str], previous: dict[Path, PolicyFile], problems: list[str]
) -> dict[Path, PolicyFile]:
    """Each text as a policy, parsed again only when it changed; a file that no longer parses
    keeps its ``previous`` version (its problem is added to ``problems``)."""
    by_path = {}
    for path, text in texts.items():
        old = previous.get(path)
        if old is not None and old.text == text:
            by_path[path] = old
            continue
        try:
            by_path[path] = PolicyFile(parse_policy(text, str(path)), text)
        except PolicyError as exc:
            problems.append(str(exc))
            if old is not None:
                by_path[path] = old  # serve the last good version meanwhile
    return by_path


def _by_name(by_path: dict[Path, PolicyFile], problems: list[str]) -> dict[str, PolicyFile]:
    files: dict[str, PolicyFile] = {}
    for path, file in by_path.items():
        if file.policy.name in files:
            problems.append(f"{path}: policy name {file.policy.name!r} is used by another file")
            continue
        files[file.policy.name] = file
    return files
