"""The command line as an operator or a policy author uses it."""

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from support.conversation import clean_env

from slabot.cli import main
from slabot.sla import load_policy
from slabot.sla.calendar import BATCH_MIN

ROOT = Path(__file__).resolve().parent.parent
LEADPRO = str(ROOT / "policies" / "leadpro.yaml")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_deadlines_json_gives_one_line_per_opening_in_order(capsys):
    code, out, _ = run(
        capsys,
        "deadlines",
        LEADPRO,
        "--severity",
        "low",
        "--json",
        "--opened",
        "2026-11-27T16:00",
        "--opened",
        "2026-11-23T13:30+00:00",
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["opened"] for r in rows] == ["2026-11-27T16:00:00+00:00", "2026-11-23T13:30:00+00:00"]
    # Friday 16:00 London: 1h30 left that day, 2h30 on Monday
    assert rows[0]["first_response"] == "2026-11-30T11:30:00+00:00"
    # due exactly as the window closes, not at the next opening
    assert rows[1]["first_response"] == "2026-11-23T17:30:00+00:00"
    assert rows[0]["resolution"] is None
    assert {"opened", "severity", "first_response", "resolution"} <= rows[0].keys()


def test_deadlines_read_times_without_offset_in_the_policys_zone(capsys):
    _, out, _ = run(
        capsys, "deadlines", LEADPRO, "--severity", "high", "--json", "--opened", "2026-07-01T10:00"
    )
    row = json.loads(out)
    assert row["opened"] == "2026-07-01T10:00:00+01:00"  # British Summer Time
    assert row["first_response"] == "2026-07-01T12:00:00+01:00"


def test_deadlines_accept_aliases_and_pauses(capsys):
    _, out, _ = run(
        capsys,
        "deadlines",
        LEADPRO,
        "--severity",
        "LOW",
        "--json",
        "--opened",
        "2026-11-23T09:00",
        "--pause",
        "2026-11-23T10:00/2026-11-23T12:00",
    )
    assert json.loads(out)["first_response"] == "2026-11-23T15:00:00+00:00"


def test_deadlines_table_for_people(capsys):
    code, out, _ = run(
        capsys, "deadlines", LEADPRO, "--severity", "low", "--opened", "2026-11-23T09:00"
    )
    assert code == 0
    assert "First response" in out and "Mon 23 Nov 2026 13:00 GMT" in out


def test_deadlines_for_many_openings_are_each_openings_own_in_order(capsys):
    policy = load_policy(LEADPRO)
    openings = [
        f"2026-11-{day:02d}T{hour:02d}:{minute:02d}"
        for day in range(2, 30, 3)
        for hour in range(0, 24, 2)
        for minute in (0, 29)
    ][: BATCH_MIN + 5][::-1]
    argv = [arg for opened in openings for arg in ("--opened", opened)]
    code, out, _ = run(capsys, "deadlines", LEADPRO, "--severity", "medium", "--json", *argv)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["opened"][:16] for row in rows] == openings
    for row in rows:
        due = policy.deadline("medium", "first_response", datetime.fromisoformat(row["opened"]))
        assert datetime.fromisoformat(row["first_response"]) == due


