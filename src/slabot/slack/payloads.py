"""What slabot reads from Slack's requests, parsed and checked before anything acts on it.

A request can be signed by Slack and still be unreadable: a control's value damaged, a form's
``private_metadata`` that is not ours, a key missing, a number where an object belongs. Each
model below declares only the parts slabot reads, and `read` turns any misfit into a
`BadRequest` whose one-line message says what is wrong and what to do. Listeners parse first
and act after, so a bad request is refused before anything is written, and one error path
(`slack.guard`) answers it. `Envelope` is the part Bolt itself reads to route a request,
checked at the HTTP edge (`slabot.web`) where a misfit is answered 400.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

if TYPE_CHECKING:
    from ..tickets import ChangeRequest
    from ..tickets.timers import Say

# Slack's ids (T…, U…, C…) and triggers are short; the bounds keep every idempotency key built
# of them (``click:…``, ``pick:…``, ``cmd:…``) within its 128-character column.
SlackId = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Trigger = Annotated[str, StringConstraints(min_length=1, max_length=80)]
ActionTs = Annotated[str, StringConstraints(min_length=1, max_length=20)]
Number = Annotated[int, Field(gt=0, lt=10**9)]
SCRAPS = "use the buttons on the ticket's latest card, or `/sla help`"

M = TypeVar("M", bound=BaseModel)


class BadRequest(Exception):
    """A signed request slabot cannot act on. ``field``: the form field to show it beside."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def read(model: type[M], data: Any, what: str) -> M:
    """``data`` as ``model``, or a `BadRequest` naming ``what`` and the first misfit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "its content"
        raise BadRequest(f"slabot could not read {what} ({where}: {error['msg']})") from None


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Ref(_Part):
    id: SlackId


class Option(_Part):
    value: str


class Actor(_Part):
    """Who clicked, submitted or asked, and their own workspace: in a Slack Connect channel
    another organisation's, whom slabot knows no better than any unknown user."""

    id: SlackId
    team_id: SlackId | None = None


class Interaction(_Part):
    """A click, a form or a shortcut, and the workspace it acts in: where slabot is installed,
    whose tickets it reads and writes, whoever the person is.

    * A modal's ``view.app_installed_team_id`` names the installed workspace when the modal
      was opened from another one through a Slack Connect channel (slack-bolt reads it first
      for the same reason: its ``extract_team_id``; without it a customer's form was
      authorized against their own workspace, bolt-python issue 767), while ``team`` is the
      person's own workspace.
    * Otherwise ``team``: for a click on a card in a shared channel it is the workspace of the
      app that posted the card, and ``user.team_id`` the clicker's (java-slack-sdk issue 1041
      shows such a payload).
    * ``team`` is null in interactivity payloads of an org-wide install in an Enterprise Grid
      org (bolt-python pull request 23 shows one: ``team: None``, ``enterprise``,
      ``is_enterprise_install: true``, ``user.team_id``): the person's workspace is the one.
    """

    team: Ref | None = None
    user: Actor

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if not self.workspace:
            raise ValueError("no workspace: neither team.id nor user.team_id")
        return self

    @property
    def workspace(self) -> str:
        view = getattr(self, "view", None)  # a form, or a click inside one, carries its view
        installed = view.app_installed_team_id if view is not None else None
        return installed or (self.team.id if self.team else self.user.team_id) or ""

    @property
    def key(self) -> str:
        """The natural key: the same in every delivery of this click or form."""
        raise NotImplementedError

    def asks(
        self, ref: str | int, now: datetime, say: Say | None, *, version: int | None = None
    ) -> ChangeRequest:
        """The change this person asks of ticket ``ref``, in the interaction's workspace and
        under its natural key (a delivery again changes nothing); ``version``: the ticket's
        version the card showed, when a stale card must be refused."""
        # Imported here: the WSGI edge reads this module's envelope checks before anything
        # else, and the tickets' package brings the store (SQLAlchemy) with it.
        from ..tickets import ChangeRequest

        return ChangeRequest(
            self.workspace,
            ref,
            actor=self.user.id,
            now=now,
            expected_version=version,
            idempotency_key=self.key,
            say=say,
        )


