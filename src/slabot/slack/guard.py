"""The one error path of clicks and form submissions.

Bolt waits up to three seconds for a listener's acknowledgement. A listener that raises after
acknowledging makes Bolt forget the acknowledgement, wait out the three seconds and answer
404; one that raises before it is a 500. So no listener here raises: each is wrapped, parses
its payload first (`payloads`), and whatever refuses the request (a `BadRequest`, a
`TicketError`, an unclear severity) or fails unexpectedly is answered the same way: a click
at once, then an ephemeral note to the person who clicked; a form with an error beside its
field, the form kept open. Nothing is written before the request has been read whole.

A database that does not answer is not a bug: the person is told so (`sorry`), and that the
same request will work in a minute, since nothing was written (a transaction cut short is
rolled back whole).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from ..store import unavailable
from ..tickets import SeverityUnclear, TicketError
from .blocks.kit import mention, slack_date
from .payloads import BadRequest, Click, Submission, read

log = logging.getLogger(__name__)
SORRY = "Something went wrong on our side; try again."
UNREACHABLE = "slabot cannot reach its database; try again in a minute."
ERROR_MAX = 150  # Slack's limit on a field error's text
REFUSALS = (BadRequest, TicketError, SeverityUnclear)

ClickHandler = Callable[[Click, Any], None]
SubmitHandler = Callable[[Ack, Submission], None]


def on_click(handler: ClickHandler) -> Callable[..., None]:
    """A Bolt action listener: acknowledge, read the click, run ``handler(click, client)``,
    and tell the clicker whatever refused it."""

    def listener(ack: Ack, body: dict[str, Any], client: Any, respond: Any = None) -> None:
        ack()
        try:
            handler(read(Click, body, "this click"), client)
        except REFUSALS as exc:
            tell(client, body, said(exc), respond)
        except Exception as exc:
            tell(client, body, sorry(exc, f"the click on {_action_id(body)}"), respond)

    return listener


def on_submit(field: str) -> Callable[[SubmitHandler], Callable[..., None]]:
    """Makes a Bolt view listener of ``handler(ack, submission)``: the submission read first;
    a refusal the handler did not answer itself is shown beside ``field`` (or the field the
    refusal names)."""

    def wrap(handler: SubmitHandler) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any]) -> None:
            try:
                handler(ack, read(Submission, body, "this form"))
            except REFUSALS as exc:
                refuse(ack, getattr(exc, "field", None) or field, said(exc))
            except Exception as exc:
                refuse(ack, field, sorry(exc, f"the form {_callback_id(body)}"))

        return listener

    return wrap


def said(exc: Exception) -> str:
    """A refusal in Slack's words: the people a use case names (by user id) as mentions, the
    instants as date tokens in each reader's own zone."""
    if not isinstance(exc, TicketError):
        return str(exc)
    return exc.says(mention, lambda at: slack_date(at, "UTC"))


def sorry(exc: Exception, what: str) -> str:
    """What to tell someone whose request ``what`` failed on our side with ``exc``, logged
    here: the database is away (one line: an outage, not a bug), or something went wrong (the
    traceback)."""
    reason = unavailable(exc)
    if reason is not None:
        log.warning("%s failed: the database is unreachable (%s)", what, reason)
        return UNREACHABLE
    log.error("%s failed", what, exc_info=exc)
    return SORRY


def refuse(ack: Ack, field: str, text: str) -> None:
    """Keep the form open with ``text`` beside ``field``, unless it was answered already."""
    if ack.response is None:
        ack(response_action="errors", errors={field: text[:ERROR_MAX]})


def tell(client: Any, body: dict[str, Any], text: str, respond: Any = None) -> None:
    """An ephemeral note to the person who clicked: in the channel where they clicked, else
    through the click's response URL (a click in a DM or a message slabot cannot see)."""
    channel, user = _id(body.get("channel")), _id(body.get("user"))
    try:
        if channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif getattr(respond, "response_url", None):
            respond(response_type="ephemeral", replace_original=False, text=text)
        else:
            log.warning("nowhere to tell %s: %s", user, text)
    except Exception:
        log.exception("could not tell %s: %s", user, text)


def _id(part: Any) -> str | None:
    found = part.get("id") if isinstance(part, dict) else None
    return found if isinstance(found, str) else None


def _action_id(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    return actions[0].get("action_id") if isinstance(actions, list) and actions else None


def _callback_id(body: dict[str, Any]) -> str | None:
    view = body.get("view")
    return view.get("callback_id") if isinstance(view, dict) else None
