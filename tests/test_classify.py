"""Severity classification: a named severity wins, keywords decide, and doubt is said aloud."""

import pytest

from slabot.sla.classify import classify


@pytest.mark.parametrize(
    ("text", "severity", "summary"),
    [
        ("p1 checkout is down", "urgent", "checkout is down"),
        ("URGENT: checkout is down", "urgent", "checkout is down"),
        ("[sev2] exports are slow", "high", "exports are slow"),
        ("emails delayed sev:medium", "medium", "emails delayed"),
        ("emails delayed severity = low", "low", "emails delayed"),
    ],
)
def test_a_named_severity_wins_and_leaves_the_summary(policies, text, severity, summary):
    result = classify(policies["leadsquared"], text)
    assert (result.severity, result.explicit, result.summary) == (severity, True, summary)


def test_a_two_word_alias_is_a_named_severity(policies):
    result = classify(policies["liveops"], "priority 1 calls failing everywhere")
    assert (result.severity, result.summary) == ("p1", "calls failing everywhere")


@pytest.mark.parametrize(
    ("policy", "text", "severity"),
    [
        ("leadsquared", "the service is down for everyone", "urgent"),
        ("leadsquared", "how do I configure the export", "low"),
        ("leadsquared", "dashboards are slow since this morning", "high"),
        ("liveops", "cosmetic glitch on the admin page", "p3"),
        ("helpdesk-p1-p6", "nobody can log in: a global outage", "p1"),
    ],
)
def test_keywords_choose_a_severity_and_say_why(policies, policy, text, severity):
    result = classify(policies[policy], text)
    assert result.severity == severity
    assert not result.explicit and not result.unsure
    assert result.reason.startswith("matched")


def test_text_with_no_clue_is_unsure_and_offers_every_severity(policies):
    result = classify(policies["leadsquared"], "something odd with the thing")
    assert result.unsure and result.severity is None
    assert result.candidates == ("urgent", "high", "medium", "low")
    assert "no keyword" in result.reason


def test_a_negated_keyword_does_not_count(policies):
    plain = classify(policies["leadsquared"], "the service is down")
    negated = classify(policies["leadsquared"], "the service is not down")
    assert plain.severity == "urgent"
    assert negated.severity != "urgent"


def test_an_unknown_severity_word_is_not_taken_as_named(policies):
    result = classify(policies["leadsquared"], "sev:purple the service is down")
    assert not result.explicit
    assert result.severity == "urgent"


def test_hostile_text_is_classified_without_error(policies):
    text = "<@U123> *bold* `code` <!channel> 🔥 " + "x" * 4000
    result = classify(policies["leadsquared"], text)
    assert result.summary.startswith("<@U123>")
