"""Many workspaces: slabot installed by OAuth into two, over real HTTP against the fake Slack.

Each workspace installs through ``/slack/install`` → Slack's authorize page (the fake's
`grant`) → ``/slack/oauth_redirect`` → ``oauth.v2.access``; then each sees only its own
tickets, every call about a ticket carries its own workspace's token (the clock's pages
too), and an uninstall removes the workspace's tokens and kills its timers with the reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot
from sqlalchemy import select
from support import signed
from support.conversation import POLICIES, SECRET, clean_env, free_port
from support.fakeslack import Call, FakeSlack
from support.processes import Process, wait_until

from slabot.settings import SettingsError, load_settings
from slabot.slack.workspaces import ORGS_FOR, SCOPES, InstalledWorkspaces, WorkspaceGone
from slabot.store import Store
from slabot.store.oauth_tables import SLACK_BOTS
from slabot.store.tables import Ticket, TimerRow

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-for-tests"
CHANNELS = {"T0ACME": "C0ACME", "T0BETA": "C0BETA"}
GRID, GRID_CHANNELS = "E0GRID", {"T0NORTH": "C0NORTH", "T0SOUTH": "C0SOUTH"}  # an org's two


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(clock=time.time) as fake:
        fake.oauth_client = (CLIENT_ID, CLIENT_SECRET)
        yield fake


def get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()
    except OSError as exc:  # not listening yet
        return 0, {}, str(exc)


def install(base: str, fake: FakeSlack, team: str, **grant: object) -> str:
    """A person of ``team`` installs slabot: the install page, Slack's authorize page, back
    to the page slabot shows once installed."""
    status, headers, page = get(f"{base}/slack/install")
    assert status == 200, page
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert authorize, page
    asked = parse_qs(urlsplit(authorize.group(1).replace("&amp;", "&")).query)
    assert asked["client_id"] == [CLIENT_ID]
    assert set(asked["scope"][0].split(",")) == set(SCOPES)
    cookie = headers["Set-Cookie"].split(";", 1)[0]  # the state, tied to this browser
    code = fake.grant(team, f"Workspace {team}", **grant)  # type: ignore[arg-type]
    query = urlencode({"code": code, "state": asked["state"][0]})
    status, _, done = get(f"{base}/slack/oauth_redirect?{query}", cookie)
    assert status == 200, done
    return done


def command(base: str, team: str, text: str, org: str | None = None) -> str:
    channel = {**CHANNELS, **GRID_CHANNELS}[team]
    body = signed.slash_command(text, team_id=team, channel_id=channel, org=org)
    status, _, answer = signed.post(f"{base}/slack/events", body, SECRET)
    assert status == 200, answer
    return answer


def team_of_call(fake: FakeSlack, call: Call) -> str:
    return fake.team_of(call.token)


def pages(fake: FakeSlack) -> list[Call]:
    return [
        c
        for c in fake.calls_to("chat.postMessage", ok=True)
        if ":page:" in c.args.get("metadata", {}).get("event_payload", {}).get("timer", "")
    ]


def test_two_workspaces_installed_by_oauth_each_with_its_tokens_until_one_uninstalls(
    tmp_path, fake, store
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = store.url.render_as_string(hide_password=False)
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=url,
        SLABOT_POLICIES=str(POLICIES),
    )
    serve = Process(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-clock"], env, tmp_path
    )
    clock_dir = tmp_path / "clock"
    clock_dir.mkdir()
    clock = None
    try:
        wait_until("/readyz", lambda: get(f"{base}/readyz")[0] == 200, serve.output)
        install(base, fake, "T0ACME")
        install(base, fake, "T0BETA", rotating=True, expires_in=3600)  # refreshed when used
        [acme_token] = fake.tokens_of("T0ACME")
        [beta_installed] = fake.tokens_of("T0BETA")

        # Each opens SLA-1 under LiveOps at P1 (its card at once), and the clock pages level 2.
        command(base, "T0ACME", "open policy:liveops p1 acme checkout is down")
        command(base, "T0BETA", "open policy:liveops p1 beta login fails")
        clock = Process(["clock"], env, clock_dir)
        wait_until("both pages", lambda: len(pages(fake)) == 2, clock.output)
        clock.stop()
        posts = fake.calls_to("chat.postMessage", ok=True)
        for team, channel in CHANNELS.items():
            in_channel = [c for c in posts if c.args["channel"] == channel]
            assert len(in_channel) == 3  # the card, its "opened" note, the page
            assert {team_of_call(fake, c) for c in in_channel} == {team}
        assert all(c.token == acme_token for c in posts if c.args["channel"] == "C0ACME")
        # Beta's token rotates: the calls after its install carry refreshed tokens.
        beta_tokens = {c.token for c in posts if c.args["channel"] == "C0BETA"}
        assert beta_installed not in beta_tokens

        # Each workspace sees only its own tickets.
        acme_list = command(base, "T0ACME", "list")
        assert "acme checkout is down" in acme_list and "beta" not in acme_list
        beta_list = command(base, "T0BETA", "list")
        assert "beta login fails" in beta_list and "acme" not in beta_list

        # Acme's channel is shared with a customer's workspace (Slack Connect), where slabot
        # is not installed: the customer's person submits the open form there. Slack names
        # their workspace in ``team`` and Acme's in ``view.app_installed_team_id``; Bolt
        # authorizes with Acme's installation and the ticket is Acme's.
        form = signed.view_submission(
            "sla_open",
            {
                "title": {"value": signed.plain_text_value("customer cannot export")},
                "severity": {"value": signed.selected_option_value("liveops:p3")},
            },
            private_metadata='{"channel": "C0ACME"}',
            team_id="T0CUST",
            user_id="U0CUST1",
            installed_team_id="T0ACME",
        )
        assert signed.post(f"{base}/slack/events", form, SECRET)[:3:2] == (200, "")
        assert "customer cannot export" in command(base, "T0ACME", "list")
        # A shortcut naming the customer's own workspace finds no installation: they are told
        # what they can do instead, privately, not asked to "reinstall" an app they never had.
        shortcut = signed.message_shortcut(
            "sla_open_message",
            message_ts="1700000000.000100",
            text="export is broken",
            channel_id="C0ACME",
            team_id="T0CUST",
            user_id="U0CUST1",
            response_url=fake.response_url("customer"),
        )
        assert signed.post(f"{base}/slack/events", shortcut, SECRET)[0] == 200
        [told] = fake.calls_to("response_url")
        assert told.args["text"].startswith("slabot is not installed in your workspace")
        assert told.args.get("response_type", "ephemeral") == "ephemeral"  # Slack's default

        # Another P1 each, paged while the clock is down; meanwhile Beta uninstalls: Slack
        # revokes its tokens and tells the app, which forgets the installation.
        command(base, "T0ACME", "open policy:liveops p1 acme search is slow")
        command(base, "T0BETA", "open policy:liveops p1 beta mail bounces")
        fake.revoke("T0BETA")
        uninstalled = signed.event_callback({"type": "app_uninstalled"}, team_id="T0BETA")
        assert signed.post(f"{base}/slack/events", uninstalled, SECRET)[0] == 200
        wait_until("the installation deleted", lambda: not _bots(store, "T0BETA"), serve.output)
        assert _bots(store, "T0ACME")

        # The clock again: Acme is paged with its token, Beta's page dies saying why.
        before = len(fake.calls)
        clock = Process(["clock"], env, clock_dir)
        wait_until("Acme's second page", lambda: len(pages(fake)) == 3, clock.output)
        wait_until("Beta's page dead", lambda: _dead(store, "T0BETA"), clock.output)
        assert all(team_of_call(fake, c) == "T0ACME" for c in fake.calls[before:])
        listed = subprocess.run(
            [sys.executable, "-m", "slabot", "timers", "--dead"],
            env=clean_env(DATABASE_URL=url),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        assert "slabot is not installed in workspace T0BETA" in listed
    finally:
        serve.stop()
        if clock is not None:
            clock.stop()


def _bots(store: Store, team: str) -> list[object]:
    with store.engine.connect() as connection:
        return list(connection.execute(SLACK_BOTS.select().where(SLACK_BOTS.c.team_id == team)))


def _org_bots(store: Store, org: str) -> list[object]:
    query = SLACK_BOTS.select().where(SLACK_BOTS.c.enterprise_id == org)
    with store.engine.connect() as connection:
        return list(connection.execute(query))


def _dead(store: Store, workspace: str) -> list[str | None]:
    """The last errors of the workspace's dead timers."""
    with store.reading() as session:
        query = (
            select(TimerRow.c.last_error)
            .join(Ticket, Ticket.c.id == TimerRow.c.ticket_id)
            .where(Ticket.c.workspace == workspace, TimerRow.c.state == "dead")
        )
        return list(session.exec(query))


