"""What a hook may do, acting through the deployment's one `Tickets` as a system actor
(`slabot.actors`): open and update, resolve and reopen the tickets that came in through it,
record outages; and what it may not: anything else, or anything to another door's tickets,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support.hooks import T0, Hooks, group, tickets_in
from support.hooks import fake as fake

from slabot import signatures
from slabot.actors import ALERT_HOOKS, HOOKS, OWN_DOORS
from slabot.inbound.hookroutes import ALERT_SOURCES
from slabot.outages import Maintenances, Outages
from slabot.tickets import ChangeRequest, Forbidden, Tickets

SECRET = "whsec_aGVscGRlc2stc2lnbmluZy1zZWNyZXQ="


@pytest.fixture
def hooks(store, policy_book, fake) -> Hooks:
    return Hooks(store, policy_book, fake, slabot_inbound_secret=SECRET)


def _fired(hooks: Hooks) -> int:
    """SLA-n opened by an Alertmanager group, as the route answers."""
    status, answer = hooks.post("/hooks/alertmanager", group())
    assert (status, answer["action"]) == (201, "opened")
    return int(answer["ticket"].removeprefix("SLA-"))


def _helpdesk(hooks: Hooks, message: dict, message_id: str) -> tuple[int, dict]:
    body = json.dumps(message).encode()
    stamp = int(hooks.clock().timestamp())
    signed = signatures.headers(SECRET, message_id, stamp, body)
    return hooks.post("/hooks/inbound", body, auth=None, headers=signed)


def test_every_alert_source_is_a_hook_and_a_door_of_its_own():
    assert set(ALERT_SOURCES) == ALERT_HOOKS and ALERT_HOOKS < HOOKS and ALERT_HOOKS < OWN_DOORS


def test_a_hook_resolves_and_reopens_its_own_ticket_with_no_admin_rights(hooks, store):
    """The deployment's `Tickets` names no admin: the hook's own rights are enough, though the
    policy lets only the owner and the escalation matrix resolve."""
    number = _fired(hooks)
    assert hooks.tickets.admins == frozenset()
    hooks.clock.at = T0 + timedelta(minutes=5)
    assert hooks.post("/hooks/alertmanager", group(status="resolved"))[1]["action"] == "resolved"
    hooks.clock.at = T0 + timedelta(minutes=10)
    again = group(starts=T0 + timedelta(minutes=8))
    assert hooks.post("/hooks/alertmanager", again)[1] == {
        "action": "reopened",
        "ticket": f"SLA-{number}",
    }


def test_a_hook_changes_nothing_else_on_its_own_ticket(hooks, store):
    number = _fired(hooks)
    tickets, now = hooks.tickets, T0 + timedelta(minutes=1)
    with pytest.raises(Forbidden, match="the alertmanager hook may not change the severity of"):
        tickets.change_severity(ChangeRequest("T0001", number, actor="alertmanager", now=now), "P3")
    with pytest.raises(Forbidden, match="alertmanager hook may not pause or resume"):
        tickets.set_status(
            ChangeRequest("T0001", number, actor="alertmanager", now=now), "waiting_on_customer"
        )
    with pytest.raises(Forbidden, match="alertmanager hook may not assign"):
        tickets.assign(ChangeRequest("T0001", number, actor="alertmanager", now=now), "U2")
    tickets.resolve(ChangeRequest("T0001", number, actor="alertmanager", now=now))
    with pytest.raises(Forbidden, match="alertmanager hook may not close"):
        tickets.close(
            ChangeRequest("T0001", number, actor="alertmanager", now=now + timedelta(minutes=1))
        )
    [ticket] = tickets_in(store)
    assert (ticket.severity, ticket.owner, ticket.status) == ("p1", None, "resolved")


@pytest.mark.parametrize("hook", ["grafana", "webhook"])
def test_a_hook_may_not_resolve_another_doors_ticket(hooks, store, hook):
    number = _fired(hooks)
    with pytest.raises(Forbidden, match=f"the {hook} hook may not resolve SLA-{number}"):
        hooks.tickets.resolve(
            ChangeRequest("T0001", number, actor=hook, now=T0 + timedelta(minutes=1))
        )
    assert [t.status for t in tickets_in(store)] == ["open"]


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_no_hook_may_resolve_a_ticket_opened_in_slack(hooks, store, hook):
    opened = hooks.tickets.open(
        "T0001", title="P1 checkout down", reporter="U1", now=T0, policy="liveops", channel="C1"
    )
    with pytest.raises(Forbidden, match=f"the {hook} hook may not resolve"):
        hooks.tickets.resolve(
            ChangeRequest(
                "T0001", opened.view.ticket.number, actor=hook, now=T0 + timedelta(minutes=1)
            )
        )


@pytest.mark.parametrize("source", ["slack-message", "slack-workflow", "api", "email"])
def test_the_webhook_may_not_speak_for_slabots_own_doors(hooks, store, source):
    shortcut = hooks.tickets.open(
        "T0001",
        title="P1 checkout down",
        reporter="U1",
        now=T0,
        policy="liveops",
        channel="C1",
        source=source,
        source_ref="C1:1700000000.000100",
    )
    resolve = {"action": "resolve", "source": source, "ref": "C1:1700000000.000100"}
    status, answer = _helpdesk(hooks, resolve, "msg_1")
    assert status == 422 and "its own door" in answer["error"]
    assert tickets_in(store)[0].status == shortcut.view.ticket.status == "open"


def test_a_hook_records_outages_but_announces_no_maintenance_and_binds_no_channel(
    hooks, store, policy_book
):
    outages = Outages(store, policy_book, roles=hooks.tickets.roles)
    outages.start("T0001", "liveops", channel=None, actor="grafana", now=T0)
    outages.end("T0001", "liveops", actor="grafana", now=T0 + timedelta(minutes=30))
    maintenances = Maintenances(store, policy_book, roles=hooks.tickets.roles)
    with pytest.raises(Forbidden, match="the grafana hook may not announce maintenance"):
        maintenances.plan(
            "T0001",
            "liveops",
            T0 + timedelta(days=3),
            timedelta(hours=1),
            channel=None,
            actor="grafana",
            now=T0,
        )
    with pytest.raises(Forbidden, match="the webhook hook may not change which policy"):
        hooks.tickets.bind_channel("T0001", "C1", "leadpro", actor="webhook", now=T0)


def test_a_hook_listed_among_the_admins_still_has_only_its_own_rights(store, policy_book):
    """SLABOT_ADMINS names people; a hook named there by mistake gains nothing."""
    tickets = Tickets(store, policy_book, admins={"alertmanager"})
    opened = tickets.open(
        "T0001", title="P1 checkout down", reporter="U1", now=T0, policy="liveops", channel="C1"
    )
    with pytest.raises(Forbidden, match="the alertmanager hook may not change the severity"):
        tickets.change_severity(
            ChangeRequest("T0001", opened.view.ticket.number, actor="alertmanager", now=T0), "P3"
        )
    with pytest.raises(Forbidden, match="the alertmanager hook may not announce maintenance"):
        tickets.roles.allow("maintenance", "T0001", "alertmanager", T0)
