"""The ticket use cases, as a support team relies on them, on SQLite and on PostgreSQL.

Every test takes the ``tickets`` fixture (and through it ``store``), so it runs once per
database. Time never comes from the wall clock: each step passes its own ``now``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from slabot.store import Store
from slabot.store import oauth_tables as _oauth_tables  # noqa: F401  (counted too)
from slabot.store.records import METADATA
from slabot.store.tables import (
    PolicyVersion,
    Ticket,
    TicketEvent,
    TimerRow,
    WorkspaceCounter,
)
from slabot.tickets import (
    AlreadyDone,
    ChangeRequest,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Postpones,
    SeverityUnclear,
    Tickets,
    queries,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
IST = ZoneInfo("Asia/Kolkata")
MONDAY_IST = datetime(2026, 3, 2, 10, 0, tzinfo=IST)  # a working day for SecPod
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# -- helpers ------------------------------------------------------------------------------------


def counts(store: Store) -> dict[str, int]:
    """Rows in every table: what "nothing was written" is checked against."""
    with store.reading() as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in METADATA.sorted_tables
        }


def ticket_row(store: Store, workspace: str, number: int) -> Ticket:
    with store.reading() as session:
        query = select(Ticket).where(Ticket.c.workspace == workspace, Ticket.c.number == number)
        return session.exec(query).one()


def events(store: Store, ticket_id: int) -> list[TicketEvent]:
    with store.reading() as session:
        query = select(TicketEvent).where(TicketEvent.c.ticket_id == ticket_id)
        return list(session.exec(query.order_by(TicketEvent.c.id)))


def timers(store: Store, ticket_id: int, state: str | None = "pending") -> list[TimerRow]:
    """A ticket's timers as stored (pending ones by default), soonest first."""
    with store.reading() as session:
        query = select(TimerRow).where(TimerRow.c.ticket_id == ticket_id)
        if state is not None:
            query = query.where(TimerRow.c.state == state)
        return list(
            session.exec(query.order_by(TimerRow.c.due_at, TimerRow.c.kind, TimerRow.c.stage))
        )


def open_liveops(tickets: Tickets, severity: str, *, at: datetime = T0, **options: Any) -> Ticket:
    options.setdefault("workspace", "T1")
    options.setdefault("reporter", "UREP")
    workspace = options.pop("workspace")
    result = tickets.open(
        workspace,
        title=options.pop("title", "calls are failing"),
        severity=severity,
        policy="liveops",
        now=at,
        **options,
    )
    return result.view.ticket


def run_together(count: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """``work(0..count-1)`` on ``count`` threads released at once; ("ok", result) or
    ("error", exception) for each, in thread order."""
    barrier = threading.Barrier(count)
    results: list[tuple[str, Any]] = [("missing", None)] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = ("ok", work(i))
        except Exception as exc:
            results[i] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return results


# -- open ---------------------------------------------------------------------------------------


def test_tickets_are_numbered_sla_1_2_within_each_workspace(tickets):
    first = open_liveops(tickets, "p2", workspace="T1")
    second = open_liveops(tickets, "p2", workspace="T1", at=T0 + MIN)
    elsewhere = open_liveops(tickets, "p2", workspace="T2", at=T0 + 2 * MIN)

    assert (first.ref, second.ref) == ("SLA-1", "SLA-2")
    assert elsewhere.ref == "SLA-1"
    assert ticket_row(tickets.store, "T2", 1).id == elsewhere.id


def test_open_takes_the_severity_the_reporter_names(tickets):
    result = tickets.open(
        "T1", title="checkout is down", severity="3", policy="liveops", reporter="UREP", now=T0
    )
    assert result.created and result.classification is None
    assert result.view.ticket.severity == "p3"
    assert ticket_row(tickets.store, "T1", 1).severity == "p3"


def test_open_classifies_the_severity_from_the_title(tickets):
    result = tickets.open(
        "T1", title="checkout is down for all calls", policy="liveops", reporter="UREP", now=T0
    )
    assert result.view.ticket.severity == "p1"
    assert result.classification is not None and result.classification.severity == "p1"
    opened = events(tickets.store, result.view.ticket.id)[0]
    assert opened.kind == "opened" and opened.after["severity"] == "p1"
    assert "down" in opened.after["classified"]


def test_open_asks_for_the_severity_when_the_text_is_unclear_and_writes_nothing(tickets):
    before = counts(tickets.store)
    with pytest.raises(SeverityUnclear) as unclear:
        tickets.open(
            "T1", title="something odd happened", policy="liveops", reporter="UREP", now=T0
        )
    assert unclear.value.candidates == ("p1", "p2", "p3")
    assert "Which severity" in str(unclear.value)
    assert counts(tickets.store) == before


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"title": "   ", "severity": "p1", "policy": "liveops"}, "needs a title"),
        ({"title": "calls fail", "severity": "p9", "policy": "liveops"}, "use one of p1"),
        ({"title": "calls fail", "severity": "p1", "policy": "nope"}, "use one of helpdesk"),
    ],
    ids=["empty title", "unknown severity", "unknown policy"],
)
def test_open_refuses_invalid_input_saying_what_to_do_and_writes_nothing(tickets, options, says):
    before = counts(tickets.store)
    with pytest.raises(Invalid, match=says):
        tickets.open("T1", reporter="UREP", now=T0, **options)
    assert counts(tickets.store) == before
    assert before["tickets"] == 0


