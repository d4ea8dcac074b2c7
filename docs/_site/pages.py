"""The documentation site's pages that are made at build time (mkdocs.yml names this file as a
hook), so that none of them can drift from the repository:

- the home page from README.md; CONTRIBUTING.md and benchmarks/README.md as pages; each
  notebook as a page (its text and code cells, and the outputs of its run stored in
  docs/_site/notebooks/ by docs/_site/execute_notebooks.py);
- docs/sampling_designs.md and docs/benchmarks.md as a contents page and a page per section
  (a decision, a benchmark), each led by the page's note on its machines;
- the API reference: a page per name of `samplevis.__all__` and of the public modules'
  `__all__`, read by mkdocstrings from the sources;
- `render`'s `hmc_opts` from `OPTIONS`, and every command's `--help`.

Every relative link is resolved as on GitHub, from the file it is written in, and pointed at
the page (or the split page holding its anchor) or file the site has for it.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import posixpath
import re
import unicodedata
from pathlib import Path

import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]

# [text](target) and ![alt](target), as tests/test_docs.py reads them
LINK = re.compile(r"(!?\[[^\]]*\]\(\s*<?)([^)\s>]+)(>?(?:\s+\"[^\"]*\")?\s*\))")
FENCE = re.compile(r"^```.*?^```[^\n]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
CODE = re.compile(FENCE.pattern + "|" + INLINE_CODE.pattern, re.S | re.M)

NOTEBOOK_RUNS = "docs/_site/notebooks"  # each notebook run, its outputs with it
LOG = mkdocs.plugins.get_plugin_logger("samplevis_pages")

SPLIT = {  # a long page: its folder on the site, one page per "## " section
    "docs/sampling_designs.md": "designs",
    "docs/benchmarks.md": "figures",
}
GUIDES = [
    "sampling.md",
    "objectives.md",
    "examples.md",
    "atlas.md",
    "trust.md",
    "vit.md",
    "efficientnet_lite0.md",
]
# The public modules whose `__all__` gets a page each, and the name users call them by
MODULES = {
    "samplevis.objectives": "samplevis/optvis/objectives/__init__.py",
    "samplevis.param": "samplevis/optvis/param/__init__.py",
    "samplevis.transform": "samplevis/optvis/transform/__init__.py",
    "samplevis.zoo": "samplevis/zoo/__init__.py",
    "samplevis.io": "samplevis/io/__init__.py",
    "samplevis.models": "samplevis/models/__init__.py",
    "samplevis.examples": "samplevis/examples/__init__.py",
}
OTHER_MODULES = {  # public modules shown by their docstring alone: the name, the module
    "samplevis.optvis": "samplevis.optvis",
    "samplevis.sampling": "samplevis.sampling",
    "samplevis.signals": "samplevis.runtime.signals",
}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (as tests/test_docs.py computes it), which the site's
    table of contents makes too (mkdocs.yml: pymdownx.slugs)."""
    heading = INLINE_CODE.sub(lambda m: m.group(0)[1:-1], heading)
    kept = "".join(
        c for c in heading.lower() if c in " -_" or unicodedata.category(c)[0] in ("L", "N")
    )
    return kept.replace(" ", "-")


class Page:
    """A page of the site: where it sits (`uri`, under docs/), the repository file it comes
    from (`source`, relative links are resolved from there) and its markdown."""

    def __init__(self, uri: str, source: str, text: str, anchors: set[str] | None = None):
        self.uri = uri
        self.source = source
        self.text = text
        self.anchors = anchors if anchors is not None else set()


