"""The one place the API's changes reach Slack: each ticket's card and thread, handed to the
inbound sources' `slabot.inbound.cards.Cards` (in ``serve``, the `Publisher` that ``/sla``
uses), after the HTTP answer has left.

Slack is slow at times (rate limits, retries with backoff), and an API client should not wait
on it, just as Slack's own requests are acknowledged before the card is drawn. So publishing
runs on a small pool of threads; the Publisher serializes each ticket's publishing and draws
the card from the ticket as it stands, so the card ends showing the latest state whichever
thread runs last.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...tickets import TicketView

if TYPE_CHECKING:
    from ..cards import Cards as Publisher

log = logging.getLogger(__name__)


class Cards:
    def __init__(self, publisher: Publisher, threads: int = 4):
        self.publisher = publisher
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="api-cards")

    def opened(self, view: TicketView, now: datetime, actor: str) -> Future[None]:
        from ...slack.blocks.notes import change_note

        return self._later(self.publisher.opened, view, now, change_note("open", actor, view))

    def changed(
        self, view: TicketView, now: datetime, verb: str, actor: str, **said: Any
    ) -> Future[None]:
        from ...slack.blocks.notes import change_note

        return self._later(
            self.publisher.changed, view, now, change_note(verb, actor, view, **said)
        )

    def close(self) -> None:
        """Wait for what is being published, and take no more."""
        self._pool.shutdown(wait=True)

    def _later(self, publish: Any, view: TicketView, now: datetime, note: str) -> Future[None]:
        future = self._pool.submit(publish, view, now, note)
        future.add_done_callback(_log_failure)
        return future


def _log_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        log.error("could not publish a ticket's card", exc_info=error)