def test_a_repeated_delivery_with_the_same_key_returns_the_same_ticket(tickets):
    first = tickets.open(
        "T1",
        title="calls fail",
        severity="p2",
        policy="liveops",
        reporter="UREP",
        now=T0,
        idempotency_key="slack-event-1",
    )
    again = tickets.open(
        "T1",
        title="calls fail",
        severity="p2",
        policy="liveops",
        reporter="UREP",
        now=T0 + MIN,
        idempotency_key="slack-event-1",
    )

    assert first.created and not again.created
    assert again.view.ticket.id == first.view.ticket.id
    assert again.view.ticket.ref == "SLA-1"
    assert counts(tickets.store)["tickets"] == 1
    assert len(events(tickets.store, first.view.ticket.id)) == 1


def test_the_same_outside_item_opens_one_ticket_whatever_the_request(tickets):
    """An alert group or an e-mail delivered twice (a retry with a new request id, a second
    replica reading the mailbox) finds the ticket it opened: its source reference is unique."""
    first = open_liveops(tickets, "p2", source="alertmanager", source_ref='{}:{alertname="Down"}')
    again = tickets.open(
        "T1",
        title="something else entirely",
        severity="p1",
        policy="liveops",
        reporter="UOTHER",
        now=T0 + MIN,
        source="alertmanager",
        source_ref='{}:{alertname="Down"}',
    )

    assert not again.created
    assert again.view.ticket.id == first.id
    assert (first.source, first.source_ref) == ("alertmanager", '{}:{alertname="Down"}')
    assert counts(tickets.store)["tickets"] == 1
    found = tickets.by_source("T1", "alertmanager", '{}:{alertname="Down"}', T0 + MIN)
    assert found is not None and found.ticket.id == first.id
    opened = events(tickets.store, first.id)[0]
    assert opened.after["source"] == "alertmanager"
    # The same reference from another system, or in another workspace, is another item.
    other = open_liveops(tickets, "p2", source="email", source_ref='{}:{alertname="Down"}')
    elsewhere = open_liveops(
        tickets, "p2", workspace="T2", source="alertmanager", source_ref='{}:{alertname="Down"}'
    )
    assert len({first.id, other.id, elsewhere.id}) == 3
    assert tickets.by_source("T1", "grafana", '{}:{alertname="Down"}', T0) is None


def test_a_ticket_from_slack_names_no_outside_item(tickets):
    ticket = open_liveops(tickets, "p2")
    assert (ticket.source, ticket.source_ref) == ("slack", None)
    assert open_liveops(tickets, "p2").id != ticket.id  # no reference: nothing to match


@pytest.mark.parametrize(
    ("source", "ref", "says"),
    [
        ("Alert Manager", "g1", "not a source name"),
        ("", "g1", "not a source name"),
        ("api", "", "1 to 255 characters"),
        ("api", "x" * 256, "1 to 255 characters"),
    ],
    ids=["spaces", "empty source", "empty ref", "long ref"],
)
def test_open_refuses_a_bad_source_saying_what_to_do_and_writes_nothing(tickets, source, ref, says):
    before = counts(tickets.store)
    with pytest.raises(Invalid, match=says):
        open_liveops(tickets, "p2", source=source, source_ref=ref)
    assert counts(tickets.store) == before


def test_two_deliveries_of_one_outside_item_at_once_open_one_ticket(tickets):
    results = run_together(
        4,
        lambda i: tickets.open(
            "T1",
            title="disk full",
            severity="p2",
            policy="liveops",
            reporter="UREP",
            now=T0,
            source="email",
            source_ref="<abc@example.com>",
        ),
    )
    assert [kind for kind, _ in results] == ["ok"] * 4
    assert len({result.view.ticket.id for _, result in results}) == 1
    assert sum(result.created for _, result in results) == 1
    assert counts(tickets.store)["tickets"] == 1


def test_open_uses_the_policy_bound_to_the_channel(tickets):
    tickets.bind_channel("T1", "CSEC", "secpod", actor="UADMIN", now=T0)
    result = tickets.open(
        "T1",
        title="portal not working",
        severity="high",
        channel="CSEC",
        reporter="UREP",
        now=T0 + MIN,
    )
    assert result.view.ticket.policy == "secpod"
    assert result.view.ticket.channel == "CSEC"
    # the binding belongs to that channel and workspace only
    with pytest.raises(Invalid, match="bound to no policy"):
        tickets.open("T2", title="x", severity="high", channel="CSEC", reporter="U", now=T0)


def test_open_uses_the_policy_named_over_the_channel_binding(tickets):
    tickets.bind_channel("T1", "CSEC", "secpod", actor="UADMIN", now=T0)
    result = tickets.open(
        "T1",
        title="calls fail",
        severity="p2",
        policy="liveops",
        channel="CSEC",
        reporter="UREP",
        now=T0,
    )
    assert result.view.ticket.policy == "liveops"


def test_open_falls_back_to_the_deployments_default_policy(store, policy_book):
    tickets = Tickets(store, policy_book, default_policy="secpod")
    result = tickets.open("T1", title="portal slow", severity="low", reporter="UREP", now=T0)
    assert result.view.ticket.policy == "secpod"


def test_open_without_a_policy_to_go_by_names_the_choices_and_writes_nothing(tickets, policy_book):
    before = counts(tickets.store)
    with pytest.raises(Invalid) as refused:
        tickets.open("T1", title="calls fail", severity="p2", reporter="UREP", now=T0)
    message = str(refused.value)
    assert all(name in message for name in policy_book.names())
    assert "/sla policy" in message
    assert counts(tickets.store) == before


def test_a_report_time_after_the_opening_is_refused(tickets):
    before = counts(tickets.store)
    with pytest.raises(Invalid, match="reported after"):
        open_liveops(tickets, "p1", reported_at=T0 + MIN)
    assert counts(tickets.store) == before


