"""`slabot.reports.forked.Turns` and `Store.forked`: what lets forked children share out a
report's months and read them on connections of their own (`reports.monthly`)."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from slabot.reports.forked import Child, Turns, can_fork


def _taking_one(turns: Turns) -> list[int]:
    return [next(iter(turns))]


@pytest.mark.skipif(not can_fork(), reason="a single core, or no fork")
def test_each_turn_is_taken_once_across_processes():
    turns = Turns(50)
    child = Child(lambda: _taking_one(turns))
    taken_there = child.result()
    taken_here = list(turns)
    turns.close()
    assert sorted(taken_there + taken_here) == list(range(50))
    assert len(taken_there) == 1


@pytest.mark.skipif(not can_fork(), reason="a single core, or no fork")
def test_a_child_with_no_answer_in_time_is_killed_and_its_work_done_here():
    """A child stuck for good (on a lock held when it forked, say) costs the caller time,
    not its answer, and is not left behind."""
    context = multiprocessing.get_context("fork")
    pid, started, never = context.Value("i", 0), context.Event(), context.Event()

    def stuck() -> str:
        pid.value = os.getpid()
        started.set()
        never.wait()
        return "there"

    child = Child(stuck, again=lambda: "here")
    assert started.wait(timeout=60)
    assert child.result(within=0.2) == "here"
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid.value, 0)


def test_turns_are_bounded_by_what_a_pipe_holds():
    assert Turns.fits(10) and not Turns.fits(10**6)
    with pytest.raises(ValueError, match="do not fit"):
        Turns(10**6)


def test_a_forked_store_opens_connections_of_its_own_and_leaves_the_parents_open(store):
    """In-process: after `Store.forked` the pool lends a new connection; the one the pool
    held before is neither closed nor lent again (it is the parent's, after a real fork)."""
    with store.reader.connect() as connection:
        before = connection.connection.dbapi_connection
    store.forked()
    with store.reader.connect() as connection:
        after = connection.connection.dbapi_connection
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    assert after is not before
    assert before.cursor().execute("SELECT 1").fetchone()[0] == 1  # not closed
    before.close()


def test_a_child_reads_on_a_connection_of_its_own(store):
    """A real fork: the child's read opens its own connection, and the parent's, which the
    child let go of, still works afterwards (a connection the child closed, or used, would
    be broken or answer the child's query)."""
    if not can_fork() or store.reading_connections() == 1:
        pytest.skip("no fork, or a database a new connection cannot see")
    with store.reader.connect() as connection:
        mine = id(connection.connection.dbapi_connection)

    def read() -> tuple[int, int]:
        store.forked()
        try:
            with store.reader.connect() as connection:
                found = connection.exec_driver_sql("SELECT 1").scalar()
                return found, id(connection.connection.dbapi_connection)
        finally:
            store.dispose()

    found, theirs = Child(read).result()
    assert (found, theirs != mine) == (1, True)
    with store.reader.connect() as connection:
        assert id(connection.connection.dbapi_connection) == mine
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
