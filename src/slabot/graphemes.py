"""Grapheme clusters: the places where text may be cut.

Unicode's extended grapheme clusters (UAX #29, the ``regex`` module's ``\\X``) are what a reader
sees as one character, so a cut between them never splits Hangul jamo, an Indic conjunct, a
Thai vowel sign, an Arabic prepended mark, an emoji sequence or a flag. ``regex`` is imported at
the first cut rather than at start-up (about 2 MB and 10 ms on top of ``slabot serve``'s, 11 MB
alone): most text, ASCII or short enough, is never cut by cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import regex


def clusters(text: str) -> Iterator[str]:
    """``text``'s grapheme clusters, in order."""
    return (match.group() for match in _cluster().finditer(text))


@cache
def _cluster() -> regex.Pattern[str]:
    import regex

    return regex.compile(r"\X")