def test_an_earlier_report_time_starts_the_time_to_open_clock(tickets):
    ticket = open_liveops(tickets, "p1", reported_at=T0 - 90 * MIN)
    view = tickets.view("T1", ticket.ref, T0)
    time_to_open = view.schedule.deadline("time_to_open")
    assert time_to_open.due == T0 - 30 * MIN
    assert time_to_open.state == "missed"
    assert ticket_row(tickets.store, "T1", 1).reported_at == T0 - 90 * MIN


def test_a_ticket_keeps_the_version_of_the_policy_it_was_opened_under(tickets, policy_book):
    open_liveops(tickets, "p2")
    liveops = policy_book.get("liveops")

    assert ticket_row(tickets.store, "T1", 1).policy_digest == liveops.digest
    with tickets.store.reading() as session:
        version = session.get(PolicyVersion, liveops.digest)
    assert version.name == "liveops"
    assert version.text == policy_book.source(liveops)
    assert version.first_seen_at == T0


# -- acknowledge --------------------------------------------------------------------------------


def test_acknowledging_takes_ownership_and_meets_the_first_response(tickets):
    ticket = open_liveops(tickets, "p2")
    view = tickets.acknowledge(ChangeRequest("T1", "SLA-1", actor="UOWN", now=T0 + 20 * MIN))

    assert view.ticket.owner == "UOWN"
    assert view.ticket.acknowledged_by == "UOWN"
    assert view.ticket.acknowledged_at == T0 + 20 * MIN
    first_response = view.schedule.deadline("first_response")
    assert (first_response.state, first_response.met_at) == ("met", T0 + 20 * MIN)
    stored = ticket_row(tickets.store, "T1", 1)
    assert (stored.owner, stored.acknowledged_at) == ("UOWN", T0 + 20 * MIN)
    pending = timers(tickets.store, ticket.id)
    assert not [t for t in pending if t.target == "first_response"]


def test_acknowledging_keeps_an_owner_already_named(tickets):
    open_liveops(tickets, "p2", owner="UOWN")
    view = tickets.acknowledge(ChangeRequest("T1", 1, actor="UHELP", now=T0 + MIN))
    assert (view.ticket.owner, view.ticket.acknowledged_by) == ("UOWN", "UHELP")


def test_a_second_acknowledgement_is_told_who_acknowledged_first(tickets):
    ticket = open_liveops(tickets, "p2")
    tickets.acknowledge(ChangeRequest("T1", "SLA-1", actor="UFIRST", now=T0 + MIN))
    before = counts(tickets.store)

    with pytest.raises(AlreadyDone, match="acknowledged by UFIRST"):
        tickets.acknowledge(ChangeRequest("T1", "SLA-1", actor="USECOND", now=T0 + 2 * MIN))

    assert counts(tickets.store) == before
    assert ticket_row(tickets.store, "T1", 1).acknowledged_by == "UFIRST"
    assert [e.kind for e in events(tickets.store, ticket.id)].count("acknowledged") == 1


def test_answering_a_page_stops_its_repeats_and_acknowledges_the_ticket(tickets):
    ticket = open_liveops(tickets, "p1")
    assert [t.repeat for t in timers(tickets.store, ticket.id) if t.stage == "rule0:level_2"] == [
        0,
        1,
    ]

    view = tickets.acknowledge_page(
        ChangeRequest("T1", 1, actor="UL2", now=T0 + 5 * MIN), "level_2"
    )

    assert (view.ticket.acknowledged_by, view.ticket.owner) == ("UL2", "UL2")
    assert not [t for t in timers(tickets.store, ticket.id) if t.stage == "rule0:level_2"]
    assert [e.kind for e in events(tickets.store, ticket.id)] == [
        "opened",
        "page_acknowledged",
        "acknowledged",
        "owner_assigned",
    ]


def test_assigning_an_owner_is_recorded_and_repeating_it_is_already_done(tickets):
    ticket = open_liveops(tickets, "p2")
    view = tickets.assign(ChangeRequest("T1", 1, actor="UADMIN", now=T0 + MIN), "UOWN")

    assert view.ticket.owner == "UOWN"
    assigned = events(tickets.store, ticket.id)[-1]
    assert (assigned.kind, assigned.actor) == ("owner_assigned", "UADMIN")
    assert (assigned.before, assigned.after) == ({"owner": None}, {"owner": "UOWN"})
    with pytest.raises(AlreadyDone, match="UOWN already owns SLA-1"):
        tickets.assign(ChangeRequest("T1", 1, actor="UADMIN", now=T0 + 2 * MIN), "UOWN")


def test_only_the_owner_the_matrix_or_an_admin_may_assign_and_pause(tickets):
    # Anyone could assign a ticket to themselves (then resolve and close it for good) or pause
    # a contract's clock. Taking a ticket is acknowledging it, open to anyone; handing it on
    # and pausing are not.
    ticket = open_liveops(tickets, "p2")  # reported by UREP
    with pytest.raises(Forbidden, match="you may not assign SLA-1: the liveops policy allows"):
        tickets.assign(ChangeRequest("T1", 1, actor="USTRANGER", now=T0 + MIN), "USTRANGER")
    with pytest.raises(Forbidden, match="you may not pause or resume SLA-1"):
        tickets.set_status(
            ChangeRequest("T1", 1, actor="USTRANGER", now=T0 + MIN), "waiting_on_customer"
        )
    assert ticket_row(tickets.store, "T1", 1).version == ticket.version  # nothing changed
    # The reporter may pause; the owner may hand the ticket on.
    tickets.set_status(
        ChangeRequest("T1", 1, actor="UREP", now=T0 + 2 * MIN), "waiting_on_customer"
    )
    tickets.acknowledge(ChangeRequest("T1", 1, actor="UOWN", now=T0 + 3 * MIN))
    assert (
        tickets.assign(ChangeRequest("T1", 1, actor="UOWN", now=T0 + 4 * MIN), "UNEXT").ticket.owner
        == "UNEXT"
    )


