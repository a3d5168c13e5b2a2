"""`slabot db upgrade` and `slabot tickets list|show`, as an operator runs them."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slabot.cli import main
from slabot.policies import PolicyBook
from slabot.store import Store
from slabot.tickets import ChangeRequest, Tickets

ROOT = Path(__file__).resolve().parent.parent
OPENED = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'slabot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SLABOT_POLICIES", str(ROOT / "policies"))
    return url


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_upgrade_applies_the_migrations_once(capsys, database):
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "applied 0001" in out
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "up to date" in out


def test_commands_refuse_a_database_that_needs_migrating(capsys, database):
    code, out, err = run(capsys, "tickets", "list")
    assert code == 1 and out == ""
    assert "run `slabot db upgrade` first" in err


def test_a_bad_database_url_is_one_clear_line(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://somewhere/db")
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2 and "supports sqlite and postgresql" in err


def test_an_unreachable_database_is_one_clear_line(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/none")
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 1 and "cannot use the database" in err and "Traceback" not in err


def test_tickets_list_and_show(capsys, database):
    run(capsys, "db", "upgrade")
    tickets = Tickets(Store(database), PolicyBook.load(ROOT / "policies"))
    tickets.open(
        "T1",
        title="calls failing everywhere",
        severity="p1",
        policy="liveops",
        reporter="U1",
        now=OPENED,
    )
    tickets.open(
        "T1", title="a cosmetic glitch", severity="p3", policy="liveops", reporter="U1", now=OPENED
    )
    tickets.acknowledge(ChangeRequest("T1", 1, actor="U2", now=OPENED + timedelta(minutes=10)))

    code, out, _ = run(capsys, "tickets", "list", "--open")
    assert code == 0
    assert "SLA-1" in out and "SLA-2" in out and "calls failing everywhere" in out

    code, out, _ = run(capsys, "tickets", "show", "SLA-1")
    assert code == 0
    assert out.startswith("SLA-1 · P1")
    assert "First response" in out and "met at 2026-11-23 17:10 UTC" in out
    assert "acknowledged" in out and "owner_assigned" in out
    assert "update_nudge" in out  # the pending nudge four hours after the acknowledgement


def test_tickets_show_unknown_ticket(capsys, database):
    run(capsys, "db", "upgrade")
    code, _, err = run(capsys, "tickets", "show", "SLA-99")
    assert code == 1 and "no ticket SLA-99" in err
    code, _, err = run(capsys, "tickets", "show", "banana")
    assert code == 2 and "not a ticket ID" in err
