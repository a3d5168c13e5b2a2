"""The Workflow Builder step "Open SLA ticket" (a custom step: Bolt's ``app.function``).

Teams open tickets from their own no-code workflows (a form, an emoji reaction, a scheduled
check): the step takes a title, a description, a severity and a channel, opens the ticket
through the same use case as ``/sla open``, posts its card, and hands the workflow the ticket's
number and ID for the steps after it. The step's execution id is the ticket's source ref, so a
redelivered event finds the ticket it opened. A refusal (no severity and a text that names
none, an unknown severity, no title) fails the step with the reason, which Workflow Builder
shows to whoever runs the workflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import StringConstraints
from slack_bolt import App

from .blocks.notes import saying
from .guard import REFUSALS, sorry
from .payloads import SlackId, _Part, read

if TYPE_CHECKING:
    from .app import Slabot

STEP = "sla_open"  # the function's callback id in both manifests
SOURCE = "slack-workflow"
WORKFLOW = "workflow"  # the reporter when the step is given none


class StepInputs(_Part):
    title: str
    channel: SlackId
    description: str = ""
    severity: str | None = None
    reporter: SlackId | None = None


class StepEvent(_Part):
    function_execution_id: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class StepDelivery(_Part):
    team_id: SlackId
    event: StepEvent


def register(app: App, bot: Slabot) -> None:
    @app.function(STEP)
    def open_ticket(inputs: dict[str, Any], body: dict[str, Any], complete: Any, fail: Any):
        try:
            given = read(StepInputs, inputs, "the step's inputs")
            delivery = read(StepDelivery, body, "the step")
            now = bot.now()
            reporter = given.reporter or WORKFLOW
            result = bot.tickets.open(
                delivery.team_id,
                title=given.title,
                reporter=reporter,
                now=now,
                severity=(given.severity or "").strip() or None,
                channel=given.channel,
                description=given.description,
                source=SOURCE,
                source_ref=delivery.event.function_execution_id,
                say=saying("open", reporter),
            )
        except REFUSALS as exc:
            fail(error=_for_the_step(str(exc)))
            return
        except Exception as exc:
            fail(error=sorry(exc, "the workflow step"))
            return
        view = result.view  # its card is owed with it: the clock posts it
        complete(outputs={"ticket_id": view.ticket.ref, "ticket_number": view.ticket.number})


def _for_the_step(problem: str) -> str:
    """A refusal as the person running the workflow can act on it: the step's inputs, not a
    slash command."""
    if problem.startswith("Which severity"):
        return f"{problem} Give the step a severity input."
    return problem