# -- what Bolt reads to route a request ------------------------------------------------------


class _Routed(_Part):
    action_id: str
    block_id: str | None = None


class _ViewRef(_Part):
    callback_id: str = ""


class _EventRef(_Part):
    type: str


class Envelope(_Part):
    """The keys Bolt reads before any listener runs (context, matchers, its middleware), with
    the types it assumes: a misfit there would be a 500 from inside Bolt."""

    type: str | None = None
    event_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    team: dict[str, Any] | str | None = None
    user: dict[str, Any] | str | None = None
    enterprise: dict[str, Any] | str | None = None
    channel: dict[str, Any] | str | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    authorizations: list[dict[str, Any]] | None = None
    actions: list[_Routed] | None = None
    view: _ViewRef | None = None
    event: _EventRef | None = None
    command: str | None = None


def check_envelope(body: Any) -> None:
    if not isinstance(body, dict):
        raise BadRequest("slabot could not read the request: its body is not a JSON object")
    envelope = read(Envelope, body, "the request")
    if envelope.type == "block_actions" and not envelope.actions:
        raise BadRequest("slabot could not read the request: a click with no action")


# -- clicks ----------------------------------------------------------------------------------


class Action(_Part):
    action_id: str
    action_ts: ActionTs
    value: str | None = None
    selected_option: Option | None = None

    @property
    def chosen(self) -> str:
        """A button's value, or the option picked in a menu."""
        if self.value is not None:
            return self.value
        if self.selected_option is not None:
            return self.selected_option.value
        raise BadRequest(f"slabot could not read this control: it carries no value; {SCRAPS}")


class Container(_Part):
    message_ts: Annotated[str, StringConstraints(max_length=32)] | None = None


class Message(_Part):
    """The message a clicked control is on, as Slack echoes it back."""

    ts: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    text: str = ""
    blocks: list[dict[str, Any]] = Field(default_factory=list)


class Click(Interaction):
    """A ``block_actions`` payload: who clicked which control, in which workspace."""

    trigger_id: Trigger
    actions: list[Action] = Field(min_length=1)
    channel: Ref | None = None
    container: Container = Field(default_factory=Container)
    message: Message | None = None
    view: SubmittedView | None = None  # a control inside a form: the form as it stands
    response_url: str | None = None  # a click on a message: where to answer in its place

    @property
    def action(self) -> Action:
        return self.actions[0]

    @property
    def key(self) -> str:
        """The click's natural key: Slack's trigger and the action's time, both the same in
        every delivery of this click and different for any other."""
        return f"click:{self.trigger_id}:{self.action.action_ts}"


class TicketControl(_Part):
    """A card control's value: ``"<number>:<version>"``, a menu's ``…:<severity>`` after it."""

    number: Number
    version: Number | None = None
    option: str | None = None

    @classmethod
    def parse(cls, value: str) -> TicketControl:
        number, _, rest = value.partition(":")
        version, _, option = rest.partition(":")
        data = {"number": number, "version": version or None, "option": option or None}
        try:
            return cls.model_validate(data)
        except ValidationError:
            raise BadRequest(
                f"slabot could not read this control's value {value[:40]!r}: {SCRAPS}"
            ) from None


class PageControl(_Part):
    """The "I'm on it" button's value: ``"<number>:<level>"``."""

    number: Number
    level: Annotated[str, StringConstraints(min_length=1, max_length=64)]

    @classmethod
    def parse(cls, value: str) -> PageControl:
        number, _, level = value.partition(":")
        try:
            return cls.model_validate({"number": number, "level": level})
        except ValidationError:
            raise BadRequest(
                f"slabot could not read this page's button {value[:40]!r}: "
                "answer the page with `/sla ack ID` instead"
            ) from None


