"""On-call rotations and iCalendar, both ways: a rotation read from a calendar pages whoever its
events put on call when each page falls due, and each rotation's feed parses with icalendar and
lists the same shifts as ``/sla oncall``. SQLite and PostgreSQL where the store is involved.

The calendar is written here as a calendar app would export it (a time zone, weekly events
with RRULE and DURATION, a one-off swap); the clock, the use cases and the fake Slack are real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
import yaml
from slack_sdk import WebClient
from support.courier import Courier
from support.desk import MIN, T0, Now
from support.desk import fake as fake
from support.desk import now as now
from support.fakeslack import FakeSlack

from slabot.cli import main
from slabot.clock.dispatch import Backoff, Dispatcher
from slabot.notify import Fanout
from slabot.notify.pagers import Pagers
from slabot.notify.slack import SlackNotifier
from slabot.oncall import OnCall, team_from
from slabot.oncall.calendars import read_calendar
from slabot.oncall.feeds import feed_routes
from slabot.policies import PolicyBook
from slabot.sla import load_policy
from slabot.sla.errors import PolicyError
from slabot.sla.ical import IcalError, read_slots
from slabot.sla.loader import parse_team
from slabot.sla.oncall import Team
from slabot.slack.blocks.policy import matrix_blocks
from slabot.store import Store
from slabot.tickets import SYSTEM, Tickets

ROOT = Path(__file__).resolve().parent.parent
LA = ZoneInfo("America/Los_Angeles")
CHANNEL = "CSUPPORT"
DAY, WEEK = timedelta(days=1), timedelta(weeks=1)

# Ben's weeks and Ana's alternate from Monday 09:00 in Los Angeles (T0 starts one of Ana's);
# Cat swaps in for 25 minutes of it. Ana is named by her title, Ben by his Slack ID, Cat by
# her e-mail address as an attendee.
CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example//Calendar//EN
BEGIN:VEVENT
UID:ben@example.com
DTSTAMP:20261101T000000Z
DTSTART;TZID=America/Los_Angeles:20261116T090000
DURATION:P7D
RRULE:FREQ=WEEKLY;INTERVAL=2
SUMMARY:On call: @UBEN
END:VEVENT
BEGIN:VEVENT
UID:ana@example.com
DTSTAMP:20261101T000000Z
DTSTART;TZID=America/Los_Angeles:20261123T090000
DTEND;TZID=America/Los_Angeles:20261130T090000
RRULE:FREQ=WEEKLY;INTERVAL=2
SUMMARY:Ana
END:VEVENT
BEGIN:VEVENT
UID:swap@example.com
DTSTAMP:20261101T000000Z
DTSTART:20261123T172000Z
DTEND:20261123T174500Z
SUMMARY:Swap
ATTENDEE;CN=Cat:mailto:Cat@Example.com
END:VEVENT
END:VCALENDAR
"""
TEAM = """
leads: [ULEAD]
rotations:
  - key: support
    label: Support on call
    timezone: America/Los_Angeles
    ical:
      url: support.ics
      people: {ana: UANA, cat@example.com: UCAT}
"""


def slots(text: str = CALENDAR, people: dict[str, str] | None = None) -> Any:
    people = {"ana": "UANA", "cat@example.com": "UCAT"} if people is None else people
    return read_slots(text, people, LA, T0 - 2 * WEEK, T0 + 3 * WEEK)


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    (tmp_path / "support.ics").write_text(CALENDAR)
    (tmp_path / "team.yaml").write_text(TEAM)
    return tmp_path / "team.yaml"


@pytest.fixture
def team(team_file: Path) -> Team:
    return team_from(team_file, now=T0)


# -- reading a calendar (pure) -------------------------------------------------------------------


def test_each_event_is_a_shift_of_the_person_it_names():
    shifts = [(s.starts_at, s.ends_at, s.person) for s in slots()]
    nov16 = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # 09:00 PST
    assert shifts == [  # each series from its first event (Ben's on 16 November)
        (nov16, nov16 + WEEK, "UBEN"),
        (T0, T0 + WEEK, "UANA"),
        (T0 + 20 * MIN, T0 + 45 * MIN, "UCAT"),
        (T0 + WEEK, T0 + 2 * WEEK, "UBEN"),
        (T0 + 2 * WEEK, T0 + 3 * WEEK, "UANA"),
    ]


