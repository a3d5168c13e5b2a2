"""Where inbound sources hand over a ticket's card and thread notes: the one place.

Nothing in `slabot.inbound` posts to Slack; it tells `Cards` (in ``slabot serve``, the same
`slabot.slack.publish.Publisher` that ``/sla open`` uses) that a ticket opened or changed, so
an alert's ticket has the same card and thread as a typed one, and when card delivery moves
onto a durable queue every source moves with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ..tickets import TicketView


class Cards(Protocol):
    def opened(self, view: TicketView, now: datetime, note: str = "") -> None: ...

    def changed(self, view: TicketView, now: datetime, note: str) -> None: ...
