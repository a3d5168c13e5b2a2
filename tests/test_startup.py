"""What the long-running commands leave out of their start: modules they need only later.

`bench/startup.py` measures the start; these only say which imports wait for their first use
(each a promise the code makes in a docstring): httpx for the first page or online calendar
(`cli/clockwork.py`, `oncall/calendars.py`), regex for the first text cut by grapheme cluster
(`graphemes.py`), holidays for a year no file holds (`sla/public_holidays.py`, whose own tests
say when it is imported), the inbound hooks' modules for a hooks file (`cli/serve.py`), and
slack_sdk's SQLAlchemy stores for an install by OAuth (`slack/workspaces.py`,
`store/oauth_tables.py`), and SQLAlchemy's PostgreSQL dialect for a store on PostgreSQL
(`store/db.py`, `store/tables.py`); SQLAlchemy's ORM it never loads. A policy found by name
loads no setting but its folder (`cli/config.py`).
The HTTP edge (`web.py`) loads no store: the benches' bare Bolt app is served behind it.
"""

import json
import subprocess
import sys

from support.conversation import POLICIES, clean_env


def loaded(imports: str, watched: tuple[str, ...]) -> list[str]:
    """Which of ``watched`` a fresh interpreter holds after ``import {imports}``."""
    probe = f"import sys, {imports}\nprint(','.join(m for m in {watched!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [m for m in done.stdout.strip().split(",") if m]


def test_serve_and_the_clock_import_neither_httpx_nor_regex_nor_holidays():
    modules = (
        "slabot.cli.serve, slabot.cli.clock, slabot.cli.clockwork, slabot.clock.runner,"
        " slabot.slack.app, slabot.oncall.calendars, slabot.inbound.http, slabot.web,"
        " slabot.tickets"
    )
    assert loaded(modules, ("httpx", "regex", "holidays")) == []


def test_the_http_edge_loads_no_store_so_the_bare_app_behind_it_stays_bare():
    assert loaded("slabot.web", ("sqlalchemy", "slabot.store", "slabot.tickets")) == []


# ``slabot serve`` run up to the moment it binds its port (where this stops it), printing the
# modules it has imported by then.
SERVE_UNTIL_LISTENING = """
import json, sys
import slabot.cli.serve as serve

def stop(*args, **kwargs):
    print(json.dumps(sorted(sys.modules)))
    raise SystemExit(0)

serve._listen = stop
from slabot.cli import main
main(["serve", "--no-clock"])
"""
ONE_TOKEN = {"SLACK_BOT_TOKEN": "xoxb-test-0123456789"}
OAUTH = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "shh"}  # installed by OAuth


def imported_by_serve(tmp_path, fake, way_in: dict[str, str]) -> set[str]:
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
        SLABOT_POLICIES=str(POLICIES),
        **way_in,
    )
    # a restart: the schema is current, so serve imports no migrations (which declare every
    # table: `store/migrations/env.py`)
    upgrade = [sys.executable, "-m", "slabot", "db", "upgrade"]
    subprocess.run(upgrade, env=env, cwd=tmp_path, capture_output=True, check=True)
    probe = [sys.executable, "-c", SERVE_UNTIL_LISTENING]
    done = subprocess.run(probe, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_serve_on_sqlite_leaves_the_postgresql_dialect_out(tmp_path, fake):
    assert "sqlalchemy.dialects.postgresql" not in imported_by_serve(tmp_path, fake, ONE_TOKEN)


def test_serve_runs_without_sqlalchemys_orm(tmp_path, fake):
    """The store is SQLAlchemy Core (`store/records.py`): the ORM held 9 MB of serve."""
    assert "sqlalchemy.orm" not in imported_by_serve(tmp_path, fake, ONE_TOKEN)


def test_serve_imports_the_inbound_hooks_only_for_a_hooks_file(tmp_path, fake):
    imported = imported_by_serve(tmp_path, fake, ONE_TOKEN)
    inbound = sorted(m for m in imported if m.startswith("slabot.inbound."))
    assert inbound == ["slabot.inbound.api"]  # the API's lazy front alone


# slack_sdk's SQLAlchemy stores, with the asyncio extension their module brings (and with it
# greenlet, which SQLAlchemy 2.0.30, the lowest version allowed, imports at its own import)
OAUTH_STORES = {
    "slack_sdk.oauth.installation_store.sqlalchemy",
    "slack_sdk.oauth.state_store.sqlalchemy",
    "sqlalchemy.ext.asyncio",
}


def test_serve_imports_slack_sdks_sqlalchemy_stores_only_when_installed_by_oauth(tmp_path, fake):
    assert not imported_by_serve(tmp_path, fake, ONE_TOKEN) & OAUTH_STORES
    (tmp_path / "oauth").mkdir()
    assert imported_by_serve(tmp_path / "oauth", fake, OAUTH) >= OAUTH_STORES


# ``slabot deadlines NAME`` run whole, printing the modules it imported.
DEADLINES_BY_NAME = """
import json, sys
from slabot.cli import main
code = main(["deadlines", "liveops", "--severity", "p1", "--opened", "2026-11-23T09:00"])
print(json.dumps([code, sorted(sys.modules)]))
"""


def test_a_policy_found_by_name_loads_no_other_setting(tmp_path):
    """Whether the environment or ``.env`` names the policies' folder, ``deadlines NAME``
    leaves pydantic-settings out (`cli/config.py`'s `one_setting`)."""
    (tmp_path / ".env").write_text(f"SLABOT_POLICIES={POLICIES}\n")
    for env in (clean_env(SLABOT_POLICIES=str(POLICIES)), clean_env()):
        probe = [sys.executable, "-c", DEADLINES_BY_NAME]
        done = subprocess.run(probe, env=env, cwd=tmp_path, capture_output=True, text=True)
        code, modules = json.loads(done.stdout.splitlines()[-1])
        assert code == 0, done.stderr
        assert "pydantic_settings" not in modules and "slabot.settings" not in modules
