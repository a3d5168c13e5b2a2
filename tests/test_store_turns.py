"""Whose turn it is to write to SQLite within one process (`slabot.store.db.WriteTurns`): a
person's request before the clock's background work, the clock never shut out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from slabot.store import Store
from slabot.store.db import WriteTurns
from slabot.store.tables import WorkspaceCounter


def until(condition: Callable[[], bool]) -> None:
    """Wait for another thread to reach a point (a failure is the test's own timeout)."""
    while not condition():
        time.sleep(0.001)


class Writers:
    """Threads that take a turn, note their name when they have it, and leave at once."""

    def __init__(self, turns: WriteTurns):
        self.turns = turns
        self.order: list[str] = []
        self.threads: list[threading.Thread] = []

    def start(self, name: str, *, background: bool = False) -> None:
        turn = self.turns.background if background else self.turns.foreground

        def write() -> None:
            with turn():
                self.order.append(name)

        thread = threading.Thread(target=write, name=name)
        self.threads.append(thread)
        thread.start()

    def join(self) -> list[str]:
        for thread in self.threads:
            thread.join(timeout=30)
        return self.order


def test_a_request_waiting_writes_before_the_clock_that_waited_longer():
    turns = WriteTurns()
    writers = Writers(turns)
    with turns.foreground():  # someone is writing
        writers.start("clock", background=True)
        until(lambda: turns._behind == 1)
        writers.start("request")
        until(lambda: turns._waiting == 1)
    assert writers.join() == ["request", "clock"]


def test_the_clock_writes_after_so_many_requests_however_many_wait():
    turns = WriteTurns()
    writers = Writers(turns)
    waiting = turns.AHEAD + 3
    with turns.foreground():
        writers.start("clock", background=True)
        until(lambda: turns._behind == 1)
        for n in range(waiting):
            writers.start(f"request {n}")
        until(lambda: turns._waiting == waiting)
    order = writers.join()
    assert order.index("clock") == turns.AHEAD
    assert sorted(order) == sorted(["clock", *(f"request {n}" for n in range(waiting))])


def test_one_writer_at_a_time_whoever_asks():
    turns = WriteTurns()
    inside, most = 0, 0
    lock = threading.Lock()

    def write(background: bool) -> None:
        nonlocal inside, most
        for _ in range(200):
            with turns.background() if background else turns.foreground():
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=write, args=(n % 2 == 0,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert most == 1 and inside == 0


def test_the_background_store_shares_the_database_and_gives_way(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'turns.db'}")
    WorkspaceCounter.__table__.metadata.create_all(store.engine)
    behind = store.background()
    assert behind.engine is store.engine and behind.reader is store.reader
    with behind.writing() as session:
        session.add(WorkspaceCounter(workspace="T1", last_number=1))
    with store.reading() as session:
        assert session.exec(select(WorkspaceCounter.c.workspace)).all() == ["T1"]
    turns = store._turns
    assert turns is not None
    order: list[str] = []
    with store.writing():
        clock = threading.Thread(target=lambda: _write(behind, order, "clock"))
        clock.start()
        until(lambda: turns._behind == 1)
        request = threading.Thread(target=lambda: _write(store, order, "request"))
        request.start()
        until(lambda: turns._waiting == 1)
    clock.join(timeout=30)
    request.join(timeout=30)
    assert order == ["request", "clock"]
    store.dispose()


def _write(store: Store, order: list[str], name: str) -> None:
    with store.writing():
        order.append(name)
