"""The HTTP API under /api/v1: tokens, idempotency keys, errors that say what to fix, the
OpenAPI document exercised by schemathesis, and a real ``slabot serve`` over HTTP.

The in-process tests drive the Falcon app through Falcon's WSGI test client (the whole app:
middleware, validation, use cases on a real store, cards through the real `Publisher` to
`FakeSlack`); nothing of ours is mocked. The end-to-end tests start ``slabot serve`` and speak
HTTP to it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon.testing
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select
from support.conversation import POLICIES, SECRET, TestClock, clean_env, free_port
from support.courier import Courier
from support.databases import postgres_schema
from support.fakeslack import FakeSlack
from support.processes import Process, wait_until
from support.properties import examples
from support.tcpproxy import TcpProxy

from slabot.cli import main
from slabot.inbound import tokens
from slabot.inbound.api.app import MAX_BODY, create_api
from slabot.policies import PolicyBook
from slabot.store import Store
from slabot.store.migrate import upgrade
from slabot.store.tables import ApiToken, Ticket
from slabot.tickets import Tickets

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 09:00 in Los Angeles (liveops' zone)
TEAM, OTHER_TEAM = "T0001", "T0002"
CHANNEL = "C0001"
TICKET = {"title": "checkout is down", "severity": "p1", "policy": "liveops"}


class Api:
    """The API in process: a client, the store, the fake Slack the cards go to."""

    def __init__(self, store: Store, tickets: Tickets, fake: FakeSlack, clock: TestClock):
        self.store, self.tickets, self.fake, self.clock = store, tickets, fake, clock
        self.courier = Courier.wire(store, tickets, fake.url, clock)
        self.client = falcon.testing.TestClient(create_api(tickets, clock))
        self.token = self.make_token("zendesk")

    def make_token(self, name: str, *scopes: str, workspace: str = TEAM) -> str:
        return tokens.create(
            self.store,
            name,
            workspace=workspace,
            scopes=list(scopes or ("tickets:read", "tickets:write")),
            channel=CHANNEL,
            now=self.clock(),
        )

    def headers(self, token: str | None = None, key: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token or self.token}",
            "Idempotency-Key": key or str(uuid.uuid4()),
        }

    def post(self, path: str, body: Any = None, **kw: Any) -> falcon.testing.Result:
        headers = kw.pop("headers", None) or self.headers(
            kw.pop("token", None), kw.pop("key", None)
        )
        return self.client.simulate_post(f"/api/v1{path}", json=body, headers=headers, **kw)

    def get(self, path: str, token: str | None = None, **kw: Any) -> falcon.testing.Result:
        return self.client.simulate_get(f"/api/v1{path}", headers=self.headers(token), **kw)

    def count(self) -> int:
        with self.store.reading() as session:
            return len(session.exec(select(Ticket)).all())


@pytest.fixture
def api(store: Store, tickets: Tickets, fake: FakeSlack) -> Iterator[Api]:
    yield Api(store, tickets, fake, TestClock(T0))


sqlite_only = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


# -- opening, changing, reading ---------------------------------------------------------------


def test_an_open_counts_from_reported_at_and_posts_the_card_through_the_publisher(api):
    reported = T0 - timedelta(minutes=40)
    answer = api.post("/tickets", {**TICKET, "reported_at": reported.isoformat()})
    assert answer.status_code == 201, answer.json
    ticket = answer.json["ticket"]
    assert (ticket["ref"], ticket["source"], ticket["reporter"]) == ("SLA-1", "api", "api:zendesk")
    opening = next(d for d in ticket["deadlines"] if d["target"] == "time_to_open")
    assert opening["started"] == "2026-11-23T16:20:00Z"  # the customer's moment, not now
    assert opening["due"] == "2026-11-23T17:20:00Z"
    card, note = api.fake.wait_for("chat.postMessage", 2)
    assert card.args["channel"] == CHANNEL and "checkout is down" in card.args["text"]
    assert f"reported <!date^{int(reported.timestamp())}^" in json.dumps(card.args["blocks"])
    assert note.args["thread_ts"] and "api:zendesk opened SLA-1" in note.args["text"]


def test_an_open_names_its_customer_and_the_ticket_keeps_it(api):
    answer = api.post("/tickets", {**TICKET, "customer": "Acme Ltd"})
    assert answer.status_code == 201, answer.json
    assert answer.json["ticket"]["customer"] == "Acme Ltd"
    assert api.get("/tickets/SLA-1").json["customer"] == "Acme Ltd"
    bare = api.post("/tickets", TICKET)  # liveops names no customer of its own
    assert bare.json["ticket"]["customer"] is None
    api.fake.wait_for("chat.postMessage", 4)


def test_a_repeat_answers_as_the_first_and_makes_no_second_ticket(api):
    first = api.post("/tickets", TICKET, key="open-1")
    again = api.post("/tickets", TICKET, key="open-1")
    assert first.status_code == again.status_code == 201
    assert again.json["ticket"]["ref"] == "SLA-1" and again.json["created"] is True
    # The same outside item under a new key: the ticket it opened, "not created".
    by_ref = api.post("/tickets", {**TICKET, "source_ref": "ZD-7"})
    same = api.post("/tickets", {**TICKET, "source_ref": "ZD-7", "title": "again"})
    assert (by_ref.status_code, same.status_code) == (201, 200)
    assert same.json["created"] is False and same.json["ticket"]["ref"] == "SLA-2"
    assert api.count() == 2
    api.fake.wait_for("chat.postMessage", 4)
    time.sleep(0.3)  # the repeats announce nothing
    assert len(api.fake.calls_to("chat.postMessage")) == 4


def test_a_key_reused_with_another_request_is_refused_and_changes_nothing(api):
    api.post("/tickets", TICKET, key="k")
    other = api.post("/tickets", {**TICKET, "title": "something else"}, key="k")
    assert other.status_code == 422
    assert "Idempotency-Key 'k' was sent before with another request" in other.json["message"]
    moved = api.post("/tickets/1/acknowledge", {}, key="k")
    assert moved.status_code == 422 and api.count() == 1
    assert api.get("/tickets/1").json["acknowledged_at"] is None


def test_a_refused_change_frees_its_key_for_the_corrected_request(api):
    api.post("/tickets", TICKET)
    wrong = api.post(
        "/tickets/1/pause",
        {"status": "pending"},
        key="p",
        token=api.make_token("x", "tickets:write"),
    )
    assert wrong.status_code == 403  # the token may not pause: the policy's permissions hold
    assert api.post("/tickets/1/updates", {"text": "looking"}, key="p").status_code == 200


def test_the_whole_life_of_a_ticket_through_the_api(api):
    api.post("/tickets", TICKET)
    acked = api.post("/tickets/SLA-1/acknowledge")
    assert acked.status_code == 200 and acked.json["owner"] == "api:zendesk"
    eta = (T0 + timedelta(hours=2)).isoformat()
    assert api.post("/tickets/1/updates", {"text": "rolling back", "eta": eta}).status_code == 200
    paused = api.post("/tickets/1/pause", {"status": "waiting_on_customer"})
    assert paused.json["status"] == "waiting_on_customer"
    assert any(d["state"] == "paused" for d in paused.json["deadlines"])
    assert api.post("/tickets/1/resume").json["status"] == "open"
    resolved = api.post("/tickets/1/resolve", {"note": "fixed by rollback"})
    assert resolved.json["status"] == "resolved" and resolved.json["resolved_at"]
    again = api.post("/tickets/1/acknowledge")
    assert again.status_code == 422 and "resolved" in again.json["message"]
    notes = [
        c.args["text"] for c in api.fake.wait_for("chat.postMessage", 7) if c.args.get("thread_ts")
    ]
    assert notes[-1] == "api:zendesk resolved SLA-1: fixed by rollback."
    assert any("rolling back" in n for n in notes)
    api.fake.wait_for("chat.update", 5)


def test_the_queue_and_a_ticket_with_its_deadlines(api):
    api.post("/tickets", {**TICKET, "severity": "p3", "title": "typo on a page"})
    api.post("/tickets", TICKET)
    queue = api.get("/tickets").json["tickets"]
    assert [t["ref"] for t in queue] == ["SLA-2", "SLA-1"]  # the closest to a breach first
    api.clock.advance(hours=5)
    late = api.get("/tickets/2").json
    assert late["breached"] is True
    assert {d["target"]: d["breached"] for d in late["deadlines"]}["first_response"] is True
    assert [t["ref"] for t in api.get("/tickets", params={"limit": 1}).json["tickets"]] == ["SLA-2"]


# -- errors: JSON that says what to fix, never a 500 ---------------------------------------------


def test_bad_bodies_get_json_errors_naming_what_to_fix(api):
    bad_json = api.client.simulate_post("/api/v1/tickets", body="{oops", headers=api.headers())
    assert bad_json.status_code == 400 and "JSON" in bad_json.json["message"]
    typed = api.post("/tickets", {"title": 5, "severity": "p1", "colour": "red"})
    assert typed.status_code == 422
    assert {f["field"] for f in typed.json["fields"]} == {"title", "colour"}
    naive = api.post("/tickets", {**TICKET, "reported_at": "2026-11-23T09:00:00"})
    assert naive.status_code == 422 and naive.json["fields"][0]["field"] == "reported_at"
    future = api.post("/tickets", {**TICKET, "reported_at": (T0 + timedelta(hours=1)).isoformat()})
    assert future.status_code == 422 and "reported after" in future.json["message"]
    policy = api.post("/tickets", {**TICKET, "policy": "nope"})
    assert policy.status_code == 422 and "nope" in policy.json["message"]
    no_key = api.client.simulate_post(
        "/api/v1/tickets", json=TICKET, headers={"Authorization": f"Bearer {api.token}"}
    )
    assert no_key.status_code == 422 and no_key.json["fields"][0]["field"] == "Idempotency-Key"
    huge = api.post("/tickets", {**TICKET, "description": "x" * MAX_BODY})
    assert huge.status_code == 413 and "KiB" in huge.json["message"]
    listed = api.get("/tickets", params={"limit": "many"})
    assert listed.status_code == 422 and listed.json["fields"][0]["field"] == "limit"
    assert api.count() == 0


def test_unknown_tickets_and_paths_are_404(api):
    assert api.get("/tickets/SLA-9").json["message"] == "there is no ticket SLA-9 in this workspace"
    assert api.get("/tickets/banana").status_code == 404
    assert api.post("/tickets/9/resolve", {}).status_code == 404
    nowhere = api.get("/nowhere")
    assert nowhere.status_code == 404 and nowhere.json["error"] == "not_found"


def test_a_ticket_needs_a_channel_from_the_request_or_the_token(api):
    bare = tokens.create(api.store, "bare", workspace=TEAM, scopes=["tickets:write"], now=T0)
    refused = api.post("/tickets", TICKET, token=bare)
    assert refused.status_code == 422 and "send channel" in refused.json["message"]
    assert api.post("/tickets", {**TICKET, "channel": "C0777"}, token=bare).status_code == 201


def test_tokens_are_checked_scoped_and_kept_to_their_workspace(api):
    api.post("/tickets", TICKET)
    none = api.client.simulate_get("/api/v1/tickets/1")
    assert none.status_code == 401 and "Authorization: Bearer" in none.json["message"]
    assert none.headers["www-authenticate"] == "Bearer"
    assert api.get("/tickets/1", token="slabot_guessed").status_code == 401
    reader = api.make_token("reader", "tickets:read")
    assert api.get("/tickets/1", token=reader).status_code == 200
    refused = api.post("/tickets/1/acknowledge", token=reader)
    assert refused.status_code == 403 and "tickets:write" in refused.json["message"]
    elsewhere = api.make_token("other", workspace=OTHER_TEAM)
    assert api.get("/tickets/1", token=elsewhere).status_code == 404
    assert api.get("/tickets", token=elsewhere).json["tickets"] == []
    tokens.revoke(api.store, "reader", workspace=TEAM, now=T0)
    revoked = api.get("/tickets/1", token=reader)
    assert revoked.status_code == 401 and "revoked" in revoked.json["message"]


@sqlite_only
def test_slabot_tokens_prints_a_token_once_and_keeps_only_its_digest(
    store, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    args = ["tokens", "create", "zendesk", "--workspace", TEAM, "--scope", "tickets:write"]
    assert main([*args, "--channel", CHANNEL]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("slabot_") and len(token) > 40
    with store.reading() as session:
        row = session.exec(select(ApiToken)).one()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert tokens.authenticate(store, token).actor == "api:zendesk"
    assert main(args) == 2
    assert "already has a token named zendesk" in capsys.readouterr().err
    assert main(["tokens", "list"]) == 0
    listed = capsys.readouterr().out
    assert "zendesk" in listed and "tickets:write" in listed and token not in listed
    assert main(["tokens", "revoke", "zendesk", "--workspace", TEAM]) == 0
    assert main(["tokens", "revoke", "zendesk", "--workspace", TEAM]) == 2
    assert "no live token named" in capsys.readouterr().err
    assert (
        main(["tokens", "create", "Bad Name", "--workspace", TEAM, "--scope", "tickets:read"]) == 2
    )
    assert "is not a token name" in capsys.readouterr().err


# -- the OpenAPI document, exercised ----------------------------------------------------------


@sqlite_only
def test_every_operation_answers_as_its_openapi_document_says(api):
    """schemathesis generates requests from the document (valid and invalid ones) for every
    operation, with a live token, and fails on a 500, an undocumented status, or an answer
    whose body, headers or content type does not match the document."""
    api.post("/tickets", TICKET)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples(50),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api.token}"}
            # Excluded: "schema-valid data is accepted". A request can fit the document and
            # still be refused for the ticket's or policy's sake (a policy that does not
            # exist, an ack on a resolved ticket): 422 with the reason is the right answer.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        exercise()


# -- end to end: a real `slabot serve` over HTTP ------------------------------------------------


def call(
    base: str, method: str, path: str, token: str, body: Any = None, key: str = ""
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}/api/v1{path}", data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_takes_tickets_over_http_from_open_to_resolution(store, tmp_path):
    now = datetime.now(UTC)
    token = tokens.create(
        store, "helpdesk", workspace=TEAM, scopes=["tickets:read", "tickets:write"], now=now
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with FakeSlack(clock=time.time) as fake:
        env = clean_env(
            SLACK_API_URL=fake.url,
            SLACK_BOT_TOKEN="xoxb-test-0123456789-secret-token",
            SLACK_SIGNING_SECRET=SECRET,
            DATABASE_URL=store.url.render_as_string(hide_password=False),
            SLABOT_POLICIES=str(POLICIES),
        )
        # Its in-process clock posts the cards and notes the API's changes owe.
        serve = Process(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path)
        try:
            wait_until("/readyz", lambda: _status(f"{base}/readyz") == 200, serve.output)
            reported = (now - timedelta(minutes=40)).replace(microsecond=0)
            ticket = {**TICKET, "channel": "C0042", "reported_at": reported.isoformat()}
            status, opened = call(base, "POST", "/tickets", token, ticket, key="zd-1001")
            assert status == 201, opened
            assert opened["ticket"]["reported_at"] == reported.isoformat().replace("+00:00", "Z")
            card = fake.wait_for("chat.postMessage", timeout=30)[0]
            assert card.args["channel"] == "C0042"
            assert f"reported <!date^{int(reported.timestamp())}^" in json.dumps(
                card.args["blocks"]
            )

            status, again = call(base, "POST", "/tickets", token, ticket, key="zd-1001")
            assert (status, again["ticket"]["ref"]) == (201, "SLA-1")
            with store.reading() as session:
                assert len(session.exec(select(Ticket)).all()) == 1

            assert call(base, "POST", "/tickets/1/acknowledge", token, {}, key="a")[0] == 200
            status, done = call(base, "POST", "/tickets/1/resolve", token, {"note": "ok"}, key="r")
            assert (status, done["status"]) == (200, "resolved")

            def resolved_in_thread() -> bool:
                notes = [c.args.get("text", "") for c in fake.calls_to("chat.postMessage")]
                return "api:helpdesk resolved SLA-1: ok." in notes

            wait_until("the resolution in the thread", resolved_in_thread, serve.output)
            assert (
                len([c for c in fake.calls_to("chat.postMessage") if not c.args.get("thread_ts")])
                == 1
            )
            assert call(base, "GET", "/tickets/1", "slabot_wrong")[0] == 401
        finally:
            serve.stop()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@pytest.mark.postgresql
def test_a_database_outage_is_a_503_to_retry_not_a_500(request, fake):
    """The API's own store goes through a proxy the test cuts: a request then gets a 503
    with Retry-After, and works again once the database is back."""
    server = request.getfixturevalue("postgres_server")
    with postgres_schema(server, "api") as direct, TcpProxy((server.host, server.port)) as proxy:
        upgrade(direct)
        store = Store(direct.url.set(port=proxy.port))
        try:
            api = Api(store, Tickets(store, PolicyBook.load(POLICIES)), fake, TestClock(T0))
            assert api.post("/tickets", TICKET).status_code == 201
            proxy.cut()
            down = api.get("/tickets/1")
            assert down.status_code == 503 and down.headers["retry-after"] == "5"
            assert "try again" in down.json["message"]
            proxy.restore()
            assert api.get("/tickets/1").status_code == 200
        finally:
            store.dispose()
