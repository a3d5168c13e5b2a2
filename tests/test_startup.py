"""What the long-running commands leave out of their start: modules they need only later.

`bench/startup.py` measures the start; these only say which imports wait for their first use
(each a promise the code makes in a docstring): httpx for the first page or online calendar
(`cli/clockwork.py`, `oncall/calendars.py`), regex for the first text cut by grapheme cluster
(`graphemes.py`), holidays for a year no file holds (`sla/public_holidays.py`, whose own tests
say when it is imported).
"""

import subprocess
import sys

PROBE = """
import sys
import slabot.cli.serve, slabot.cli.clock, slabot.cli.clockwork, slabot.clock.runner
import slabot.slack.app, slabot.oncall.calendars, slabot.inbound.http, slabot.web, slabot.tickets
print(sorted(m for m in ("httpx", "regex", "holidays") if m in sys.modules))
"""


def test_serve_and_the_clock_import_neither_httpx_nor_regex_nor_holidays():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
