"""Severity from what a reporter typed: "/sla open p1 checkout is down" or just "checkout is down".

An explicit severity (a key or alias as the first word, or ``sev:X`` / ``priority:X`` anywhere)
always wins. Otherwise each severity scores its keywords (strong evidence), mentions of its
key or aliases (such as "urgent"), and words shared with the seed's definition and examples
(weak evidence). A keyword right after a negation ("not urgent", "no data loss") does not
count. When no severity clearly leads, the result says so and lists the candidates, so the
Slack app can ask with buttons instead of guessing silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .policy import Policy, Severity

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_EXPLICIT = re.compile(r"\b(?:sev|severity|priority|prio)\s*[:=]\s*([\w-]+)", re.IGNORECASE)
_NEGATIONS = {"not", "no", "isn't", "isnt", "aren't", "without", "never", "non"}
_STOPWORDS = set(
    "a an and are as at be been but by can do does for from has have i in into is it its of on "
    "or our that the their them there this to was we were which will with you your my me us "
    "some any all more most other such than then these those very may might could should would "
    "issue issues problem problems user users customer customers".split()
)
KEYWORD_WEIGHT = 3
MENTION_WEIGHT = 2
DEFINITION_WEIGHT = 1
DEFINITION_CAP = 3  # long definitions must not outvote a keyword
CONFIDENT_SCORE = 3
CONFIDENT_LEAD = 2


@dataclass(frozen=True)
class Classification:
    severity: str | None  # the chosen key; None when unsure
    candidates: tuple[str, ...]  # best first: what to offer when unsure
    explicit: bool  # the reporter named the severity
    reason: str  # why, in words a support agent reads
    summary: str  # the text with an explicit severity removed

    @property
    def unsure(self) -> bool:
        return self.severity is None


def classify(policy: Policy, text: str) -> Classification:
    text = " ".join(text.split())
    explicit = _explicit(policy, text)
    if explicit is not None:
        severity, summary = explicit
        return Classification(
            severity.key,
            (severity.key,),
            True,
            f"named by the reporter as {severity.label}",
            summary,
        )
    words = _WORD.findall(text.lower())
    scored = sorted(
        ((_score(severity, words), i, severity) for i, severity in enumerate(policy.severities)),
        key=lambda item: (-item[0][0], item[1]),
    )
    (best, best_why), _, leader = scored[0]
    runner_up = scored[1][0][0] if len(scored) > 1 else 0
    if best >= CONFIDENT_SCORE and best - runner_up >= CONFIDENT_LEAD:
        return Classification(
            leader.key, (leader.key,), False, f"matched {', '.join(best_why)}", text
        )
    if best == 0:
        keys = tuple(s.key for s in policy.severities)
        return Classification(None, keys, False, "no keyword of any severity matched", text)
    close = tuple(s.key for (score, _), _, s in scored if score > 0 and best - score < 2)
    reason = (
        f"only a weak match for {leader.label} ({', '.join(best_why)})"
        if len(close) == 1
        else "more than one severity fits: " + ", ".join(close)
    )
    return Classification(None, close, False, reason, text)


def _explicit(policy: Policy, text: str) -> tuple[Severity, str] | None:
    match = _EXPLICIT.search(text)
    if match:
        try:
            severity = policy.severity(match.group(1))
        except KeyError:
            return None
        summary = (text[: match.start()] + text[match.end() :]).strip()
        return severity, " ".join(summary.split())
    words = text.split(" ")
    for n in (2, 1):  # "priority 1 checkout down" names "priority 1"; "p1 checkout down", "p1"
        head = " ".join(words[:n]).strip("[]():,")
        try:
            return policy.severity(head), " ".join(words[n:])
        except KeyError:
            continue
    return None


def _score(severity: Severity, words: list[str]) -> tuple[int, list[str]]:
    score, why = 0, []
    for keyword in severity.keywords:
        if _mentions(words, _WORD.findall(keyword.lower())):
            score += KEYWORD_WEIGHT
            why.append(f"“{keyword}”")
    for name in (severity.key, *severity.aliases):
        if _mentions(words, _WORD.findall(name.lower())):
            score += MENTION_WEIGHT
            why.append(f"“{name}”")
            break
    vocabulary = _vocabulary(severity.definition, severity.examples)
    shared = {word for word in words if word in vocabulary}
    score += min(len(shared), DEFINITION_CAP) * DEFINITION_WEIGHT
    if shared:
        why.append("the definition of " + severity.label)
    return score, why


def _mentions(words: list[str], phrase: list[str]) -> bool:
    """Whether ``phrase`` occurs in ``words`` and is not negated just before it."""
    n = len(phrase)
    if n == 0:
        return False
    for i in range(len(words) - n + 1):
        if words[i : i + n] == phrase and (i == 0 or words[i - 1] not in _NEGATIONS):
            return True
    return False


@lru_cache(maxsize=256)
def _vocabulary(definition: str, examples: tuple[str, ...]) -> frozenset[str]:
    text = " ".join((definition, *examples)).lower()
    return frozenset(w for w in _WORD.findall(text) if w not in _STOPWORDS and len(w) > 2)