def read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, text) of each heading outside fenced blocks."""
    found, fenced = [], False
    for i, line in enumerate(text.split("\n")):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"^(#{1,6})\s+(.+)$", line)):
            found.append((i, len(m.group(1)), m.group(2).strip()))
    return found


def split(source: str, folder: str) -> list[Page]:
    """A long page as a contents page (its opening, then its sections and their subsections as
    links) and a page per "## " section, each led by the opening's note on its machines."""
    text = read(source)
    lines = text.split("\n")
    found = headings(text)
    sections = [(i, h) for i, level, h in found if level == 2]
    title = next(h for _, level, h in found if level == 1)
    opening = "\n".join(lines[1 : sections[0][0]]).strip()
    machines = next(
        (p for p in opening.split("\n\n") if "EPYC" in p), opening.split("\n\n")[-1]
    ).strip()
    note = '!!! note "The machines"\n\n' + "\n".join("    " + line for line in machines.split("\n"))
    pages, contents = [], []
    ends = [i for i, _ in sections[1:]] + [len(lines)]
    for (start, heading), end in zip(sections, ends, strict=True):
        uri = f"{folder}/{slug(heading)}.md"
        body = "\n".join(lines[start + 1 : end]).strip()
        # one level up: the section's heading is the page's title
        body = "\n".join(
            line[1:] if re.match(r"^#{3,6}\s", line) and not fenced else line
            for line, fenced in zip(body.split("\n"), fenced_lines(body), strict=True)
        )
        anchors = {slug(heading)} | {slug(h) for _, _, h in headings(body)}
        pages.append(Page(uri, source, f"# {heading}\n\n{note}\n\n{body}\n", anchors))
        # the contents page's links, as written in the long page (rewritten with the others)
        contents.append(f"- [{heading}](#{slug(heading)})")
        contents += [
            "    " * (level - 1) + f"- [{sub}](#{slug(sub)})" for _, level, sub in headings(body)
        ]
    contents_text = "\n".join([f"# {title}", "", opening, "", "## Contents", "", *contents])
    return [Page(posixpath.basename(source), source, contents_text + "\n", set()), *pages]


def fenced_lines(text: str) -> list[bool]:
    flags, fenced = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
            flags.append(True)
        else:
            flags.append(fenced)
    return flags


def notebook(path: str) -> Page:
    """A notebook as a page: its markdown cells, its code cells as Python blocks and their
    outputs, as its run stored in docs/_site/notebooks/ holds them (execute_notebooks.py: the
    notebook with the suite's small settings), or as the notebook holds them where no run is
    stored or the stored run's cells differ from the notebook's (a warning: the build fails)."""
    cells = json.loads(read(path))["cells"]
    ran = f"{NOTEBOOK_RUNS}/{Path(path).name}"
    note = f"*The notebook `{path}`, as stored (its outputs as saved, if any).*"
    if (ROOT / ran).exists():
        run = json.loads(read(ran))["cells"]
        if without_parameters(run) == without_parameters(cells):
            cells = run
            note = (
                f"*The notebook `{path}`, run as the test suite runs it (tests/test_notebooks.py):"
                " with the small settings in its parameters cell below, which make its pictures "
                "small and its runs short; the outputs are that run's "
                f"(`python docs/_site/execute_notebooks.py {Path(path).name}`).*"
            )
        else:
            LOG.warning(
                f"{ran} is not a run of {path} as it stands (their cells differ); run "
                f"`python docs/_site/execute_notebooks.py {Path(path).name}` to store one"
            )
    parts = []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append(source)
        elif cell["cell_type"] == "code":
            parts.append(f"```python\n{source}\n```")
            parts += [
                shown for output in cell.get("outputs", []) if (shown := output_markdown(output))
            ]
    body = "\n\n".join(parts)
    title = next((h for _, level, h in headings(body) if level == 1), Path(path).stem)
    body = body.replace(f"# {title}\n", "", 1)
    return Page(f"notebooks/{Path(path).stem}.md", path, f"# {title}\n\n{note}\n\n{body}")


def without_parameters(cells: list[dict]) -> list[tuple[str, str]]:
    """Each cell's kind and source, but the cell tagged "parameters" (the run's settings)."""
    return [
        (cell["cell_type"], "".join(cell["source"]))
        for cell in cells
        if "parameters" not in cell.get("metadata", {}).get("tags", [])
    ]


def output_markdown(output: dict) -> str:
    """A code cell's output on the page: a PNG inline, HTML as it is (the gallery's blocks,
    their style scoped to them; ArviZ's tables), text as a block; "" for none of these."""
    data = output.get("data", {})
    if "image/png" in data:
        png = "".join(data["image/png"]).replace("\n", "")
        base64.b64decode(png, validate=True)
        return f"![output](data:image/png;base64,{png})"
    if "text/html" in data:
        return (
            '<div class="notebook-output" markdown="0">\n'
            + "".join(data["text/html"]).strip()
            + "\n</div>"
        )
    text = "".join(output.get("text") or data.get("text/plain") or "")
    if output.get("output_type") == "error":
        text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.get("traceback", [])))
    return f"```text\n{text.rstrip()}\n```" if text.strip() else ""


