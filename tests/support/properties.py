"""Property tests' example counts: every example CI asks for, a fifth of them locally.

Two hypothesis profiles: ``ci`` (under ``CI=true``) runs every example each test asks for;
``dev`` (any other run) runs a fifth of them, at least `FLOOR`. A test states its count as
``settings(max_examples=examples(N))``: N under ``ci``. ``HYPOTHESIS_PROFILE=ci`` runs the
full counts locally. Importing this module loads the profile (conftest does, first).
"""

from __future__ import annotations

import os

from hypothesis import settings


def in_ci() -> bool:
    """True under ``CI=true``: what CI must run, it runs (no PostgreSQL skip, full counts)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


# Hypothesis' own default count is the ci profile's; dev takes a fifth.
FULL, FLOOR = 100, 10
settings.register_profile("ci", max_examples=FULL)
settings.register_profile("dev", max_examples=FULL // 5)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "dev"))


def examples(full: int) -> int:
    """A property test's example count: ``full`` under the ci profile, the loaded profile's
    share of it otherwise (never fewer than `FLOOR`)."""
    return max(min(full, FLOOR), full * settings().max_examples // FULL)
