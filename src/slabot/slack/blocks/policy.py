"""``/sla policy`` and ``/sla matrix``: a policy's targets and escalation rules in words."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ...sla.durations import clock_words, format_duration
from ...sla.policy import SUPPORT_LEVEL, EscalationRule, Policy
from ...sla.schedule import TARGET_LABELS
from .kit import (
    MESSAGE_BLOCKS_MAX,
    SECTION_MAX,
    Block,
    context,
    divider,
    escape,
    header,
    join_fitting,
    md,
    mention,
    one_line,
    section,
    slack_date,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ...oncall import Watch
    from ...policies import Binding


DEFINITION_MAX = 300  # a severity's definition in the policy view

TARGET_WORDS = {
    "time_to_open": "Time to open",
    "first_response": "First response",
    "resolution": "Resolution",
    "update_every": "Updates every",
}


def target_words(policy: Policy, name: str, target: Any) -> str:
    """ "First response 1h (support hours; 30m if opened in peak hours)"; on a calendar open
    less than a day, "Resolution 24h (2 days of 12h) (business hours)", never "1d"."""
    words = f"{TARGET_WORDS.get(name, TARGET_LABELS.get(name, name))} "
    words += f"{policy.target_words(target)} ({clock_words(target.clock)}"
    for calendar, within in target.opened_in.items():
        if within != target.within:  # "4h; 4h if opened in peak hours" says nothing
            words += f"; {policy.target_words(target, within)} if opened in {clock_words(calendar)}"
    if target.mitigation:
        words += "; a workaround meets it"
    return words + ")"


def policy_blocks(policy: Policy, binding: Binding | None = None) -> list[Block]:
    """``/sla policy``: each severity with its targets in words, the support hours, and
    which states stop the clocks: what a support lead checks before binding a channel. With
    the channel's ``binding``: who bound it, when, and the customer its tickets are for."""
    tz_line = f"Times in {policy.timezone}"
    if policy.source:
        tz_line = f"From _{md(policy.source, 500)}_ · {tz_line}"
    blocks: list[Block] = [
        header(f"Policy: {policy.title or policy.name}"),
        context(f"`{md(policy.name, 64)}` · {tz_line}"),
    ]
    if binding is not None:
        bound = (
            f"This channel is bound to it by {mention(binding.bound_by)} since "
            f"{slack_date(binding.bound_at, policy.tz)}"
        )
        if binding.customer:
            bound += f"; its tickets are for *{md(binding.customer, 200)}*"
        blocks.append(context(bound + "."))
    for severity in policy.severities[: MESSAGE_BLOCKS_MAX - 10]:
        names = ", ".join((severity.key, *severity.aliases))
        lines = [f"*{md(severity.label, 150)}* ({md(names, 300)})"]
        if severity.definition:
            lines.append(md(one_line(severity.definition), DEFINITION_MAX))
        targets = [f"• {target_words(policy, n, t)}" for n, t in severity.targets.items()]
        lines += targets or ["• no timed targets"]
        blocks.append(section(join_fitting(lines, SECTION_MAX)))
    support = []
    if policy.support and policy.support.hours:
        support.append(f"*Support hours:* {md(one_line(policy.support.hours), 1000)}")
    for name, spec in policy.calendars.items():
        days = "; ".join(
            f"{day} {', '.join(str(w) for w in windows) or 'closed'}"
            for day, windows in spec.hours.items()
        )
        closed = ""
        if spec.holidays and (spec.holidays.country or spec.holidays.dates or spec.holidays.annual):
            closed = " (closed on holidays)"
        support.append(f"*{md(clock_words(name), 100)}:* {md(days, 500)}{closed}")
    if policy.support and policy.support.channels:
        support.append("*Channels:* " + md(", ".join(policy.support.channels), 500))
    pausing = [policy.state_label(k) for k in policy.states if k in policy.pausing_states]
    if pausing:
        support.append("*Clocks pause while:* " + md(", ".join(pausing), 500))
    life = policy.lifecycle
    if life.reopen_within:
        support.append(f"*Reopen within:* {format_duration(life.reopen_within)}")
    if support:
        blocks += [divider(), section(join_fitting(support, SECTION_MAX))]
    blocks.append(context("`/sla matrix` shows who gets paged, level by level."))
    return blocks


