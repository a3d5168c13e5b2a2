"""Every command reads one set of settings: the environment and ``.env``, the environment
winning. Bad settings and a busy port stop with one line and a non-zero exit."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from slabot.cli import main
from slabot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("DATABASE_URL", "SLABOT_POLICIES", "PORT", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An operator's folder: no settings in the environment, one policy in ``own-policies/``."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "own-policies").mkdir()
    shutil.copy(ROOT / "policies" / "liveops.yaml", tmp_path / "own-policies" / "liveops.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def dotenv(folder: Path, **settings: str) -> None:
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_database_command_uses_the_database_named_in_dotenv(workdir, capsys):
    dotenv(workdir, DATABASE_URL="sqlite:///from-dotenv.db", SLABOT_POLICIES="own-policies")

    assert run(capsys, "db", "upgrade")[0] == 0
    assert (workdir / "from-dotenv.db").exists()
    for argv in (
        ["tickets", "list"],
        ["timers"],
        ["timers", "--dead"],
        ["report", "--month", "2026-11", "--now", "2026-12-01T00:00Z"],
    ):
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    assert not (workdir / "slabot.db").exists()  # the default was never opened


def test_policy_commands_look_policies_up_where_dotenv_says(workdir, capsys):
    dotenv(workdir, SLABOT_POLICIES="own-policies")

    code, out, _ = run(capsys, "policy", "check")
    assert code == 0 and out.splitlines() == [
        "own-policies/liveops.yaml: ok (liveops, 3 severities)"
    ]
    code, out, _ = run(
        capsys, "deadlines", "liveops", "--severity", "p1", "--opened", "2026-11-23T09:00"
    )
    assert code == 0 and "Mon 23 Nov 2026 10:00 PST" in out  # LiveOps' P1: an hour


def test_a_policy_name_is_looked_up_where_the_environment_or_dotenv_or_the_default_says(
    workdir, capsys, monkeypatch
):
    """``deadlines NAME`` reads only the policies' folder, in the order every setting is read:
    the environment (in any case), then ``.env``, then ``policies/``."""
    deadlines = ("deadlines", "liveops", "--severity", "p1", "--opened", "2026-11-23T09:00")
    dotenv(workdir, SLABOT_POLICIES="own-policies")
    monkeypatch.setenv("SLABOT_POLICIES", "elsewhere")
    code, _, err = run(capsys, *deadlines)
    assert code == 1 and "elsewhere/liveops.yaml: cannot read the file" in err

    monkeypatch.delenv("SLABOT_POLICIES")
    monkeypatch.setenv("slabot_policies", "own-policies")
    assert run(capsys, *deadlines)[0] == 0
    monkeypatch.delenv("slabot_policies")
    assert run(capsys, *deadlines)[0] == 0  # from .env

    (workdir / ".env").unlink()
    code, _, err = run(capsys, *deadlines)
    assert code == 1 and "policies/liveops.yaml: cannot read the file" in err
    shutil.copytree(workdir / "own-policies", workdir / "policies")
    assert run(capsys, *deadlines)[0] == 0


def test_the_environment_wins_over_dotenv(workdir, capsys, monkeypatch):
    dotenv(workdir, DATABASE_URL="sqlite:///from-dotenv.db")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-environment.db")

    assert run(capsys, "db", "upgrade")[0] == 0
    assert (workdir / "from-environment.db").exists()
    assert not (workdir / "from-dotenv.db").exists()


def test_a_malformed_setting_in_dotenv_stops_every_command_with_one_line(workdir, capsys):
    dotenv(workdir, DATABASE_URL="sqlite:///x.db", SLACK_BOT_TOKEN="xoxp-a-user-token")

    for argv in (["db", "upgrade"], ["tickets", "list"], ["policy", "check"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert err.strip() == (
            f"slabot {argv[0]}: SLACK_BOT_TOKEN: a bot token starts with xoxb- "
            "(OAuth & Permissions page)"
        )
    assert not (workdir / "x.db").exists()  # nothing was half done


def test_limit_zero_is_refused_not_read_as_one(workdir, capsys):
    dotenv(workdir, DATABASE_URL="sqlite:///x.db")
    assert run(capsys, "db", "upgrade")[0] == 0
    for argv in (["tickets", "list", "--limit", "0"], ["timers", "--limit", "-3"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
        assert "give a whole number of at least 1" in capsys.readouterr().err


def _serve(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``slabot serve`` as an operator starts it, with a Slack that cannot be reached."""
    environ = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    environ |= {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DATABASE_URL": f"sqlite:///{folder / 'serve.db'}",
        "SLABOT_POLICIES": "own-policies",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "slabot", "serve", "--host", "127.0.0.1", *args],
        env=environ,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_port_that_is_not_a_number_is_one_line(workdir):
    done = _serve(workdir, PORT="abc")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "slabot serve: PORT: 'abc' is not a TCP port: give a number from 1 to 65535"
    )


def test_a_busy_port_from_dotenv_is_one_line_not_a_traceback(workdir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        dotenv(workdir, PORT=str(port))
        done = _serve(workdir)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"slabot serve: cannot listen on 127.0.0.1:{port} (Address already in use): stop what "
        "uses the port, or choose another with --port or PORT"
    )
    assert "slabot listening" not in done.stderr


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z_]+)=", text, re.MULTILINE))
    assert {name.upper() for name in Settings.model_fields} <= listed