class _JsonValue(_Part):
    """A button value slabot wrote as JSON; ``UNREADABLE`` says what to do when it is not."""

    UNREADABLE: ClassVar[str]

    @classmethod
    def parse(cls, value: str) -> Self:
        try:
            return cls.model_validate_json(value)
        except ValidationError:
            raise BadRequest(cls.UNREADABLE) from None


class SeverityPick(_JsonValue):
    """A severity question's button: the summary typed, the policy and the severity chosen."""

    UNREADABLE = (
        "slabot could not read this answer to its question: "
        "open the ticket again with `/sla open SEVERITY summary`"
    )
    summary: str
    severity: str
    policy: str


class PendingUpdate(_JsonValue):
    """The update a *Post it* button carries, waiting for its author to confirm what its ETA
    postpones: the ticket, the text, the ETA (epoch seconds) and the workaround flag."""

    UNREADABLE = (
        "slabot could not read this update to confirm: post it again with "
        "`/sla update ID eta:TIME text`"
    )
    number: Number
    text: Annotated[str, StringConstraints(min_length=1)]
    eta: Annotated[int, Field(ge=0, le=253_402_300_799)]
    workaround: bool = False


# -- forms -----------------------------------------------------------------------------------


class Input(_Part):
    """One input's entry in ``view.state.values``, whatever its kind."""

    value: str | None = None
    selected_option: Option | None = None
    selected_date_time: Annotated[int, Field(ge=0, le=253_402_300_799)] | None = None  # ≤ 9999
    selected_options: list[Option] = Field(default_factory=list)
    selected_conversation: SlackId | None = None


class State(_Part):
    values: dict[str, dict[str, Input]] = Field(default_factory=dict)


class SubmittedView(_Part):
    id: SlackId
    app_installed_team_id: SlackId | None = None  # see `Interaction`
    hash: Annotated[str, StringConstraints(max_length=128)] = ""  # for views.update
    private_metadata: str = ""
    state: State = Field(default_factory=State)

    def field(self, block: str) -> Input:
        return next(iter(self.state.values.get(block, {}).values()), Input())

    def text(self, block: str) -> str:
        return self.field(block).value or ""

    def option(self, block: str) -> str | None:
        selected = self.field(block).selected_option
        return selected.value if selected else None


class Submission(Interaction):
    """A ``view_submission`` payload: who submitted which form."""

    view: SubmittedView

    @property
    def key(self) -> str:
        """The form's natural key: its view id, the same however often it is submitted."""
        return f"modal:{self.view.id}"


class OpenFormMetadata(_Part):
    """The open form's metadata: its channel, and the outside item it opens a ticket from
    (a message: source ``slack-message``, ref ``<channel>:<ts>``)."""

    channel: SlackId | None = None
    source: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")] | None = None
    ref: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None

    @classmethod
    def parse(cls, text: str, field: str) -> OpenFormMetadata:
        try:
            return cls.model_validate(json.loads(text or "{}"))
        except (ValueError, RecursionError, ValidationError):
            raise BadRequest(
                "slabot could not read this form: close it and run `/sla open` again", field
            ) from None


# -- events --------------------------------------------------------------------------------


class _HomeEvent(_Part):
    user: SlackId
    tab: str = "home"


class HomeOpened(_Part):
    """An ``app_home_opened`` delivery: whose Home tab, in which workspace."""

    team_id: SlackId
    event: _HomeEvent


# -- slash commands --------------------------------------------------------------------------


class SlashCommand(_Part):
    """A slash command's form fields (every value is text)."""

    team_id: SlackId
    user_id: SlackId
    trigger_id: Trigger
    channel_id: SlackId | None = None
    text: str = ""

    @property
    def key(self) -> str:
        """The command's natural key: Slack's trigger, the same in every delivery of it."""
        return f"cmd:{self.trigger_id}"


Click.model_rebuild()  # its form (SubmittedView) is defined further down