# -- change severity ----------------------------------------------------------------------------


def test_raising_the_severity_recomputes_deadlines_from_the_opening(tickets):
    ticket = open_liveops(tickets, "p3")
    assert tickets.view("T1", 1, T0).schedule.deadline("first_response").due == T0 + 8 * HOUR

    view = tickets.change_severity(
        ChangeRequest("T1", "SLA-1", actor="UREP", now=T0 + 30 * MIN),
        "p1",
        reason="all calls fail now",
    )

    assert view.ticket.severity == "p1"
    assert view.schedule.deadline("first_response").due == T0 + HOUR  # opened + 1h
    assert ticket_row(tickets.store, "T1", 1).next_due_at == T0 + HOUR
    changed = events(tickets.store, ticket.id)[-1]
    assert changed.kind == "severity_changed" and changed.actor == "UREP"
    assert changed.before == {"severity": "p3"}
    assert changed.after == {"severity": "p1", "reason": "all calls fail now"}
    pending = {(t.kind, t.stage, t.repeat): t.due_at for t in timers(tickets.store, ticket.id)}
    assert pending[("page", "rule2:level_1", 0)] == T0 + HOUR  # P1's breach page
    # "elevate immediately": due at the change, then every 30 minutes until acknowledged
    assert pending[("page", "rule0:level_2", 0)] == T0 + 30 * MIN
    assert pending[("page", "rule0:level_2", 1)] == T0 + HOUR
    assert not [key for key in pending if key[1] == "rule1:level_2"]  # P2's rule: not for P1


def test_a_severity_raised_after_its_new_deadline_pages_at_once(tickets):
    ticket = open_liveops(tickets, "p3")
    view = tickets.change_severity(ChangeRequest("T1", 1, actor="UREP", now=T0 + 2 * HOUR), "p1")

    first_response = view.schedule.deadline("first_response")
    assert (first_response.due, first_response.state) == (T0 + HOUR, "breached")
    pending = {(t.kind, t.stage): t.due_at for t in timers(tickets.store, ticket.id)}
    assert pending[("page", "rule2:level_1")] == T0 + 2 * HOUR  # at the change, not before


def test_changing_to_the_same_severity_is_already_done(tickets):
    open_liveops(tickets, "p3")
    before = counts(tickets.store)
    with pytest.raises(AlreadyDone, match="already P3"):
        tickets.change_severity(ChangeRequest("T1", 1, actor="UREP", now=T0 + MIN), "3")
    assert counts(tickets.store) == before


def test_an_unknown_severity_is_refused_listing_the_policys_severities(tickets):
    open_liveops(tickets, "p3")
    before = counts(tickets.store)
    with pytest.raises(Invalid) as refused:
        tickets.change_severity(ChangeRequest("T1", 1, actor="UREP", now=T0 + MIN), "urgent")
    assert all(key in str(refused.value) for key in ("p1", "p2", "p3"))
    assert counts(tickets.store) == before


def test_only_the_owner_reporter_escalation_or_an_admin_may_change_severity(tickets):
    open_liveops(tickets, "p3", reporter="UREP", owner="UOWN")
    before = counts(tickets.store)

    with pytest.raises(Forbidden, match=r"Ask the owner \(UOWN\)") as refused:
        tickets.change_severity(ChangeRequest("T1", 1, actor="USTRANGER", now=T0 + MIN), "p1")
    assert refused.value.people == {"owner": "UOWN"}  # a user id, for each surface to render
    assert counts(tickets.store) == before
    assert ticket_row(tickets.store, "T1", 1).severity == "p3"

    assert tickets.change_severity(
        ChangeRequest("T1", 1, actor="UOWN", now=T0 + 2 * MIN), "p2"
    ).ticket
    assert tickets.change_severity(
        ChangeRequest("T1", 1, actor="UREP", now=T0 + 3 * MIN), "p3"
    ).ticket
    view = tickets.change_severity(ChangeRequest("T1", 1, actor="UADMIN", now=T0 + 4 * MIN), "p1")
    assert view.ticket.severity == "p1"


# -- post update --------------------------------------------------------------------------------


def test_an_update_restarts_the_update_clock(tickets):
    ticket = open_liveops(tickets, "p1")
    tickets.acknowledge(ChangeRequest("T1", 1, actor="UOWN", now=T0 + 10 * MIN))
    nudges = [t for t in timers(tickets.store, ticket.id) if t.kind == "update_nudge"]
    assert [t.due_at for t in nudges] == [T0 + 10 * MIN + 4 * HOUR]

    updated = T0 + HOUR
    view = tickets.post_update(
        ChangeRequest("T1", 1, actor="UOWN", now=updated), "rerouting calls to the backup site"
    )

    assert view.schedule.deadline("update_every").due == updated + 4 * HOUR
    nudges = [t for t in timers(tickets.store, ticket.id) if t.kind == "update_nudge"]
    assert [t.due_at for t in nudges] == [updated + 4 * HOUR]
    posted = events(tickets.store, ticket.id)[-1]
    assert posted.kind == "update_posted"
    assert posted.after == {
        "text": "rerouting calls to the backup site",
        "eta": None,
        "workaround": False,
    }


