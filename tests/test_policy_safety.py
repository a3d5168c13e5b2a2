"""Policies that cannot cost money by mistake: every share a percentage, credit bands in order,
no key given twice, and YAML errors shown where they start.

Every share in a policy is a percentage with its sign; a bare number is refused whatever its
YAML type, because ``99.95`` read as a share is 9995% and would make every month owe a credit.
"""

from pathlib import Path

import pytest
import yaml

from slabot.sla import PolicyError, parse_policy
from slabot.sla.loader import StrictLoader, _FastLoader

LEADPRO_PATH = Path(__file__).parent.parent / "policies" / "leadpro.yaml"
LEADPRO = LEADPRO_PATH.read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def edited(old: str, new: str) -> str:
    assert old in LEADPRO, old
    return LEADPRO.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ('target: "99.9%"', "target: 99.95", "uptime.target"),
        ('target: "99.9%"', "target: 1", "uptime.target"),
        (
            'below: "99.9%"\n      credit: "10%"',
            'below: 99.95\n      credit: "5%"',
            "uptime.credits[0].below",
        ),
        (
            'below: "99.9%"\n      credit: "10%"',
            'below: "99.9%"\n      credit: 10',
            "uptime.credits[0].credit",
        ),
        ("at: open", "at: 75", "escalation.rules[0].at"),
        ("at: open", "at: 0.75", "escalation.rules[0].at"),
        (
            'first_response: ["50%", "80%"]',
            "first_response: [0.5, 80]",
            "reminders.first_response[0]",
        ),
    ],
)
def test_a_bare_number_where_a_share_goes_is_refused_and_says_to_write_a_percentage(old, new, path):
    # Seed 001: "LeadPro guarantees 99.9% uptime" / "For monthly uptime Percentage less than
    # 99.9% ... a Service Credit of 10%". Interpretation: a share is only ever written with its
    # percent sign; a bare 99.95 is refused rather than guessed at.
    found = problems(edited(old, new))
    assert any(p.startswith(f"{path}: ") and "write it as a percentage" in p for p in found), found


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        # a band above the target: a month that met 99.9% would owe 5%
        (
            '- below: "99.9%"',
            '- {below: "99.95%", credit: "5%"}\n    - below: "99.9%"',
            "uptime.credits[0].below",
            "above the target",
        ),
        # bands out of order
        (
            '- below: "99.9%"',
            '- {below: "98%", credit: "50%"}\n    - below: "99.9%"',
            "uptime.credits[1].below",
            "from the highest",
        ),
        # a worse month earning less than a better one
        (
            'below: "99.0%"\n      credit: "30%"',
            'below: "99.0%"\n      credit: "5%"',
            "uptime.credits[1].credit",
            "larger credit",
        ),
        # outside 0–100 %
        (
            'below: "99.0%"\n      credit: "30%"',
            'below: "99.0%"\n      credit: "130%"',
            "uptime.credits[1].credit",
            "at most 100%",
        ),
        ('target: "99.9%"', 'target: "0%"', "uptime.target", "more than 0%"),
    ],
)
def test_credit_bands_are_ordered_and_within_0_to_100_percent(old, new, path, words):
    # Seed 001: "less than 99.9% but equal to or greater than 99.0% ... 10%"; "less than 99.0%
    # ... 30%": the stricter band (lower uptime) earns the larger credit, and no band reaches
    # above the 99.9% commitment.
    found = problems(edited(old, new))
    assert any(p.startswith(f"{path}: ") and words in p for p in found), found


def test_the_seed_bands_still_pay_as_the_contract_says():
    # Seed 001: "less than 99.9% but equal to or greater than 99.0% ... a Service Credit of
    # 10%"; "less than 99.0% ... 30%".
    terms = parse_policy(LEADPRO).uptime
    assert terms is not None
    assert terms.credit_for(1.0) == 0.0
    assert terms.credit_for(0.999) == 0.0
    assert terms.credit_for(0.99899) == 0.10
    assert terms.credit_for(0.99) == 0.10
    assert terms.credit_for(0.98999) == 0.30


def test_a_key_given_twice_is_refused_naming_both_lines():
    text = edited(
        '        clause: "High Severity: Response time 2 hours (all hours)."',
        '        clause: "High Severity: Response time 2 hours (all hours)."\n'
        "      first_response:\n        within: 20h\n        clock: 24x7",
    )
    lines = text.splitlines()
    second = next(i for i, line in enumerate(lines) if "within: 20h" in line)  # 0-based
    first = max(
        i for i, line in enumerate(lines[: second - 1]) if line.strip() == "first_response:"
    )
    [found] = problems(text)
    assert found.startswith(f"line {second}, column 7: ")  # the second key, 1-based
    assert f"first on line {first + 1}," in found and "'first_response' is given twice" in found


def test_a_duplicate_deep_inside_a_list_is_refused_too():
    [found] = problems(
        edited(
            'below: "99.0%"\n      credit: "30%"',
            'below: "99.0%"\n      credit: "30%"\n      below: "98%"',
        )
    )
    assert "'below' is given twice" in found


def test_merge_keys_may_still_override():
    text = "base: &b {a: 1}\n" + LEADPRO.replace(
        "name: leadpro", "name: leadpro\nx:\n  <<: *b\n  a: 2", 1
    )
    # the merge is accepted (the only complaints are the two keys the policy language lacks)
    assert all("given twice" not in p for p in problems(text))


def test_an_unclosed_quote_is_reported_where_it_opens():
    lines = LEADPRO.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[at] = 'title: "LeadPro support'
    [found] = problems("\n".join(lines))
    assert found.startswith(f"line {at + 1}, column 8: "), found
    assert "runs on to line 10: is its closing quote missing?" in found


def test_a_quote_left_open_at_the_end_of_the_file_is_reported_where_it_opens():
    text = LEADPRO + 'title: "LeadPro\n'
    [found] = problems(text)
    assert found.startswith(f"line {len(LEADPRO.splitlines()) + 1}, column 8: "), found
    assert "quoted scalar starts here and is not closed" in found


def test_an_unclosed_bracket_is_reported_where_it_opens():
    lines = LEADPRO.splitlines()
    at = next(i for i, line in enumerate(lines) if 'aliases: ["2", "p2"' in line)
    lines[at] = lines[at].replace("]", "")
    [found] = problems("\n".join(lines))
    column = lines[at].index("[") + 1
    assert found.startswith(f"line {at + 1}, column {column}: "), found


def test_libyaml_reads_every_seed_policy_as_pyyaml_does():
    """Policies are parsed by libyaml where PyYAML has it (ten times faster at start-up);
    the values must be those PyYAML's own parser gives."""
    assert _FastLoader is not None, "this PyYAML has no libyaml: nothing to compare"
    for path in sorted(LEADPRO_PATH.parent.glob("*.yaml")):
        text = path.read_text()
        assert yaml.load(text, Loader=_FastLoader) == yaml.load(text, Loader=StrictLoader)


def test_yaml_errors_are_pyyamls_own_words_not_libyamls():
    """libyaml says "found character that cannot start any token"; the problem names it."""
    found = problems(edited("\n  - key:", "\n\t- key:"))
    assert any("found character '\\t' that cannot start any token" in p for p in found), found