def test_the_event_started_last_is_on_call_and_a_gap_is_nobody(team):
    rotation = team.rotation("support")
    assert [rotation.shift(T0 + m * MIN).person for m in (0, 19, 20, 44, 45)] == [
        "UANA", "UANA", "UCAT", "UCAT", "UANA",
    ]  # fmt: skip
    swap = rotation.shift(T0 + 30 * MIN)
    assert (swap.starts_at, swap.ends_at) == (T0 + 20 * MIN, T0 + 45 * MIN)
    rotation.use_calendar(tuple(s for s in slots() if s.person != "UBEN"))
    gap = rotation.shift(T0 + WEEK + DAY)  # Ben's week, without Ben's events
    assert gap.person is None and (gap.starts_at, gap.ends_at) == (T0 + WEEK, T0 + 2 * WEEK)
    assert team.on_call(T0 + WEEK + DAY) == set()


def test_a_weekly_event_keeps_its_local_time_across_the_dst_change():
    text = CALENDAR.replace("20261116T090000", "20261019T090000")  # Ben from 19 October
    ben = [s for s in read_slots(text, {}, LA, datetime(2026, 10, 1, tzinfo=UTC), T0) if
           s.person == "UBEN"]  # fmt: skip
    # 2 November 09:00 is PST (UTC-8) after 19 October's PDT (UTC-7): the same local hour.
    assert [s.starts_at.hour for s in ben] == [16, 17, 17]
    assert [s.starts_at.astimezone(LA).hour for s in ben] == [9, 9, 9]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("this is not a calendar", "not an iCalendar file"),
        ("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", "has no events"),
        (
            CALENDAR.replace("SUMMARY:Ana", "SUMMARY:Anna"),
            "'Anna' on 2026-11-23 17:00 UTC names nobody",
        ),
    ],
)
def test_a_calendar_that_cannot_be_used_says_what_to_fix(text, words):
    with pytest.raises(IcalError) as caught:
        slots(text)
    assert words in str(caught.value)


def test_a_bad_calendar_stops_the_team_file_naming_the_rotation_and_why(team_file):
    (team_file.parent / "support.ics").write_text(CALENDAR.replace("SUMMARY:Ana", "SUMMARY:Anna"))
    with pytest.raises(PolicyError) as caught:
        team_from(team_file, now=T0)
    message = str(caught.value)
    assert message.startswith(f"{team_file}: rotations[0].ical.url: support.ics: the event")
    assert "ical.people" in message
    (team_file.parent / "support.ics").unlink()
    with pytest.raises(PolicyError, match="cannot read the calendar file"):
        team_from(team_file, now=T0)


def test_a_refresh_takes_the_new_events_and_a_broken_one_keeps_the_last_good(team, team_file):
    rotation = team.rotation("support")
    ics = team_file.parent / "support.ics"
    ics.write_text(CALENDAR.replace("SUMMARY:On call: @UBEN", "SUMMARY:On call: @UDAN"))
    read_calendar(rotation, T0, team_file.parent)
    assert rotation.shift(T0 + WEEK).person == "UDAN"
    ics.write_text("garbage")
    with pytest.raises(IcalError):
        read_calendar(rotation, T0, team_file.parent)
    assert rotation.shift(T0 + WEEK).person == "UDAN"


def test_a_calendar_url_is_fetched_and_a_failing_one_says_so(monkeypatch, team):
    rotation = team.rotation("support")
    answers = {"https://cal.example.com/ok.ics": httpx.Response(200, text=CALENDAR)}

    def get(url: str, **_: Any) -> httpx.Response:
        return answers.get(url, httpx.Response(404))

    monkeypatch.setattr(httpx, "get", get)
    source = rotation.ical.model_copy(update={"url": "webcal://cal.example.com/ok.ics"})
    by_url = rotation.model_copy(update={"ical": source})
    read_calendar(by_url, T0)
    assert by_url.shift(T0).person == "UANA"
    gone = by_url.model_copy(update={"ical": source.model_copy(update={"url": "https://x/y"})})
    with pytest.raises(IcalError, match="answered 404"):
        read_calendar(gone, T0)


# -- the rotation pages from its calendar ---------------------------------------------------------


