"""Block Kit builders, as a support team sees them, without Slack.

Views are built from real parts: a `Ticket` row made in memory (no database), the repository's
policies, and the engine's own `schedule` of a history. Every rendered surface goes through
`check_limits`, a walker that holds each text object, value and list to Block Kit's limits and
checks that no ``<…>`` token in any ``mrkdwn`` is one a user could have smuggled in.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.properties import examples
from support.surfaces import (
    actions_of,
    all_text,
    check_limits,
    many_views,
    size,
    slack_sdk_accepts,
    view_of,
)

from slabot.outages.trail import Change
from slabot.sla import Policy, load_policy, parse_policy
from slabot.sla.classify import Classification, classify
from slabot.sla.history import (
    Acknowledged,
    Opened,
    SeverityChanged,
    StatusChanged,
    UpdatePosted,
)
from slabot.sla.postponements import Postponement
from slabot.slack import ids
from slabot.slack.blocks import kit
from slabot.slack.blocks.card import ticket_card, ticket_text
from slabot.slack.blocks.help import help_blocks
from slabot.slack.blocks.history import detail_blocks
from slabot.slack.blocks.home import home_view
from slabot.slack.blocks.kit import escape, left, slack_date, truncate
from slabot.slack.blocks.modals import open_modal, severity_question, update_modal
from slabot.slack.blocks.outage import outage_history, outage_list
from slabot.slack.blocks.policy import matrix_blocks, policy_blocks
from slabot.slack.blocks.postpone import postpone_question
from slabot.slack.blocks.queue import queue_blocks, queue_line
from slabot.slack.links import Links
from slabot.store.tables import Ticket

POLICIES = Path(__file__).resolve().parent.parent / "policies"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
IST = ZoneInfo("Asia/Kolkata")

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, seven code points, eleven UTF-16 units
FLAG = "🇬🇧"
HOSTILE = f"<!channel> <@U1> *bold* <http://evil.example|click> & {FAMILY}{FLAG} é\u202e"
LONG_TITLE = (HOSTILE * 80)[:4000]


@pytest.fixture(scope="module")
def liveops() -> Policy:
    return load_policy(POLICIES / "liveops.yaml")


@pytest.fixture(scope="module")
def leadsquared() -> Policy:
    return load_policy(POLICIES / "leadsquared.yaml")


@pytest.fixture(scope="module")
def secpod() -> Policy:
    return load_policy(POLICIES / "secpod.yaml")


@pytest.fixture(scope="module")
def every_policy() -> list[Policy]:
    return [load_policy(path) for path in sorted(POLICIES.glob("*.yaml"))]


# -- text helpers ---------------------------------------------------------------------------------


def test_escape_neutralises_slack_control_characters():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert escape("a &amp; b") == "a &amp;amp; b"  # shows what was typed, literally


def test_truncate_counts_utf16_and_never_splits_a_grapheme():
    assert truncate("short", 10) == "short"
    assert truncate("x" * 10, 10) == "x" * 10
    cut = truncate("x" * 11, 10)
    assert cut == "x" * 9 + "…" and size(cut) == 10
    # Unicode's grapheme clusters (UAX #29): besides emoji and accents, decomposed Hangul
    # (한: three jamo), a Devanagari conjunct with its vowel sign (क्षि), a Thai consonant
    # with its tone mark (ก่), an Arabic prepended mark with its digit.
    scripts = ("\u1112\u1161\u11ab", "क्षि", "ก่", "\u0600\u0661")
    for unit in (FAMILY, FLAG, "e\u0301", "👍🏽", "1\ufe0f\u20e3", "😀", *scripts):
        text = unit * 100
        for limit in range(2, 60):
            cut = truncate(text, limit)
            assert size(cut) <= limit
            body = cut.removesuffix("…")
            assert body == unit * (len(body) // len(unit)), (unit, limit, cut)


@settings(max_examples=examples(300), deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab &<>\r\n.\u0301\u200d😀é"), max_size=40),
    limit=st.integers(2, 30),
)
@example(text="a" * 9 + "\u0301bbbb", limit=10)  # the accent joins the last "a" that would fit
def test_ascii_shortcut_cuts_where_the_cluster_walk_would(text, limit):
    """`_cut` takes a shortcut for plain ASCII; it must agree with walking the clusters, for
    plain text and for text measured escaped (a combining mark right after the cut joins the
    last character, so the shortcut must not apply)."""
    for measure in (kit.slack_len, kit._escaped_size):
        walked = kit._cut_clusters(text, limit, measure)
        assert kit._cut(text, limit, measure) == walked


def test_left_reads_like_people_talk():
    assert left(timedelta(seconds=59)) == "under a minute"
    assert left(timedelta(minutes=45, seconds=59)) == "45m"
    assert left(timedelta(hours=1, minutes=20)) == "1h 20m"
    assert left(timedelta(hours=2)) == "2h"
    assert left(timedelta(days=2, hours=3, minutes=17)) == "2d 3h"
    assert left(timedelta(days=1)) == "1d"
    assert left(-timedelta(hours=2)) == "2h"


def test_slack_date_token_with_fallback_in_the_policy_zone():
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    epoch = int(at.timestamp())
    assert slack_date(at, ZoneInfo("Europe/London")) == (
        f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|Mon 23 Nov 10:00 GMT>"
    )
    assert slack_date(at, "Asia/Kolkata").endswith("|Mon 23 Nov 15:30 IST>")


# -- the ticket card ------------------------------------------------------------------------------


def test_card_header_carries_ref_severity_and_title(liveops):
    view = view_of(liveops, [Opened(T0, "p2")], T0 + 10 * MIN)
    fallback, card = ticket_card(view, T0 + 10 * MIN)
    check_limits(card)
    slack_sdk_accepts(card)
    header = card[0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert header["text"]["text"] == "SLA-42 · P2 — High · Checkout is down"
    assert fallback.startswith("SLA-42 (P2 — High): Checkout is down")
    assert ticket_text(view) == "SLA-42 (P2 — High): Checkout is down"
    text = all_text(card)
    assert "*Owner*\nnobody yet" in text and "<@U0REPORTER>" in text
    assert "LiveOps Support Plus" in text


def test_card_says_where_a_ticket_came_from_and_its_reference(liveops):
    view = view_of(liveops, [Opened(T0, "p2")], T0 + 10 * MIN)
    assert " · from " not in all_text(ticket_card(view, T0)[1])  # typed in Slack: nothing to add
    view.ticket.source, view.ticket.source_ref = "alertmanager", '{}:{alertname="<Down>"}\n'
    card = ticket_card(view, T0 + 10 * MIN)[1]
    check_limits(card)
    assert 'from Alertmanager ({}:{alertname="&lt;Down&gt;"})' in all_text(card)
    view.ticket.source, view.ticket.source_ref = "zendesk", None
    assert "from zendesk" in all_text(ticket_card(view, T0)[1])


def test_hostile_title_and_description_are_plain_escaped_and_cut(liveops):
    now = T0 + 10 * MIN
    view = view_of(liveops, [Opened(T0, "p1")], now, title=LONG_TITLE, description=LONG_TITLE * 2)
    fallback, card = ticket_card(view, now)
    texts = check_limits(card)  # also: no <!channel>, <@U1> or <http…> token in any mrkdwn
    slack_sdk_accepts(card)
    header = card[0]["text"]["text"]
    assert header.startswith("SLA-42 · P1 — Critical · <!channel> <@U1> *bold*")
    assert header.endswith("…") and size(header) <= 150
    assert "\u202e" not in header  # a bidi override cannot reverse the rest of the line
    description = [t for t in texts if t["type"] == "plain_text" and t["text"].startswith("<!")]
    assert description and size(description[-1]["text"]) <= 3000
    assert description[-1]["text"].endswith("…")
    for text in (fallback, ticket_text(view)):
        assert "<" not in text and "&lt;!channel&gt;" in text and "…" in text
    assert "&lt;!channel&gt;" in ticket_text(view)
    mrkdwn_texts = [t["text"] for t in texts if t["type"] == "mrkdwn"]
    assert all(t.get("verbatim") for t in texts if t["type"] == "mrkdwn")
    assert not any("<!channel>" in t or "<@U1>" in t for t in mrkdwn_texts)


def test_hostile_text_everywhere_else(liveops, every_policy):
    now = T0 + 10 * MIN
    view = view_of(liveops, [Opened(T0, "p1")], now, title=LONG_TITLE, owner="U0OWNER")
    queue = queue_blocks([view], now)
    check_limits(queue)
    line = queue[0]["text"]["text"]
    assert line.startswith("*SLA-42* · P1 — Critical · &lt;!channel&gt; &lt;@U1&gt; *bold*")
    assert "…" in line and "<@U0OWNER>" in line
    check_limits(home_view([view], [view], {("liveops", "p1"): 1}, now), max_blocks=100)
    events = [
        SimpleNamespace(at=now, actor="U0OWNER", kind="update_posted", before={}, after={
            "text": LONG_TITLE, "eta": (now + HOUR).isoformat(), "workaround": True
        }),
        SimpleNamespace(at=now, actor="<!here>", kind="severity_changed",
                        before={"severity": "p1"}, after={"severity": "p2", "reason": HOSTILE}),
        SimpleNamespace(at=now, actor="U0OWNER", kind="status_changed",
                        before={"status": "open"}, after={"status": "resolved", "note": HOSTILE}),
    ]  # fmt: skip
    detail = detail_blocks(view, events, now)
    check_limits(detail)
    slack_sdk_accepts(detail)
    story = all_text(detail)
    assert "posted an update (ETA <!date^" in story and "workaround in place" in story
    assert "&lt;!here&gt; changed the severity from P1 — Critical to P2 — High" in story
    assert "resolved it: &lt;!channel&gt;" in story
    modal = open_modal(every_policy, policy=None, summary=LONG_TITLE, channel="C1")
    check_limits(modal, max_blocks=100)
    question = severity_question(liveops, classify(liveops, LONG_TITLE), LONG_TITLE)
    check_limits(question)


def test_running_deadline_says_when_it_is_due_and_the_next_page(liveops):
    now = T0 + 10 * MIN
    _, card = ticket_card(view_of(liveops, [Opened(T0, "p1")], now), now)
    text = all_text(card)
    due = int((T0 + HOUR).timestamp())
    assert f"*First response* — due <!date^{due}^" in text
    assert " left" not in text  # "50m left" would be false a minute after the card was drawn
    # P1 pages Level 2 at the opening, then every 30 minutes until someone answers.
    page = int((T0 + 30 * MIN).timestamp())
    assert f"Next page: Level 2 <!date^{page}^" in text


def test_met_deadline_and_no_acknowledge_button_once_acknowledged(liveops):
    history = [Opened(T0, "p2"), Acknowledged(T0 + 20 * MIN)]
    now = T0 + HOUR
    view = view_of(liveops, history, now, owner="U0OWNER", acknowledged=T0 + 20 * MIN)
    _, card = ticket_card(view, now)
    text = all_text(card)
    met = int((T0 + 20 * MIN).timestamp())
    assert f"*First response* — met ✓ <!date^{met}^" in text
    assert "*Next update* — due <!date^" in text and "left" not in text
    assert "<@U0OWNER>" in text
    actions = actions_of(card)
    assert "sla_ack" not in actions
    assert set(actions) == {"sla_severity", "sla_update", "sla_wait", "sla_resolve"}


def test_breached_and_missed_deadlines(liveops):
    now = T0 + 6 * HOUR
    _, card = ticket_card(view_of(liveops, [Opened(T0, "p2")], now), now)
    due = int((T0 + 4 * HOUR).timestamp())
    assert f"*First response* — *breached*: was due <!date^{due}^" in all_text(card)
    assert " ago" not in all_text(card)
    history = [Opened(T0, "p2"), Acknowledged(T0 + 5 * HOUR + 30 * MIN)]
    _, card = ticket_card(view_of(liveops, history, now, acknowledged=T0 + 5 * HOUR), now)
    assert "*First response* — missed by 1h 30m (answered <!date^" in all_text(card)


def test_a_card_drawn_earlier_says_nothing_false_later(liveops):
    """Issue 18: "— 4h left" drawn at 09:50 and never redrawn. Every time on the card and
    the queue line is an instant (a date token), never a span counted from the drawing, so
    the same text is true whenever it is read."""
    history = [Opened(T0, "p2"), UpdatePosted(T0 + 10 * MIN, eta=T0 + 5 * HOUR)]
    drawn = {}
    for now in (T0 + 20 * MIN, T0 + 2 * HOUR):
        view = view_of(liveops, history, now, acknowledged=T0 + 10 * MIN)
        drawn[now] = (all_text(ticket_card(view, now)[1]), queue_line(view, now))
    assert len(set(drawn.values())) == 1
    for text in drawn[T0 + 20 * MIN]:
        assert re.search(r"\d+[hm] (left|ago)|\bin \d+[hm]\b|\d{4}-\d\d-\d\d", text) is None
    assert "due <!date^" in drawn[T0 + 20 * MIN][1]


def test_waiting_on_customer_pauses_and_offers_resume(liveops):
    history = [Opened(T0, "p2"), StatusChanged(T0 + HOUR, "waiting_on_customer")]
    now = T0 + 2 * HOUR
    view = view_of(liveops, history, now)
    _, card = ticket_card(view, now)
    assert "*First response* — paused: waiting on customer" in all_text(card)
    actions = actions_of(card)
    assert "sla_resume" in actions and "sla_wait" not in actions
    assert "paused: waiting on customer" in queue_blocks([view], now)[0]["text"]["text"]


def test_clock_stopped_outside_support_hours_says_when_it_resumes(leadsquared):
    sunday = datetime(2026, 3, 8, 12, 0, tzinfo=IST)  # LeadSquared has no Sunday hours
    view = view_of(leadsquared, [Opened(sunday, "urgent")], sunday + HOUR)
    _, card = ticket_card(view, sunday + HOUR)
    monday = int(datetime(2026, 3, 9, 10, 0, tzinfo=IST).timestamp())
    assert (
        f"clock stopped outside support hours — resumes <!date^{monday}^{{date_short_pretty}}"
        in all_text(card)
    )
    line = queue_blocks([view], sunday + HOUR)[0]["text"]["text"]
    assert f"(clock stopped — resumes <!date^{monday}^" in line


def test_buttons_carry_number_and_version(liveops):
    now = T0 + 10 * MIN
    view = view_of(liveops, [Opened(T0, "p2")], now, number=7, version=12)
    _, card = ticket_card(view, now)
    actions = actions_of(card)
    assert list(actions) == ["sla_ack", "sla_severity", "sla_update", "sla_wait", "sla_resolve"]
    for action_id in ("sla_ack", "sla_update", "sla_wait", "sla_resolve"):
        assert actions[action_id]["value"] == "7:12"
    assert actions["sla_ack"]["style"] == "primary"
    resolve = actions["sla_resolve"]
    assert resolve["style"] == "danger" and resolve["confirm"]["title"]["text"] == "Resolve SLA-7?"
    select = actions["sla_severity"]
    assert [o["value"] for o in select["options"]] == ["7:12:p1", "7:12:p2", "7:12:p3"]
    labels = [o["text"]["text"] for o in select["options"]]
    assert labels == ["P1 — Critical", "P2 — High", "P3 — Low"]
    assert select["initial_option"]["value"] == "7:12:p2"


def test_resolved_ticket_offers_close_and_reopen_only_inside_the_window(secpod, liveops):
    key = secpod.severities[0].key
    resolved_at = T0 + HOUR
    history = [Opened(T0, key), StatusChanged(resolved_at, "resolved")]
    inside = resolved_at + 2 * DAY  # SecPod: "3 days to reopen the ticket"
    _, card = ticket_card(view_of(secpod, history, inside), inside)
    assert list(actions_of(card)) == ["sla_reopen", "sla_close"]
    assert actions_of(card)["sla_reopen"]["value"] == "42:3"
    assert "can be reopened until <!date^" in all_text(card)
    # Closing is for good, so the button asks first.
    confirm = actions_of(card)["sla_close"]["confirm"]
    assert confirm["text"]["text"] == "A closed ticket is archived and cannot be reopened."
    outside = resolved_at + 4 * DAY
    _, card = ticket_card(view_of(secpod, history, outside), outside)
    assert list(actions_of(card)) == ["sla_close"]  # too late to reopen, never too late to close
    # LiveOps sets no reopen window: a resolved ticket can always be reopened.
    history = [Opened(T0, "p3"), StatusChanged(T0 + HOUR, "resolved")]
    later = T0 + 90 * DAY
    _, card = ticket_card(view_of(liveops, history, later), later)
    assert list(actions_of(card)) == ["sla_reopen", "sla_close"]
    assert "*First response* — met ✓" in all_text(card)


def test_closed_ticket_has_no_buttons(liveops):
    history = [
        Opened(T0, "p3"),
        StatusChanged(T0 + HOUR, "resolved"),
        StatusChanged(T0 + 2 * HOUR, "closed"),
    ]
    _, card = ticket_card(view_of(liveops, history, T0 + DAY), T0 + DAY)
    assert actions_of(card) == {}
    check_limits(card)


def test_severity_change_keeps_the_select_on_the_new_level(liveops):
    history = [Opened(T0, "p3"), SeverityChanged(T0 + HOUR, "p1")]
    view = view_of(liveops, history, T0 + HOUR)
    _, card = ticket_card(view, T0 + HOUR)
    assert card[0]["text"]["text"].startswith("SLA-42 · P1 — Critical ·")
    assert actions_of(card)["sla_severity"]["initial_option"]["value"] == "42:3:p1"


# -- modals and questions -------------------------------------------------------------------------


def test_open_modal_with_several_policies(every_policy):
    modal = open_modal(every_policy, policy="liveops", summary="checkout down", channel="C123")
    check_limits(modal, max_blocks=100)
    slack_sdk_accepts(modal["blocks"])
    assert modal["type"] == "modal" and modal["callback_id"] == "sla_open"
    assert json.loads(modal["private_metadata"]) == {"channel": "C123"}
    by_id = {b["block_id"]: b for b in modal["blocks"]}
    assert list(by_id) == ["title", "policy", "severity", "description", "customer", "reported"]
    assert by_id["policy"]["element"]["action_id"] == "sla_open_policy"
    assert by_id["policy"]["dispatch_action"] is True  # choosing a policy redraws the form
    assert all(b["element"]["action_id"] == "value" for k, b in by_id.items() if k != "policy")
    title = by_id["title"]["element"]
    assert title["type"] == "plain_text_input" and title["max_length"] == 3000
    assert title["initial_value"] == "checkout down"
    # Only the chosen policy's severities: a LiveOps P1 cannot be picked under LeadPro.
    options = by_id["severity"]["element"]["options"]
    assert [o["value"] for o in options] == ["liveops:p1", "liveops:p2", "liveops:p3"]
    first = options[0]
    assert first["description"]["text"].startswith("An issue that results in the loss")
    assert size(first["description"]["text"]) <= 75
    picker = by_id["policy"]["element"]
    assert picker["initial_option"]["value"] == "liveops"
    assert {o["value"] for o in picker["options"]} == {p.name for p in every_policy}
    description = by_id["description"]
    assert description["optional"] is True and description["element"]["multiline"] is True
    assert not by_id["title"]["optional"] and not by_id["severity"]["optional"]
    other = open_modal(
        every_policy, policy="leadpro", summary="x", channel=None, description="as typed"
    )
    again = {b["block_id"]: b for b in other["blocks"]}
    assert again["severity"]["element"]["options"][0]["value"].startswith("leadpro:")
    assert again["description"]["element"]["initial_value"] == "as typed"


def test_open_modal_with_one_policy_has_no_policy_picker(liveops):
    modal = open_modal([liveops], policy=None, summary="", channel="C0001")
    check_limits(modal, max_blocks=100)
    by_id = {b["block_id"]: b for b in modal["blocks"]}
    assert list(by_id) == ["title", "severity", "description", "customer", "reported"]
    assert "initial_value" not in by_id["title"]["element"]
    options = by_id["severity"]["element"]["options"]
    assert [o["value"] for o in options] == ["liveops:p1", "liveops:p2", "liveops:p3"]
    assert json.loads(modal["private_metadata"]) == {"channel": "C0001"}


def test_update_modal(liveops):
    modal = update_modal(42, 7, liveops)
    check_limits(modal, max_blocks=100)
    slack_sdk_accepts(modal["blocks"])
    assert modal["callback_id"] == "sla_update" and modal["private_metadata"] == "42:7"
    by_id = {b["block_id"]: b for b in modal["blocks"]}
    assert list(by_id) == ["text", "eta", "workaround"]
    assert by_id["text"]["element"]["multiline"] is True and not by_id["text"]["optional"]
    assert by_id["eta"]["element"]["type"] == "datetimepicker" and by_id["eta"]["optional"]
    # LiveOps elevates P2 to Level 2 unless an ETA or a workaround comes within 8 hours.
    assert "stops the page to Level 2" in by_id["eta"]["hint"]["text"]
    workaround = by_id["workaround"]
    assert workaround["optional"] and workaround["element"]["type"] == "checkboxes"
    assert [o["value"] for o in workaround["element"]["options"]] == ["workaround"]


def test_severity_question_buttons(liveops):
    summary = 'calls are "slow" \\ and 🚀 <!channel> ' * 300
    classification = classify(liveops, "something odd with the dashboard")
    assert classification.unsure
    question = severity_question(liveops, classification, summary)
    check_limits(question)
    slack_sdk_accepts(question)
    assert classification.reason in all_text(question)
    buttons = [b["accessory"] for b in question if "accessory" in b]
    likely = list(classification.candidates)
    rest = [s.key for s in liveops.severities if s.key not in likely]
    assert [b["action_id"] for b in buttons] == [f"sla_pick_severity_{k}" for k in likely + rest]
    for button in buttons:
        assert size(button["value"]) <= 2000
        value = json.loads(button["value"])
        assert value["policy"] == "liveops"
        assert value["severity"] == button["action_id"].removeprefix("sla_pick_severity_")
        assert summary.startswith(value["summary"].removesuffix("…"))
        assert len(value["summary"]) > 1000  # cut to fit, not dropped
    section = next(b for b in question if "accessory" in b)
    assert "An issue that results in the loss" in section["text"]["text"]
    short = severity_question(liveops, classification, "tiny")
    assert json.loads(short[-1]["accessory"]["value"])["summary"] == "tiny"


def test_a_weak_match_offers_its_guess_first_and_every_other_severity_after(liveops):
    weak = Classification(None, ("p3",), False, "only 'slow' matched, a P3 keyword", "x")
    buttons = [b["accessory"]["action_id"] for b in severity_question(liveops, weak, "x")[2:]]
    assert buttons == ["sla_pick_severity_p3", "sla_pick_severity_p1", "sla_pick_severity_p2"]


# -- queue, detail, Home --------------------------------------------------------------------------


def test_queue_lists_most_urgent_first_and_cuts_at_45_blocks(liveops):
    now = T0 + HOUR
    assert "queue is empty" in queue_blocks([], now)[0]["text"]["text"]
    views = many_views(liveops, 200, now)
    queue = queue_blocks(views, now)
    check_limits(queue)
    assert len(queue) == 45
    assert queue[0]["text"]["text"].startswith("*SLA-1* · P1 — Critical · Checkout is down — ")
    assert queue[-1]["type"] == "context"
    assert queue[-1]["elements"][0]["text"] == "… and 156 more"
    assert len(queue_blocks(views[:45], now)) == 45  # exactly full: no "more" line


def test_detail_keeps_the_newest_history_within_50_blocks(liveops):
    now = T0 + DAY
    view = view_of(liveops, [Opened(T0, "p2")], now, description="Customers see a 500.")
    events = [
        SimpleNamespace(at=T0 + i * MIN, actor="U0OWNER", kind="update_posted", before={},
                        after={"text": f"update {i} " + "x" * 250, "eta": None})
        for i in range(600)
    ]  # fmt: skip
    detail = detail_blocks(view, events, now)
    check_limits(detail)
    assert len(detail) <= 50
    assert "sla_ticket" not in json.dumps(detail)  # read-only
    story = all_text(detail)
    assert "update 599 " in story and "update 0 " not in story
    assert story.index("update 598 ") < story.index("update 599 ")
    note = next(b for b in detail if b["type"] == "context" and "earlier" in json.dumps(b))
    assert re.search(r"… \d+ earlier changes not shown", note["elements"][0]["text"])
    short = detail_blocks(view, events[:2], now)
    assert "earlier changes" not in json.dumps(short)
    assert "posted an update: update 0" in all_text(short)
    assert "_No history yet._" in all_text(detail_blocks(view, [], now))


def test_home_view_with_200_tickets_fits_100_blocks(liveops, leadsquared):
    now = T0 + HOUR
    owned = many_views(liveops, 200, now)
    at_risk = many_views(leadsquared, 200, now)
    counts = {(p, s): 10 for p in ("liveops", "leadsquared") for s in ("a", "b", "c")}
    view = home_view(owned, at_risk, counts, now)
    assert view["type"] == "home"
    check_limits(view, max_blocks=100)
    slack_sdk_accepts(view["blocks"])
    text = all_text(view)
    for heading in ("Your tickets", "At risk (closest to breach)", "Open tickets by policy"):
        assert heading in text
    assert "… and 161 more" in text
    assert "*liveops* (30) — a: 10 · b: 10 · c: 10" in text


def test_home_view_empty_states(liveops):
    view = home_view([], [], {}, T0)
    check_limits(view, max_blocks=100)
    text = all_text(view)
    assert "You own no open tickets" in text
    assert "Nothing at risk" in text
    assert "_No open tickets._" in text


def test_home_view_many_policies_are_cut_with_a_note():
    counts = {(f"policy-{i}-" + "x" * 60, f"sev{j}"): 1 for i in range(400) for j in range(6)}
    view = home_view([], [], counts, T0)
    check_limits(view, max_blocks=100)
    assert "more policies" in all_text(view)


# -- policy, matrix, help -------------------------------------------------------------------------


def test_policy_blocks_say_targets_in_words(leadsquared, every_policy):
    text = all_text(policy_blocks(leadsquared))
    assert "*Urgent - 1* (urgent, 1, p1, sev1, critical)" in text
    assert "First response 1h (support hours; 30m if opened in peak hours)" in text
    assert "Resolution 4h (support hours; a workaround meets it)" in text
    assert "First response 4h (support hours)\n" in text  # the same at peak: said once
    # Seed 000: "10 business days, or specific release", said as the contract says it
    assert "Resolution 10 business days (business hours; a workaround meets it)" in text
    assert "*support hours:* mon-fri 10:00-02:00; sat 10:00-18:00 (closed on holidays)" in text
    assert "*Clocks pause while:* Waiting on customer" in text
    helpdesk_text = (POLICIES / "helpdesk-p1-p6.yaml").read_text(encoding="utf-8")
    helpdesk = next(p for p in every_policy if p.name == "helpdesk-p1-p6")
    assert "First response 15m (24x7)" in all_text(policy_blocks(helpdesk))
    zero = parse_policy(helpdesk_text.replace("within: 15m", "within: 0s", 1))
    assert "First response immediately (24x7)" in all_text(policy_blocks(zero))
    for policy in every_policy:
        rendered = policy_blocks(policy)
        check_limits(rendered)
        slack_sdk_accepts(rendered)


def test_matrix_renders_mentions_and_rules(liveops, leadsquared, every_policy):
    text = (POLICIES / "liveops.yaml").read_text(encoding="utf-8")
    text = text.replace("contacts: []", "contacts: [U0AAA, S0BBB, C0CCC, '#support']", 1)
    staffed = parse_policy(text)
    rendered = matrix_blocks(staffed)
    check_limits(rendered)
    lines = all_text(rendered)
    assert "*1. First level contact* — <@U0AAA>, <!subteam^S0BBB>, <#C0CCC>, #support" in lines
    assert "*2. Level 2* — _no contacts configured (set them in the policy file)_" in lines
    assert "• when a ticket opens for p1; repeats every 30m" in lines
    assert "• 8h after opening unless an ETA or a workaround is given for p2" in lines
    assert "• when first response is breached for p1, p2, p3" in lines
    words = all_text(matrix_blocks(leadsquared))
    assert "• at 75% of resolution for urgent, high" in words
    assert "• at 50% of first response for every severity" in words
    assert (
        "• when resolution is breached for urgent, high; repeats every 1h (support hours)" in words
    )
    assert (
        "• when first response is breached for every severity; repeats every 30m (support hours)"
        in words
    )
    for policy in every_policy:
        check_limits(matrix_blocks(policy))


def test_help_blocks_come_from_the_grammar():
    rendered = help_blocks()
    check_limits(rendered)
    assert (
        "/sla open [severity] [policy:NAME] [customer:NAME] [reported:-2h|09:30] summary"
        in all_text(rendered)
    )


def test_every_builder_is_pure():
    """No network, no database, no wall clock: no module of the package imports them."""
    modules = sorted(Path(kit.__file__).parent.glob("*.py"))
    assert len(modules) > 5
    for module in modules:
        source = module.read_text(encoding="utf-8")
        for word in ("datetime.now", "utcnow", "time.time", "sqlalchemy", "httpx", "WebClient"):
            assert word not in source, module.name


def test_the_card_says_what_the_updates_promised(liveops):
    # The last update, the latest ETA and the workaround are on the card, not only in the
    # thread: an ETA given earlier still holds after an update without one.
    eta = T0 + 5 * HOUR
    history = [
        Opened(T0, "p1"),
        Acknowledged(T0 + 10 * MIN),
        UpdatePosted(T0 + HOUR, eta=eta),
        UpdatePosted(T0 + 2 * HOUR, workaround=True),
        UpdatePosted(T0 + 3 * HOUR),
    ]
    text = all_text(ticket_card(view_of(liveops, history, T0 + 3 * HOUR), T0 + 3 * HOUR)[1])
    line = next(t for t in text.split("\n") if t.startswith(":memo: Last update"))
    assert line.count("<!date^") == 3
    assert f"<!date^{int((T0 + 3 * HOUR).timestamp())}^" in line.split(" · ")[0]
    assert f"ETA <!date^{int(eta.timestamp())}^" in line
    assert f"workaround in place since <!date^{int((T0 + 2 * HOUR).timestamp())}^" in line
    # Before any update, no such line.
    fresh = all_text(ticket_card(view_of(liveops, history[:2], T0 + HOUR), T0 + HOUR)[1])
    assert "Last update" not in fresh


def test_the_card_quotes_the_last_update_cut_and_harmless(liveops):
    history = [Opened(T0, "p1"), UpdatePosted(T0 + HOUR)]
    said = "Rerouting <!channel> trunks\nvia Frankfurt. " + "More detail. " * 100
    view = view_of(liveops, history, T0 + HOUR, said=said)
    [progress] = [b for b in ticket_card(view, T0 + HOUR)[1] if "Last update" in json.dumps(b)]
    quote = progress["elements"][1]["text"]
    assert quote.startswith("“Rerouting &lt;!channel&gt; trunks via Frankfurt. More detail.")
    assert quote.endswith("…”") and len(quote) <= 302


def card_of(number: int, workspace: str, **where: str) -> Ticket:
    """A ticket's row as far as its card's link goes: its number, workspace and message."""
    opened = view_of(load_policy(POLICIES / "liveops.yaml"), [Opened(T0, "p1")], T0, number=number)
    return replace(opened.ticket, workspace=workspace, **where)


def test_card_links_ask_the_domain_once_and_never_build_a_broken_link():
    asked = []

    def team_info(team: str) -> dict[str, Any]:
        asked.append(team)
        return {"team": {"domain": domains[team]}}

    domains = {"T1": "acme", "T2": "evil|<!channel>"}
    client = SimpleNamespace(team_info=team_info)
    links = Links()
    posted = card_of(7, "T1", channel="C1", message_ts="1700000000.000100")
    assert links.cards(client, [posted, posted]) == {
        7: "https://acme.slack.com/archives/C1/p1700000000000100"
    }
    assert asked == ["T1"]
    assert links.card(client, card_of(8, "T1")) is None  # no card yet
    assert links.card(client, card_of(9, "T2", channel="C1", message_ts="1.2")) is None
    line = queue_line(view_of(load_policy(POLICIES / "liveops.yaml"), [Opened(T0, "p1")], T0), T0)
    assert line.startswith("*SLA-42* · ")  # without a link, the plain reference


def test_the_postponement_question_says_what_and_offers_post_it_only_when_it_fits():
    put_off = Postponement("update_every", T0 + 5 * HOUR, T0 + 20 * HOUR, 4 * HOUR)
    text, blocks = postpone_question("SLA-6", [put_off], ZoneInfo("Europe/London"), '{"x": 1}')
    assert text.startswith("This ETA puts off SLA-6's *Next update* by 15h: due <!date^")
    assert "(owed every 4h)" in text
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [ids.CONFIRM_UPDATE, ids.CANCEL_UPDATE]
    assert actions["elements"][0]["value"] == '{"x": 1}'
    check_limits(blocks)
    _, blocks = postpone_question("SLA-6", [put_off], UTC, "x" * 2001)
    assert [b["type"] for b in blocks] == ["section"]
    assert "too long to confirm from here" in all_text(blocks)


def test_an_outages_trail_stays_within_block_kits_limits_and_pings_nobody(liveops):
    # Seed 001: "The client must provide the dates and times of each unavailability incident":
    # the trail says who moved an outage's times, so it is shown whole as far as Slack allows.
    outage = SimpleNamespace(
        id=7, kind="outage", started_at=T0, ended_at=T0 + DAY, cause=None, force_majeure=False,
        note="<!channel> down", deleted_at=None, cancelled_at=None, channel=None,
    )  # fmt: skip
    changes = [
        Change("edited", "U0LEAD", T0 + i * MIN, {"ended_at": T0 + DAY}, {"ended_at": T0 + i * MIN},
               f"edit {i} <!here> " + "x" * 250)
        for i in range(600)
    ]  # fmt: skip
    _, blocks = outage_history(outage, changes, liveops)
    check_limits(blocks)
    shown = all_text(blocks)
    assert "edit 0 " in shown and "<!here>" not in shown and "<!channel>" not in shown
    assert "&lt;!here&gt;" in shown
    _, listed = outage_list([outage], liveops)
    check_limits(listed)