def test_an_org_wide_install_serves_every_workspace_of_the_org_until_uninstalled(
    tmp_path, fake, store
):
    """An Enterprise Grid org's admin installs slabot for the whole org; its two workspaces
    each open a ticket (keyed by the workspace), and the clock posts each card and page with
    the org's one token, found from the workspace alone."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=store.url.render_as_string(hide_password=False),
        SLABOT_POLICIES=str(POLICIES),
    )
    serve = Process(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-clock"], env, tmp_path
    )
    clock_dir = tmp_path / "clock"
    clock_dir.mkdir()
    clock = None
    try:
        wait_until("/readyz", lambda: get(f"{base}/readyz")[0] == 200, serve.output)
        done = install(base, fake, GRID, org_wide=True, workspaces=list(GRID_CHANNELS))
        assert "/manage/organization/apps/profile/" in done  # where the admin adds workspaces
        [org_token] = fake.tokens_of(GRID)
        [row] = _org_bots(store, GRID)
        assert row.team_id is None and row.is_enterprise_install  # type: ignore[attr-defined]

        command(base, "T0NORTH", "open policy:liveops p1 north checkout is down", org=GRID)
        command(base, "T0SOUTH", "open policy:liveops p1 south login fails", org=GRID)
        clock = Process(["clock"], env, clock_dir)
        wait_until("both pages", lambda: len(pages(fake)) == 2, clock.output)
        clock.stop()
        posts = fake.calls_to("chat.postMessage", ok=True)
        for channel in GRID_CHANNELS.values():
            in_channel = [c for c in posts if c.args["channel"] == channel]
            assert len(in_channel) == 3  # the card, its "opened" note, the page
            assert {c.token for c in in_channel} == {org_token}
        assert len(fake.calls_to("auth.teams.list")) == 1  # the clock asked the org once
        with store.reading() as session:
            keyed = {t.title: t.workspace for t in session.exec(select(Ticket))}
        assert keyed == {
            "north checkout is down": "T0NORTH",
            "south login fails": "T0SOUTH",
        }
        north = command(base, "T0NORTH", "list", org=GRID)
        assert "north checkout is down" in north and "south" not in north

        # The org uninstalls: Slack revokes the token and tells the app, naming the org.
        fake.revoke(GRID)
        uninstalled = signed.event_callback(
            {"type": "app_uninstalled"}, team_id="T0NORTH", org=GRID
        )
        assert signed.post(f"{base}/slack/events", uninstalled, SECRET)[0] == 200
        wait_until("the org's rows deleted", lambda: not _org_bots(store, GRID), serve.output)
        with pytest.raises(WorkspaceGone, match="workspace T0SOUTH"):
            _installed(store, fake).client_for("T0SOUTH")
    finally:
        serve.stop()
        if clock is not None:
            clock.stop()


def test_oauth_needs_both_credentials_and_no_bot_token_beside_them():
    with pytest.raises(SettingsError) as half:
        load_settings(_env_file=None, slack_client_id=CLIENT_ID)
    assert str(half.value) == (
        "SLACK_CLIENT_SECRET is not set but SLACK_CLIENT_ID is: installing into many "
        "workspaces needs both (Basic Information > App Credentials); unset both for one "
        "workspace with SLACK_BOT_TOKEN"
    )
    with pytest.raises(SettingsError) as both:
        load_settings(
            _env_file=None,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
            slack_bot_token="xoxb-1",
        )
    assert str(both.value).startswith("SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set")
    oauth = load_settings(
        _env_file=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET
    )
    oauth.require("slack_bot_token")  # installed by OAuth, no bot token is needed
    with pytest.raises(SettingsError, match="or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"):
        load_settings(_env_file=None).require("slack_bot_token")


@pytest.mark.parametrize("name", ["slack-app-manifest.yml", "slack-app-manifest.socket.yml"])
def test_the_manifests_request_the_scopes_an_install_asks_for(name):
    manifest = yaml.safe_load((ROOT / name).read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == list(SCOPES)


def test_socket_mode_refuses_oauth_with_what_to_do(tmp_path):
    env = clean_env(
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_APP_TOKEN="xapp-1-test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
    )
    done = subprocess.run(
        [sys.executable, "-m", "slabot", "serve", "--socket"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "slabot serve: --socket serves the one workspace of SLACK_BOT_TOKEN: installing into "
        "many (SLACK_CLIENT_ID) needs the HTTP server, whose /slack/install Slack redirects to"
    )


def _installed(store: Store, fake: FakeSlack, **kw: Any) -> InstalledWorkspaces:
    settings = load_settings(
        _env_file=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_api_url=fake.url,
    )
    return InstalledWorkspaces(settings, store, **kw)


def _bot(team: str, token: str, enterprise: str | None = None, **rotation: object) -> Bot:
    return Bot(
        app_id="A0001",
        enterprise_id=enterprise,
        team_id=team,
        bot_token=token,
        bot_id=f"B{team}",
        bot_user_id=f"U{team}",
        installed_at=time.time(),
        **rotation,  # type: ignore[arg-type]
    )


def test_each_workspace_gets_its_own_token_in_any_grid_org_until_it_is_gone(store, fake):
    slack = _installed(store, fake)
    slack.installations.save_bot(_bot("T1", "xoxb-one", enterprise="E1"))  # a Grid workspace
    slack.installations.save_bot(_bot("T2", "xoxb-two"))

    assert slack.client_for("T1").token == "xoxb-one"
    assert slack.client_for("T2").token == "xoxb-two"
    assert slack.client_for("T1") is slack.client_for("T1")  # its connections stay open
    with pytest.raises(WorkspaceGone, match=r"^slabot is not installed in workspace T3 "):
        slack.client_for("T3")
    slack.installations.delete_bot(enterprise_id="E1", team_id="T1")  # uninstalled
    with pytest.raises(WorkspaceGone):
        slack.client_for("T1")
    assert slack.client_for("T2").token == "xoxb-two"


def _org_install(store: Store, fake: FakeSlack, org: str, workspaces: list[str]) -> str:
    """An org-wide install's token, saved as Bolt saves it (no team, the org's id)."""
    code = fake.grant(org, org_wide=True, workspaces=workspaces)
    answer = WebClient(base_url=fake.url).oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code
    )
    assert answer["team"] is None and answer["enterprise"]["id"] == org
    bot = Bot(
        app_id="A0001",
        enterprise_id=org,
        team_id=None,
        bot_token=answer["access_token"],
        bot_id="BORG",
        bot_user_id="UORG",
        installed_at=time.time(),
        is_enterprise_install=True,
    )
    _installed(store, fake).installations.save_bot(bot)
    return answer["access_token"]


def test_a_workspace_of_an_org_wide_install_gets_the_orgs_token_its_own_first(store, fake):
    org_token = _org_install(store, fake, "E1", ["T1", "T2"])
    seconds = [0.0]
    slack = _installed(store, fake, monotonic=lambda: seconds[0])
    slack.installations.save_bot(_bot("T2", "xoxb-own", enterprise="E1"))  # its own too

    assert slack.client_for("T1").token == org_token
    assert slack.client_for("T2").token == "xoxb-own"  # a workspace's own install wins
    with pytest.raises(WorkspaceGone, match="workspace T3"):
        slack.client_for("T3")  # not (yet) added to the org's app
    fake.add_to_org("E1", "T3")
    assert slack.client_for("T3").token == org_token  # the org is asked again
    fake.remove_from_org("E1", "T3")
    assert slack.client_for("T3").token == org_token  # believed for ORGS_FOR seconds
    seconds[0] += ORGS_FOR + 1
    with pytest.raises(WorkspaceGone, match="workspace T3"):
        slack.client_for("T3")  # then asked again: gone
    slack.installations.delete_bot(enterprise_id="E1", team_id=None)  # the org uninstalled
    with pytest.raises(WorkspaceGone, match="workspace T1"):
        slack.client_for("T1")


def test_a_rotating_token_is_refreshed_before_it_expires_and_kept_for_every_process(store, fake):
    slack = _installed(store, fake)
    code = fake.grant("T9", rotating=True, expires_in=600)  # expires within two hours
    first = WebClient(base_url=fake.url).oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code
    )
    slack.installations.save_bot(
        _bot(
            "T9",
            first["access_token"],
            bot_refresh_token=first["refresh_token"],
            bot_token_expires_in=first["expires_in"],
        )
    )

    client = slack.client_for("T9")

    assert client.token != first["access_token"] and fake.team_of(client.token) == "T9"
    assert client.auth_test()["team_id"] == "T9"
    saved = slack.installations.find_bot(enterprise_id=None, team_id="T9")
    assert saved is not None and saved.bot_token == client.token
    fake.revoke("T9")  # uninstalled: the refresh token no longer works either
    with pytest.raises(WorkspaceGone):
        slack.client_for("T9")
