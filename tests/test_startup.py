"""What the long-running commands leave out of their start: modules they need only later.

`bench/startup.py` measures the start; these only say which imports wait for their first use
(each a promise the code makes in a docstring): httpx for the first page or online calendar
(`cli/clockwork.py`, `oncall/calendars.py`), regex for the first text cut by grapheme cluster
(`graphemes.py`), holidays for a year no file holds (`sla/public_holidays.py`, whose own tests
say when it is imported), and the inbound hooks' modules for a hooks file (`cli/serve.py`).
The HTTP edge (`web.py`) loads no store: the benches' bare Bolt app is served behind it.
"""

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
# inbound modules it has imported by then.
SERVE_UNTIL_LISTENING = """
import sys
import slabot.cli.serve as serve

def stop(*args, **kwargs):
    print(sorted(m for m in sys.modules if m.startswith("slabot.inbound.")))
    raise SystemExit(0)

serve._listen = stop
from slabot.cli import main
main(["serve", "--no-clock"])
"""


def test_serve_imports_the_inbound_hooks_only_for_a_hooks_file(tmp_path, fake):
    env = clean_env(
        SLACK_API_URL=fake.url,
        SLACK_BOT_TOKEN="xoxb-test-0123456789",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=f"sqlite:///{tmp_path / 'slabot.db'}",
        SLABOT_POLICIES=str(POLICIES),
    )
    probe = [sys.executable, "-c", SERVE_UNTIL_LISTENING]
    done = subprocess.run(probe, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['slabot.inbound.api']"  # the API's lazy front alone