def test_a_workaround_stops_liveops_p2_elevation_to_level_2(tickets):
    ticket = open_liveops(tickets, "p2")
    elevation = ("page", "rule1:level_2")

    def pending() -> dict[tuple[str, str], datetime]:
        return {(t.kind, t.stage): t.due_at for t in timers(tickets.store, ticket.id)}

    assert pending()[elevation] == T0 + 8 * HOUR
    tickets.post_update(ChangeRequest("T1", 1, actor="UOWN", now=T0 + HOUR), "looking into it")
    assert pending()[elevation] == T0 + 8 * HOUR  # no ETA, no workaround: still owed

    tickets.post_update(
        ChangeRequest("T1", 1, actor="UOWN", now=T0 + 2 * HOUR),
        "route calls via site B meanwhile",
        workaround=True,
    )

    assert elevation not in pending()


def test_an_update_with_an_eta_also_stops_liveops_p2_elevation(tickets):
    ticket = open_liveops(tickets, "p2")
    tickets.post_update(
        ChangeRequest("T1", 1, actor="UOWN", now=T0 + HOUR), "fix ships tonight", eta=T0 + 10 * HOUR
    )
    stages = {t.stage for t in timers(tickets.store, ticket.id)}
    assert "rule1:level_2" not in stages
    stored = events(tickets.store, ticket.id)[-1]
    assert stored.after["eta"] == (T0 + 10 * HOUR).isoformat()


def test_an_eta_that_puts_off_an_update_beyond_its_period_asks_first(tickets):
    """Issue 18: an ETA pushed a P1's next update out by 14h 56m without a word. LiveOps owes
    a P1 an update every 4 hours: an ETA 20 hours away would skip four of them."""
    ticket = open_liveops(tickets, "p1")
    before = counts(tickets.store)
    eta = T0 + 20 * HOUR
    with pytest.raises(Postpones, match="puts off Next update by 15h") as refused:
        tickets.post_update(
            ChangeRequest("T1", 1, actor="UOWN", now=T0 + HOUR), "fix tomorrow", eta=eta
        )
    [put_off] = refused.value.postponed
    assert (put_off.target, put_off.due, put_off.until) == ("update_every", T0 + 5 * HOUR, eta)
    assert (put_off.by, put_off.every) == (15 * HOUR, 4 * HOUR)
    assert counts(tickets.store) == before  # nothing written

    # Confirmed, it is posted, and the next update is owed at the ETA.
    view = tickets.post_update(
        ChangeRequest("T1", 1, actor="UOWN", now=T0 + HOUR), "fix tomorrow", eta=eta, confirmed=True
    )
    assert view.schedule.deadline("update_every").due == eta
    assert events(tickets.store, ticket.id)[-1].after["eta"] == eta.isoformat()
    # An ETA within a period of the usual deadline asks nothing.
    tickets.post_update(
        ChangeRequest("T1", 1, actor="UOWN", now=T0 + 2 * HOUR), "nearly", eta=T0 + 9 * HOUR
    )


@pytest.mark.parametrize(
    ("text", "eta", "says"),
    [
        ("fixed soon", T0, "ETA is already past"),
        ("fixed soon", T0 - HOUR, "ETA is already past"),
        ("   ", None, "needs some text"),
    ],
    ids=["eta now", "eta past", "empty"],
)
def test_an_update_with_a_past_eta_or_no_text_is_refused(tickets, text, eta, says):
    open_liveops(tickets, "p2")
    before = counts(tickets.store)
    with pytest.raises(Invalid, match=says):
        tickets.post_update(ChangeRequest("T1", 1, actor="UOWN", now=T0), text, eta=eta)
    assert counts(tickets.store) == before


# -- SecPod's lifecycle -------------------------------------------------------------------------