@pytest.fixture
def book(tmp_path_factory: pytest.TempPathFactory) -> PolicyBook:
    """LiveOps whose Level 2 is the support rotation (no fixed contacts)."""
    data = yaml.safe_load((ROOT / "policies" / "liveops.yaml").read_text(encoding="utf-8"))
    data["escalation"]["levels"][1]["rotation"] = "support"
    folder = tmp_path_factory.mktemp("policies")
    (folder / "liveops.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return PolicyBook.load(folder)


def test_a_calendar_rotation_pages_whoever_its_events_put_on_call(
    store: Store, book: PolicyBook, team: Team, fake: FakeSlack, now: Now
):
    desk = Tickets(store, book, admins={SYSTEM}, team=team)
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    clock = Dispatcher(
        store, desk, Fanout([SlackNotifier(client), Pagers(httpx.Client())]), name="clock",
        backoff=Backoff(jitter=0),
    )  # fmt: skip

    Courier.wire(store, desk, fake.url, lambda: now.value)  # as serve wakes its clock

    def open_p1(at: datetime) -> None:
        now.value = at
        desk.open(
            "T1", title="checkout is down", severity="p1", policy="liveops", reporter="UREP",
            now=at, channel=CHANNEL,
        )  # fmt: skip

    def tick(at: datetime) -> None:
        now.value = at
        clock.tick(at)

    open_p1(T0)
    for minutes in (0, 30, 60):  # the page at opening, then its repeats every 30 minutes
        tick(T0 + minutes * MIN)
    open_p1(T0 + WEEK + 60 * MIN)  # a week later: Ben's week
    tick(T0 + WEEK + 60 * MIN)
    pages = {u: len(fake.messages("D" + u[1:])) for u in ("UANA", "UBEN", "UCAT")}
    assert pages == {"UANA": 2, "UBEN": 1, "UCAT": 1}
    assert "SLA-2" in fake.messages("DBEN")[0]["text"]


# -- the feed ------------------------------------------------------------------------------------


def call(route: Any, query: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer.update(status=status, headers=dict(headers))

    body = b"".join(route({"REQUEST_METHOD": method, "QUERY_STRING": query}, start_response))
    return answer["status"], answer["headers"], body


TOKEN = "feed-token-0123456789abcdef"


@pytest.mark.parametrize(
    ("source", "persons"),
    [("people", ["UANA", "UDAN", "UANA"]), ("calendar", ["UANA", "UCAT", "UANA"])],
)
def test_the_feed_parses_and_lists_the_same_shifts_as_oncall(
    store: Store, team: Team, source: str, persons: list[str]
):
    """The shift now and the next two, as ``/sla oncall`` shows them, are in the feed, with an
    override recorded from Slack; the rotation is a list of people, or a calendar."""
    if source == "people":
        people = "people: [UBEN, UANA]\n    starts: 2026-11-16\n    every: 1w\n"
        team = parse_team(TEAM[: TEAM.index("    ical:")] + f"    {people}")
    oncall = OnCall(store, team)
    oncall.override(
        "T1", "support", "UDAN", starts_at=T0 + DAY, ends_at=T0 + 2 * DAY, actor="ULEAD", now=T0
    )
    [watch] = oncall.watch("T1", T0 + MIN)
    routes = feed_routes(
        oncall, "T1", TOKEN, describe=lambda p: {"UANA": "Ana Lopez"}.get(p, p), now=lambda: T0
    )
    status, headers, body = call(routes["/oncall/support.ics"], f"token={TOKEN}")
    assert status == "200 OK" and headers["Content-Type"].startswith("text/calendar")

    calendar = icalendar.Calendar.from_ical(body)
    events = [
        (e.decoded("dtstart"), e.decoded("dtend"), str(e.get("summary")))
        for e in calendar.walk("VEVENT")
    ]
    shown = [watch.now, *watch.next]
    start = next(i for i, e in enumerate(events) if e[0] == shown[0].starts_at)
    assert events[start : start + 3] == [
        (s.starts_at, s.ends_at, f"On call: {'Ana Lopez' if s.person == 'UANA' else s.person}")
        for s in shown
    ]
    assert [s.person for s in shown] == persons
    assert events[0][0] <= T0 - WEEK and events[-1][1] >= T0 + 8 * WEEK
    uids = [str(e.get("uid")) for e in calendar.walk("VEVENT")]
    assert len(set(uids)) == len(uids)


def test_the_feed_needs_its_token(store: Store, team: Team):
    routes = feed_routes(OnCall(store, team), "T1", TOKEN)
    assert sorted(routes) == ["/oncall/support.ics"]
    for query in ("", "token=", "token=feed-token-0123456789abcdeX", f"x={TOKEN}"):
        status, _, body = call(routes["/oncall/support.ics"], query)
        assert status == "403 Forbidden" and b"token" in body and b"BEGIN" not in body
    assert call(routes["/oncall/support.ics"], f"token={TOKEN}", "POST")[0].startswith("405")


# -- policy check, and a service's start ----------------------------------------------------------


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["policy", "check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_policy_check_reads_the_team_file_and_its_calendars(capsys, team_file, tmp_path):
    liveops = str(ROOT / "policies" / "liveops.yaml")
    code, out, _ = check(capsys, "--team", str(team_file), liveops)
    assert code == 0 and f"{team_file}: ok (team: 1 rotation)" in out

    (tmp_path / "support.ics").write_text(CALENDAR.replace("SUMMARY:Ana", "SUMMARY:Anna"))
    code, out, err = check(capsys, "--team", str(team_file), liveops)
    assert code == 1 and f"{team_file}: rotations[0].ical.url: support.ics: the event 'Anna'" in err
    assert "1 of 2 files invalid" in err

    # A level naming a rotation the team lacks is a warning, which --strict fails on.
    data = yaml.safe_load((ROOT / "policies" / "liveops.yaml").read_text(encoding="utf-8"))
    data["escalation"]["levels"][1]["rotation"] = "nights"
    (tmp_path / "support.ics").write_text(CALENDAR)
    (tmp_path / "nights.yaml").write_text(yaml.safe_dump(data))
    code, _, err = check(
        capsys, "--strict", "--team", str(team_file), str(tmp_path / "nights.yaml")
    )
    assert code == 1
    assert "escalation.levels[1].rotation: 'nights' is not a rotation of" in err


def test_a_service_starts_without_a_calendar_it_cannot_read(team_file, caplog):
    (team_file.parent / "support.ics").unlink()
    team = team_from(team_file, now=T0, strict=False)
    assert team.rotation("support").shift(T0).person is None
    assert "cannot read the calendar file" in caplog.text


# -- who each step pages: simulate, /sla matrix, and the gaps policy check warns about ------------


def rotation_policy(folder: Path, rotation: str = "support") -> Path:
    data = yaml.safe_load((ROOT / "policies" / "liveops.yaml").read_text(encoding="utf-8"))
    data["escalation"]["levels"][1]["rotation"] = rotation
    (folder / "liveops.yaml").write_text(yaml.safe_dump(data))
    return folder / "liveops.yaml"


def test_simulate_names_whoever_is_on_call_when_each_page_falls_due(capsys, team_file, tmp_path):
    policy = str(rotation_policy(tmp_path))

    def first_page(opened: datetime) -> str:
        argv = ["simulate", policy, "--severity", "p1", "--opened", opened.isoformat()]
        assert main([*argv, "--team", str(team_file), "--for", "1h"]) == 0
        out = capsys.readouterr().out
        return next(line for line in out.splitlines() if "PAGE Level 2" in line)

    assert "PAGE Level 2 (UANA on call in support): at opening" in first_page(T0)
    assert "(UCAT on call in support)" in first_page(T0 + 30 * MIN)
    assert "(UBEN on call in support)" in first_page(T0 + WEEK)
    lacking = rotation_policy(tmp_path, "nights")
    argv = ["simulate", str(lacking), "--severity", "p1", "--opened", T0.isoformat()]
    assert main([*argv, "--team", str(team_file), "--for", "1h"]) == 0
    assert "rotation nights, not in the team file" in capsys.readouterr().out


def test_matrix_shows_each_levels_rotation_and_who_it_pages_now(store, team, tmp_path):
    policy = load_policy(rotation_policy(tmp_path))
    text = str(matrix_blocks(policy, OnCall(store, team).watch("T1", T0 + MIN)))
    assert "*2. Level 2* — whoever is on call in Support on call (now <@UANA>, until" in text
    assert "no contacts configured" not in text.split("*2. Level 2*")[1]
    assert "which the team file (SLABOT_TEAM) lacks" in str(matrix_blocks(policy))


def test_policy_check_warns_about_hours_with_nobody_on_call(capsys, team_file, tmp_path):
    policy = str(rotation_policy(tmp_path))
    (tmp_path / "support.ics").write_text(CALENDAR.replace("On call: @UBEN", "Ana"))
    assert check(capsys, "--team", str(team_file), policy)[0] == 0
    only_ana = (
        CALENDAR.split("BEGIN:VEVENT", 1)[0] + "BEGIN:VEVENT" + CALENDAR.split("BEGIN:VEVENT")[2]
    )  # Ana's weeks alone: every other week nobody is on call
    (tmp_path / "support.ics").write_text(only_ana + "END:VCALENDAR\n")
    code, _, err = check(capsys, "--strict", "--team", str(team_file), policy)
    assert code == 1
    assert "escalation.levels[1].rotation: nobody is on call in 'support' from" in err
    assert "more gaps in the next 28 days): nobody is paged then" in err
