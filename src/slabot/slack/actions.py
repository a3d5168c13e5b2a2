"""Buttons and menus on ticket cards and questions.

Each control carries the ticket's number and the version the card showed, so a second click
on a stale card is refused ("already acknowledged") rather than applied twice; the same click
delivered again (Slack's trigger and the action's time, `Click.key`) is the use case's
idempotency key, so it changes nothing and is answered as the first was. Every listener is
wrapped by `guard.on_click`: a click is acknowledged at once, and a refusal or a value that
cannot be read goes to the person who clicked, as an ephemeral message. Changes update the
card and its thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from ..tickets import ChangeRequest, TicketView
from . import ids
from .blocks.modals import open_modal, update_modal
from .blocks.notes import opened_answer, saying
from .guard import on_click
from .payloads import (
    BadRequest,
    Click,
    OpenFormMetadata,
    PendingUpdate,
    SeverityPick,
    TicketControl,
)

if TYPE_CHECKING:
    from .app import Slabot

log = logging.getLogger(__name__)
PICK = re.compile(re.escape(ids.PICK_SEVERITY) + ".+")
ANY = re.compile(r".*")
UNKNOWN = (
    "This button is not one slabot knows (the message may come from an older version): "
    "use the buttons on the ticket's latest card, or `/sla help`."
)

# A change on the card: the request the click makes, and the control clicked → view.
Apply = Callable[[ChangeRequest, TicketControl], TicketView]


def register(app: App, bot: Slabot) -> None:
    def change(verb: str, use_case: Apply) -> Callable[..., None]:
        def handle(click: Click, client: Any) -> None:
            control = TicketControl.parse(click.action.chosen)
            say = saying(verb, click.user.id)
            use_case(click.asks(control.number, bot.now(), say, version=control.version), control)

        return on_click(handle)

    t = bot.tickets

    def plain(use_case: Callable[[ChangeRequest], TicketView]) -> Apply:
        """A change that needs nothing but the ticket and the card's version."""
        return lambda request, control: use_case(request)

    def set_status(status: str) -> Apply:
        return lambda request, control: t.set_status(request, status)

    app.action(ids.ACK)(change("ack", plain(t.acknowledge)))
    app.action(ids.SEVERITY)(
        change(
            "sev",
            lambda request, control: t.change_severity(
                request, control.option or "", reason="changed on the card"
            ),
        )
    )
    app.action(ids.WAIT)(change("wait", set_status("waiting_on_customer")))
    app.action(ids.RESUME)(change("resume", set_status("open")))
    app.action(ids.RESOLVE)(change("resolve", plain(t.resolve)))
    app.action(ids.REOPEN)(change("reopen", plain(t.reopen)))
    app.action(ids.CLOSE)(change("close", plain(t.close)))

    @app.action(ids.POST_UPDATE)
    @on_click
    def open_update(click: Click, client: Any) -> None:
        control = TicketControl.parse(click.action.chosen)
        view = bot.tickets.view(click.workspace, control.number, bot.now())
        client.views_open(
            trigger_id=click.trigger_id,
            # A control without a version (a crafted value) edits the ticket as it stands.
            view=update_modal(
                control.number,
                view.ticket.version if control.version is None else control.version,
                view.policy,
            ),
        )

    @app.action(ids.CONFIRM_UPDATE)
    @on_click
    def post_postponing_update(click: Click, client: Any) -> None:
        """*Post it* under "This ETA puts off …": the update its author confirmed."""
        pending = PendingUpdate.parse(click.action.chosen)
        user, now = click.user.id, bot.now()
        eta = datetime.fromtimestamp(pending.eta, UTC)
        say = saying("update", user, text=pending.text, eta=eta, workaround=pending.workaround)
        view = bot.tickets.post_update(
            click.asks(pending.number, now, say),
            pending.text,
            eta=eta,
            workaround=pending.workaround,
            confirmed=True,
        )
        answer(click, f"Posted the update on {view.ticket.ref}.")

    @app.action(ids.CANCEL_UPDATE)
    @on_click
    def cancel_postponing_update(click: Click, client: Any) -> None:
        answer(click, "Not posted: nothing changed.")

    @app.action(ids.OPEN_POLICY)
    @on_click
    def switch_policy(click: Click, client: Any) -> None:
        """The open form's policy menu: the form again, with that policy's severities and
        what was typed so far."""
        form = click.view
        if form is None:
            raise BadRequest(UNKNOWN)
        try:
            chosen = bot.policies.get(click.action.chosen)
        except KeyError as exc:
            raise BadRequest(str(exc.args[0])) from None
        metadata = OpenFormMetadata.parse(form.private_metadata, "title")
        stamp = form.field("reported").selected_date_time
        view = open_modal(
            [bot.policies.get(n) for n in bot.policies.names()],
            policy=chosen.name,
            summary=form.text("title"),
            description=form.text("description"),
            channel=metadata.channel,
            reported=datetime.fromtimestamp(stamp, UTC) if stamp else None,
            origin=(metadata.source, metadata.ref) if metadata.source and metadata.ref else None,
            picked_channel=form.field("channel").selected_conversation,
            customer=form.text("customer"),
        )
        client.views_update(view_id=form.id, hash=form.hash or None, view=view)

    @app.action(PICK)
    @on_click
    def pick(click: Click, client: Any) -> None:
        choice = SeverityPick.parse(click.action.chosen)
        channel = click.channel.id if click.channel else None
        asked = click.container.message_ts or click.trigger_id
        now = bot.now()
        result = bot.tickets.open(
            click.workspace,
            title=choice.summary,
            reporter=click.user.id,
            now=now,
            severity=choice.severity,
            policy=choice.policy,
            channel=channel,
            idempotency_key=f"pick:{channel}:{asked}",
            say=saying("open", click.user.id),
        )
        if result.created:
            answer(click, opened_answer(result.view))


def answer(click: Click, text: str) -> None:
    """Replace the ephemeral question clicked with ``text`` (its buttons gone), through the
    click's response URL; a click without one (or a failed answer) leaves the question."""
    if not click.response_url:
        return
    try:
        WebhookClient(click.response_url).send(text=text, replace_original=True)
    except (SlackApiError, OSError) as exc:
        log.info("could not replace the question answered: %s", exc)


def register_fallback(app: App) -> None:
    """Registered after every other listener (Bolt runs the first that matches): a control
    slabot does not know is answered, not left to Bolt's 404."""

    @app.action(ANY)
    @on_click
    def unknown(click: Click, client: Any) -> None:
        log.info("a click on an unknown control %r", click.action.action_id[:64])
        raise BadRequest(UNKNOWN)