def test_secpod_lifecycle_walks_six_states_pausing_while_waiting_on_the_customer(tickets):
    opened = MONDAY_IST  # 10:00 IST on a working day; High: first response within 6h
    result = tickets.open(
        "T1",
        title="scanner broken",
        severity="high",
        policy="secpod",
        reporter="UREP",
        owner="UOWN",
        now=opened,
    )
    ticket, policy = result.view.ticket, result.view.policy
    store = tickets.store

    def step(view, status):
        assert view.ticket.status == status
        assert ticket_row(store, "T1", 1).status == status
        return view.schedule.deadline("first_response")

    first_response = step(result.view, "open")
    assert first_response.due == opened + 6 * HOUR

    # pending: SecPod's own delay, the clock keeps running
    first_response = step(
        tickets.set_status(ChangeRequest("T1", 1, actor="UOWN", now=opened + HOUR), "pending"),
        "pending",
    )
    assert (first_response.state, first_response.due) == ("running", opened + 6 * HOUR)

    # waiting on the customer: the clock stops, nothing about the response can come due
    asked = opened + 2 * HOUR
    view = tickets.set_status(
        ChangeRequest("T1", 1, actor="UOWN", now=asked), "waiting_on_customer"
    )
    first_response = step(view, "waiting_on_customer")
    assert (first_response.state, first_response.due) == ("paused", None)
    assert first_response.paused_by == "Waiting on customer"
    pending = timers(store, ticket.id)
    assert not [t for t in pending if t.target == "first_response"]
    assert {t.kind for t in pending} == {"follow_up", "auto_solve"}
    follow_up = next(t for t in pending if t.kind == "follow_up")
    auto_solve = next(t for t in pending if t.kind == "auto_solve")
    assert follow_up.due_at == asked + DAY
    assert auto_solve.due_at == asked + 4 * DAY  # three follow-ups, earlier than 7 days
    assert ticket_row(store, "T1", 1).next_due_at is None  # paused: last in the queue

    # the customer answers; a vendor is needed: clocks run again, later by the wait exactly
    waited = 90 * MIN
    view = tickets.set_status(
        ChangeRequest("T1", 1, actor="UOWN", now=asked + waited), "waiting_on_third_party"
    )
    first_response = step(view, "waiting_on_third_party")
    assert (first_response.state, first_response.due) == ("running", opened + 6 * HOUR + waited)
    assert ticket_row(store, "T1", 1).next_due_at == opened + 6 * HOUR + waited
    pending = timers(store, ticket.id)
    assert not [t for t in pending if t.kind in ("follow_up", "auto_solve")]
    assert {(t.stage, t.due_at) for t in pending if t.target == "first_response"} == {
        ("first_response@50%", opened + 3 * HOUR + waited),
        ("first_response@80%", opened + 288 * MIN + waited),
        ("rule1:support_manager", opened + 6 * HOUR + waited),
    }

    # resolved, which SecPod calls "Solved": only the auto-close is still owed
    solved = opened + 5 * HOUR
    view = tickets.resolve(
        ChangeRequest("T1", 1, actor="UOWN", now=solved), note="patched the scanner"
    )
    step(view, "resolved")
    assert policy.state_label(view.ticket.status) == "Solved"
    assert view.schedule.deadline("first_response").met_at == solved
    assert view.schedule.reopen_until == solved + 3 * DAY
    assert [(t.kind, t.due_at) for t in timers(store, ticket.id)] == [
        ("auto_close", solved + 3 * DAY)
    ]
    stored = ticket_row(store, "T1", 1)
    assert (stored.active, stored.resolved_at, stored.next_due_at) == (False, solved, None)

    # closed: archived, nothing owed
    view = tickets.close(ChangeRequest("T1", 1, actor="UOWN", now=solved + 3 * DAY))
    step(view, "closed")
    stored = ticket_row(store, "T1", 1)
    assert (stored.active, stored.closed_at) == (False, solved + 3 * DAY)
    assert timers(store, ticket.id) == []
    assert [(e.before.get("status"), e.after.get("status")) for e in events(store, ticket.id)][
        1:
    ] == [
        ("open", "pending"),
        ("pending", "waiting_on_customer"),
        ("waiting_on_customer", "waiting_on_third_party"),
        ("waiting_on_third_party", "resolved"),
        ("resolved", "closed"),
    ]


def _solved_secpod_ticket(tickets: Tickets, solved: datetime) -> Ticket:
    tickets.open(
        "T1",
        title="how do i export",
        severity="low",
        policy="secpod",
        reporter="UREP",
        owner="UOWN",
        now=solved - HOUR,
    )
    return tickets.resolve(ChangeRequest("T1", 1, actor="UOWN", now=solved)).ticket


def test_a_solved_secpod_ticket_can_be_reopened_within_three_days(tickets):
    solved = MONDAY_IST
    ticket = _solved_secpod_ticket(tickets, solved)

    view = tickets.reopen(ChangeRequest("T1", 1, actor="UREP", now=solved + 3 * DAY - MIN))

    assert (view.ticket.status, view.ticket.active) == ("open", True)
    assert view.ticket.resolved_at is None
    assert not [t for t in timers(tickets.store, ticket.id) if t.kind == "auto_close"]
    assert ticket_row(tickets.store, "T1", 1).status == "open"


def test_reopening_after_the_window_says_to_open_a_new_ticket(tickets):
    solved = MONDAY_IST
    _solved_secpod_ticket(tickets, solved)
    before = counts(tickets.store)

    with pytest.raises(Invalid, match="open a new ticket"):
        tickets.reopen(ChangeRequest("T1", 1, actor="UREP", now=solved + 3 * DAY + MIN))

    assert counts(tickets.store) == before
    assert ticket_row(tickets.store, "T1", 1).status == "resolved"


def test_a_closed_ticket_cannot_be_resolved_or_reopened(tickets):
    solved = MONDAY_IST
    _solved_secpod_ticket(tickets, solved)
    tickets.close(ChangeRequest("T1", 1, actor="UOWN", now=solved + HOUR))
    before = counts(tickets.store)

    with pytest.raises(Invalid, match=r"closed.*open a new ticket"):
        tickets.resolve(ChangeRequest("T1", 1, actor="UOWN", now=solved + 2 * HOUR))
    with pytest.raises(Invalid, match="open a new ticket"):
        tickets.reopen(ChangeRequest("T1", 1, actor="UREP", now=solved + 2 * HOUR))

    assert counts(tickets.store) == before
    assert ticket_row(tickets.store, "T1", 1).status == "closed"


def test_resolving_twice_is_already_done(tickets):
    _solved_secpod_ticket(tickets, MONDAY_IST)
    with pytest.raises(AlreadyDone, match="already Solved"):
        tickets.resolve(ChangeRequest("T1", 1, actor="UOWN", now=MONDAY_IST + MIN))


def test_closing_an_unresolved_ticket_says_to_resolve_it_first(tickets):
    tickets.open(
        "T1",
        title="how do i export",
        severity="low",
        policy="secpod",
        reporter="UREP",
        owner="UOWN",
        now=MONDAY_IST,
    )
    before = counts(tickets.store)
    with pytest.raises(Invalid, match="resolve it first"):
        tickets.close(ChangeRequest("T1", 1, actor="UOWN", now=MONDAY_IST + HOUR))
    assert counts(tickets.store) == before
    assert ticket_row(tickets.store, "T1", 1).status == "open"


