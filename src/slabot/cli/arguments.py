"""Argument types the commands share, so argparse refuses bad values with its usage line."""

from __future__ import annotations

import argparse


def positive(text: str) -> int:
    """A whole number of at least 1 (``--limit 0`` would otherwise quietly mean something)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of at least 1")
    return value
