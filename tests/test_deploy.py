"""The deploy recipe a Heroku-style platform follows: its Python buildpack installs from
``requirements.txt`` at the version ``.python-version`` names, then runs the Procfile's
``release`` command once and its ``web`` command on ``$PORT``. (.ci/run also installs from
requirements.txt into a fresh virtualenv, as the buildpack does.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)  # where the installed `slabot` command is


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(
        (name.strip(), command.strip())
        for name, _, command in (line.partition(":") for line in lines if line.strip())
    )


def test_the_buildpack_installs_this_project_at_a_python_it_supports():
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    # slabot itself, with the PostgreSQL driver a platform's database needs, and the chart.
    assert [r for r in requirements if r.strip() and not r.startswith("#")] == [".[postgres,chart]"]
    major, minor = (int(n) for n in (ROOT / ".python-version").read_text().split("."))
    lowest = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert lowest == ">=3.11" and (major, minor) >= (3, 11)


@pytest.fixture
def platform(tmp_path):
    """The environment a platform gives the app: its settings, and a free port as $PORT."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SLABOT_"))}
    return env | {
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "SLACK_BOT_TOKEN": "xoxb-deploy-check",
        "SLACK_SIGNING_SECRET": "deploy-check",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # Slack unreachable: it starts anyway
    }


def test_the_release_command_checks_the_policies_and_migrates(platform):
    done = subprocess.run(
        ["bash", "-c", procfile()["release"]],
        cwd=ROOT,
        env=platform,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "policies/liveops.yaml: ok" in done.stdout and "applied 0001" in done.stdout


def test_the_web_command_answers_health_checks_on_port(platform):
    subprocess.run(["bash", "-c", procfile()["release"]], cwd=ROOT, env=platform, check=True)
    web = subprocess.Popen(
        ["bash", "-c", f"exec {procfile()['web']}"],
        cwd=ROOT,
        env=platform,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        for _ in range(600):  # a start takes about a second; allow a slow shared machine
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{platform['PORT']}/healthz") as r:
                    answer = (r.status, r.read())
                break
            except OSError:
                if web.poll() is not None:
                    break
                time.sleep(0.1)
        assert answer == (200, b"ok\n"), web.stderr.read() if web.poll() is not None else ""
    finally:
        web.terminate()
        web.wait(timeout=30)


def test_the_package_ships_its_licence_text_and_says_where_it_lives():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text().split()
    assert licence[:4] == ["Apache", "License", "Version", "2.0,"]
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= set(project["urls"])
    classifiers = project["classifiers"]
    assert "Programming Language :: Python :: 3.11" in classifiers
    # PEP 639: with a licence expression, a licence classifier is redundant (and refused).
    assert not [c for c in classifiers if c.startswith("License ::")]
