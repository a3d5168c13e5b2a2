"""Alert groups from Prometheus Alertmanager (webhook ``version: "4"``) and Grafana alerting
(the same shape, ``version: "1"``, plus a few fields of its own): tickets and outages.

A group is one ``groupKey``: Alertmanager sends it again while it fires (when alerts join or
leave it, and every ``repeat_interval``) and once more when all its alerts have resolved. So:

* firing, first time: `Tickets.open` with ``source_ref`` = the group key, ``reported_at`` =
  its earliest alert's ``startsAt`` (the clock starts when monitoring saw the problem), and the
  route's policy, severity and channel; or, for an ``outage`` route, `Outages.start` from
  that same instant, with no ticket.
* firing again: the same ticket, unchanged. A resolved ticket is reopened when alerts started
  after its resolution (the problem is back); alerts from before it are a late copy of an
  earlier notification, or still firing after a person resolved the ticket: no change.
* resolved: `Tickets.resolve` or `Tickets.post_update` as the route says, or `Outages.end`.

A group key lives as long as the route and labels that make it, so the same group may fire
again next month, after its ticket was closed (or resolved beyond the policy's reopen window).
Such a ticket cannot change, so each such episode gets a ticket of its own under the key with
``#2``, ``#3``… after it; every notification acts on the newest. Every step is safe to
repeat: Alertmanager retries a webhook it did not see answered, and a repeat finds what the
first delivery did.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from ..outages import Outages
from ..tickets import AlreadyDone, ChangeRequest, Invalid, NotFound, Tickets, TicketView
from ..tickets.changes import MAX_TEXT
from ..tickets.opening import MAX_SOURCE_REF, MAX_TITLE
from .cards import note as said
from .hookroutes import Hooks, Route

MAX_EPISODES = 1000  # a group that fired more often than this is not one problem
NAMES = {"alertmanager": "Alertmanager", "grafana": "Grafana"}


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    generatorURL: str = ""
    fingerprint: str = ""


class AlertGroup(BaseModel):
    """The documented webhook body; what slabot does not use is ignored."""

    model_config = ConfigDict(extra="ignore")

    version: str
    groupKey: str = Field(min_length=1)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[Alert] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ("4", "1"):
            raise ValueError(
                f"webhook version {value!r} is not one slabot reads: Alertmanager sends "
                '"4", Grafana "1"'
            )
        return value


@dataclass(frozen=True)
class Outcome:
    """What a delivery did, for the sender's answer."""

    action: str  # opened, repeat, reopened, resolved, updated, outage_started, outage_ended…
    ticket: str | None = None

    def answer(self) -> dict[str, Any]:
        return {"action": self.action, "ticket": self.ticket}


class Unroutable(Exception):
    """No route takes the group, or the route cannot serve it; says what to add."""


