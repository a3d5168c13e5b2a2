"""Policy YAML read strictly: a key given twice is refused, and errors point where they start."""

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
        edited('{below: "99.0%", credit: "30%"}', '{below: "99.0%", credit: "30%", below: "98%"}')
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
    at = next(i for i, line in enumerate(lines) if '"99.0%", credit' in line)
    lines[at] = lines[at].replace("}", "")
    [found] = problems("\n".join(lines))
    assert found.startswith(f"line {at + 1}, column 7: "), found