def test_deadlines_for_a_few_openings_do_not_load_numpy():
    script = (
        "import sys; from slabot.cli import main; "
        f"main(['deadlines', {LEADPRO!r}, '--severity', 'low', '--opened', '2026-11-23T09:00']); "
        "assert 'numpy' not in sys.modules, 'numpy was imported'"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Mon 23 Nov 2026 13:00 GMT" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--severity", "p9", "--opened", "2026-11-23T09:00"], "use one of high"),
        (["--severity", "low", "--opened", "next tuesday"], "not an ISO 8601 time"),
        (
            ["--severity", "low", "--opened", "2026-11-23T09:00", "--pause", "2026-11-23"],
            "START/END",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_a_non_zero_exit(capsys, argv, message):
    code, out, err = run(capsys, "deadlines", LEADPRO, *argv)
    assert code != 0 and out == ""
    assert message in err and "Traceback" not in err


def test_policy_check_passes_the_seed_policies(capsys):
    code, out, _ = run(
        capsys, "policy", "check", *sorted(str(p) for p in (ROOT / "policies").glob("*.yaml"))
    )
    assert code == 0
    assert out.count(": ok") == 5


def test_policy_check_reports_each_problem_with_file_and_key_path(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ntimezone: Europe/London\nseverities:\n"
        "  - key: high\n    label: High\n    targets:\n"
        "      resolution: {within: 8 hours, clock: 24x7}\n"
        "      first_response: {within: 1h, clock: business}\n"
    )
    code, _, err = run(capsys, "policy", "check", LEADPRO, str(bad))
    assert code == 1
    assert f"{bad}: severities[0].targets.resolution.within:" in err
    assert "write whole numbers with units" in err
    assert "1 of 2 files invalid" in err


def test_policy_check_strict_fails_on_warnings(capsys):
    helpdesk = str(ROOT / "policies" / "helpdesk-p1-p6.yaml")  # P6 is never escalated
    assert run(capsys, "policy", "check", helpdesk)[0] == 0
    code, out, err = run(capsys, "policy", "check", "--strict", helpdesk)
    assert code == 1 and "warning: severities[5]" in err
    # It says which file failed and why, and does not also call that file ok.
    assert out == ""
    assert f"{helpdesk}: fails --strict: 1 warning above" in err
    assert err.rstrip().endswith("1 of 1 files fails --strict on warnings")


def test_simulate_prints_deadlines_and_the_pages_with_whom(capsys):
    code, out, _ = run(
        capsys,
        "simulate",
        "liveops",
        "--severity",
        "p2",
        "--opened",
        "2026-11-23T09:00",
        "--acknowledged",
        "+30m",
        "--for",
        "3d",
    )
    assert code == 0
    assert "First response  Mon 23 Nov 2026 13:00 PST" in out
    assert "PAGE Level 2" in out and "no ETA or workaround yet" in out
    assert "update nudge" in out


def test_simulate_refuses_a_bad_duration(capsys):
    code, _, err = run(
        capsys,
        "simulate",
        "liveops",
        "--severity",
        "p1",
        "--opened",
        "2026-11-23T09:00",
        "--for",
        "soon",
    )
    assert code == 2 and "--for" in err


def test_the_cli_never_loads_slack_sqlalchemy_apscheduler_or_matplotlib():
    probe = (
        "import sys\n"
        "from slabot.cli import main\n"
        f"main(['deadlines', {LEADPRO!r}, '--severity', 'low', '--opened', '2026-11-23T09:00'])\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'sqlalchemy', 'apscheduler', 'matplotlib')]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("[]")


def test_python_dash_m_slabot_is_the_slabot_command():
    result = subprocess.run(
        [sys.executable, "-m", "slabot", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "deadlines" in result.stdout and "simulate" in result.stdout


def test_a_reader_that_stops_early_gets_no_traceback():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "slabot",
            "simulate",
            "liveops",
            "--severity",
            "p1",
            "--opened",
            "2026-11-23T09:00",
            "--for",
            "300d",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err


@pytest.mark.parametrize("command", ["serve", "clock", "mail"])
@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("SLABOT_POLICIES", "missing", "no policy files (*.yaml) in missing"),
        ("SLABOT_TEAM", "team.yaml", "team.yaml: line 2, column 1: not valid YAML"),
    ],
    ids=["policies", "team"],
)
def test_a_service_with_a_bad_policy_folder_or_team_file_says_so_and_writes_nothing(
    tmp_path, command, setting, value, words
):
    """The service processes open their database, policies and team the same way: a bad
    folder or file is one line naming it, exit 2, before any database is made."""
    (tmp_path / "team.yaml").write_text("rotations: [\n")
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL="http://127.0.0.1:9/api/",  # nothing answers: it must not get that far
        MAIL_HOST="127.0.0.1",
        MAIL_USER="support",
        MAIL_PASSWORD="secret",
        DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
        SLABOT_POLICIES=str(ROOT / "policies"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "slabot", command],
        env=env | {setting: value},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"slabot {command}: ") and words in line
    assert not (tmp_path / "slabot.db").exists()
