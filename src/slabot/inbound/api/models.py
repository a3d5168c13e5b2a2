"""What the HTTP API takes and answers, as pydantic models: they validate each request
(through spectree) and are the OpenAPI document's schemas, so the two cannot drift apart.

Requests declare only what slabot reads and refuse anything else (``extra="forbid"``): a
misspelt field is an error that names it, not silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ...sla.policy import CUSTOMER_MAX
from ...tickets import TicketView
from ...tickets.changes import MAX_TEXT
from ...tickets.opening import MAX_SOURCE_REF, MAX_TITLE

CHANNEL = r"^[CG][A-Z0-9]{2,31}$"
KEY = r"^[!-~]{1,100}$"  # visible ASCII: a UUID, a delivery id


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChangeHeaders(BaseModel):
    """Every change carries an ``Idempotency-Key``: a network failure leaves a client not
    knowing whether its change was made, and only a key makes sending it again safe. So it is
    required, not merely recommended: without it a retried open would be a second ticket."""

    model_config = ConfigDict(extra="ignore")

    idempotency_key: str = Field(
        alias="Idempotency-Key",
        pattern=KEY,
        description="a key unique to this change (a UUID), sent again unchanged on a retry: "
        "the retry answers as the first did; another request under the same key is refused",
    )

    @model_validator(mode="before")
    @classmethod
    def _any_case(cls, data: Any) -> Any:
        """Header names are case-insensitive; servers hand them over in any case."""
        if isinstance(data, dict):
            return {
                ("Idempotency-Key" if str(k).lower() == "idempotency-key" else k): v
                for k, v in data.items()
            }
        return data


class OpenTicket(Request):
    title: str = Field(min_length=1, max_length=MAX_TITLE, description="what is wrong")
    description: str = Field("", max_length=MAX_TEXT)
    severity: str | None = Field(
        None,
        max_length=64,
        description="a severity key or alias of the policy (p1, critical…); left out, it is "
        "classified from the title and description as `/sla open` does",
    )
    policy: str | None = Field(
        None, max_length=64, description="left out: the channel's, else the default"
    )
    channel: str | None = Field(
        None,
        pattern=CHANNEL,
        description="where the card goes (a channel ID); left out: the token's channel",
    )
    reported_at: AwareDatetime | None = Field(
        None,
        description="when the customer reported it (ISO 8601 with an offset): the contract's "
        "clocks start then; left out, now",
    )
    source_ref: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_SOURCE_REF,
        description="your system's own id for the item (a Zendesk ticket number): a second "
        "open with the same one answers with the ticket it opened",
    )
    customer: str | None = Field(
        None,
        min_length=1,
        max_length=CUSTOMER_MAX,
        description="the customer it is for; left out, the policy's own when it names one (a "
        "policy that lists its customers takes only those)",
    )


class PostUpdate(Request):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    eta: AwareDatetime | None = Field(None, description="when a fix is expected (future)")
    workaround: bool = False


class Pause(Request):
    status: Literal["waiting_on_customer", "waiting_on_third_party", "pending"] = (
        "waiting_on_customer"
    )


class Resolve(Request):
    note: str = Field("", max_length=MAX_TEXT)


class Empty(Request):
    """A change that needs nothing more than its path (acknowledge, resume)."""


class QueueQuery(Request):
    policy: str | None = Field(None, max_length=64)
    limit: int = Field(20, ge=1, le=100)
    at_risk: bool = Field(False, description="only tickets with a running deadline")


class Deadline(BaseModel):
    target: str = Field(description="time_to_open, first_response, resolution, update_every")
    label: str
    state: Literal["running", "paused", "met", "missed", "breached", "stopped"]
    started: datetime
    due: datetime | None = Field(description="null while a pause stops the clock")
    met_at: datetime | None
    breached: bool
    paused_by: str | None


class Ticket(BaseModel):
    ref: str = Field(examples=["SLA-42"])
    number: int
    title: str
    description: str
    policy: str
    severity: str
    status: str
    breached: bool = Field(description="a deadline was missed or is overdue")
    channel: str | None
    reporter: str
    owner: str | None
    source: str
    source_ref: str | None
    customer: str | None
    reported_at: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    next_due_at: datetime | None
    version: int
    deadlines: list[Deadline]

    @classmethod
    def of(cls, view: TicketView) -> Ticket:
        t = view.ticket
        deadlines = [
            Deadline(
                target=d.target,
                label=d.label,
                state=d.state,
                started=d.started,
                due=d.due,
                met_at=d.met_at,
                breached=d.state in ("missed", "breached"),
                paused_by=d.paused_by,
            )
            for d in view.schedule.deadlines
        ]
        # Every other field is the ticket's own column (or ``ref``) by the same name.
        own = {
            name: getattr(t, name)
            for name in cls.model_fields
            if name not in ("breached", "deadlines")
        }
        return cls(**own, breached=any(d.breached for d in deadlines), deadlines=deadlines)


class Opened(BaseModel):
    created: bool = Field(description="false: the same source_ref had opened it before")
    classified: str | None = Field(description="why this severity, when it was classified")
    ticket: Ticket


class Queue(BaseModel):
    tickets: list[Ticket]


class Problem(BaseModel):
    field: str
    problem: str


class Error(BaseModel):
    error: str = Field(description="a code: bad_request, unauthorized, forbidden, not_found…")
    message: str = Field(description="what is wrong and what to do")
    fields: list[Problem] = Field(default_factory=list)
