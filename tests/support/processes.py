"""slabot as its own process, for the tests that run ``slabot serve`` (or another command)
and speak to it over HTTP: start it, read what it said, wait for it, kill it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def wait_until(what: str, check: Callable[[], bool], logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, f"waited 60 s for {what}; the process said:\n{logs()}"
        time.sleep(0.1)


class Process:
    """A slabot process writing its output to a file; killed at the end."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path):
        self.log = cwd / "out.log"
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "slabot", *args],
            env=env,
            cwd=cwd,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.popen.kill()  # nothing to finish: what it did is in the database and the fake
        self.popen.wait()
