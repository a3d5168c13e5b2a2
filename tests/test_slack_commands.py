"""The ``/sla`` grammar (`slabot.slack.grammar.parse`) and ETA reading (`command.read_eta`).

Pure: text in, a `Command` (or a `Usage` error that says how to type it) out. No Slack, no
storage, no wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slabot.slack.command import read_eta, read_reported
from slabot.slack.grammar import ALIASES, HELP, USAGE, WAIT_FOR, Command, Usage, parse, read_time

LA = ZoneInfo("America/Los_Angeles")  # the liveops policy's zone
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 09:00 in Los Angeles (PST, UTC-8)


def usage(text: str) -> str:
    with pytest.raises(Usage) as caught:
        parse(text)
    return str(caught.value)


# -- verbs and aliases ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "Help me please"])
def test_no_text_or_help_is_help(text):
    assert parse(text) == Command("help")


def test_the_help_names_every_verb_and_each_usage_starts_with_its_verb():
    for verb in USAGE:
        assert f"/sla {verb}" in HELP or verb == "help", verb
        assert USAGE[verb].startswith(f"/sla {verb}")
    for verb in ("open", "list", "policy", "matrix", "help"):  # the verbs that need no ID
        assert parse(verb).verb == verb


@pytest.mark.parametrize(("alias", "verb"), sorted(ALIASES.items()))
def test_each_alias_means_its_verb(alias, verb):
    samples = {
        "open": f"{alias} p1 checkout is down",
        "ack": f"{alias} 42",
        "sev": f"{alias} 42 p1",
        "update": f"{alias} 42 still looking",
        "wait": f"{alias} 42 customer",
        "resume": f"{alias} 42",
        "list": alias,
        "show": f"{alias} 42",
        "resolve": f"{alias} 42",
        "outage": f"{alias} start",
        "maintenance": f"{alias} +2d 1h patching",
    }
    assert parse(samples[verb]).verb == verb
    assert parse(samples[verb].upper() if verb != "wait" else samples[verb]).verb == verb


def test_verbs_are_case_insensitive_and_the_text_is_kept_as_typed():
    cmd = parse("OPEN P1 Checkout is DOWN")
    assert cmd == Command("open", text="P1 Checkout is DOWN")


# -- open ----------------------------------------------------------------------------------------


def test_open_leaves_the_severity_in_the_text_for_the_classifier():
    cmd = parse("open p1 checkout is down")
    assert cmd == Command("open", text="p1 checkout is down")
    assert cmd.severity is None and cmd.policy is None


def test_open_without_text_asks_for_the_form():
    assert parse("open") == Command("open", text="")
    assert parse("open   ") == Command("open", text="")


@pytest.mark.parametrize(
    ("text", "policy", "summary"),
    [
        ("open policy:liveops p1 calls failing", "liveops", "p1 calls failing"),
        ("open p1 policy:liveops calls failing", "liveops", "p1 calls failing"),
        ("open p1 calls failing policy:LiveOps", "LiveOps", "p1 calls failing"),
        ("new POLICY:secpod scanner broken", "secpod", "scanner broken"),
        ("open policy:liveops", "liveops", ""),
    ],
)
def test_open_takes_policy_out_of_the_summary(text, policy, summary):
    assert parse(text) == Command("open", text=summary, policy=policy)


def test_open_takes_when_it_was_reported_out_of_the_summary():
    # Seed 003: "Time to open: Within 1 hours": the clock starts when the customer reported.
    cmd = parse("open p1 reported:-90m calls failing since the release")
    assert cmd == Command("open", text="p1 calls failing since the release", reported="-90m")


@pytest.mark.parametrize(
    ("typed", "reported"),
    [
        ("-90m", NOW - timedelta(minutes=90)),
        ("08:15", datetime(2026, 11, 23, 8, 15, tzinfo=LA)),  # earlier today, in LA
        ("10:00", datetime(2026, 11, 22, 10, 0, tzinfo=LA)),  # still to come today: yesterday
        ("2026-11-20T16:00", datetime(2026, 11, 20, 16, 0, tzinfo=LA)),
    ],
)
def test_reported_times_are_read_back_from_now(typed, reported):
    assert read_reported(typed, LA, NOW) == reported


def test_an_unreadable_reported_time_says_how_to_write_one():
    with pytest.raises(Usage, match="reported:-2h, reported:09:30"):
        read_reported("last tuesday", LA, NOW)


def test_a_word_merely_containing_policy_colon_stays_in_the_summary():
    assert parse("open see xpolicy:abc").text == "see xpolicy:abc"


def test_open_keeps_hostile_text_exactly():
    text = "p2 *bold* _it_ `code` <!channel> <@U1> &amp; ünïcødé 👨\u200d👩\u200d👧 " + "x" * 4000
    cmd = parse(f"open {text}")
    assert cmd.text == text


def test_open_keeps_line_breaks_inside_the_summary():
    assert parse("open p1 checkout\nis down").text == "p1 checkout\nis down"


# -- refs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["42", "SLA-42", "sla-42", "sla42", "#42"])
def test_refs_are_passed_on_as_typed(ref):
    for verb in ("ack", "resume", "reopen", "close", "show"):
        assert parse(f"{verb} {ref}") == Command(verb, ref)


@pytest.mark.parametrize("ref", ["42", "SLA-42", "sla-7", "#42"])
def test_a_bare_id_shows_the_ticket(ref):
    assert parse(ref) == Command("show", ref)
    assert parse(f"  {ref}  ") == Command("show", ref)


def test_a_bare_id_followed_by_words_is_not_a_verb():
    assert "I don't know `42`" in usage("42 ack")


@pytest.mark.parametrize(
    "verb", ["ack", "sev", "update", "wait", "resume", "resolve", "reopen", "close", "assign"]
)
def test_a_change_without_an_id_says_which_ticket_and_how(verb):
    message = usage(verb)
    assert message.startswith("Which ticket?")
    assert USAGE[verb] in message


def test_show_without_an_id_says_how():
    assert usage("show") == f"Which ticket? `{USAGE['show']}`"


# -- sev -------------------------------------------------------------------------------------------


def test_sev_takes_a_level_and_an_optional_reason():
    assert parse("sev 42 p1") == Command("sev", "42", severity="p1")
    assert parse("severity SLA-42 critical customer says all calls drop") == Command(
        "sev", "SLA-42", text="customer says all calls drop", severity="critical"
    )


def test_sev_without_a_level_says_how():
    assert usage("sev 42") == f"Which severity? `{USAGE['sev']}`"


# -- update ----------------------------------------------------------------------------------------


def test_update_text():
    assert parse("update 42 restarted the dialer") == Command(
        "update", "42", text="restarted the dialer"
    )


@pytest.mark.parametrize(
    ("text", "eta", "body"),
    [
        ("update 42 eta:+2h patch rolling out", "+2h", "patch rolling out"),
        ("update 42 patch rolling out eta:16:30", "16:30", "patch rolling out"),
        (
            "update 42 patch ETA:2026-11-23T16:30 rolling out",
            "2026-11-23T16:30",
            "patch rolling out",
        ),
        ("status 42 eta:+1h30m on it", "+1h30m", "on it"),
    ],
)
def test_update_takes_an_eta_anywhere(text, eta, body):
    cmd = parse(text)
    assert (cmd.verb, cmd.ref, cmd.eta, cmd.text, cmd.workaround) == (
        "update",
        "42",
        eta,
        body,
        False,
    )


@pytest.mark.parametrize(
    "text",
    [
        "update 42 workaround route calls through the backup trunk",
        "update 42 Workaround: route calls through the backup trunk",
    ],
)
def test_update_workaround_flag(text):
    cmd = parse(text)
    assert cmd.workaround is True
    assert cmd.text == "route calls through the backup trunk"


def test_update_with_eta_and_workaround():
    cmd = parse("update 42 eta:+4h workaround use the web dialer")
    assert (cmd.eta, cmd.workaround, cmd.text) == ("+4h", True, "use the web dialer")


def test_a_workaround_word_later_in_the_text_is_just_text():
    cmd = parse("update 42 no workaround yet")
    assert (cmd.workaround, cmd.text) == (False, "no workaround yet")


@pytest.mark.parametrize("text", ["update 42", "update 42 workaround", "update 42 eta:+2h"])
def test_update_without_text_says_how(text):
    assert usage(text) == f"An update needs some text. `{USAGE['update']}`"


# -- wait / resume -----------------------------------------------------------------------------


@pytest.mark.parametrize(("word", "status"), sorted(WAIT_FOR.items()))
def test_wait_targets(word, status):
    assert parse(f"wait 42 {word}") == Command("wait", "42", status=status)
    assert parse(f"pause 42 {word.upper()}").status == status


def test_the_documented_wait_targets():
    assert parse("wait 42 customer").status == "waiting_on_customer"
    assert parse("wait 42 third-party").status == "waiting_on_third_party"


@pytest.mark.parametrize("text", ["wait 42", "wait 42 godot", "wait 42 the customer"])
def test_wait_on_nobody_known_says_how(text):
    assert usage(text) == f"Waiting on whom? `{USAGE['wait']}`"


def test_resume():
    assert parse("resume 42") == Command("resume", "42")
    assert parse("unpause SLA-42") == Command("resume", "SLA-42")


# -- resolve, reopen, close ------------------------------------------------------------------------


def test_resolve_with_and_without_a_note():
    assert parse("resolve 42") == Command("resolve", "42")
    assert parse("solve 42 carrier fixed the trunk <@U7>") == Command(
        "resolve", "42", text="carrier fixed the trunk <@U7>"
    )


def test_reopen_and_close():
    assert parse("reopen 42") == Command("reopen", "42")
    assert parse("close SLA-42") == Command("close", "SLA-42")


# -- assign ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ("assign 42 <@U123|name>", "U123"),
        ("assign 42 <@U123ABC>", "U123ABC"),
        ("assign 42 <@W0ENTERPRISE|someone.else>", "W0ENTERPRISE"),
        ("assign 42 to <@U9|x> please", "U9"),
    ],
)
def test_assign_takes_the_mentioned_user(text, user):
    assert parse(text) == Command("assign", "42", user=user)


@pytest.mark.parametrize(
    "text", ["assign 42", "assign 42 bob", "assign 42 @bob", "assign 42 <#C1>"]
)
def test_assign_without_a_mention_says_how(text):
    message = usage(text)
    assert message.startswith("Assign to whom? Mention them")
    assert USAGE["assign"] in message


# -- list, show, policy, matrix --------------------------------------------------------------------


def test_list_and_its_aliases():
    for text in ("list", "queue", "ls", "LIST"):
        assert parse(text) == Command("list")
    assert parse("list policy:liveops") == Command("list", policy="liveops")


def test_show():
    assert parse("show 42") == Command("show", "42")
    assert parse("info SLA-42") == Command("show", "SLA-42")


def test_policy_shows_or_binds():
    assert parse("policy") == Command("policy")
    assert parse("policy liveops") == Command("policy", policy="liveops")
    assert parse("policy policy:liveops") == Command("policy", policy="liveops")
    assert parse('policy leadpro customer:"Acme Ltd"') == Command(
        "policy", policy="leadpro", customer="Acme Ltd"
    )
    assert parse("policy customer:Acme leadpro") == Command(
        "policy", policy="leadpro", customer="Acme"
    )
    with pytest.raises(Usage, match="Which policy is the customer's"):
        parse("policy customer:Acme")


def test_matrix():
    assert parse("matrix") == Command("matrix")
    assert parse("matrix policy:secpod") == Command("matrix", policy="secpod")


# -- unknown verbs ---------------------------------------------------------------------------------


def test_an_unknown_verb_points_to_help():
    assert usage("frobnicate 42") == "I don't know `frobnicate`. Try `/sla help`."


def test_an_unknown_verb_is_quoted_short():
    message = usage("x" * 500 + " 1")
    assert message == f"I don't know `{'x' * 30}`. Try `/sla help`."


# -- read_eta ----------------------------------------------------------------------------------


def test_eta_relative():
    assert read_eta("+2h", LA, NOW) == NOW + timedelta(hours=2)
    assert read_eta("+1h30m", LA, NOW) == NOW + timedelta(minutes=90)
    assert read_eta(" +45m ", LA, NOW) == NOW + timedelta(minutes=45)
    assert read_eta("+1d", LA, NOW) == NOW + timedelta(days=1)


def test_eta_clock_time_later_today_in_the_policy_zone():
    eta = read_eta("16:30", LA, NOW)  # 09:00 in Los Angeles now
    assert eta == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 16:30 PST the same day
    assert eta.astimezone(LA).strftime("%H:%M") == "16:30"
    assert read_eta("9:05", LA, NOW) == datetime(2026, 11, 23, 17, 5, tzinfo=UTC)


def test_eta_clock_time_already_past_is_tomorrow():
    assert read_eta("08:15", LA, NOW) == datetime(2026, 11, 24, 16, 15, tzinfo=UTC)
    assert read_eta("09:00", LA, NOW) == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # not "now"


def test_eta_clock_time_is_read_in_the_zone_not_in_utc():
    kolkata = ZoneInfo("Asia/Kolkata")  # NOW is 22:30 there
    assert read_eta("23:00", kolkata, NOW) == datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert read_eta("10:00", kolkata, NOW) == datetime(2026, 11, 24, 4, 30, tzinfo=UTC)


def test_eta_clock_time_across_a_dst_change_keeps_the_wall_clock():
    # Saturday 7 March 2026, 20:00 PST; US clocks spring forward on Sunday 8 March.
    saturday_evening = datetime(2026, 3, 8, 4, 0, tzinfo=UTC)
    eta = read_eta("10:00", LA, saturday_evening)
    assert eta.astimezone(LA).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-08 10:00 PDT"
    assert eta == datetime(2026, 3, 8, 17, 0, tzinfo=UTC)


def test_eta_iso():
    assert read_eta("2026-11-23T16:30", LA, NOW) == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    assert read_eta("2026-11-24T01:00Z", LA, NOW) == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    assert read_eta("2026-11-24T01:00+05:30", LA, NOW) == datetime(2026, 11, 23, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["soon", "", "+", "+lots", "+-2h", "25:00", "12:61", "12:3x", "16:30:00", "1630", "2026-13-01"],
)
def test_eta_garbage_is_a_usage_error_that_shows_the_forms(text):
    with pytest.raises(Usage) as caught:
        read_eta(text, LA, NOW)
    message = str(caught.value)
    assert "I can't read the ETA" in message
    assert "eta:+2h" in message and "eta:16:30" in message and "eta:2026-11-23T16:30" in message


def test_eta_garbage_is_quoted_short():
    with pytest.raises(Usage) as caught:
        read_eta("x" * 1000, LA, NOW)
    assert len(str(caught.value)) < 200


# -- report ------------------------------------------------------------------------------------


def test_report_takes_an_optional_month_and_policy():
    assert parse("report") == Command("report")
    assert parse("report 2026-11") == Command("report", month="2026-11")
    assert parse("REPORT policy:leadpro 2026-02") == Command(
        "report", month="2026-02", policy="leadpro"
    )
    assert parse("report 2026-12 policy:secpod") == Command(
        "report", month="2026-12", policy="secpod"
    )


@pytest.mark.parametrize(
    "month", ["2026-13", "2026-00", "november", "2026-11-01", "26-11", "x" * 99]
)
def test_a_month_that_is_not_one_says_how_to_write_it(month):
    message = usage(f"report {month}")
    assert message.startswith(f"I can't read the month {month[:20]!r}")
    assert "YYYY-MM, such as 2026-11" in message and USAGE["report"] in message


# -- outage ------------------------------------------------------------------------------------


def test_outage_start_and_end_with_notes():
    assert parse("outage start") == Command("outage", action="start")
    assert parse("outage start dialer down in EU") == Command(
        "outage", action="start", text="dialer down in EU"
    )
    assert parse("outage end carrier restored the trunk") == Command(
        "outage", action="end", text="carrier restored the trunk"
    )
    assert parse("outage over").action == "end"
    assert parse("outage BEGIN policy:leadpro api 500s") == Command(
        "outage", action="start", text="api 500s", policy="leadpro"
    )


def test_force_majeure_is_a_flag_of_start_only():
    assert parse("outage start force-majeure datacentre flooded") == Command(
        "outage", action="start", text="datacentre flooded", force_majeure=True
    )
    assert parse("outage start Force_Majeure").force_majeure is True
    ended = parse("outage end force-majeure was it")
    assert (ended.force_majeure, ended.text) == (False, "force-majeure was it")
    assert parse("outage start we had no force-majeure").force_majeure is False


@pytest.mark.parametrize("text", ["outage", "outage maybe", "outage ended"])
def test_outage_without_start_or_end_says_how(text):
    assert usage(text) == f"Start or end? `{USAGE['outage']}`"


# -- maintenance -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "duration", "note"),
    [
        ("maintenance sat 22:00 4h database upgrade", "sat 22:00", timedelta(hours=4), None),
        (
            "maintenance Saturday 22:00 4h database upgrade",
            "Saturday 22:00",
            timedelta(hours=4),
            None,
        ),
        ("maint +49h 90m database upgrade", "+49h", timedelta(minutes=90), None),
        ("maintenance 2026-11-28T22:00 1h30m database upgrade", "2026-11-28T22:00", None, None),
        ("maintenance 2026-11-28 22:00 2h database upgrade", "2026-11-28 22:00", None, None),
        ("maintenance tomorrow 03:00 2h database upgrade", "tomorrow 03:00", None, None),
        ("maintenance 23:30 30m database upgrade", "23:30", timedelta(minutes=30), None),
    ],
)
def test_maintenance_start_duration_and_text(text, start, duration, note):
    cmd = parse(text)
    assert (cmd.verb, cmd.start, cmd.text) == ("maintenance", start, "database upgrade")
    if duration is not None:
        assert cmd.duration == duration


def test_maintenance_takes_a_policy_anywhere():
    cmd = parse("maintenance policy:leadsquared sat 22:00 4h upgrade, expect 5 minutes of 503s")
    assert (cmd.policy, cmd.start, cmd.text) == (
        "leadsquared",
        "sat 22:00",
        "upgrade, expect 5 minutes of 503s",
    )


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("maintenance", "When, and for how long?"),
        ("maintenance sat 22:00", "When, and for how long?"),
        ("maintenance sat 22:00 4 hours upgrade", "I can't read the duration '4'"),
        (
            "maintenance 31/12 22:00 4h upgrade",
            "I can't read the day '31/12': write it as 2026-12-31",
        ),
        ("maintenance 12/31/2026 22:00 4h upgrade", "I can't read the day '12/31/2026'"),
        ("maintenance +2d soon upgrade", "I can't read the duration 'soon'"),
        ("maintenance +2d 0m upgrade", "Maintenance must last longer than zero"),
        ("maintenance +2d 4h", "Say what the maintenance is"),
    ],
)
def test_maintenance_usage_errors_say_how(text, starts):
    message = usage(text)
    assert message.startswith(starts)
    assert USAGE["maintenance"] in message


# -- read_time: the forms a maintenance start adds ---------------------------------------------


def test_a_weekday_and_time_is_the_next_such_day_in_the_policy_zone():
    # NOW is Monday 23 November 09:00 in Los Angeles.
    assert read_time("sat 22:00", LA, NOW) == datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
    assert read_time("Saturday 22:00", LA, NOW) == read_time("sat 22:00", LA, NOW)
    assert read_time("mon 10:00", LA, NOW) == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # today
    assert read_time("mon 08:00", LA, NOW) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # passed
    assert read_time("today 22:00", LA, NOW) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert read_time("tomorrow 03:00", LA, NOW) == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert read_time("2026-11-28 22:00", LA, NOW) == datetime(2026, 11, 29, 6, 0, tzinfo=UTC)


def test_a_weekday_across_a_dst_change_keeps_the_wall_clock():
    # Wednesday 4 March 2026 in Los Angeles; clocks spring forward on Sunday 8 March.
    wednesday = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    monday = read_time("mon 09:00", LA, wednesday)
    assert monday.astimezone(LA).strftime("%a %Y-%m-%d %H:%M %Z") == "Mon 2026-03-09 09:00 PDT"


@pytest.mark.parametrize("text", ["someday 10:00", "sat", "sat 25:00", "sat 9", "2026-02-30 10:00"])
def test_times_that_are_not_raise_value_error(text):
    with pytest.raises(ValueError):
        read_time(text, LA, NOW)
