"""Pagers outside Slack, per escalation level in the policy: PagerDuty and a signed webhook.

::

    levels:
      - key: support_manager
        label: Support manager
        pagerduty: {routing_key_env: PAGERDUTY_ROUTING_KEY}
        webhook: {url: https://ops.example.com/slabot, secret_env: SLABOT_WEBHOOK_SECRET}

Keys and secrets come from the environment, named by the policy, so policy files can be shared
and versioned. Both go through httpx. A PagerDuty event is a v2 ``trigger`` whose ``dedup_key``
is the timer's key, so PagerDuty itself folds a repeated delivery into the same incident; the
webhook carries the same key (``X-Slabot-Timer``, and as the message's ``webhook-id``) for its
receiver to do likewise, and is signed in the Standard Webhooks scheme (`slabot.signatures`):
the id and the time of sending are signed with the body, so a captured page cannot be sent
again later (the receiver refuses an old timestamp or an id it has taken).

Neither can be asked afterwards whether an event arrived, so after a clock died mid-delivery
they send again and rely on those keys. Failures are reported like Slack's: 429 (with its
Retry-After), 5xx, timeouts and refused connections are retryable, other answers and missing
keys need an operator.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import signatures
from ..clock.words import summary
from ..sla.policy import EscalationLevel, PagerDuty, Webhook
from .base import Delivery, DeliveryFailed, Receipt, Recovery

if TYPE_CHECKING:
    import httpx

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
TIMEOUT = 10.0  # seconds


class Pagers:
    """``http`` is the HTTP client, or what makes it at the first page: the clock passes a
    maker, so that httpx is not imported as it starts for pages that may never come."""

    def __init__(
        self, http: httpx.Client | Callable[[], httpx.Client], env: Mapping[str, str] = os.environ
    ):
        self._http = http
        self._making = threading.Lock()
        self.env = env

    @property
    def http(self) -> httpx.Client:
        if callable(self._http):
            with self._making:  # workers page at once: one client for all of them
                if callable(self._http):
                    self._http = self._http()
        return self._http

    def send(self, delivery: Delivery) -> Receipt:
        receipt: Receipt = {}
        level = _level(delivery)
        failures: list[DeliveryFailed] = []
        for part, config in _parts(level):
            if part in delivery.done:
                continue
            try:
                if isinstance(config, PagerDuty):
                    receipt[part] = self._pagerduty(config, delivery)
                else:
                    receipt[part] = self._webhook(config, delivery)
            except DeliveryFailed as failure:
                failures.append(failure)
        if failures:
            raise DeliveryFailed.combined(failures, frozenset(receipt))
        return receipt

    def together(self, deliveries: Sequence[Delivery]) -> dict[str, Receipt]:
        """Nothing shared: each page is its own incident, folded by its own key."""
        return {}

    def recover(self, deliveries: Sequence[Delivery]) -> Recovery:
        """Nothing to look for: pagers cannot be asked, and fold a repeat by the timer's key."""
        return {}

    def delivered(self, delivery: Delivery) -> bool:
        return all(part in delivery.done for part, _ in _parts(_level(delivery)))

    def gave_up(self, delivery: Delivery, reason: str) -> None:
        """Nothing to do: the ticket's channel is told through Slack."""

    def redraw(self, delivery: Delivery) -> None:
        """Nothing to do: a pager's event shows no ticket state."""

    def _pagerduty(self, config: PagerDuty, delivery: Delivery) -> str:
        key = self._secret(config.routing_key_env, "PagerDuty routing key")
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": delivery.key,
            "payload": {
                "summary": summary(delivery.view, delivery.timer),
                "source": "slabot",
                "severity": "critical",
                "timestamp": delivery.now.isoformat(),
                "custom_details": _details(delivery),
            },
            "client": "slabot",
        }
        response = self._post("PagerDuty", PAGERDUTY_URL, json.dumps(event).encode(), {})
        return str(_json(response).get("dedup_key") or delivery.key)

    def _webhook(self, config: Webhook, delivery: Delivery) -> str:
        secret = self._secret(config.secret_env, "webhook secret")
        body = json.dumps(
            {
                "event": "slabot.page",
                "timer": delivery.key,
                "summary": summary(delivery.view, delivery.timer),
                **_details(delivery),
            }
        ).encode()
        # Signed as sent (each retry afresh, at its own time), as one message: the timer's key.
        signed = signatures.headers(secret, delivery.key, int(delivery.now.timestamp()), body)
        headers = {**signed, "X-Slabot-Timer": delivery.key}
        response = self._post("webhook", config.url, body, headers)
        return str(response.status_code)

    def _secret(self, name: str, what: str) -> str:
        value = self.env.get(name)
        if not value:
            raise DeliveryFailed(f"{name} is not set: the policy takes the {what} from it", False)
        return value

    def _post(self, name: str, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        import httpx

        try:
            response = self.http.post(
                url,
                content=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=TIMEOUT,
            )
        except httpx.TransportError as exc:  # timeouts, refused or dropped connections
            raise DeliveryFailed(f"{name} unreachable: {exc!r}") from None
        if response.is_success:
            return response
        status = response.status_code
        retry_after = _seconds(response.headers.get("Retry-After")) if status == 429 else None
        raise DeliveryFailed(
            f"{name} answered {status}",
            retryable=status == 429 or status >= 500,
            retry_after=retry_after,
        )


def _level(delivery: Delivery) -> EscalationLevel | None:
    escalation = delivery.view.policy.escalation
    if delivery.timer.kind != "page" or escalation is None or delivery.timer.level is None:
        return None
    try:
        return escalation.level(delivery.timer.level)
    except KeyError:
        return None


def _parts(level: EscalationLevel | None) -> list[tuple[str, PagerDuty | Webhook]]:
    parts: list[tuple[str, PagerDuty | Webhook]] = []
    if level is not None and level.pagerduty is not None:
        parts.append(("pagerduty", level.pagerduty))
    if level is not None and level.webhook is not None:
        parts.append(("webhook", level.webhook))
    return parts


def _details(delivery: Delivery) -> dict[str, Any]:
    ticket, timer = delivery.view.ticket, delivery.timer
    return {
        "ticket": ticket.ref,
        "workspace": ticket.workspace,
        "title": ticket.title,
        "severity": ticket.severity,
        "policy": ticket.policy,
        "level": timer.level,
        "repeat": timer.repeat,
        "due_at": timer.due_at.isoformat(),
        "late": delivery.late,
        "clause": timer.detail.get("clause"),
    }


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
