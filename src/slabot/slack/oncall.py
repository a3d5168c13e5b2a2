"""``/sla oncall``: who is on call now and next in each rotation, and covers for a span.

``/sla oncall [ROTATION] cover @someone [from START] until END`` records an override through
the on-call use case, which checks who may (the team file's roles). START and END are read in
the typer's Slack time zone (the rotation's when Slack cannot say) and said back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..refusals import NotFound
from .blocks.oncall import covered, oncall_blocks
from .grammar import TIME_FORMS, USAGE, Command, Usage, read_time
from .people import time_zone

if TYPE_CHECKING:
    from .app import Slabot
    from .command import Reply


def answer(bot: Slabot, reply: Reply, cmd: Command, workspace: str, user: str, client: Any) -> None:
    now = bot.now()
    if cmd.action != "cover":
        reply(*oncall_blocks(bot.oncall.watch(workspace, now)))
        return
    rotations = bot.oncall.team.rotations
    if cmd.rotation is None and len(rotations) != 1:
        keys = ", ".join(f"`{r.key}`" for r in rotations) or "none are configured"
        raise Usage(f"Which rotation? Name it first ({keys}): `{USAGE['oncall']}`")
    key = cmd.rotation or rotations[0].key
    try:
        rotation = bot.oncall.team.rotation(key)
    except KeyError as exc:
        raise NotFound(exc.args[0]) from None
    tz = time_zone(client, user, rotation.tz)
    starts = _read(cmd.start, tz, now, "start") if cmd.start else now
    ends = _read(cmd.end or "", tz, starts, "end")
    override = bot.oncall.override(
        workspace, key, cmd.user or "", starts_at=starts, ends_at=ends, actor=user, now=now
    )
    reply(covered(override, rotation.tz))


def _read(text: str, tz: Any, now: Any, which: str):
    try:
        return read_time(text, tz, now)
    except ValueError:
        raise Usage(f"I can't read the {which} {text.strip()[:40]!r}: write {TIME_FORMS}") from None