class AlertIntake:
    def __init__(
        self,
        tickets: Tickets,
        outages: Outages,
        hooks: Hooks,
        workspace: str,
    ):
        self.tickets = tickets
        self.outages = outages
        self.hooks = hooks
        self.workspace = workspace

    def receive(self, source: str, group: AlertGroup, now: datetime) -> Outcome:
        hooks = self.hooks
        labels = {**group.groupLabels, **group.commonLabels}
        route = hooks.route(source, labels)
        if route is None:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"
            raise Unroutable(
                f"no route in the hooks file takes this {NAMES[source]} group (labels: {shown}): "
                "add a route whose match these labels meet"
            )
        started = min(min(a.startsAt for a in group.alerts), now)
        if route.firing == "outage":
            return self._outage(source, group, route, started, now)
        channel = route.channel or hooks.channel
        if group.status == "resolved":
            return self._resolved(source, group, route, started, now)
        return self._firing(source, group, route, channel, started, now)

    # -- tickets --------------------------------------------------------------------------------

    def _firing(
        self,
        source: str,
        group: AlertGroup,
        route: Route,
        channel: str | None,
        started: datetime,
        now: datetime,
    ) -> Outcome:
        view, ref = self._latest(source, group.groupKey, now)
        if view is not None and view.ticket.status == "resolved":
            resolved_at = view.ticket.resolved_at
            if resolved_at and max(a.startsAt for a in group.alerts) <= resolved_at:
                # Alerts that started before the resolution: a late copy of an earlier
                # notification (a retry, the other Alertmanager of a pair), or a ticket a
                # person resolved while its alerts still fire. Neither reopens it.
                return Outcome("repeat", view.ticket.ref)
            try:
                reopened = self.tickets.reopen(
                    ChangeRequest(
                        self.workspace,
                        view.ticket.number,
                        actor=source,
                        now=now,
                        say=said(f"{NAMES[source]}: the alert fires again."),
                    ),
                    reason=f"{NAMES[source]}: the alert fires again",
                )
            except Invalid:
                view = None  # past the policy's reopen window: a new episode, a new ticket
            else:
                return Outcome("reopened", reopened.ticket.ref)
        if view is not None and view.ticket.status != "closed":
            return Outcome("repeat", view.ticket.ref)
        severity = route.severity_for({**group.groupLabels, **group.commonLabels})
        result = self.tickets.open(
            self.workspace,
            title=_title(group),
            description=_description(source, group),
            reporter=source,
            now=now,
            severity=severity,
            policy=route.policy,
            channel=channel,
            reported_at=started,
            source=source,
            source_ref=ref,
            customer=route.customer,
        )
        if not result.created:
            return Outcome("repeat", result.view.ticket.ref)
        return Outcome("opened", result.view.ticket.ref)

    def _resolved(
        self, source: str, group: AlertGroup, route: Route, started: datetime, now: datetime
    ) -> Outcome:
        view, _ = self._latest(source, group.groupKey, now)
        if view is None or view.ticket.status in ("resolved", "closed"):
            # Resolved before, by this hook or by someone: a repeat, nothing to do.
            return Outcome("repeat", view.ticket.ref if view else None)
        note = f"{NAMES[source]}: the alert has resolved ({_names(group)})."
        # This episode's recovery, however often it is delivered: an update is posted once.
        ref = view.ticket.source_ref
        key = f"{source}:resolved:" + hashlib.sha256(f"{ref}@{started}".encode()).hexdigest()[:40]
        request = ChangeRequest(
            self.workspace,
            view.ticket.number,
            actor=source,
            now=now,
            idempotency_key=key,
            say=said(note),
        )
        try:
            if route.resolved == "resolve":
                done = self.tickets.resolve(request, note=note)
            else:
                done = self.tickets.post_update(request, note)
        except AlreadyDone:  # a second delivery of the same resolution, at the same moment
            return Outcome("repeat", view.ticket.ref)
        if done.replayed:
            return Outcome("repeat", done.ticket.ref)
        return Outcome("resolved" if route.resolved == "resolve" else "updated", done.ticket.ref)

    def _latest(self, source: str, key: str, now: datetime) -> tuple[TicketView | None, str]:
        """The ticket of the group's latest episode (None: none yet), and the reference the
        next episode's ticket would take."""
        base, latest = _ref(key), None
        for n in range(1, MAX_EPISODES + 1):
            ref = base if n == 1 else f"{base[: MAX_SOURCE_REF - 8]}#{n}"
            view = self.tickets.by_source(self.workspace, source, ref, now)
            if view is None:
                return latest, ref
            latest = view
        raise Invalid(f"this group has fired more than {MAX_EPISODES} times: give it a new key")

    # -- outages -------------------------------------------------------------------------------

    def _outage(
        self, source: str, group: AlertGroup, route: Route, started: datetime, now: datetime
    ) -> Outcome:
        policy = route.policy or ""
        if group.status == "firing":
            try:
                self.outages.start(
                    self.workspace,
                    policy,
                    channel=route.channel,
                    actor=source,
                    now=now,
                    at=started,
                    note=f"{NAMES[source]}: {_title(group)}",
                )
            except AlreadyDone:
                return Outcome("repeat")
            return Outcome("outage_started")
        try:
            self.outages.end(self.workspace, policy, actor=source, now=now, note="resolved")
        except NotFound:
            return Outcome("repeat")
        return Outcome("outage_ended")


def _ref(key: str) -> str:
    """The group key as a source reference: whole when it fits, else its start and a digest
    (keys name the route and every grouping label, and can be long)."""
    if len(key) <= MAX_SOURCE_REF - 8:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[: MAX_SOURCE_REF - 8 - 18]}…{digest}"


def _title(group: AlertGroup) -> str:
    first = group.alerts[0]
    title = (
        group.commonAnnotations.get("summary")
        or first.annotations.get("summary")
        or group.commonLabels.get("alertname")
        or first.labels.get("alertname")
        or "alert"
    )
    more = len(group.alerts) - 1
    title = (
        f"{title} (+{more} more)" if more and "summary" not in group.commonAnnotations else title
    )
    return title.strip()[: MAX_TITLE - 100] or "alert"


def _names(group: AlertGroup) -> str:
    return ", ".join(sorted({a.labels.get("alertname", "alert") for a in group.alerts}))


def _description(source: str, group: AlertGroup) -> str:
    lines: list[str] = []
    for alert in group.alerts:
        text = alert.annotations.get("description") or alert.annotations.get("summary") or ""
        name = alert.labels.get("alertname", "alert")
        lines.append(
            f"• {name}: {text}".rstrip(": ")
            + (f" ({alert.generatorURL})" if alert.generatorURL else "")
        )
    if group.externalURL:
        lines.append(f"{NAMES[source]}: {group.externalURL}")
    return "\n".join(lines)[: MAX_TEXT - 100]
