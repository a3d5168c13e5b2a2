"""Noise: what one unanswered P1 sends under a 2-minute test policy over 12 minutes.

Issue 12 counted 39 posts (14 DMs) and 15 card edits for one such ticket. This script opens one
P1 in a channel at T0 under a test policy whose clocks are minutes long (first response 2m,
resolution 6m, an update every 2m; Level 2 paged at opening and again every 2 minutes, Level 1
at the first response's breach; reminders at 50 % and 75 %), lets nobody answer, and runs the
real dispatcher second by second for 12 minutes of test time against the fake Slack. It prints
the posts (all, direct messages, channel posts outside the card's channel), card edits and the
largest number of messages one person received in one tick.

Run it with each checkout's interpreter to compare, in the same run of the machine:

    /work/main/.venv/bin/python bench/noise.py   # before
    .venv/bin/python bench/noise.py              # after

Nothing here is timed: the figures are counts, the same on any machine.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from slack_sdk import WebClient  # noqa: E402
from support.courier import Courier  # noqa: E402
from support.fakeslack import FakeSlack  # noqa: E402

from slabot.clock.dispatch import Dispatcher  # noqa: E402
from slabot.notify import Fanout  # noqa: E402
from slabot.notify.slack import SlackNotifier  # noqa: E402
from slabot.policies import PolicyBook  # noqa: E402
from slabot.store import Store  # noqa: E402
from slabot.store.migrate import upgrade  # noqa: E402
from slabot.tickets import SYSTEM, Tickets  # noqa: E402

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
CHANNEL = "CSUPPORT"
POLICY = """
name: noisy
timezone: UTC
severities:
  - key: p1
    label: P1
    targets:
      first_response: {within: 2m, clock: "24x7"}
      resolution: {within: 6m, clock: "24x7"}
      update_every: {within: 2m, clock: "24x7"}
reminders:
  first_response: ["50%", "75%"]
  resolution: ["50%", "75%"]
escalation:
  levels:
    - key: level_1
      label: Level 1
      contacts: [UONE, UTWO]
    - key: level_2
      label: Level 2
      contacts: [UTWO, UBOSS, CPAGES]
  rules:
    - page: level_2
      at: open
      repeat: 2m
    - page: level_1
      at: breach
      of: first_response
      repeat: 2m
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        (Path(folder) / "noisy.yaml").write_text(POLICY)
        store = Store(f"sqlite:///{folder}/noise.db")
        upgrade(store)
        desk = Tickets(store, PolicyBook.load(folder), admins={SYSTEM})
        client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        desk.open(
            "T1", title="checkout is down", severity="p1", policy="noisy", reporter="UREP",
            now=T0, channel=CHANNEL,
        )  # fmt: skip
        Courier(store, desk, fake.url, lambda: T0)()  # the card, as serve's woken clock posts it
        opened = len(fake.calls_to("chat.postMessage")), len(fake.calls_to("chat.update"))
        clock = Dispatcher(store, desk, Fanout([SlackNotifier(client)]), name="noise")
        most = 0
        for second in range(12 * 60 + 1):
            before = len(fake.calls_to("chat.postMessage"))
            clock.tick(T0 + timedelta(seconds=second))
            sent = fake.calls_to("chat.postMessage")[before:]
            per_person = Counter(c.args["channel"] for c in sent if c.args["channel"][0] == "U")
            per_dm = Counter(c.response["channel"] for c in sent if c.response["channel"][0] == "D")
            most = max([most, *per_person.values(), *per_dm.values()])
        posts = fake.calls_to("chat.postMessage")[opened[0] :]
        dms = [c for c in posts if c.response["channel"].startswith("D")]
        elsewhere = [c for c in posts if c.response["channel"] == "CPAGES"]
        edits = len(fake.calls_to("chat.update")) - opened[1]
        print(f"posts {len(posts)}  DMs {len(dms)}  posts in #pages {len(elsewhere)}  "
              f"card edits {edits}  most messages to one person in one tick {most}")  # fmt: skip
        store.dispose()


if __name__ == "__main__":
    main()
