"""Forms: opening a ticket, posting an update, and asking which severity when it is unclear."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ...sla.policy import CUSTOMER_MAX, Policy
from .. import ids
from .card import severity_of
from .kit import (
    INPUT_MAX,
    MESSAGE_BLOCKS_MAX,
    MODAL_TITLE_MAX,
    OPTIONS_MAX,
    VALUE_MAX,
    Block,
    button,
    clean,
    input_block,
    md,
    mrkdwn,
    one_line,
    option,
    plain,
    plain_section,
    section,
    slack_len,
    truncate,
)
from .policy import DEFINITION_MAX

if TYPE_CHECKING:
    from ...sla.classify import Classification


def open_modal(
    policies: Sequence[Policy],
    *,
    policy: str | None,
    summary: str,
    channel: str | None,
    severity: str | None = None,
    description: str = "",
    reported: datetime | None = None,
    origin: tuple[str, str] | None = None,
    picked_channel: str | None = None,
    customer: str = "",
) -> Block:
    """``/sla open`` with no text: title, severity (each with its definition), policy, and
    description. The severities offered are the chosen policy's only (its name ``policy``,
    else the first): choosing another policy in the menu (left out when there is only one)
    redraws the form with that policy's severities (`ids.OPEN_POLICY`), so a severity of one
    contract can no longer be picked under another. A severity's value is
    ``"<policy>:<key>"``, which the submission checks against the menu. ``severity`` (a key of
    the chosen policy) comes chosen (``/sla open p1``); ``summary`` and ``description`` fill
    what was typed before a redraw.

    The shortcuts fill in the rest: a form that does not know its channel (the global
    shortcut) asks for one, ``picked_channel`` chosen; ``reported`` comes filled in (a
    message's time); ``origin``, ``(source, source_ref)``, names the outside item the ticket
    is opened from (a message), kept in the form's metadata for the submission.

    The customer comes filled in as typed (``/sla open customer:Acme``), else as the caller
    found it (the channel's, bound with ``/sla policy NAME customer:NAME``), else with the
    chosen policy's own customer when it names one; a policy naming several lists them in the
    hint."""
    if not policies:
        raise ValueError("open_modal needs at least one policy")
    ordered = sorted(policies, key=lambda p: p.name != policy)  # the chosen policy first
    chosen = ordered[0]
    levels: Block = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain(f"How bad is it, under {chosen.title or chosen.name}?", 150),
        "options": _severity_options(chosen),
    }
    initial = next(
        (o for o in levels["options"] if o["value"] == f"{chosen.name}:{severity}"), None
    )
    if initial is not None:
        levels["initial_option"] = initial
    title_input: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": INPUT_MAX,
        "placeholder": plain("What is wrong, in a few words", 150),
    }
    if summary and summary.strip():
        title_input["initial_value"] = truncate(summary.strip(), INPUT_MAX)
    blocks: list[Block] = [input_block("title", "Title", title_input)]
    if len(ordered) > 1:
        picker: Block = {
            "type": "static_select",
            "action_id": ids.OPEN_POLICY,
            "placeholder": plain("Which contract?", 150),
            "options": [option(p.title or p.name, p.name, p.source) for p in ordered[:OPTIONS_MAX]],
        }
        picker["initial_option"] = picker["options"][0]
        policy_block = input_block(
            "policy", "Policy", picker, hint="Choosing another redraws the severities."
        )
        policy_block["dispatch_action"] = True
        blocks.append(policy_block)
    blocks.append(
        input_block(
            "severity",
            "Severity",
            levels,
            hint="Each level's definition comes from the support policy.",
        )
    )
    text_area: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": INPUT_MAX,
    }
    if description.strip():
        text_area["initial_value"] = truncate(description.strip(), INPUT_MAX)
    blocks.append(input_block("description", "Description", text_area, optional=True))
    blocks.append(_customer_block(chosen, customer))
    if channel is None:
        where: Block = {
            "type": "conversations_select",
            "action_id": "value",
            "placeholder": plain("The channel its card goes to", 150),
        }
        if picked_channel:
            where["initial_conversation"] = picked_channel
        blocks.append(
            input_block("channel", "Channel", where, hint="Its card and thread go there.")
        )
    picker_at: Block = {"type": "datetimepicker", "action_id": "value"}
    if reported is not None:
        picker_at["initial_date_time"] = int(reported.timestamp())
    blocks.append(
        input_block(
            "reported",
            "Reported at",
            picker_at,
            optional=True,
            hint="When the customer reported it, in your own time zone (empty: now). The "
            "contract's time to open counts from then.",
        )
    )
    return {
        "type": "modal",
        "callback_id": ids.OPEN_FORM,
        "title": plain("Open a ticket", MODAL_TITLE_MAX),
        "submit": plain("Open", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": json.dumps(
            {"channel": channel, **({"source": origin[0], "ref": origin[1]} if origin else {})}
        ),
        "blocks": blocks,
    }


def _customer_block(policy: Policy, typed: str) -> Block:
    field: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": CUSTOMER_MAX,
    }
    initial = typed.strip() or policy.customer_for(None)
    if initial:
        field["initial_value"] = initial
    if len(policy.customers) > 1:
        hint = f"One of {', '.join(policy.customers)}."
    else:
        hint = "Who it is for: reports and statements are cut by customer (empty: none)."
    return input_block("customer", "Customer", field, optional=True, hint=hint)


def _severity_options(policy: Policy) -> list[Block]:
    return [
        option(s.label, f"{policy.name}:{s.key}", s.definition)
        for s in policy.severities[:OPTIONS_MAX]
    ]


def update_modal(
    number: int,
    version: int | None,
    policy: Policy,
    *,
    text: str = "",
    eta: int | None = None,
    workaround: bool = False,
    postponed: str | None = None,
) -> Block:
    """Post an update: the text, an optional ETA and whether a workaround is in place.

    ``private_metadata`` is ``"<number>:<version>"`` so a ticket that changed while the form
    was open is refused on submit. The hint says what an ETA or a workaround answers under
    this policy (such as an elevation rule), so people know why the fields are there.

    ``postponed``: the form drawn again, as typed (``text``, ``eta`` in epoch seconds,
    ``workaround``), because its ETA puts off a duty: it says what, and its metadata adds
    ``:eta=<eta>``, so posting it again with that ETA is the confirmation.
    """
    answers = _answered_by(policy)
    metadata = f"{number}:{version or ''}"
    text_input: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": INPUT_MAX,
        "placeholder": plain("What changed, and what happens next", 150),
    }
    eta_input: Block = {"type": "datetimepicker", "action_id": "value"}
    box = option("A workaround is in place", "workaround")
    workaround_input: Block = {"type": "checkboxes", "action_id": "value", "options": [box]}
    if text:
        text_input["initial_value"] = truncate(text, INPUT_MAX)
    if eta is not None:
        eta_input["initial_date_time"] = eta
    if workaround:
        workaround_input["initial_options"] = [box]
    blocks: list[Block] = []
    if postponed and eta is not None:
        metadata += f":eta={eta}"
        blocks.append(section(f":warning: {postponed} Post it again to confirm."))
    blocks += [
        input_block("text", "Update", text_input),
        input_block(
            "eta",
            "ETA",
            eta_input,
            optional=True,
            hint="When you expect a fix, in your own time zone." + answers,
        ),
        input_block("workaround", "Workaround", workaround_input, optional=True),
    ]
    return {
        "type": "modal",
        "callback_id": ids.UPDATE_FORM,
        "title": plain(f"Update SLA-{number}", MODAL_TITLE_MAX),
        "submit": plain("Post", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _answered_by(policy: Policy) -> str:
    """ " An ETA or a workaround stops the page to Level 2." for policies that say so."""
    if policy.escalation is None:
        return ""
    levels = []
    for rule in policy.escalation.rules:
        if rule.unless:
            label = policy.level_label(rule.page)
            if label not in levels:
                levels.append(label)
    if not levels:
        return ""
    return f" An ETA or a workaround stops the page to {', '.join(levels)}."


def severity_question(policy: Policy, classification: Classification, summary: str) -> list[Block]:
    """Ephemeral: which severity is it? Asked instead of guessing when the classifier is
    unsure. One button per severity of the policy, each beside the start of its definition:
    the likely ones (the classifier's candidates) first, then every other, so a weak match
    that names one candidate never leaves the right severity out.

    A button's value is JSON ``{"policy", "severity", "summary"}``: the click alone has all it
    takes to open the ticket. The summary is cut so the whole value stays within 2000.
    """
    likely = [k for k in classification.candidates if severity_of(policy, k) is not None]
    keys = likely + [s.key for s in policy.severities if s.key not in likely]
    blocks: list[Block] = [
        plain_section(f"Which severity fits “{one_line(summary)}”?"),
        {"type": "context", "elements": [plain(f"Why I ask: {classification.reason}.", 3000)]},
    ]
    for key in keys[: MESSAGE_BLOCKS_MAX - 3]:
        severity = severity_of(policy, key)
        if severity is None:
            continue
        definition = one_line(severity.definition) or "No definition in the policy."
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(f"*{md(severity.label, 150)}*\n{md(definition, DEFINITION_MAX)}"),
                "accessory": button(
                    severity.label,
                    ids.PICK_SEVERITY + severity.key,
                    _pick_value(policy.name, severity.key, summary),
                ),
            }
        )
    return blocks


def _pick_value(policy: str, severity: str, summary: str) -> str:
    def dump(text: str) -> str:
        data = {"policy": policy, "severity": severity, "summary": text}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    text = clean(summary).strip()
    value = dump(text)
    budget = VALUE_MAX - slack_len(dump(""))
    while slack_len(value) > VALUE_MAX and budget > 0:
        text = truncate(text, budget)
        value = dump(text)
        budget -= max(slack_len(value) - VALUE_MAX, 1)
    return value if slack_len(value) <= VALUE_MAX else dump("")
