"""`slabot.tickets.histories.in_turn`: several spans' histories, the next span's query run on a
worker thread while the caller works on the one before, on SQLite and PostgreSQL.

Each span must come out exactly as `histories` reads it alone (the same tickets, events and
order: on SQLite the worker's query is materialized and read back), whether the store's pool
lets it read ahead or not, and every connection it took must be back in the pool however the
caller stops.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from operator import ge

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool, StaticPool

import slabot.tickets.histories as reading
from slabot.store import Store
from slabot.tickets import ChangeRequest
from slabot.tickets.histories import Span, histories, in_turn, sizes

H = timedelta(hours=1)
OCTOBER = datetime(2026, 10, 1, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 1, tzinfo=UTC)
# Two policies' Octobers and one's November: three reads, two of them ahead.
SPANS: list[Span] = [
    (OCTOBER, NOVEMBER, "leadpro"),
    (OCTOBER, NOVEMBER, "secpod"),
    (NOVEMBER, DECEMBER, "leadpro"),
]


@pytest.fixture
def month_of_tickets(tickets):
    """Tickets under leadpro and secpod in October and November in workspace T1 (a few in T2),
    each with a different history: left open, acknowledged, given an update, raised in
    severity, resolved."""
    for day in range(2, 30, 3):
        for policy, severity in (("leadpro", "medium"), ("secpod", "high")):
            for month in (10, 11):
                opened = datetime(2026, month, day, 9 + day % 5, tzinfo=UTC)
                ws = "T2" if day in (8, 26) else "T1"
                number = tickets.open(
                    ws, title="t", severity=severity, policy=policy, reporter="U1", now=opened
                ).view.ticket.number
                if day % 4 == 0:
                    continue
                tickets.acknowledge(ChangeRequest(ws, number, actor="U2", now=opened + H))
                if day % 3 == 1:
                    change = ChangeRequest(ws, number, actor="U2", now=opened + 2 * H)
                    tickets.post_update(change, "looking", eta=opened + 5 * H)
                if day % 5 == 0:
                    change = ChangeRequest(ws, number, actor="UADMIN", now=opened + 3 * H)
                    tickets.change_severity(change, "low")
                if day % 2 == 0:
                    change = ChangeRequest(ws, number, actor="UADMIN", now=opened + 6 * H)
                    tickets.resolve(change)


def alone(store: Store, workspaces: list[str], spans: list[Span], **options) -> list:
    return [
        histories(store, workspaces, start, end, policy=policy, **options)
        for start, end, policy in spans
    ]


@pytest.mark.parametrize("ahead", [True, False], ids=["ahead", "one-by-one"])
def test_in_turn_reads_each_span_as_histories_does(store, month_of_tickets, monkeypatch, ahead):
    assert store.reading_connections() == 5  # both test stores keep SQLAlchemy's QueuePool
    if not ahead:  # a pool that cannot lend the caller and a worker a connection each
        monkeypatch.setattr(store, "reading_connections", lambda: 1)
    expected = alone(store, ["T1"], SPANS)
    assert [sum(map(len, found.values())) for found in expected] == [8, 8, 8]
    assert any(len(events) > 2 for found in expected for h in found.values() for _, events in h)

    assert list(in_turn(store, ["T1"], SPANS)) == expected
    both = ["T1", "T2"]
    assert list(in_turn(store, both, SPANS, prefix_workspace=True)) == alone(
        store, both, SPANS, prefix_workspace=True
    )
    assert list(in_turn(store, ["T1"], [])) == []
    assert store.reader.pool.checkedout() == 0


def test_a_caller_that_stops_early_gives_the_read_ahead_back(store, month_of_tickets, monkeypatch):
    done, both = [], threading.Event()
    real = reading._execute

    def execute(*args, **options):
        executed = real(*args, **options)
        done.append(executed)
        if len(done) == 2:
            both.set()
        return executed

    monkeypatch.setattr(reading, "_execute", execute)
    months = in_turn(store, ["T1"], SPANS[:2])  # both queries start at once, on two workers
    assert next(months) == alone(store, ["T1"], SPANS[:1])[0]
    assert both.wait(timeout=30)
    assert store.reader.pool.checkedout() == 1  # the second span's query, its rows unread
    months.close()
    assert store.reader.pool.checkedout() == 0


def test_a_failing_read_raises_in_the_caller_and_leaves_no_connection_out(
    store, month_of_tickets, monkeypatch
):
    expected = alone(store, ["T1"], SPANS)
    real = reading._execute

    def november_fails(store, where, **options):
        # the third span's query: the one whose tickets were opened from November on
        if any(c.operator is ge and c.right.value == NOVEMBER for c in where):
            raise OperationalError("SELECT …", {}, Exception("the server went away"))
        return real(store, where, **options)

    monkeypatch.setattr(reading, "_execute", november_fails)
    months = in_turn(store, ["T1"], SPANS)
    assert [next(months), next(months)] == expected[:2]
    with pytest.raises(OperationalError, match="the server went away"):
        next(months)
    assert store.reader.pool.checkedout() == 0


def test_a_report_reads_ahead_within_the_connections_its_pool_keeps(tmp_path):
    file = f"sqlite:///{tmp_path / 'slabot.db'}"
    stores = {
        "file, QueuePool": Store(file),
        "file, a pool of two": Store(file, pool_size=2),
        "file, NullPool": Store(file, poolclass=NullPool),
        "file, StaticPool": Store(file, poolclass=StaticPool),
        "in memory": Store("sqlite://"),
    }
    assert {name: s.reading_connections() for name, s in stores.items()} == {
        "file, QueuePool": 5,
        "file, a pool of two": 2,
        "file, NullPool": None,
        "file, StaticPool": 1,
        "in memory": 1,
    }
    for s in stores.values():
        s.dispose()


def _in_kolkata(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("SET TimeZone = 'Asia/Kolkata'")
    cursor.close()
    connection.commit()


def test_instants_are_read_in_utc_whatever_the_sessions_time_zone(store, month_of_tickets):
    """PostgreSQL writes a timestamp into JSON in the session's time zone: the read sets it to
    UTC for its transaction, so every instant comes out as aware UTC."""
    if store.is_sqlite:
        pytest.skip("SQLite keeps instants as UTC text")
    elsewhere = Store(store.url)
    event.listen(elsewhere.reader, "connect", _in_kolkata)
    try:
        found = histories(elsewhere, ["T1"], OCTOBER, DECEMBER, policy="leadpro")
    finally:
        elsewhere.dispose()
    assert found == histories(store, ["T1"], OCTOBER, DECEMBER, policy="leadpro")
    instants = [e.at for group in found.values() for _, events in group for e in events]
    assert instants and all(at.tzinfo is UTC for at in instants)


def test_sizes_counts_each_spans_policy_as_histories_reads_it(store, month_of_tickets):
    """Octobers only (the spans' own), so the count is exact here; a customer counts alone."""
    octobers = SPANS[:2]
    expected = {
        p: sum(map(len, h.values()))
        for (_, _, p), h in zip(octobers, alone(store, ["T1"], octobers), strict=True)
    }
    assert sizes(store, ["T1"], octobers) == expected
    assert sizes(store, ["T1"], octobers, customer="nobody") == {}
    assert sizes(store, ["T1"], []) == {}


def test_a_read_on_postgresql_joins_by_nested_loop_without_parallel_workers(
    store, month_of_tickets, monkeypatch
):
    """The month's tickets are looked up one by one in the events' index, not merged with
    every event of the table, and a read leaves the cores to the report's own processes:
    its transaction's settings, and only its transaction's."""
    if store.is_sqlite:
        pytest.skip("PostgreSQL's planner settings")
    seen = []
    real = reading._Executed.rows

    def rows(executed):
        show = executed.connection.exec_driver_sql
        names = ("enable_mergejoin", "enable_hashjoin", "max_parallel_workers_per_gather")
        seen.append([show(f"SHOW {name}").scalar() for name in names])
        return real(executed)

    monkeypatch.setattr(reading._Executed, "rows", rows)
    assert histories(store, ["T1"], OCTOBER, DECEMBER, policy="leadpro")
    assert seen == [["off", "off", "0"]]
    with store.reader.connect() as connection:
        assert connection.exec_driver_sql("SHOW enable_mergejoin").scalar() == "on"
