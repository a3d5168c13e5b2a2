"""``slabot simulate --replay``: real tickets of a span judged under a draft policy, beside the
terms they ran under (issue "Contracts to the letter", "What if"), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slabot.cli import main
from slabot.reports.replay import replay
from slabot.sla import parse_policy
from slabot.sla.replay import judge
from slabot.tickets import ChangeRequest

ROOT = Path(__file__).resolve().parent.parent
IST = ZoneInfo("Asia/Kolkata")
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
NOW = datetime(2026, 12, 15, tzinfo=UTC)
LEADSQUARED = (ROOT / "policies" / "leadsquared.yaml").read_text(encoding="utf-8")


def draft_text() -> str:
    """The draft a lead is weighing: LeadSquared with a 3-hour High initial response (60
    minutes at peak today) and no Low severity (its tickets cannot be judged under it)."""
    text = LEADSQUARED.replace("name: leadsquared", "name: leadsquared-draft", 1)
    high, medium = text.index("  - key: high"), text.index("  - key: medium")
    longer = text[high:medium].replace("opened_in: {peak: 60m}", "opened_in: {peak: 3h}")
    text = text[:high] + longer.replace("within: 2h\n", "within: 3h\n", 1) + text[medium:]
    low, after = text.index("  - key: low"), text.index("# Interpretation: the SOP sets no rem")
    return text[:low] + "\n" + text[after:]


def ist(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=IST)


@pytest.fixture
def history(tickets):
    """Four LeadSquared tickets in November: a High answered after 90 minutes at peak (a
    breach under the contract's 60), a High answered in 20, an Urgent never answered and a
    Low answered at once."""
    for n, (severity, opened, answered) in enumerate(
        [("high", ist(2, 11), 90 * MINUTE), ("high", ist(3, 11), 20 * MINUTE)], start=1
    ):
        tickets.open(
            "T1", title=f"t{n}", severity=severity, policy="leadsquared", reporter="U1", now=opened
        )
        tickets.acknowledge(ChangeRequest("T1", n, actor="U2", now=opened + answered))
        tickets.resolve(ChangeRequest("T1", n, actor="UADMIN", now=opened + 5 * HOUR))
    for severity in ("urgent", "low"):
        tickets.open(
            "T1",
            title=severity,
            severity=severity,
            policy="leadsquared",
            reporter="U1",
            now=ist(4, 11),
        )
    tickets.acknowledge(ChangeRequest("T1", 4, actor="U2", now=ist(4, 11, 1)))
    return tickets


def test_a_draft_with_a_longer_high_response_would_have_breached_less(store, history, policy_book):
    draft = parse_policy(draft_text(), "draft.yaml")
    result = replay(
        store,
        policy_book,
        ["T1"],
        date(2026, 11, 1),
        date(2026, 11, 30),
        draft,
        against=policy_book.get("leadsquared"),
        now=NOW,
    )
    assert result.tickets == 4
    ran = result.current.compliance.severity("high").first_response
    assert (ran.met, ran.breached) == (1, 1)
    would = result.draft.compliance.severity("high").first_response
    assert (would.met, would.breached) == (2, 0)
    # Pages: the late High reached the support team at half its 60 minutes and the manager at
    # its breach; under the draft's 3 hours it was answered exactly at half time, so neither
    # would have been paged. The unanswered urgent ticket pages the same under both.
    assert (result.current.pages["support_team"], result.draft.pages["support_team"]) == (2, 1)
    assert result.current.pages["support_manager"] - result.draft.pages["support_manager"] == 1
    assert result.draft.pages["coo"] == result.current.pages["coo"]
    assert result.draft.left_out == {"low": 1} and result.current.left_out == {}


def test_the_command_prints_both_side_by_side(store, history, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SLABOT_POLICIES", str(ROOT / "policies"))
    (tmp_path / "draft.yaml").write_text(draft_text(), encoding="utf-8")
    argv = ["simulate", str(tmp_path / "draft.yaml"), "--replay", "2026-11..2026-11"]
    code = main([*argv, "--against", "leadsquared", "--now", NOW.isoformat()])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "Replay of the 4 leadsquared tickets opened 01 Nov 2026 – 30 Nov 2026 (Asia/Kolkata), "
        "as of 15 Dec 2026 05:30"
    )
    assert lines[1].split() == ["as", "they", "ran", "under", "leadsquared-draft", "(draft)"]
    high = lines.index("  High - 2 (2 opened)")
    assert lines[high + 1].split() == ["first", "response", "1", "(50%)", "0", "(0%)"]
    assert lines[lines.index("  Low - 4 (1 opened)") + 1].split()[-1] == "—"
    pages = lines.index("Pages (repeats included)")
    assert lines[pages + 1].split() == ["Support", "team", "2", "1"]
    assert lines[-1].startswith("Left out of the draft: 1 ticket of severity 'low', which ")


@pytest.mark.parametrize(
    ("span", "message"),
    [
        ("2026-11", "write FROM..TO, such as 2026-07..2026-09"),
        ("2026-11..nov", "'nov' is not a day (2026-07-01) or a month (2026-07)"),
        ("2026-11..2026-10", "ends before it starts"),
    ],
)
def test_a_bad_span_is_one_line(store, tmp_path, monkeypatch, capsys, span, message):
    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SLABOT_POLICIES", str(ROOT / "policies"))
    code = main(["simulate", "leadsquared", "--replay", span])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_simulate_without_a_ticket_or_a_replay_says_what_to_give(capsys):
    code = main(["simulate", str(ROOT / "policies" / "leadsquared.yaml")])
    assert code == 2
    assert "give --severity and --opened" in capsys.readouterr().err


def test_a_large_replay_judges_the_draft_in_a_second_process_with_the_same_figures(
    store, history, policy_book, monkeypatch, tmp_path
):
    """From `PARALLEL_FROM` tickets the draft is judged in a forked child: the figures are
    those judged in one process, and the draft's were worked out by another process."""
    from slabot.reports import replay as use_case

    if not use_case.can_fork():
        pytest.skip("a single core, or no fork: the replay stays in one process")

    def judge_noting_the_process(policy, *args):
        with (tmp_path / "pids").open("a") as pids:
            pids.write(f"{policy.name} {os.getpid()}\n")
        return judge(policy, *args)

    draft = parse_policy(draft_text(), "draft.yaml")
    span = ["T1"], date(2026, 11, 1), date(2026, 11, 30), draft
    against = policy_book.get("leadsquared")
    alone = replay(store, policy_book, *span, against=against, now=NOW)
    monkeypatch.setattr(use_case, "PARALLEL_FROM", 1)
    monkeypatch.setattr(use_case, "judge", judge_noting_the_process)
    forked = replay(store, policy_book, *span, against=against, now=NOW)
    assert forked == alone
    judged_in = dict(line.split() for line in (tmp_path / "pids").read_text().splitlines())
    assert judged_in["leadsquared"] == str(os.getpid())
    assert judged_in["leadsquared-draft"] != str(os.getpid())


def test_a_failure_judging_the_draft_in_the_second_process_reaches_the_caller(
    store, history, policy_book, monkeypatch
):
    from slabot.reports import replay as use_case

    def judge_failing_for_the_draft(policy, *args):
        if policy.name.endswith("-draft"):
            raise ValueError("the draft could not be judged")
        return judge(policy, *args)

    monkeypatch.setattr(use_case, "PARALLEL_FROM", 1)
    monkeypatch.setattr(use_case, "judge", judge_failing_for_the_draft)
    draft = parse_policy(draft_text(), "draft.yaml")
    with pytest.raises(ValueError, match="the draft could not be judged"):
        replay(
            store,
            policy_book,
            ["T1"],
            date(2026, 11, 1),
            date(2026, 11, 30),
            draft,
            against=policy_book.get("leadsquared"),
            now=NOW,
        )
