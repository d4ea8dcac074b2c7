"""Check a built documentation site: every public name (samplevis.__all__ and the public
modules' `__all__`) and every `hmc_opts` option is on it with its docstring; print the counts.

    mkdocs build --strict && python docs/_site/check.py site

It also counts the public functions and classes whose docstring lists every argument in
Google style, and fails if more than INCOMPLETE_AT_MOST leave some out.

A name counts when its page has the name's heading and the start of its docstring (its first
sentence, up to 60 characters, as the page's text shows it); an option when the hmc_opts page's
row has its name and the start of its help.
"""

from __future__ import annotations

import html.parser
import re
import sys
from pathlib import Path

import griffe

sys.path.insert(0, str(Path(__file__).parent))
import pages  # noqa: E402  (docs/_site/pages.py, the site's hook, beside this file)

# Public functions and classes whose docstring leaves an argument out, at most: the count when
# this check came in. Lower it as they are written out in Google style, never raise it.
INCOMPLETE_AT_MOST = 1


class Text(html.parser.HTMLParser):
    """A page's visible text (no scripts, styles or the search index), whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(v for k, v in attrs if k == "id" and v)
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def read_page(site: Path, uri: str) -> Text:
    path = site / uri.removesuffix(".md") / "index.html"
    if uri.endswith("index.md"):
        path = site / uri.removesuffix("index.md") / "index.html"
    parsed = Text()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed


def plain(text: str) -> str:
    """Markdown or HTML text as the page shows it: no backticks, emphasis or link targets,
    whitespace collapsed."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[`*]", "", text)
    return " ".join(text.split())


def opening(docstring: str) -> str:
    """A docstring's first sentence, at most 60 characters of it."""
    first = docstring.strip().split("\n\n")[0]
    return plain(re.split(r"(?<=[.:;])\s", first)[0])[:60]


def load() -> griffe.Module:
    """The package as mkdocstrings reads it (from the sources, not imported)."""
    loader = griffe.GriffeLoader(search_paths=[str(pages.ROOT)])
    package = loader.load("samplevis")
    loader.resolve_aliases(external=False, implicit=False)
    return package


def names(site: Path) -> tuple[list[str], list[str]]:
    """(found, missing): the public names on the site with their docstring, and those not."""
    package = load()
    found, missing = [], []
    read: dict[str, Text] = {}
    for entry in pages.catalogue():
        if entry.uri not in read:
            read[entry.uri] = read_page(site, "api/" + entry.uri)
        page = read[entry.uri]
        target = package[entry.where.removeprefix("samplevis.")] if "." in entry.where else package
        docstring = target.docstring.value if target.docstring else ""
        shown = plain("".join(page.parts))
        ok = bool(docstring) and opening(docstring) in shown
        if entry.kind != "module":
            ok = ok and entry.where in page.ids
        (found if ok else missing).append(entry.public)
    return found, missing


def options(site: Path) -> tuple[list[str], list[str]]:
    """(found, missing): the hmc_opts options in the site's table with their help, and not."""
    from samplevis.runtime.checks import python_spelling, spelt
    from samplevis.sampling.options import OPTIONS

    shown = plain("".join(read_page(site, "hmc_opts.md").parts))
    found, missing = [], []
    for name, option in OPTIONS.items():
        help_text = plain(spelt(option.help, python_spelling))[:60]
        (found if f"{name} {option.default!r} {help_text}" in shown else missing).append(name)
    return found, missing


def documented(docstring: griffe.Docstring | None, kinds: tuple[str, ...]) -> set[str]:
    """The names a Google-style docstring's sections of these kinds list."""
    if docstring is None:
        return set()
    sections = docstring.parse(griffe.Parser.google, warnings=False)
    return {item.name for s in sections if s.kind.value in kinds for item in s.value}


def arguments() -> tuple[list[str], list[str]]:
    """(complete, incomplete): the public functions and classes whose docstring lists every
    argument in Google style (`Args:`; a class's fields may be its `Attributes:`), and those
    that leave some out (or list them in prose)."""
    package = load()
    complete, incomplete, seen = [], [], set()
    for entry in pages.catalogue():
        if entry.kind == "module":
            continue
        target = package[entry.where.removeprefix("samplevis.")]
        target = target.final_target if target.is_alias else target
        if target.path in seen or not (target.is_function or target.is_class):
            continue
        seen.add(target.path)
        call = target if target.is_function else target.members.get("__init__")
        if call is None:
            continue
        wanted = [
            p.name
            for p in call.parameters
            if p.name not in ("self", "cls")
            and p.kind.value != "variadic keyword"
            and p.kind.value != "variadic positional"
        ]
        listed = documented(target.docstring, ("parameters", "attributes", "other parameters"))
        if call is not target:
            listed |= documented(call.docstring, ("parameters", "other parameters"))
        (complete if set(wanted) <= listed else incomplete).append(entry.public)
    return complete, incomplete


def main(site: Path) -> int:
    top = set(pages.all_names("samplevis/__init__.py"))
    found, missing = names(site)
    on_top = sorted(n for n in found if n.removeprefix("samplevis.") in top)
    print(
        f"public names on the site with their docstring: {len(found)} of "
        f"{len(found) + len(missing)} (samplevis.__all__: {len(on_top)} of {len(top)})"
    )
    found_options, missing_options = options(site)
    print(
        f"hmc_opts options on the site with their help: {len(found_options)} of "
        f"{len(found_options) + len(missing_options)}"
    )
    for name in missing + missing_options:
        print(f"  missing: {name}")
    complete, incomplete = arguments()
    print(
        f"public functions and classes whose docstring lists every argument (Google style): "
        f"{len(complete)} of {len(complete) + len(incomplete)}"
    )
    if len(incomplete) > INCOMPLETE_AT_MOST:
        print(f"  more than {INCOMPLETE_AT_MOST} leave arguments out: {', '.join(incomplete)}")
    return 1 if missing or missing_options or len(incomplete) > INCOMPLETE_AT_MOST else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else pages.ROOT / "site")))
