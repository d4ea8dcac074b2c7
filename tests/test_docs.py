"""The docs hold what the code does: docs/sampling.md lists every option of `render` once, with
its default; every relative link of the README, CONTRIBUTING, docs/, benchmarks/README.md and
the notebooks' text resolves to a file (and a heading, for an anchor into a page); every section
the code cites by name (`docs/PAGE.md, "Section"`) is a heading of that page."""

from __future__ import annotations

import json
import re
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest

from samplevis.sampling import options

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OPTIONS_HEADING = "## Every option of `render`"

# [text](target) and ![alt](target); a target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# a page and a section the code cites: docs/sampling.md, "The density" (not commit:docs/...)
CITATION = re.compile(r"(?<![\w:/])docs/([\w.-]+\.md),\s*\"([^\"]+)\"")


def markdown_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "benchmarks" / "README.md"]
    return files + sorted(DOCS.glob("*.md"))


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def notebook_text(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def without_code(text: str) -> str:
    """Markdown without its fenced blocks and inline code, where brackets are no links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"`[^`\n]*`", "", text)


def headings(page: Path) -> list[str]:
    """The page's headings as written, outside fenced blocks."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+)$", text, flags=re.M)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but hyphens and underscores
    dropped, spaces as hyphens."""
    kept = "".join(
        c for c in heading.lower() if c in " -_" or unicodedata.category(c)[0] in ("L", "N")
    )
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in headings(page):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def options_table() -> list[tuple[str, str]]:
    """(option, default column) of each row of docs/sampling.md's options table."""
    text = (DOCS / "sampling.md").read_text(encoding="utf-8")
    assert OPTIONS_HEADING in text, f"docs/sampling.md needs a section {OPTIONS_HEADING!r}"
    section = text.split(OPTIONS_HEADING, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, flags=re.M)


def test_the_ideas_page_lists_every_option_of_render_once():
    listed = [name for name, _ in options_table()]
    twice = sorted({name for name in listed if listed.count(name) > 1})
    assert not twice, f"options listed more than once in docs/sampling.md: {twice}"
    assert set(listed) == set(options.OPTIONS), (
        f"docs/sampling.md lists {sorted(set(listed) - set(options.OPTIONS))} that render does "
        f"not take and leaves out {sorted(set(options.OPTIONS) - set(listed))}"
    )


def spellings(value: object) -> set[str]:
    """How a default may be written: 10, 0.8, 1/16, True, "hmc"."""
    if isinstance(value, str):
        return {f'"{value}"'}
    if isinstance(value, bool) or isinstance(value, int):
        return {str(value)}
    assert isinstance(value, float)
    written = {f"{value:g}", repr(value)}
    fraction = Fraction(value).limit_denominator(256)
    if fraction.denominator > 1:
        written.add(f"{fraction.numerator}/{fraction.denominator}")
    return written


def test_the_options_table_states_each_default():
    """A default other than None (which the row explains in words) is written as it is."""
    for name, written in options_table():
        default = options.OPTIONS[name].default
        if default is None:
            continue
        assert any(s in written for s in spellings(default)), (
            f"docs/sampling.md gives {name}'s default as {written.strip()!r}; render's is "
            f"{default!r}"
        )


def link_sources() -> list[tuple[str, Path, str]]:
    sources = [
        (str(p.relative_to(ROOT)), p, p.read_text(encoding="utf-8")) for p in markdown_files()
    ]
    return sources + [(str(p.relative_to(ROOT)), p, notebook_text(p)) for p in notebooks()]


@pytest.mark.parametrize("name, path, text", link_sources(), ids=lambda v: str(v)[:40])
def test_relative_links_resolve(name, path, text):
    broken = []
    for target in LINK.findall(without_code(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        page = (path.parent / file).resolve() if file else path
        if not page.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and page.suffix == ".md" and anchor not in anchors(page):
            broken.append(f"{target} (no such heading in {page.name})")
    assert not broken, f"{name}: links that resolve to nothing: {broken}"


def test_the_sections_the_code_cites_are_headings():
    """`docs/PAGE.md, "Section"` in a comment or docstring names a heading of PAGE (or its
    start, as "Where the step's time goes" for "Where the step's time goes (`--parts`)")."""
    missing = []
    for folder in ("samplevis", "benchmarks", "tests"):
        for source in sorted((ROOT / folder).rglob("*.py")):
            if source == Path(__file__).resolve():  # its own examples
                continue
            # a citation may run over lines of a comment or a string
            text = re.sub(r"\s*\n\s*(#\s*)?", " ", source.read_text(encoding="utf-8"))
            text = text.replace("' '", "").replace('" "', "")
            for page, section in CITATION.findall(text):
                if not (DOCS / page).exists():
                    missing.append(f"{source.relative_to(ROOT)}: docs/{page} (no such page)")
                    continue
                written = [h.replace("`", "") for h in headings(DOCS / page)]
                if not any(h.startswith(section.replace("`", "")) for h in written):
                    missing.append(f'{source.relative_to(ROOT)}: docs/{page}, "{section}"')
    assert not missing, f"sections cited that the docs no longer have: {missing}"