def lazy_names(path: str) -> dict[str, str]:
    """A package's `_ATTRIBUTES` and `_SUBMODULES` (name: the module that holds it), read from
    its source as written, without importing it."""
    found: dict[str, str] = {}
    for node in ast.parse(read(path)).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and target.id in ("_ATTRIBUTES", "_SUBMODULES"):
                found.update(ast.literal_eval(node.value))
    return found


def all_names(path: str) -> list[str]:
    """A module's `__all__`, as its source computes it (literals, `sorted(...)` and `+`)."""
    tree = ast.parse(read(path))
    lazy = lazy_names(path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return sorted(
                eval(
                    compile(ast.Expression(node.value), path, "eval"),
                    {},
                    {
                        "_ATTRIBUTES": lazy,
                        "_SUBMODULES": lazy,
                        "sorted": sorted,
                        "set": set,
                    },
                )
            )
    raise ValueError(f"{path} has no __all__")


def first_line(module_path: str) -> str:
    doc = ast.get_docstring(ast.parse(read(module_path))) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def summary(where: str) -> str:
    """The first sentence of the docstring of the function or class at `where`
    (module.name), followed through the imports of the modules that re-export it."""
    module, _, name = where.rpartition(".")
    tree = ast.parse(read(module_file(module)))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            doc = (ast.get_docstring(node) or "").split("\n\n")[0].replace("\n", " ")
            return re.split(r"(?<=\.)\s", doc)[0]
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return summary(f"{node.module}.{alias.name}")
    return ""


def module_file(module: str) -> str:
    path = module.replace(".", "/")
    return f"{path}/__init__.py" if (ROOT / path).is_dir() else f"{path}.py"


class Entry:
    """A public name on the API reference: `public` as users call it
    (`samplevis.objectives.channel`), `where` mkdocstrings finds it (the module that defines or
    re-exports it), the page `uri` under api/, and `kind` ("module", or where else it is shown)."""

    def __init__(self, public: str, where: str, uri: str, kind: str = ""):
        self.public, self.where, self.uri, self.kind = public, where, uri, kind


def catalogue() -> list[Entry]:
    """Every public name: the public modules and their `__all__`, then each other name of
    `samplevis.__all__` (a function or class; one a module's page shows links there)."""
    entries = []
    shown = {}  # the module that holds a name: the public module whose page shows its names
    for public, path in MODULES.items():
        held = source_module(path)
        shown[held] = public
        uri = f"modules/{public.removeprefix('samplevis.')}.md"
        entries.append(Entry(public, held, uri, "module"))
        lazy = lazy_names(path)
        for name in all_names(path):
            where = f"{lazy[name]}.{name}" if name in lazy else f"{held}.{name}"
            if (ROOT / module_file(where)).exists():  # a function named as its module
                where = f"{where}.{name}"
            entries.append(Entry(f"{public}.{name}", where, uri, "member"))
    for public, held in OTHER_MODULES.items():
        entries.append(
            Entry(public, held, f"modules/{public.removeprefix('samplevis.')}.md", "module")
        )
    top = lazy_names("samplevis/__init__.py")
    top["atlas"] = "samplevis.atlas"
    listed = {e.public for e in entries}
    for name in all_names("samplevis/__init__.py"):
        public, held = f"samplevis.{name}", top[name]
        if public in listed:
            continue
        if held in shown and name in all_names(module_file(held)):
            uri = f"modules/{shown[held].removeprefix('samplevis.')}.md"
            entries.append(Entry(public, f"{held}.{name}", uri, f"also `{shown[held]}.{name}`"))
        else:
            entries.append(Entry(public, f"{held}.{name}", f"{name}.md"))
    return entries


def api_pages() -> list[Page]:
    """The API reference: an index of the public names, a page per public module with each
    name of its `__all__`, and a page per other function or class of `samplevis.__all__`."""
    entries = catalogue()
    pages = []
    for module in (e for e in entries if e.kind == "module"):
        members = [e for e in entries if e.uri == module.uri and e.kind == "member"]
        text = [
            f"# {module.public}",
            "",
            f"::: {module.where}",
            "    options:",
            "      show_root_heading: false",
            "      members: false",
            "",
        ]
        text += [directive(e.where, e.public) for e in members]
        pages.append(Page(f"api/{module.uri}", "docs/api.md", "\n".join(text)))
    for e in entries:
        if e.kind == "":
            text = f"# {e.public}\n\n" + directive(e.where, e.public)
            pages.append(Page(f"api/{e.uri}", "docs/api.md", text))
    index = [
        "# API reference",
        "",
        "Every name of `samplevis.__all__` and the public modules, each with its signature, "
        "arguments, returns and errors, from its docstring; a module's page lists its names. "
        "`render`'s options are on [hmc_opts](../hmc_opts.md).",
        "",
        '<div class="names" markdown>',
        "",
        "| name | what it is |",
        "|---|---|",
    ]
    for e in sorted(entries, key=lambda e: e.public.lower()):
        if e.kind == "member":
            continue
        anchor = f"#{e.where}" if e.kind.startswith("also") else ""
        if e.kind == "module":
            what = "module: " + first_line(module_file(e.where))
        else:
            what = " ".join(filter(None, [summary(e.where), e.kind and f"({e.kind})"]))
        index.append(f"| [`{e.public}`]({e.uri}{anchor}) | {what.replace('|', '/')} |")
    index += ["", "</div>"]
    return [Page("api/index.md", "docs/api.md", "\n".join(index) + "\n"), *pages]


def source_module(path: str) -> str:
    return path.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".")


