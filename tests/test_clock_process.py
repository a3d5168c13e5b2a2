"""``slabot clock`` as a real process: killed with SIGKILL mid-burst, restarted, replaced.

Each test runs the clock as a subprocess against its own database (a SQLite file, or a
PostgreSQL schema of its own through ``options=-csearch_path=…`` in DATABASE_URL) and a fake
Slack (``SLACK_API_URL``) that stamps messages with real time, as Slack does. What was
delivered is read from the fake's log. Waits are bounded polls, never timed assertions; the
one figure measured (how long a standby takes to take over) is printed, and checked only
against the issue's 10-second bound with generous slack for a loaded machine.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from support.databases import empty_store
from support.fakeslack import FakeSlack

from slabot.clock.leader import WHERE, advisory_key
from slabot.policies import PolicyBook
from slabot.store import Store
from slabot.store.migrate import pending, upgrade
from slabot.store.tables import TimerRow
from slabot.tickets import ChangeRequest, Tickets

ROOT = Path(__file__).resolve().parent.parent
BURST = 200
TAKEOVER_BOUND = 15  # seconds: the 10, with slack for a loaded machine


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(clock=time.time) as fake:
        yield fake


class Clocks:
    """``slabot clock`` processes, each logging to its own file; all killed at the end."""

    def __init__(self, store: Store, fake: FakeSlack, tmp_path: Path):
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": store.url.render_as_string(hide_password=False),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": fake.url,
            "SLABOT_POLICIES": str(ROOT / "policies"),
        }
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"clock-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "slabot", "clock", "--interval", "0.2", "--lease", "2"],
            env=self.env,
            cwd=self.tmp_path,  # no stray .env
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("clock-*.log")))

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def clocks_for(fake: FakeSlack, tmp_path: Path) -> Iterator[Callable[[Store], Clocks]]:
    made: list[Clocks] = []

    def make(store: Store) -> Clocks:
        made.append(Clocks(store, fake, tmp_path))
        return made[-1]

    yield make
    for clocks in made:
        clocks.stop()


def wait_until(what: str, check: Callable[[], bool], clocks: Clocks, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout}s for {what}; the clocks said:\n{clocks.logs()}")
        time.sleep(0.1)


def fired(store: Store) -> list[TimerRow]:
    with store.reading() as session:
        return list(session.exec(select(TimerRow).where(TimerRow.c.state == "fired")))


def delivered(fake: FakeSlack) -> Counter[str]:
    """Each timer's deliveries according to the fake Slack's log."""
    return Counter(
        c.args["metadata"]["event_payload"]["timer"]
        for c in fake.calls_to("chat.postMessage", ok=True)
        if "metadata" in c.args
    )


def settled(fake: FakeSlack) -> Counter[str]:
    """`delivered` once the fake has read every request a killed clock left in its sockets:
    the fake logs a call when it reads it, which may be after the sender died."""
    seen = delivered(fake)
    while True:
        time.sleep(0.2)  # a read takes microseconds; 0.2 s without one is the end of them
        now = delivered(fake)
        if now == seen:
            return now
        seen = now


def open_due_p1s(tickets: Tickets, count: int) -> None:
    """LiveOps P1 tickets opened a moment ago: each owes its card and its level-2 page now
    (the seed policy has no contacts, so each page is one post in the card's thread). Every
    card is posted before its ticket's page, so a burst posts the cards, then the pages. Each
    ticket has a channel of its own: the clock keeps Slack's pace of a message a second per
    channel, which these tests of crashes and take-overs are not about."""
    opened = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(count):
        tickets.open(
            "T1",
            title=f"outage {n}",
            severity="p1",
            policy="liveops",
            reporter="UREP",
            now=opened,
            channel=f"C{n:04d}",
        )


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_a_clock_killed_mid_burst_and_restarted_delivers_every_page_exactly_once(
    kind, request, tmp_path, fake, clocks_for
):
    with empty_store(kind, request, tmp_path, "clock") as store:
        upgrade(store)
        open_due_p1s(Tickets(store, PolicyBook.load(ROOT / "policies")), BURST)
        fake.delay(0.02, "chat.postMessage")  # a burst that takes a few seconds
        clocks = clocks_for(store)

        first = clocks.start()
        fake.wait_for("chat.postMessage", count=BURST + BURST // 4, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        before = len(settled(fake)) - BURST  # pages, after every card
        assert before < BURST  # it died mid-burst

        clocks.start()
        wait_until("everything to be recorded", lambda: len(fired(store)) == 2 * BURST, clocks)

        sent = delivered(fake)
        assert len(sent) == 2 * BURST and set(sent.values()) == {1}, clocks.logs()
        pages = [t for t in fired(store) if t.kind == "page"]
        found = [t for t in pages if "found" in t.detail["receipt"].values()]
        print(f"\nkilled after {before} pages; {len(found)} found already sent on restart")
        # The killed clock recorded nothing of the pages' batch (a tick records its outcomes
        # together, after performing them), so the restarted one found every page sent before
        # the kill. (The cards' batches went before, and the killed clock may have recorded
        # them while it performed the next.)
        assert len(found) == before
        assert {t.claimed_by.split(":")[1] for t in pages} == {str(clocks.started[-1].pid)}


@pytest.mark.parametrize("kills", [2, 3])
@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_clocks_killed_in_a_row_at_random_moments_deliver_every_page_exactly_once(
    kind, kills, request, tmp_path, fake, clocks_for
):
    """A crash loop: each clock is killed (SIGKILL) at a random moment after it has claimed
    (the first) or taken over (the others) the burst's timers, then the last one finishes.
    Each take-over must find what every earlier clock sent, not only the one before it."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    with empty_store(kind, request, tmp_path, "clock") as store:
        upgrade(store)
        open_due_p1s(Tickets(store, PolicyBook.load(ROOT / "policies")), BURST)
        fake.delay(0.05, "chat.postMessage")  # a burst that takes a few seconds
        clocks = clocks_for(store)
        killed_after = [
            _kill_at_random(clocks, store, fake, rng, n, 2 * BURST) for n in range(kills)
        ]
        clocks.start()
        wait_until("everything to be recorded", lambda: len(fired(store)) == 2 * BURST, clocks, 90)

        sent = delivered(fake)
        print(f"\nseed {seed}: killed after {killed_after} posts in all")
        assert len(sent) == 2 * BURST and set(sent.values()) == {1}, (
            f"seed {seed}, kills after {killed_after} posts: "
            f"{sum(n > 1 for n in sent.values())} cards or pages sent twice or more\n"
            f"{clocks.logs()}"
        )


def _kill_at_random(
    clocks: Clocks, store: Store, fake: FakeSlack, rng: random.Random, n: int, total: int
) -> int:
    """Start the ``n``-th clock, wait until it has claimed timers (taken them over, after the
    first) and then for up to 40 more posts (at least one from the first, so that there is
    something to find), and kill it; how many posts arrived in all."""
    clock = clocks.start()
    pid = str(clock.pid)
    what = "the clock to claim" if n == 0 else "the clock to take over"
    wait_until(what, lambda: _holds(store, pid, taken_over=n > 0), clocks)
    more = rng.randint(1, 40) if n == 0 else rng.choice([0, rng.randint(1, 40)])
    posted = sum(delivered(fake).values()) + more
    wait_until(
        "more posts",
        lambda: sum(delivered(fake).values()) >= posted or len(fired(store)) == total,
        clocks,
    )
    clock.send_signal(signal.SIGKILL)
    clock.wait(timeout=10)
    return sum(delivered(fake).values())


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_clocks_killed_in_a_row_post_every_card_and_note_once_in_order(
    kind, request, tmp_path, fake, clocks_for
):
    """A burst of opens and changes (each owing its card or a redraw, and a note), the clock
    killed twice in a row: every card and every note reaches Slack once, each ticket's notes
    in order in its card's thread, each card showing the ticket as it ends."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    count = BURST // 2
    with empty_store(kind, request, tmp_path, "clock") as store:
        upgrade(store)
        # UREP may hand the tickets on: an admin here (who may assign is not this test's point)
        tickets = Tickets(store, PolicyBook.load(ROOT / "policies"), admins={"UREP"})
        at = datetime.now(UTC) - timedelta(seconds=2)
        for n in range(count):  # P3s: no page, only what the changes owe
            number = tickets.open(
                "T1",
                title=f"slow {n}",
                severity="p3",
                policy="liveops",
                reporter="UREP",
                now=at,
                channel=f"C{n:04d}",  # a channel each: Slack's pace is not the point
                say=lambda view, before: f"opened {view.ticket.ref}",
            ).view.ticket.number
            for step, owner in enumerate(("UONE", "UTWO")):
                tickets.assign(
                    ChangeRequest(
                        "T1",
                        number,
                        actor="UREP",
                        now=at + timedelta(milliseconds=step + 1),
                        say=lambda view, before: f"{view.ticket.ref} to {view.ticket.owner}",
                    ),
                    owner,
                )
        owed = count * 4  # each: a card, three notes (the redraws wait for the card: none)
        fake.delay(0.02, "chat.postMessage")
        clocks = clocks_for(store)
        killed_after = [_kill_at_random(clocks, store, fake, rng, n, owed) for n in range(2)]
        clocks.start()
        wait_until("everything to be recorded", lambda: len(fired(store)) == owed, clocks, 90)

        sent = delivered(fake)
        assert len(sent) == owed and set(sent.values()) == {1}, (
            f"seed {seed}, kills after {killed_after} posts: "
            f"{sum(n > 1 for n in sent.values())} sent twice or more\n{clocks.logs()}"
        )
        for view in tickets.queue("T1", datetime.now(UTC), limit=count):
            ref, card = view.ticket.ref, (view.ticket.channel, view.ticket.message_ts)
            replies = [m["text"] for m in fake.thread(*card)]  # type: ignore[arg-type]
            assert replies == [f"opened {ref}", f"{ref} to UONE", f"{ref} to UTWO"], seed
            assert "<@UTWO>" in str(fake.message(*card))  # type: ignore[arg-type]


def _holds(store: Store, pid: str, *, taken_over: bool) -> bool:
    """Whether the clock of process ``pid`` has claimed a timer (with ``taken_over``, one an
    earlier clock had claimed first)."""
    with store.reading() as session:
        for claimed in session.exec(select(TimerRow).where(TimerRow.c.claimed_by.is_not(None))):
            if claimed.claimed_by.split(":")[1] == pid and (
                not taken_over or claimed.first_claimed_at < claimed.claimed_at
            ):
                return True
    return False


@pytest.mark.postgresql
def test_a_standby_clock_takes_over_when_the_leader_is_killed(request, tmp_path, fake, clocks_for):
    with empty_store("postgresql", request, tmp_path, "clock") as store:
        clocks = clocks_for(store)
        a = clocks.start()
        wait_until("the first clock to migrate the database", lambda: _migrated(store), clocks)
        b = clocks.start()
        tickets = Tickets(store, PolicyBook.load(ROOT / "policies"))

        open_due_p1s(tickets, 1)
        wait_until("the first page", lambda: len(fired(store)) == 1, clocks)
        [page] = fired(store)
        leader = next(p for p in (a, b) if page.claimed_by.split(":")[1] == str(p.pid))
        standby = b if leader is a else a
        assert a.poll() is None and b.poll() is None
        assert _advisory_locks(store) == 1  # two clocks running, one leading

        leader.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        leader.wait(timeout=10)
        open_due_p1s(tickets, 1)
        wait_until("the standby to page", lambda: len(fired(store)) == 2, clocks, timeout=30)
        took = time.monotonic() - killed

        print(f"\nstandby took over and paged {took:.1f}s after the leader was killed")
        later = max(fired(store), key=lambda t: t.id)
        assert later.claimed_by.split(":")[1] == str(standby.pid)
        assert took < TAKEOVER_BOUND
        assert set(delivered(fake).values()) == {1}

        standby.terminate()  # SIGTERM: a clean stop that gives the lock back
        assert standby.wait(timeout=10) == 0
        assert _advisory_locks(store) == 0


def _advisory_locks(store: Store) -> int:
    """How many sessions hold this schema's clock lock."""
    with store.engine.connect() as connection:
        key = advisory_key(connection.execute(text(WHERE)).scalar_one())
        query = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = 0 AND objid = :key AND objsubid = 1"
        )
        return connection.execute(text(query), {"key": key}).scalar_one()


def _migrated(store: Store) -> bool:
    try:
        return pending(store) == []
    except Exception:  # the tables are being created
        return False


def test_bad_input_is_one_clear_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    env.pop("SLACK_BOT_TOKEN", None)
    run = [sys.executable, "-m", "slabot", "clock"]
    for args, message in [
        (["--interval", "0"], "--interval 0: give seconds"),
        ([], "SLACK_BOT_TOKEN is not set"),
    ]:
        done = subprocess.run(run + args, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 2
        assert message in done.stderr and "Traceback" not in done.stderr
