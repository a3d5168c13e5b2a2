"""E-mail tickets end to end: a real Dovecot IMAP server, real RFC 5322 messages delivered by
APPEND, the mailbox reader, SQLite and PostgreSQL, and the fake Slack showing the cards.

The server is private to the test session (`imapserver.Dovecot`: its own config, port and
passwd-file in a temp dir). Without Dovecot these tests skip, except under ``CI=true``, where
they fail: ``.ci/run`` installs ``dovecot-imapd``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from imapserver import Dovecot, available
from mailmaker import message
from sqlalchemy import select
from support.courier import Courier
from support.fakeslack import FakeSlack
from support.fakeslack.records import TEAM_ID

from slabot.inbound.mailbox import TAKEN, Mailbox, MailReader
from slabot.inbound.mailroutes import RoutesFile
from slabot.slack.blocks.notes import saying
from slabot.store import Store
from slabot.store.tables import Ticket, TicketEvent, TimerRow
from slabot.tickets import ChangeRequest, Tickets
from slabot.tickets.timers import CARD

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "support", "s3cret"
ROUTES = f"""\
workspace: {TEAM_ID}
channel: C0SUPPORT
senders:
  acme.example: {{customer: Acme, policy: leadpro, channel: C0ACME}}
  globex.example: {{customer: Globex, policy: liveops}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if not available():
        reason = "Dovecot is not installed (apt-get install dovecot-imapd)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the e-mail tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="slabot-dovecot-"))
    try:
        with Dovecot(root, {USER: PASSWORD}) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    dovecot.clear(USER)
    return Mailbox(dovecot.host, dovecot.port, USER, PASSWORD, security="none")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def routes(tmp_path: Path) -> RoutesFile:
    path = tmp_path / "mail-routes.yaml"
    path.write_text(ROUTES)
    return RoutesFile(path)


@pytest.fixture
def reader(tickets: Tickets, routes: RoutesFile, fake: FakeSlack) -> MailReader:
    POLLED.at = NOW  # the courier delivers at the time the reader last polled
    Courier.wire(tickets.store, tickets, fake.url, POLLED)
    return MailReader(tickets, routes, saying)


NOW = datetime.now(UTC).replace(microsecond=0)


class Polled:
    """The time of the reader's poll under way: what its changes owe is due then."""

    at = NOW

    def __call__(self) -> datetime:
        return self.at


POLLED = Polled()


def poll(reader: MailReader, mailbox: Mailbox, now: datetime = NOW):
    POLLED.at = now
    client = mailbox.connect()
    try:
        return reader.poll(client, lambda: now)
    finally:
        client.logout()


def all_tickets(store: Store) -> list[Ticket]:
    with store.reading() as session:
        return list(session.exec(select(Ticket).order_by(Ticket.c.number)).all())


def events(store: Store, ticket: Ticket) -> list[TicketEvent]:
    with store.reading() as session:
        query = select(TicketEvent).where(TicketEvent.c.ticket_id == ticket.id)
        return list(session.exec(query.order_by(TicketEvent.c.id)).all())


def cards(fake: FakeSlack) -> list:
    return [c for c in fake.calls_to("chat.postMessage", ok=True) if "thread_ts" not in c.args]


def deliver(dovecot: Dovecot, raw: bytes) -> None:
    dovecot.deliver(USER, raw, NOW)


def test_each_new_message_opens_a_ticket_with_its_card_and_is_marked_once(
    dovecot, mailbox, reader, tickets, fake
):
    written = NOW - timedelta(hours=2)
    deliver(dovecot, message("P1 checkout is down", date=written))
    deliver(
        dovecot,
        message(
            "Orders failing",
            None,
            html="<p>All <b>orders</b> fail &amp; time out</p>",
            sender="Bob <bob@globex.example>",
            message_id="<h1@globex.example>",
            date=written,
        ),
    )
    deliver(
        dovecot,
        message(
            "Kasse ausgefallen",
            "Grüße aus Köln: die Kasse ist ausgefallen",
            charset="iso-8859-1",
            message_id="<latin@acme.example>",
            date=written,
        ),
    )
    deliver(
        dovecot,
        message(
            "決済エラー",
            "決済が停止しています",
            charset="shift_jis",
            message_id="<sjis@acme.example>",
            sender="Taro <taro@acme.example>",
            date=written,
        ),
    )
    deliver(
        dovecot,
        message(
            "Logs attached",
            "see the trace",
            message_id="<att@acme.example>",
            attachments=(("trace.log", b"\x00binary"),),
            date=written,
        ),
    )
    taken = poll(reader, mailbox)
    assert [t.outcome for t in taken] == ["opened"] * 5
    found = all_tickets(tickets.store)
    assert [t.source for t in found] == ["email"] * 5
    by_ref = {t.source_ref: t for t in found}
    first = by_ref["<m1@acme.example>"]
    # Classified like /sla open: "P1" named in the subject, taken out of the title.
    assert (first.title, first.severity, first.policy) == ("checkout is down", "high", "leadpro")
    assert first.reported_at == written and first.opened_at == NOW
    assert first.channel == "C0ACME" and first.reporter == "jane@acme.example"
    assert first.description.startswith("From Jane Doe <jane@acme.example>\n")
    # Each sender's route names its customer: the tickets' own field, which reports cut by.
    assert (first.customer, by_ref["<h1@globex.example>"].customer) == ("Acme", "Globex")
    html = by_ref["<h1@globex.example>"]
    assert (html.policy, html.channel) == ("liveops", "C0SUPPORT")
    assert html.description.endswith("\n\nAll orders fail & time out")
    assert "Grüße aus Köln" in by_ref["<latin@acme.example>"].description
    assert by_ref["<sjis@acme.example>"].title == "決済エラー"
    assert "決済が停止しています" in by_ref["<sjis@acme.example>"].description
    assert "Attached: trace.log" in by_ref["<att@acme.example>"].description
    # The cards, posted through the same Publisher as /sla open, say where they came from.
    posted = cards(fake)
    assert len(posted) == 5
    card = fake.message(first.channel, first.message_ts)
    assert card is not None and "from e-mail (&lt;m1@acme.example&gt;)" in str(card["blocks"])
    note = fake.thread(first.channel, first.message_ts)[-1]["text"]
    assert note.startswith("E-mail from jane@acme.example (Acme): opened SLA-")
    # Every message is marked, and a second pass takes nothing again.
    assert all(TAKEN.decode() in flags for flags in dovecot.keywords(USER).values())
    assert poll(reader, mailbox) == []
    assert len(all_tickets(tickets.store)) == 5 and len(cards(fake)) == 5


def test_auto_replies_and_bounces_open_nothing_and_are_marked(
    dovecot, mailbox, reader, tickets, fake
):
    deliver(dovecot, message("Out of office", headers={"Auto-Submitted": "auto-replied"}))
    deliver(
        dovecot,
        message(
            "Undelivered Mail Returned to Sender",
            sender="MAILER-DAEMON@mx.acme.example",
            message_id="<bounce@mx.acme.example>",
        ),
    )
    deliver(
        dovecot,
        message("Newsletter", headers={"Precedence": "bulk"}, message_id="<news@acme.example>"),
    )
    deliver(dovecot, message("Away", headers={"X-Autoreply": "yes"}, message_id="<a@acme.example>"))
    assert [t.outcome for t in poll(reader, mailbox)] == ["automatic"] * 4
    assert all_tickets(tickets.store) == [] and fake.calls_to("chat.postMessage") == []
    assert all(TAKEN.decode() in flags for flags in dovecot.keywords(USER).values())


def test_a_reply_threads_onto_its_ticket_by_references_or_by_its_number_in_the_subject(
    dovecot, mailbox, reader, tickets, fake
):
    deliver(dovecot, message("P2 reports are slow", date=NOW - timedelta(hours=1)))
    poll(reader, mailbox)
    [ticket] = all_tickets(tickets.store)
    later = NOW + timedelta(minutes=30)
    deliver(
        dovecot,
        message(
            "Re: P2 reports are slow",
            "Still slow this morning.\n\n> earlier text",
            message_id="<m2@acme.example>",
            headers={"In-Reply-To": "<m1@acme.example>", "References": "<m1@acme.example>"},
        ),
    )
    # A colleague at another address answers an agent's mail slabot never saw: the subject.
    deliver(
        dovecot,
        message(
            f"RE: [{ticket.ref}] reports",
            "Adding my logs.",
            sender="ops@acme.example",
            message_id="<m3@acme.example>",
            headers={"In-Reply-To": "<agent-reply@vendor.example>"},
        ),
    )
    taken = poll(reader, mailbox, later)
    assert [(t.outcome, t.ticket) for t in taken] == [("replied", ticket.ref)] * 2
    assert len(all_tickets(tickets.store)) == 1
    said = [e for e in events(tickets.store, ticket) if e.kind == "customer_replied"]
    assert [(e.actor, e.after["text"][:24]) for e in said] == [
        ("jane@acme.example", "Still slow this morning."),
        ("ops@acme.example", "Adding my logs."),
    ]
    thread = fake.thread(ticket.channel, ticket.message_ts)
    assert thread[-2]["text"].startswith("jane@acme.example wrote by e-mail: Still slow")
    assert thread[-1]["text"].startswith("ops@acme.example wrote by e-mail: Adding my logs.")
    # A customer's words are not the vendor's update: the first response is still owed.
    view = tickets.view(TEAM_ID, ticket.number, later)
    assert view.ticket.acknowledged_at is None
    assert view.schedule.deadlines
    assert all(d.met_at is None for d in view.schedule.deadlines)


def test_a_customers_reply_resumes_a_ticket_waiting_on_the_customer(
    dovecot, mailbox, reader, tickets, fake
):
    deliver(dovecot, message("P2 exports broken", date=NOW - timedelta(hours=1)))
    poll(reader, mailbox)
    [ticket] = all_tickets(tickets.store)
    tickets.set_status(
        ChangeRequest(TEAM_ID, ticket.number, actor="UADMIN", now=NOW + timedelta(1 / 24)),
        "waiting_on_customer",
    )
    deliver(
        dovecot,
        message(
            "Re: P2 exports broken",
            "Here is the file you asked for.",
            message_id="<m2@acme.example>",
            headers={"In-Reply-To": "<m1@acme.example>"},
        ),
    )
    taken = poll(reader, mailbox, NOW + timedelta(hours=3))
    assert [t.outcome for t in taken] == ["replied"]
    view = tickets.view(TEAM_ID, ticket.number, NOW + timedelta(hours=3))
    assert view.ticket.status == "open"
    kinds = [e.kind for e in events(tickets.store, ticket)]
    assert kinds[-2:] == ["customer_replied", "status_changed"]
    note = fake.thread(ticket.channel, ticket.message_ts)[-1]["text"]
    assert note.endswith("The customer answered: the clock runs again.")
    # Read again (a reader restarted before marking it): added once.
    dovecot.deliver(
        USER,
        message(
            "Re: again",
            "x",
            message_id="<m2@acme.example>",
            headers={"In-Reply-To": "<m1@acme.example>"},
        ),
        NOW,
    )
    poll(reader, mailbox, NOW + timedelta(hours=4))
    assert [e.kind for e in events(tickets.store, ticket)] == kinds


def test_an_unknown_sender_stays_in_the_mailbox_until_a_route_names_it(
    dovecot, mailbox, reader, tickets, routes, caplog
):
    deliver(
        dovecot, message("Help", sender="eve@initech.example", message_id="<i1@initech.example>")
    )
    taken = poll(reader, mailbox)
    assert [t.outcome for t in taken] == ["unrouted"]
    assert "add initech.example (or '*') to the senders of MAIL_ROUTES" in taken[0].detail
    assert "MAIL_ROUTES" in caplog.text
    assert all_tickets(tickets.store) == []
    assert all(TAKEN.decode() not in flags for flags in dovecot.keywords(USER).values())
    routes.path.write_text(ROUTES + "  initech.example: {customer: Initech, policy: leadpro}\n")
    assert [t.outcome for t in poll(reader, mailbox)] == ["opened"]
    assert all_tickets(tickets.store)[0].channel == "C0SUPPORT"  # the default channel


def test_two_readers_at_once_open_each_message_once(dovecot, mailbox, reader, tickets, fake):
    for i in range(8):
        deliver(dovecot, message(f"P3 issue {i}", message_id=f"<race{i}@acme.example>"))
    results: list = []
    start = threading.Barrier(2)

    def read() -> None:
        start.wait()
        results.extend(poll(reader, mailbox))

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(all_tickets(tickets.store)) == 8
    assert sorted(t.outcome for t in results).count("opened") == 8
    assert len(cards(fake)) == 8


# -- the `slabot mail` process -------------------------------------------------------------------


def mail_process(
    store: Store,
    fake: FakeSlack,
    dovecot: Dovecot,
    tmp_path: Path,
    *args: str,
    password=PASSWORD,
    slack: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``slabot mail`` with ``args``; ``slack``: the Slack settings in its environment (by
    default a bot token and the fake's URL)."""
    routes = tmp_path / "mail-routes.yaml"
    if not routes.exists():
        routes.write_text(ROUTES)
    if slack is None:
        slack = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.url}
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env = {
        **environ,
        **slack,
        "DATABASE_URL": store.url.render_as_string(hide_password=False),
        "SLABOT_POLICIES": str(ROOT / "policies"),
        "MAIL_HOST": dovecot.host,
        "MAIL_PORT": str(dovecot.port),
        "MAIL_USER": USER,
        "MAIL_PASSWORD": password,
        "MAIL_SECURITY": "none",
        "MAIL_ROUTES": str(routes),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "slabot", "mail", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_until(what: str, check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def test_a_message_stored_but_not_marked_is_taken_once_on_restart(
    store, fake, dovecot, mailbox, tmp_path
):
    """A reader killed between storing a ticket (with the card it owes, one transaction) and
    marking the message leaves exactly this: the ticket stored, the message unmarked. The
    reader no longer calls Slack in between, so the test makes that state by taking the mark
    off, then restarts: one ticket, one card owed, the message marked."""
    deliver(dovecot, message("P1 payments down", date=NOW - timedelta(minutes=5)))
    first = mail_process(store, fake, dovecot, tmp_path, "--once")
    output, _ = first.communicate(timeout=60)
    assert first.returncode == 0, output.decode()
    with dovecot.client(USER) as client:  # the crash: stored, never marked
        client.select_folder("INBOX")
        client.remove_flags(client.search(["ALL"]), [TAKEN])
    assert all(TAKEN.decode() not in flags for flags in dovecot.keywords(USER).values())

    again = mail_process(store, fake, dovecot, tmp_path, "--once")
    output, _ = again.communicate(timeout=60)
    assert again.returncode == 0, output.decode()
    [ticket] = all_tickets(store)
    assert ticket.source_ref == "<m1@acme.example>"
    with store.reading() as session:
        owed = session.exec(
            select(TimerRow).where(TimerRow.c.ticket_id == ticket.id, TimerRow.c.kind == CARD)
        )
        assert len(list(owed)) == 1
    assert all(TAKEN.decode() in flags for flags in dovecot.keywords(USER).values())


def test_slabot_mail_refuses_a_bad_routes_file_and_a_wrong_password_in_one_line(
    store, fake, dovecot, mailbox, tmp_path
):
    routes = tmp_path / "mail-routes.yaml"
    routes.write_text("workspace: T0001\nsenders:\n  a.example: {customer: A}\n")
    bad = mail_process(store, fake, dovecot, tmp_path, "--once")
    output = bad.communicate(timeout=60)[0].decode()
    assert bad.returncode == 2 and "Traceback" not in output
    assert output.strip().endswith(
        "mail-routes.yaml: no channel for a.example: give each a channel, or a default "
        "`channel:` at the top"
    )
    routes.write_text(ROUTES)
    wrong = mail_process(store, fake, dovecot, tmp_path, "--once", password="wrong")
    output = wrong.communicate(timeout=60)[0].decode()
    assert wrong.returncode == 2 and "Traceback" not in output
    assert f"refused the login of {USER}: check MAIL_USER and MAIL_PASSWORD" in output


def test_slabot_mail_needs_no_slack_token(store, fake, dovecot, mailbox, tmp_path):
    """The reader stores tickets and the cards they owe; the clock posts them. So it runs
    with no Slack setting at all, and calls Slack for nothing."""
    deliver(dovecot, message("P1 payments down", date=NOW - timedelta(minutes=5)))
    reader = mail_process(store, fake, dovecot, tmp_path, "--once", slack={})
    output = reader.communicate(timeout=60)[0].decode()

    assert reader.returncode == 0, output
    [ticket] = all_tickets(store)
    assert ticket.source_ref == "<m1@acme.example>"
    assert fake.calls == []