# -- timers -------------------------------------------------------------------------------------


def test_a_resolved_ticket_has_no_reminders_nudges_or_pages_left(tickets):
    ticket = open_liveops(tickets, "p1")
    assert {t.kind for t in timers(tickets.store, ticket.id)} == {"page", "reminder"}
    tickets.acknowledge(ChangeRequest("T1", 1, actor="UOWN", now=T0 + 10 * MIN))
    # P1 pages level 2 until resolved; updates are owed every 4 hours, with a reminder first
    assert {t.kind for t in timers(tickets.store, ticket.id)} == {
        "page",
        "reminder",
        "update_nudge",
    }
    assert {t.target for t in timers(tickets.store, ticket.id) if t.kind == "reminder"} == {
        "update_every"
    }

    tickets.resolve(ChangeRequest("T1", 1, actor="UOWN", now=T0 + 2 * HOUR))

    assert timers(tickets.store, ticket.id) == []  # LiveOps has no auto-close


def test_a_fired_timer_is_kept_as_it_was_when_the_ticket_changes(tickets):
    ticket = open_liveops(tickets, "p1")
    key = (
        (TimerRow.c.ticket_id == ticket.id)
        & (TimerRow.c.stage == "rule0:level_2")
        & (TimerRow.c.repeat == 0)
    )
    with tickets.store.writing() as session:
        session.execute(update(TimerRow).where(key).values(state="fired", fired_at=T0, attempts=1))

    def fired() -> list[tuple]:
        return [
            (t.kind, t.stage, t.repeat, t.due_at, t.fired_at, t.attempts)
            for t in timers(tickets.store, ticket.id, state="fired")
        ]

    expected = [("page", "rule0:level_2", 0, T0, T0, 1)]
    assert fired() == expected

    # P2 has no "elevate at once" rule: its pending repeat goes, the fired page stays
    tickets.change_severity(ChangeRequest("T1", 1, actor="UREP", now=T0 + 10 * MIN), "p2")
    assert fired() == expected
    assert not [t for t in timers(tickets.store, ticket.id) if t.stage == "rule0:level_2"]

    tickets.resolve(ChangeRequest("T1", 1, actor="UADMIN", now=T0 + HOUR))
    assert fired() == expected
    assert timers(tickets.store, ticket.id) == []


# -- concurrency and isolation ------------------------------------------------------------------


def test_a_stale_version_is_refused_and_nothing_is_written(tickets):
    opened = open_liveops(tickets, "p2")
    assert opened.version == 1
    tickets.post_update(ChangeRequest("T1", 1, actor="UOWN", now=T0 + MIN), "looking")  # version 2
    before = counts(tickets.store)

    with pytest.raises(Conflict, match="changed while you were looking"):
        tickets.acknowledge(
            ChangeRequest("T1", 1, actor="UOWN", now=T0 + 2 * MIN, expected_version=1)
        )

    assert counts(tickets.store) == before
    stored = ticket_row(tickets.store, "T1", 1)
    assert (stored.version, stored.acknowledged_at) == (2, None)

    view = tickets.acknowledge(
        ChangeRequest("T1", 1, actor="UOWN", now=T0 + 3 * MIN, expected_version=2)
    )
    assert view.ticket.acknowledged_by == "UOWN"
    assert ticket_row(tickets.store, "T1", 1).version == 3


def test_another_workspace_can_neither_see_nor_change_a_ticket(tickets):
    open_liveops(tickets, "p1", workspace="TA")
    before = counts(tickets.store)

    with pytest.raises(NotFound, match="no ticket SLA-1"):
        tickets.view("TB", "SLA-1", T0)
    with pytest.raises(NotFound):
        tickets.acknowledge(ChangeRequest("TB", "SLA-1", actor="UB", now=T0 + MIN))
    with pytest.raises(NotFound):
        tickets.resolve(ChangeRequest("TB", 1, actor="UADMIN", now=T0 + MIN))

    assert counts(tickets.store) == before
    assert queries.queue(tickets.store, "TB") == []
    assert queries.story(tickets.store, "TB", 1) is None
    assert [t.ref for t in queries.queue(tickets.store, "TA")] == ["SLA-1"]


def test_eight_people_acknowledging_at_once_one_wins_the_rest_are_told_who(tickets):
    ticket = open_liveops(tickets, "p1")
    results = run_together(
        8, lambda i: tickets.acknowledge(ChangeRequest("T1", 1, actor=f"U{i}", now=T0 + MIN))
    )

    winners = [i for i, (outcome, _) in enumerate(results) if outcome == "ok"]
    assert len(winners) == 1, results
    losers = [value for outcome, value in results if outcome == "error"]
    assert len(losers) == 7
    assert all(isinstance(exc, AlreadyDone) for exc in losers), losers
    assert all(exc.people == {"who": f"U{winners[0]}"} for exc in losers)
    stored = ticket_row(tickets.store, "T1", 1)
    assert (stored.acknowledged_by, stored.owner, stored.version) == (
        f"U{winners[0]}",
        f"U{winners[0]}",
        2,
    )
    assert [e.kind for e in events(tickets.store, ticket.id)].count("acknowledged") == 1


def test_tickets_opened_at_once_get_distinct_numbers(tickets):
    results = run_together(8, lambda i: open_liveops(tickets, "p2", title=f"calls fail {i}"))

    assert [outcome for outcome, _ in results] == ["ok"] * 8, results
    assert sorted(ticket.number for _, ticket in results) == list(range(1, 9))
    assert counts(tickets.store)["tickets"] == 8
    with tickets.store.reading() as session:
        assert session.get(WorkspaceCounter, "T1").last_number == 8


