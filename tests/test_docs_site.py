"""The documentation site (mkdocs.yml), built strict once per run (xdist's workers share it)
and served on 127.0.0.1: every public name and hmc_opts option is on it with its docstring, each
section of the long pages is a page, and in headless Chromium the home page, `render`'s page and
the hmc_opts table render, the search finds an option, and every picture of the gallery loads."""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import filelock
import pytest

import samplevis
from samplevis.sampling.options import OPTIONS

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as .ci/checks builds it (strict: any warning fails); or, when
    SAMPLEVIS_BUILT_SITE names a folder, the site .ci/checks has just built there from this
    tree (.ci/run sets it, so that the suite does not build it twice)."""
    pytest.importorskip("mkdocs", reason='mkdocs is not installed: pip install -e ".[docs]"')
    pytest.importorskip(
        "mkdocstrings", reason='mkdocstrings is not installed: pip install -e ".[docs]"'
    )
    if os.environ.get("SAMPLEVIS_BUILT_SITE"):
        built_site = Path(os.environ["SAMPLEVIS_BUILT_SITE"]).resolve()
        assert (built_site / "index.html").is_file(), (
            f"SAMPLEVIS_BUILT_SITE: no site in {built_site}"
        )
        return built_site
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build(tmp_path_factory.mktemp("site"))
    # Under xdist each worker runs this fixture: the first builds the site into the session's
    # folder, which the workers share, and the others wait for it and read it.
    shared = tmp_path_factory.getbasetemp().parent / "site"
    with filelock.FileLock(f"{shared}.lock"):
        return shared if (shared / "index.html").is_file() else build(shared)


def build(out: Path) -> Path:
    # not --quiet: it hides the warnings from --strict too, which then lets them pass
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def served(site):
    """The site's address on 127.0.0.1 (a port the system picks), served by http.server."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def site_module(stem: str):
    """docs/_site/STEM.py loaded as a module (docs/_site is no package)."""
    spec = importlib.util.spec_from_file_location(f"site_{stem}", ROOT / f"docs/_site/{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_and_option_is_on_the_site_with_its_docstring(site):
    check = site_module("check")
    found, missing = check.names(site)
    top = {f"samplevis.{n}" for n in check.pages.all_names("samplevis/__init__.py")}
    assert top == {f"samplevis.{n}" for n in samplevis.__all__}
    assert top <= set(found), f"not on the site with its docstring: {sorted(top - set(found))}"
    assert not missing, f"public names not on the site with their docstring: {missing}"
    found_options, missing_options = check.options(site)
    assert sorted(found_options) == sorted(OPTIONS), f"options not on the site: {missing_options}"
    print(f"{len(found)} public names, {len(found_options)} hmc_opts options on the site")


def test_the_home_page_the_render_page_and_the_hmc_opts_table_render(served, chromium):
    page = chromium.new_page()
    page.goto(served + "/")
    assert page.locator("h1").first.inner_text().rstrip("¶") == "samplevis"  # ¶: its permalink
    picture = page.locator("article img").first
    page.wait_for_function("img => img.complete", arg=picture.element_handle(), timeout=30_000)
    assert picture.evaluate("img => img.naturalWidth") > 0

    page.goto(served + "/api/render/")
    assert page.locator("h1").first.inner_text().rstrip("¶") == "samplevis.render"
    signature = page.locator(".doc-signature").first.inner_text()
    assert re.search(r"render\(\s*model", signature) and "hmc_opts" in signature
    assert page.get_by_text("Parameters:", exact=True).count() == 1

    page.goto(served + "/hmc_opts/")
    first_cells = page.locator("article table tbody tr td:first-child").all_inner_texts()
    assert first_cells == list(OPTIONS)  # each option once, in OPTIONS' order
    page.close()


def test_the_search_finds_target_ratio(served, chromium):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = chromium.new_page()
    page.goto(served + "/")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    found = (
        "[...document.querySelectorAll('.md-search-result__item')]"
        ".some(item => item.innerText.includes('target_ratio'))"
    )
    # The index loads in a web worker; a query typed before it is ready gets no answer, so
    # the query is typed again until one comes (on a busy machine the worker takes seconds).
    for _ in range(8):
        box.fill("")
        box.press_sequentially("target_ratio")
        try:
            page.wait_for_function(found, timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    texts = page.locator(".md-search-result__item").all_inner_texts()
    assert any("target_ratio" in t for t in texts), texts[:3]
    links = [a.get_attribute("href") or "" for a in page.locator(".md-search-result__link").all()]
    assert any("hmc_opts" in link for link in links), links[:5]
    page.close()


def test_every_picture_of_the_gallery_loads(served, chromium):
    pictures = re.findall(r"^!\[", (ROOT / "docs/gallery.md").read_text(), flags=re.M)
    page = chromium.new_page()
    page.goto(served + "/gallery/")
    images = page.locator("article img")
    assert images.count() == len(pictures) > 0
    page.wait_for_function(
        "[...document.querySelectorAll('article img')].every(img => img.complete)", timeout=30_000
    )
    loaded = images.evaluate_all(
        "imgs => imgs.map(img => [img.getAttribute('src'), img.naturalWidth])"
    )
    assert all(width > 0 for _, width in loaded), loaded  # a broken image is complete, width 0
    page.close()


@pytest.mark.parametrize(
    "page, folder", [("sampling_designs", "designs"), ("benchmarks", "figures")]
)
def test_each_section_of_a_long_page_is_a_page_with_its_tables_and_the_machines(site, page, folder):
    """docs/PAGE.md's "## " sections: a page each, holding as many tables as the section (each
    with its commit and machine in its rows or beside it) and the note on the machines; the
    contents page links every one."""
    check = site_module("check")
    text = (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
    body = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    sections = re.split(r"^## ", body, flags=re.M)[1:]
    contents = (site / page / "index.html").read_text(encoding="utf-8")
    assert sections
    for section in sections:
        heading = section.split("\n", 1)[0].strip()
        uri = f"{folder}/{check.pages.slug(heading)}"
        shown = (site / uri / "index.html").read_text(encoding="utf-8")
        tables = len(re.findall(r"^\|[-| :]+\|\s*$", section, flags=re.M))
        assert shown.count("<table>") == tables, f"{uri}: {tables} tables in the section"
        assert "The machines" in shown and "EPYC" in shown, f"{uri} lacks the machines' note"
        assert f'href="../{uri}/' in contents, f"docs/{page}.md's contents page misses {uri}"


def test_each_notebook_page_shows_its_stored_run(site):
    """A notebook whose run is stored (docs/_site/execute_notebooks.py) shows that run: its
    parameters as run, every PNG it made inline, every gallery block, and what it printed."""
    import nbformat

    runs = sorted((ROOT / "docs/_site/notebooks").glob("*.ipynb"))
    assert {p.name for p in runs} <= {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    for run in runs:
        notebook = nbformat.read(run, as_version=4)
        shown = (site / "notebooks" / run.stem / "index.html").read_text(encoding="utf-8")
        outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
        pngs = sum("image/png" in o.get("data", {}) for o in outputs)
        html_outputs = [o.get("data", {}).get("text/html", "") for o in outputs]
        assert pngs > 0, f"{run.name}: a run without pictures"
        inline = sum(h.count('src="data:image/png;base64,') for h in html_outputs)
        assert shown.count('src="data:image/png;base64,') == pngs + inline, run.name
        galleries = sum('class="samplevis-gallery"' in h for h in html_outputs)
        assert shown.count('class="samplevis-gallery"') == galleries, run.name
        assert "tests/test_notebooks.py" in shown, f"{run.name}: the page says how it was run"
        printed = [o.text for o in outputs if o.output_type == "stream" and o.name == "stdout"]
        first_line = printed[0].strip().split("\n")[0]
        assert first_line in html.unescape(shown), (run.name, first_line)


def test_a_stored_run_names_a_cells_file_as_cell_and_leaves_inline_pictures_alone():
    cell = site_module("execute_notebooks").CELL_FILE
    warning = "/tmp/ipykernel_3790/3663805935.py:15: OptionWarning: too few draws\n"
    assert cell.sub("<cell>", warning) == "<cell>:15: OptionWarning: too few draws\n"
    traceback = 'File "/tmp/ipykernel_12/345.py", line 3, in <module>'
    assert cell.sub("<cell>", traceback) == 'File "<cell>", line 3, in <module>'
    # a gallery's inline picture: one run of base64, slashes and all, and no cell's file in it
    picture = '<img src="data:image/png;base64,' + "iVBOR/w0K+Ggo/" * 20_000 + '">'
    assert cell.sub("<cell>", picture) == picture


def test_a_stored_run_that_is_not_its_notebooks_is_not_shown(tmp_path, monkeypatch, caplog):
    """A run whose cells differ from its notebook's (but the parameters) is a warning, which
    fails the strict build, and the page shows the notebook as it stands; the parameters may
    differ."""
    pytest.importorskip("mkdocs", reason='mkdocs is not installed: pip install -e ".[docs]"')
    pages = site_module("check").pages

    def write(path: Path, cells: list) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"cells": cells}), encoding="utf-8")

    def code(source: str, printed: str = "", tags: tuple = ()) -> dict:
        outputs = [{"output_type": "stream", "name": "stdout", "text": printed}] if printed else []
        return {
            "cell_type": "code",
            "source": source,
            "metadata": {"tags": list(tags)},
            "outputs": outputs,
        }

    title = {"cell_type": "markdown", "source": "# A notebook", "metadata": {}}
    write(
        tmp_path / "notebooks/a.ipynb",
        [title, code("N = 8", tags=("parameters",)), code("print(N)")],
    )
    write(
        tmp_path / "docs/_site/notebooks/a.ipynb",
        [title, code("N = 2", tags=("parameters",)), code("print(N)", "2\n")],
    )
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    with caplog.at_level("WARNING"):
        shown = pages.notebook("notebooks/a.ipynb").text
    assert "N = 2" in shown and "```text\n2\n```" in shown and not caplog.records

    write(
        tmp_path / "notebooks/a.ipynb",
        [title, code("N = 8", tags=("parameters",)), code("print(N + 1)")],
    )
    with caplog.at_level("WARNING"):
        shown = pages.notebook("notebooks/a.ipynb").text
    assert "N = 8" in shown and "print(N + 1)" in shown and "```text" not in shown
    (warning,) = caplog.records
    assert "execute_notebooks.py a.ipynb" in warning.getMessage()
