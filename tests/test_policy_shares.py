"""Policies that cannot cost money by mistake: every share a percentage, credit bands in order.

Every share in a policy is a percentage with its sign; a bare number is refused whatever its
YAML type, because ``99.95`` read as a share is 9995% and would make every month owe a credit.
"""

from pathlib import Path

import pytest

from slabot.sla import PolicyError, parse_policy

LEADPRO = (Path(__file__).parent.parent / "policies" / "leadpro.yaml").read_text()


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
            '{below: "99.9%", credit: "10%"}',
            '{below: 99.95, credit: "5%"}',
            "uptime.credits[0].below",
        ),
        (
            '{below: "99.9%", credit: "10%"}',
            '{below: "99.9%", credit: 10}',
            "uptime.credits[0].credit",
        ),
        ('at: "75%"', "at: 75", "escalation.rules[0].at"),
        ('at: "75%"', "at: 0.75", "escalation.rules[0].at"),
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
            '{below: "99.9%", credit: "10%"}',
            '{below: "99.95%", credit: "5%"}\n    - {below: "99.9%", credit: "10%"}',
            "uptime.credits[0].below",
            "above the target",
        ),
        # bands out of order
        (
            '{below: "99.9%", credit: "10%"}',
            '{below: "98%", credit: "50%"}\n    - {below: "99.9%", credit: "10%"}',
            "uptime.credits[1].below",
            "from the highest",
        ),
        # a worse month earning less than a better one
        (
            '{below: "99.0%", credit: "30%"}',
            '{below: "99.0%", credit: "5%"}',
            "uptime.credits[1].credit",
            "larger credit",
        ),
        # outside 0–100 %
        (
            '{below: "99.0%", credit: "30%"}',
            '{below: "99.0%", credit: "130%"}',
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