def test_the_same_delivery_arriving_four_times_at_once_makes_one_ticket(tickets):
    def deliver(_: int):
        return tickets.open(
            "T1",
            title="calls fail",
            severity="p2",
            policy="liveops",
            reporter="UREP",
            now=T0,
            idempotency_key="slack-retry",
        )

    results = run_together(4, deliver)

    assert [outcome for outcome, _ in results] == ["ok"] * 4, results
    assert len({result.view.ticket.id for _, result in results}) == 1
    assert sum(result.created for _, result in results) == 1
    assert counts(tickets.store)["tickets"] == 1
    assert open_liveops(tickets, "p2", at=T0 + MIN).ref == "SLA-2"


# -- queries ------------------------------------------------------------------------------------


def _mixed_queue(tickets: Tickets) -> dict[str, int]:
    """LiveOps tickets opened at T0 in T1: running, paused and resolved; one in T2."""
    made = {}
    for name, severity in [("p3", "p3"), ("p1", "p1"), ("p2", "p2"), ("p1b", "p1")]:
        made[name] = open_liveops(tickets, severity).number
    for name in ("paused", "paused2"):
        made[name] = open_liveops(tickets, "p2").number
        tickets.set_status(
            ChangeRequest("T1", made[name], actor="UREP", now=T0 + MIN), "waiting_on_customer"
        )
    made["resolved"] = open_liveops(tickets, "p1").number
    tickets.resolve(ChangeRequest("T1", made["resolved"], actor="UADMIN", now=T0 + MIN))
    open_liveops(tickets, "p1", workspace="T2")
    return made


def test_the_queue_puts_the_closest_breach_first_paused_last_and_leaves_out_resolved(tickets):
    made = _mixed_queue(tickets)

    queue = queries.queue(tickets.store, "T1")

    assert [t.number for t in queue] == [
        made[name] for name in ("p1", "p1b", "p2", "p3", "paused", "paused2")
    ]
    assert [t.next_due_at for t in queue] == [
        T0 + HOUR,
        T0 + HOUR,
        T0 + 4 * HOUR,
        T0 + 8 * HOUR,
        None,
        None,
    ]
    assert [t.number for t in queries.queue(tickets.store, "T1", policy="secpod")] == []


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_the_queue_pages_on_without_overlap_or_gaps(tickets, limit):
    _mixed_queue(tickets)
    everything = [t.id for t in queries.queue(tickets.store, "T1", limit=100)]

    pages, after = [], None
    for _ in range(10):
        page = queries.queue(tickets.store, "T1", limit=limit, after=after)
        if not page:
            break
        assert len(page) <= limit
        pages.append([t.id for t in page])
        after = (page[-1].next_due_at, page[-1].id)

    assert [i for page in pages for i in page] == everything
    assert len(everything) == 6


def test_a_tickets_story_lists_every_change_in_order_with_who_made_it(tickets):
    ticket = open_liveops(tickets, "p2")
    tickets.acknowledge(ChangeRequest("T1", 1, actor="UOWN", now=T0 + 10 * MIN))
    tickets.post_update(ChangeRequest("T1", 1, actor="UOWN", now=T0 + HOUR), "rerouted")
    tickets.change_severity(
        ChangeRequest("T1", 1, actor="UREP", now=T0 + 2 * HOUR), "p1", reason="worse"
    )

    story = queries.story(tickets.store, "T1", 1)

    assert story.ticket.id == ticket.id
    assert [(e.kind, e.actor, e.at) for e in story.events] == [
        ("opened", "UREP", T0),
        ("acknowledged", "UOWN", T0 + 10 * MIN),
        ("owner_assigned", "UOWN", T0 + 10 * MIN),
        ("update_posted", "UOWN", T0 + HOUR),
        ("severity_changed", "UREP", T0 + 2 * HOUR),
    ]
    assert story.timers and all(t.ticket_id == ticket.id for t in story.timers)
    assert queries.story(tickets.store, "T1", 2) is None


def test_between_returns_the_tickets_opened_in_a_month(tickets):
    february = datetime(2026, 2, 1, tzinfo=UTC)
    march = datetime(2026, 3, 1, tzinfo=UTC)
    for at in (february - MIN, february, march - MIN, march):
        open_liveops(tickets, "p3", at=at)
    open_liveops(tickets, "p3", at=february + DAY, workspace="T2")

    month = queries.between(tickets.store, "T1", february, march)

    assert [(s.ticket.number, s.ticket.opened_at) for s in month] == [
        (2, february),
        (3, march - MIN),
    ]
    assert all([e.kind for e in s.events] == ["opened"] for s in month)
    assert queries.between(tickets.store, "T1", february, march, policy="secpod") == []


def test_a_summary_too_long_for_a_title_keeps_every_word_in_the_description(tickets):
    # Any source (a command, an alert, an e-mail) may hand over more than a title holds: the
    # first line, cut between grapheme clusters, is the title; the whole text is kept.
    first = "checkout fails for every card 👩‍👩‍👧‍👦 " * 12
    summary = first + "\n" + "x" * 4000
    ticket = open_liveops(tickets, "p2", title=summary)
    assert ticket.description == summary
    assert ticket.title.endswith("…") and len(ticket.title) <= 200
    assert first.startswith(ticket.title.removesuffix("…"))
    with pytest.raises(Invalid, match="keep it under 3000"):
        open_liveops(tickets, "p2", title="y" * 3001, description="given separately")
