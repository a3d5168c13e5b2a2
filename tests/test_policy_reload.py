"""A running deployment takes up new and edited policy files without a restart, and an edit
never changes the rules of tickets already running (each keeps its version, by digest)."""

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slabot.policies import PolicyBook
from slabot.tickets import Invalid, Tickets

POLICIES = Path(__file__).resolve().parent.parent / "policies"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday: 17:00 in London


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(POLICIES / "leadpro.yaml", folder)
    return folder


def book_of(folder: Path) -> PolicyBook:
    return PolicyBook.load(folder, recheck=0)  # look at the folder on every lookup


def test_a_new_file_is_taken_up_without_a_restart(folder):
    book = book_of(folder)
    assert book.names() == ["leadpro"]
    shutil.copy(POLICIES / "secpod.yaml", folder)
    assert book.names() == ["leadpro", "secpod"]
    assert book.get("secpod").name == "secpod"


def test_an_unknown_name_says_where_policies_are_read_from(folder):
    book = book_of(folder)
    with pytest.raises(KeyError) as caught:
        book.get("secpod")
    message = caught.value.args[0]
    assert message.startswith("unknown policy 'secpod': use one of leadpro.")
    assert f"Policies are read from {folder}/*.yaml" in message
    assert "taken up without a restart" in message


def test_an_edit_applies_to_new_tickets_and_never_to_running_ones(store, folder):
    # Seed 001: "Low Severity: Response 4 hours" (business hours, 09:00–17:30 in London).
    book = book_of(folder)
    tickets = Tickets(store, book, admins={"UADMIN"})
    opened = T0 - timedelta(hours=8)  # Monday 09:00
    before = tickets.open(
        "T1", title="how do I export", severity="low", policy="leadpro", reporter="U1", now=opened
    ).view
    assert before.schedule.deadline("first_response").due == opened + timedelta(hours=4)

    path = folder / "leadpro.yaml"
    path.write_text(path.read_text().replace("within: 4h", "within: 2h"))
    after = tickets.open(
        "T1", title="where is y", severity="low", policy="leadpro", reporter="U1", now=opened
    ).view
    assert after.schedule.deadline("first_response").due == opened + timedelta(hours=2)
    assert after.policy.digest != before.policy.digest
    # the first ticket keeps the rules it was opened under
    again = tickets.view("T1", before.ticket.number, T0)
    assert again.policy.digest == before.policy.digest
    assert again.schedule.deadline("first_response").due == opened + timedelta(hours=4)


def test_a_broken_edit_keeps_the_last_good_version_and_says_why(store, folder):
    book = book_of(folder)
    good = book.get("leadpro")
    path = folder / "leadpro.yaml"
    path.write_text(path.read_text().replace('target: "99.9%"', "target: 99.9"))
    assert book.get("leadpro") is good  # still served: the deployment keeps working
    tickets = Tickets(store, book, admins={"UADMIN"})
    with pytest.raises(Invalid) as caught:
        tickets.bind_channel("T1", "C1", "leadpro2", actor="UADMIN", now=T0)
    message = str(caught.value)
    assert "unknown policy 'leadpro2'" in message
    assert "uptime.target: 99.9 is a bare number" in message  # why the edit is not taken up