def rule_words(rule: EscalationRule, policy: Policy) -> str:
    """ "at 75% of first response for urgent, high; repeats every 30m"."""
    whom = "every severity" if rule.severities is None else ", ".join(rule.severities)
    target = TARGET_LABELS.get(rule.of or "", rule.of or "").lower()
    if rule.at == "open":
        words = "when a ticket opens"
    elif rule.at == "breach":
        words = f"when {target} is breached"
    elif rule.at is not None:
        words = f"at {rule.at.strip()} of {target}"
    else:
        words = f"{policy.duration_words(rule.after or timedelta(0), rule.clock)} after opening"
        if rule.clock != "24x7":
            words += f" ({clock_words(rule.clock)})"
        if rule.unless:
            words += (
                " unless "
                + " or ".join("an ETA" if u == "eta" else "a workaround" for u in rule.unless)
                + " is given"
            )
    words += f" for {whom}"
    if rule.page == SUPPORT_LEVEL:
        words += ", routed to this level"
    if rule.repeat:
        words += f"; repeats every {policy.duration_words(rule.repeat, rule.clock)}"
        if rule.clock != "24x7" and rule.after is None:
            words += f" ({clock_words(rule.clock)})"
    return words


def matrix_blocks(policy: Policy, watches: Sequence[Watch] = ()) -> list[Block]:
    """``/sla matrix``: each escalation level in order, its contacts as mentions, its
    rotation and who is on call in it now (``watches``, `OnCall.watch`), and the rules that
    page it in words. A level with neither contacts nor a rotation says where to set them."""
    on_call = {w.rotation.key: w for w in watches}
    blocks: list[Block] = [header(f"Escalation: {policy.title or policy.name}")]
    escalation = policy.escalation
    if escalation is None or not escalation.levels:
        blocks.append(section("This policy has no escalation matrix: nobody is paged."))
        return blocks
    for i, level in enumerate(escalation.levels[: MESSAGE_BLOCKS_MAX - 2], start=1):
        whom = [mention(c) for c in level.contacts]
        if level.rotation is not None:
            whom.append(_rotation_now(level.rotation, on_call.get(level.rotation)))
        contacts = ", ".join(whom) or "_no contacts configured (set them in the policy file)_"
        routed = level.key in escalation.support_levels  # a rule may page "support_level"
        rules = [
            f"• {md(rule_words(r, policy), 500)}"
            for r in escalation.rules
            if r.page == level.key or (routed and r.page == SUPPORT_LEVEL)
        ]
        lines = [f"*{i}. {md(level.label, 150)}* — {contacts}"]
        if routed and level.definition:
            lines.append(f"Takes tickets about: {md(level.definition, 500)}")
        if level.quiet_outside is not None:
            critical = ", ".join(policy.critical)
            lines.append(
                f"Quiet outside {md(clock_words(level.quiet_outside), 100)}: pages wait for "
                f"them, except {md(critical, 200)}"
            )
        lines += rules or ["• not paged by any rule"]
        blocks.append(section(join_fitting(lines, SECTION_MAX)))
    return blocks


def _rotation_now(key: str, watch: Watch | None) -> str:
    """Who a level's rotation pages now: ``whoever is on call in Support on call (now @ana,
    until …)``, or that the team file lacks it."""
    if watch is None:
        return f"_rotation `{escape(key)}`, which the team file (SLABOT_TEAM) lacks_"
    until = slack_date(watch.now.ends_at, watch.rotation.tz)
    return (
        f"whoever is on call in {md(watch.rotation.title, 150)} "
        f"(now {mention(watch.now.person)}, until {until})"
    )
