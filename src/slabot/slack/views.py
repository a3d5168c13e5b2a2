"""View submissions (Bolt's `app.view`): the "open a ticket" form and the "post an update" form,
as `blocks.modals` draws them.

A refusal is shown next to the field it concerns, and the form stays open (`guard.on_submit`:
also for a form slabot cannot read, whose metadata is damaged or not its own). Each form's
view id is its idempotency key, so a form submitted twice opens one ticket or posts one
update.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_bolt import Ack, App

from ..tickets import Invalid, Postpones, SeverityUnclear, TicketError
from . import ids
from .blocks.modals import update_modal
from .blocks.notes import saying
from .blocks.postpone import postponed_words
from .guard import on_submit, refuse, said
from .payloads import BadRequest, OpenFormMetadata, Submission, TicketControl

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)


def register(app: App, bot: Slabot) -> None:
    @app.view(ids.OPEN_FORM)
    @on_submit("title")
    def submit_open(ack: Ack, form: Submission) -> None:
        view = form.view
        title = view.text("title")
        choice = view.option("severity")
        policy, _, severity = choice.partition(":") if choice else (None, "", None)
        menu = view.option("policy")
        if policy and menu and policy != menu:
            # A form drawn before the menu changed: never open under a contract not chosen.
            refuse(ack, "severity", f"That severity is one of {policy}'s: pick one of {menu}'s.")
            return
        policy = policy or menu
        metadata = OpenFormMetadata.parse(view.private_metadata, "title")
        channel = metadata.channel or view.field("channel").selected_conversation
        if channel is None and "channel" in view.state.values:
            refuse(ack, "channel", "Pick the channel the ticket's card goes to.")
            return
        stamp = view.field("reported").selected_date_time
        reported = datetime.fromtimestamp(stamp, UTC) if stamp else None
        workspace, user = form.workspace, form.user.id
        now = bot.now()
        try:
            bot.tickets.open(
                workspace,
                title=title,
                reporter=user,
                now=now,
                severity=severity or None,
                policy=policy,
                channel=channel,
                description=view.text("description"),
                reported_at=reported,
                customer=view.text("customer").strip() or None,
                idempotency_key=form.key,
                source=metadata.source or "slack",
                source_ref=metadata.ref,
                say=saying("open", user),
            )
        except SeverityUnclear as exc:
            refuse(ack, "severity", said(exc))
            return
        except Invalid as exc:
            refuse(ack, _field_of(str(exc)), said(exc))
            return
        ack()  # the card is owed with the ticket: the clock posts it

    @app.view(ids.UPDATE_FORM)
    @on_submit("text")
    def submit_update(ack: Ack, form: Submission) -> None:
        view = form.view
        try:
            control = TicketControl.parse(view.private_metadata)
        except BadRequest:
            raise BadRequest(
                "slabot could not tell which ticket this form is for: close it and post the "
                "update with `/sla update ID text`",
                "text",
            ) from None
        text = view.text("text")
        stamp = view.field("eta").selected_date_time
        eta = datetime.fromtimestamp(stamp, UTC) if stamp else None
        workaround = bool(view.field("workaround").selected_options)
        workspace, user = form.workspace, form.user.id
        now = bot.now()
        try:
            bot.tickets.post_update(
                form.asks(
                    control.number,
                    now,
                    saying("update", user, text=text, eta=eta, workaround=workaround),
                ),
                text,
                eta=eta,
                workaround=workaround,
                # Posted again with the ETA the form warned about: that is the confirmation.
                confirmed=stamp is not None and control.option == f"eta={stamp}",
            )
        except Postpones as exc:
            # Drawn again as typed, saying what the ETA puts off; posting again confirms.
            ticket = bot.tickets.view(workspace, control.number, now)
            words = postponed_words(ticket.ticket.ref, exc.postponed, ticket.policy.tz)
            again = update_modal(
                control.number,
                control.version,
                ticket.policy,
                text=text,
                eta=stamp,
                workaround=workaround,
                postponed=words,
            )
            ack(response_action="update", view=again)
            return
        except TicketError as exc:
            refuse(ack, "eta" if "ETA" in str(exc) else "text", said(exc))
            return
        ack()


def _field_of(problem: str) -> str:
    """The open form's field a refusal belongs beside."""
    if "reported" in problem:
        return "reported"
    if "customer" in problem:
        return "customer"
    return "title" if "title" in problem else "severity"