def directive(where: str, heading: str, level: int = 2) -> str:
    """mkdocstrings' block for one object, titled by the name users call it by."""
    return (
        f'::: {where}\n    options:\n      heading: "{heading}"\n'
        f"      heading_level: {level}\n      show_root_heading: true\n\n"
    )


def options_page() -> Page:
    """`render`'s `hmc_opts`: each key of `OPTIONS`, its default and what it does."""
    from samplevis.runtime.checks import python_spelling, spelt
    from samplevis.sampling.options import OPTIONS

    rows = [
        "# hmc_opts: every option of `render`",
        "",
        "Made from `samplevis.sampling.options.OPTIONS` when the site is built: the keys "
        "[`samplevis.render`](api/render.md) takes in `hmc_opts`, each with its default and "
        "what it does. What they mean together, and why each default: "
        "[the sampling guide](sampling.md#every-option-of-render). The command line takes each "
        "as a flag of `samplevis sample` ([the command line](cli.md)).",
        "",
        '<div class="names" markdown>',
        "",
        "| option | default | what it does |",
        "|---|---|---|",
    ]
    for name, option in OPTIONS.items():
        what = spelt(option.help, python_spelling).replace("\n", " ")
        what = re.sub(r"([|*_\\])", r"\\\1", what)  # as written, not as Markdown
        rows.append(f"| `{name}` | `{option.default!r}` | {what} |")
    return Page("hmc_opts.md", "docs/hmc_opts.md", "\n".join([*rows, "", "</div>"]) + "\n")


