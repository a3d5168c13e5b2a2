"""``/sla help``: the command grammar's own help text as blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..grammar import HELP
from .kit import SECTION_MAX, Block, section, truncate

if TYPE_CHECKING:
    pass


def help_blocks() -> list[Block]:
    """``/sla help``: the grammar's own help text, so the two never disagree."""
    return [section(truncate(HELP, SECTION_MAX))]
