"""Shared fixtures: the repository's policies, loaded once per test session."""

from pathlib import Path

import pytest

from slabot.sla import Policy, load_policy

POLICIES = Path(__file__).resolve().parent.parent / "policies"


@pytest.fixture(scope="session")
def policies() -> dict[str, Policy]:
    return {path.stem: load_policy(path) for path in sorted(POLICIES.glob("*.yaml"))}