def cli_page() -> Page:
    """Every command's `--help`, as argparse prints it."""
    # `samplevis optimize --help` reads render_vis's defaults, which imports TensorFlow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from samplevis.cli.command_line import build_parser

    # argparse wraps at the terminal's width: the page's is fixed
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"
    try:
        parser = build_parser()
        parser.prog = "samplevis"
        text = [
            "# The command line",
            "",
            "`samplevis --help` and each command's `--help`, made when the site is built.",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
            "",
        ]
        # argparse keeps the commands' parsers in its subparsers action only
        commands = next(a for a in parser._actions if a.dest == "command")
        for name, sub in (commands.choices or {}).items():
            text += [f"## samplevis {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
    finally:
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns
    return Page("cli.md", "docs/cli.md", "\n".join(text))


def home_page() -> Page:
    return Page("index.md", "README.md", read("README.md"))


def pages() -> list[Page]:
    made = [
        home_page(),
        Page("contributing.md", "CONTRIBUTING.md", read("CONTRIBUTING.md")),
        Page("benchmark_scripts.md", "benchmarks/README.md", read("benchmarks/README.md")),
    ]
    for source, folder in SPLIT.items():
        made += split(source, folder)
    made += [
        notebook(str(p.relative_to(ROOT))) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
    ]
    made += api_pages() + [options_page(), cli_page()]
    return made


class Site:
    """Where each repository file is on the site, and the links rewritten to match."""

    def __init__(self, made: list[Page], files: Files):
        self.made = {p.uri: p for p in made}
        self.by_source: dict[str, list[Page]] = {}
        for page in made:
            self.by_source.setdefault(page.source, []).append(page)
        self.files = files
        self.extra: dict[str, str] = {}  # site uri: repository file, for files outside docs/

    def source_of(self, uri: str) -> str:
        return self.made[uri].source if uri in self.made else f"docs/{uri}"

    def target(self, repo_path: str, anchor: str) -> str:
        """The site's uri for a repository file (and anchor)."""
        if repo_path in SPLIT and anchor:
            for page in self.by_source[repo_path][1:]:
                if anchor in page.anchors:
                    return page.uri
        if repo_path in self.by_source:
            return self.by_source[repo_path][0].uri
        if repo_path.startswith("docs/"):
            return repo_path[len("docs/") :]
        uri = f"repository/{repo_path}"
        self.extra[uri] = repo_path
        return uri

    def rewrite(self, text: str, uri: str) -> str:
        source = self.source_of(uri)

        def link(m: re.Match) -> str:
            target = m.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                return m.group(0)
            file, _, anchor = target.partition("#")
            repo_path = (
                posixpath.normpath(posixpath.join(posixpath.dirname(source), file))
                if file
                else source
            )
            if not (ROOT / repo_path).exists():
                return m.group(0)  # mkdocs --strict reports it
            new = self.target(repo_path, anchor)
            relative = posixpath.relpath(new, posixpath.dirname(uri) or ".")
            if new == uri and anchor:
                relative = ""
            return m.group(1) + relative + (f"#{anchor}" if anchor else "") + m.group(3)

        # links outside code only: a link that starts inside a fenced block or inline code is
        # text
        code = [m.span() for m in CODE.finditer(text)]
        return LINK.sub(
            lambda m: m.group(0) if any(a <= m.start() < b for a, b in code) else link(m), text
        )


SITE: Site | None = None


@mkdocs.plugins.event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    global SITE
    made = pages()
    for source in SPLIT:
        files.remove(files.get_file_from_path(source[len("docs/") :]))
    site = Site(made, files)
    for page in made:
        page.text = site.rewrite(page.text, page.uri)
        files.append(File.generated(config, page.uri, content=page.text))
    for page in files.documentation_pages():
        if page.src_uri not in site.made:  # docs/'s own pages: collect the files they link
            site.rewrite(read(f"docs/{page.src_uri}"), page.src_uri)
    for uri, repo_path in sorted(site.extra.items()):
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(ROOT / repo_path)))
    SITE = site
    config.nav = navigation(made)
    return files


def on_page_markdown(markdown: str, page, config: MkDocsConfig, files: Files) -> str:
    assert SITE is not None
    if page.file.src_uri in SITE.made:
        return markdown  # rewritten when made
    return SITE.rewrite(markdown, page.file.src_uri)


def navigation(made: list[Page]) -> list:
    uris = [p.uri for p in made]

    api = sorted((u for u in uris if u.startswith("api/") and u != "api/index.md"), key=str.lower)

    def under(folder: str) -> list[str]:
        return [u for u in uris if u.startswith(folder + "/")]

    return [
        {"Home": "index.md"},
        {"Guides": GUIDES + [{"Notebooks": under("notebooks")}]},
        {"Gallery": "gallery.md"},
        {
            "API reference": [
                "api/index.md",
                "hmc_opts.md",
                {"Functions and classes": [u for u in api if "/modules/" not in u]},
                {"Modules": [u for u in api if "/modules/" in u]},
            ]
        },
        {"Command line": "cli.md"},
        {"Sampling designs": ["sampling_designs.md"] + under("designs")},
        {"Measured figures": ["benchmarks.md"] + under("figures") + ["benchmark_scripts.md"]},
        {"Contributing": "contributing.md"},
    ]
