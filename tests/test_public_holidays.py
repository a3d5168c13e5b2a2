"""Public holidays kept between runs: the same dates as the ``holidays`` package, which a
command whose dates are kept does not import (`slabot.sla.public_holidays`)."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from slabot.sla import public_holidays as kept
from slabot.sla.public_holidays import public_holidays

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(kept, "_cache_dir", tmp_path)
    return tmp_path


def days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


@pytest.mark.parametrize(("country", "subdiv"), [("US", None), ("GB", "ENG"), ("IN", None)])
def test_kept_dates_are_the_packages_every_day_read_back_from_the_file(cache, country, subdiv):
    package = holidays.country_holidays(country, subdiv=subdiv)
    first = public_holidays(country, subdiv)
    period = list(days(date(2024, 12, 1), date(2028, 1, 31)))
    assert [d for d in period if d in first] == [d for d in period if d in package]
    again = public_holidays(country, subdiv)  # a later run: everything from the file
    assert [d for d in period if d in again] == [d for d in period if d in package]
    assert len(list(cache.glob("holidays-*.json"))) == 1


def test_the_file_is_read_and_belongs_to_one_version_of_holidays(cache, monkeypatch):
    public_holidays("GB", "ENG")
    assert date(2026, 12, 25) in public_holidays("GB", "ENG")
    (path,) = cache.glob("holidays-*.json")
    stored = json.loads(path.read_text())
    stored["years"]["2026"] = ["2026-03-03"]  # as if this version said so
    path.write_text(json.dumps(stored))
    assert date(2026, 3, 3) in public_holidays("GB", "ENG")
    assert date(2026, 12, 25) not in public_holidays("GB", "ENG")
    monkeypatch.setattr(kept, "_holidays_version", lambda: "0.0.1")  # another version
    assert date(2026, 3, 3) not in public_holidays("GB", "ENG")
    assert date(2026, 12, 25) in public_holidays("GB", "ENG")


def test_a_year_beyond_the_file_is_computed_and_kept(cache):
    public_holidays("US", None)
    assert date(2026, 7, 3) in public_holidays("US", None)  # the 4th is a Saturday
    (path,) = cache.glob("holidays-*.json")
    assert "2026" in json.loads(path.read_text())["years"]
    assert "2045" not in json.loads(path.read_text())["years"]
    assert date(2045, 12, 25) in public_holidays("US", None)
    assert "2045" in json.loads(path.read_text())["years"]


def test_a_damaged_file_is_computed_again(cache):
    public_holidays("US", None)
    (path,) = cache.glob("holidays-*.json")
    path.write_text("{not json")
    assert date(2026, 12, 25) in public_holidays("US", None)
    assert json.loads(path.read_text())["years"]


def test_an_unknown_country_is_refused_and_gets_no_file(cache):
    with pytest.raises(NotImplementedError):
        public_holidays("XX", None)
    with pytest.raises(NotImplementedError):
        public_holidays("GB", "NOWHERE")
    assert list(cache.iterdir()) == []


def test_a_cache_that_cannot_be_written_leaves_the_dates_in_the_process(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setattr(kept, "_cache_dir", blocked / "slabot")  # under a file: no directory
    assert date(2026, 12, 25) in public_holidays("US", None)
    assert blocked.read_text() == ""


def test_deadlines_whose_holidays_are_kept_do_not_import_holidays(tmp_path):
    """The second run finds the policies' holidays (helpdesk-p1-p6: US) in the file."""
    probe = (
        "import sys; from slabot.cli import main; "
        "main(['deadlines', 'helpdesk-p1-p6', '--severity', 'p4', "
        "'--opened', '2026-12-24T16:00']); "
        "print('holidays' in sys.modules)"
    )
    env = os.environ | {"XDG_CACHE_HOME": str(tmp_path), "SLABOT_POLICIES": str(ROOT / "policies")}
    runs = [
        subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    first, second = (r.stdout.splitlines() for r in runs)
    assert first[-1] == "True" and second[-1] == "False"
    assert first[:-1] == second[:-1]
    # Three business days from Christmas Eve: Christmas Day is closed.
    assert "Wed 30 Dec 2026 16:00 EST" in "\n".join(second)


def test_the_cache_is_xdg_cache_home_else_the_home_directory_else_none(monkeypatch):
    assert kept.default_cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/slabot")
    monkeypatch.setenv("HOME", "/home/ops")
    assert kept.default_cache_dir({}) == Path("/home/ops/.cache/slabot")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no home known at all
    assert kept.default_cache_dir({}) is None
