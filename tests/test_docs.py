"""The maps of the code stay true to the code, and every citation of the notes finds its section.

A newcomer reads the README's "How it is built" and `docs/architecture.md` to find their way;
a package missing from either is a room nobody told them about. Docstrings and benchmarks cite
the notes as ``docs/architecture.md, "Section"``; a renamed or dropped heading would leave them
pointing at nothing. These tests fail when a package is added without a line in both maps, or a
citation names a heading the notes do not have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "slabot"
NOTES = ROOT / "docs" / "architecture.md"
README = ROOT / "README.md"
CITATION = re.compile(r'docs/architecture\.md,\s+"([^"]+)"')


def packages() -> list[str]:
    """Every package directly under src/slabot/: each directory holding Python modules, with
    an ``__init__.py`` or without (``slack/`` has none). Sub-packages, such as the store's
    migrations, belong to their package's line."""
    return sorted({p.parent.name for p in PACKAGE.glob("*/*.py")})


def unfenced(markdown: str) -> list[str]:
    """The lines of a Markdown text outside its code fences."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def headings() -> set[str]:
    return {
        line.lstrip("#").strip() for line in unfenced(NOTES.read_text()) if line.startswith("#")
    }


def section(markdown: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#|\Z)", markdown, re.M | re.S)
    assert match, f"no heading {heading!r}"
    return match.group(1)


def readme_map() -> str:
    """The code block of the README's "How it is built": the map of the code."""
    built = section(README.read_text(), "How it is built")
    match = re.search(r"^```\n(.*?)^```", built, re.M | re.S)
    assert match, "README's 'How it is built' has no map of the code"
    return match.group(1)


def citing_files() -> list[Path]:
    sources = [*(ROOT / "src").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    return sorted([*sources, *(ROOT / "bench").glob("*.md"), README])


def flat(text: str) -> str:
    """Text with its line breaks (and a comment's ``#`` after one) read as single spaces, so
    a citation wrapped over two lines reads as one."""
    return re.sub(r"\s*\n\s*(?:#\s*)?", " ", text)


def test_the_packages_are_found() -> None:
    # A guard for the tests below: they prove nothing if the glob finds nothing.
    assert {"sla", "store", "tickets", "clock", "slack"} <= set(packages())


@pytest.mark.parametrize("name", packages())
def test_the_readme_map_names_every_package(name: str) -> None:
    assert re.search(rf"^ +{name}/ ", readme_map(), re.M), (
        f"src/slabot/{name}/ is missing from README.md's map ('How it is built'): "
        "add a line saying what it owns"
    )


@pytest.mark.parametrize("name", packages())
def test_the_architecture_notes_name_every_package(name: str) -> None:
    table = section(NOTES.read_text(), "The packages")
    assert f"| `{name}/` |" in table, (
        f"src/slabot/{name}/ is missing from docs/architecture.md's table of packages: "
        "add a row saying what it owns"
    )


def test_every_citation_names_a_section_of_the_notes() -> None:
    known = headings()
    cited, wrong = 0, []
    for path in citing_files():
        text = flat(path.read_text())
        for match in CITATION.finditer(text):
            cited += 1
            if match.group(1) not in known:
                wrong.append(f"{path.relative_to(ROOT)}: {match.group(1)!r}")
    assert not wrong, f"citations of sections docs/architecture.md does not have: {wrong}"
    assert cited, "no citation found: the pattern no longer matches how the code cites"


def test_code_and_benchmarks_cite_the_notes_with_a_section() -> None:
    bare = []
    for path in citing_files():
        if path == README:  # the README may point at the notes as a whole
            continue
        text = flat(path.read_text())
        if text.count("docs/architecture.md") != len(CITATION.findall(text)):
            bare.append(str(path.relative_to(ROOT)))
    assert not bare, (
        f'cite docs/architecture.md as docs/architecture.md, "Section" in: {", ".join(bare)}'
    )


def test_nothing_cites_design_notes_the_repository_does_not_have() -> None:
    stale = [str(p.relative_to(ROOT)) for p in citing_files() if "DESIGN.md" in p.read_text()]
    assert not stale, f"DESIGN.md is not in the repository; cite docs/architecture.md in: {stale}"
