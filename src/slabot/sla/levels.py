"""Which support level a query goes to, from what the reporter typed.

LeadPro's contract (seed 001) sorts queries into levels by their nature, not by a clock:
"Level 1 support is for basic queries about how to use the product, minor access queries and
minor account queries", Level 2 for "bugs stopping proper operation of the product" and
"inability to access the platform", Level 3 for "an issue that affects employees other than
LeadPro users". A ticket is routed at opening: each support level scores the phrases it lists
(``keywords``) found in the text, a phrase right after a negation ("not a bug") not counting;
the highest score wins, and a tie or no match goes to the lowest of the tied levels (the
first listed: the front line takes what nobody recognises). Pure: policy and text in, a key
out.
"""

from __future__ import annotations

import re

from .policy import Policy

_NEGATED = re.compile(r"\b(?:not|no|never|without|isn't|isnt)\s+(?:a\s+|an\s+|the\s+)?$")


def route(policy: Policy, text: str) -> str | None:
    """The key of the support level ``text`` belongs to; None when the policy routes none."""
    escalation = policy.escalation
    if escalation is None or not escalation.support_levels:
        return None
    lowered = " ".join(text.lower().split())
    best, best_score = escalation.support_levels[0], 0
    for key in escalation.support_levels:
        score = sum(_found(lowered, phrase.lower()) for phrase in escalation.level(key).keywords)
        if score > best_score:
            best, best_score = key, score
    return best


def _found(text: str, phrase: str) -> int:
    """How often ``phrase`` stands in ``text`` as whole words, not right after a negation."""
    count = 0
    for match in re.finditer(rf"\b{re.escape(phrase)}\b", text):
        if not _NEGATED.search(text[: match.start()]):
            count += 1
    return count
