"""The package's layers import one way: runtime → the MCMC core → models → objectives →
param/transform → io → render/sample → atlas → cli. A module imports only from its own
layer or lower ones, wherever the import sits (module level or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "samplevis"

# Lowest first. io (and event_files, the TensorBoard log) is below rendering and sampling: results
# save themselves with it, and it knows nothing of how images were made.
LAYERS = (
    (
        # the whole of runtime: its memory check names what it reads of a model as a Protocol,
        # its folder locks and claims write with runtime.files, below io
        "runtime",
        "models.geometry",
        "models.redirect",
        "models.folded_batch_norm",
        "zoo.labels",
    ),
    # The MCMC core knows nothing of images, models or objectives, nor of the rest of sampling.
    ("sampling.mcmc",),
    ("models", "zoo"),
    ("optvis.objectives", "optvis.evaluation", "optvis.processing_check", "optvis.blur_check"),
    ("optvis.param", "optvis.transform"),
    ("io",),
    ("pages",),
    # recipes builds what optimize renders with, by name (`--param`, `--alpha`).
    ("optvis", "optvis.optimize", "optvis.maco", "optvis.recipes"),
    # dataset examples: a pass over images with a model, written with io
    ("examples",),
    ("sampling",),
    ("atlas",),
    ("cli",),
)


def layer_of(module: str) -> int:
    """The layer of `samplevis.<module>` (a dotted name below the package), set by the longest
    prefix LAYERS names ("sampling.mcmc.chain" by "sampling.mcmc", "sampling.sampler" by
    "sampling"); "" is the package itself, whose facade reaches up to the atlas."""
    parts = module.split(".") if module else ["atlas"]
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        for rank, names in enumerate(LAYERS):
            if prefix in names:
                return rank
    raise AssertionError(f"samplevis.{module} is in no layer; add it to LAYERS")


def is_module(name: str) -> bool:
    """Whether `samplevis.<name>` is a module or package of the package."""
    path = PACKAGE.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> set[str]:
    """The samplevis modules `path` imports, as names below the package: `from samplevis.optvis
    import objectives` is optvis.objectives, `from samplevis.optvis.objectives import channel` too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "samplevis":
                continue
            base = node.module.removeprefix("samplevis").removeprefix(".")
            for alias in node.names:
                full = f"{base}.{alias.name}".lstrip(".")
                found.add(full if is_module(full) else base)
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("samplevis.")
                for a in node.names
                if a.name.startswith("samplevis.")
            }
            if any(a.name == "samplevis" for a in node.names):
                found.add("")  # the package itself: everything
    return found


def modules() -> dict[str, Path]:
    """Every module below the package (its __init__ is the facade over all of them)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts == ("__init__",):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def upward_imports(named: dict[str, Path]) -> list[str]:
    """Each import of a module in `named` (name below the package -> its file) from a higher
    layer, as a sentence."""
    upward = []
    for name, path in named.items():
        for imported in sorted(imports(path)):
            if layer_of(imported) > layer_of(name):
                upward.append(f"samplevis.{name} imports samplevis.{imported or '(package)'}")
    return upward


def test_no_module_imports_from_a_higher_layer():
    upward = upward_imports(modules())
    assert not upward, "\n".join(upward)


def test_the_ground_floor_imports_nothing_above_it():
    # the whole of runtime, its memory check, folder locks and claims too, type hints included
    runtime = {name: path for name, path in modules().items() if name.startswith("runtime")}
    assert {"runtime.memory", "runtime.claims", "runtime.folder_lock", "runtime.files"} <= set(
        runtime
    )
    assert {layer_of(name) for name in runtime} == {0}
    assert not upward_imports(runtime)


def test_the_mcmc_core_imports_nothing_of_sampling_images_models_or_objectives(tmp_path):
    core = {name: path for name, path in modules().items() if name.startswith("sampling.mcmc")}
    assert {"sampling.mcmc.kernels", "sampling.mcmc.chain", "sampling.mcmc.diagnostics"} <= set(
        core
    )
    assert not upward_imports(core)
    # a core module reaching for the target, a parameterization, a model, an objective, a
    # transform or io is caught, however it spells the import; the lowest layer is allowed
    source = tmp_path / "bad.py"
    source.write_text(
        "from samplevis.sampling.density.log_density import LogDensity\n"
        "from samplevis.sampling import momentum\n"
        "import samplevis.optvis.param.fourier\n"
        "from samplevis import models, io\n"
        "from samplevis.optvis import objectives, transform\n"
        "from samplevis.sampling.mcmc import kernels\n"
        "from samplevis.runtime.seeds import fold_in\n"
    )
    assert upward_imports({"sampling.mcmc.bad": source}) == [
        f"samplevis.sampling.mcmc.bad imports samplevis.{name}"
        for name in (
            "io",
            "models",
            "optvis.objectives",
            "optvis.param.fourier",
            "optvis.transform",
            "sampling",
            "sampling.density.log_density",
        )
    ]


# Inside the sampling package, lowest first: the image-free core; the density (the log density
# and what shapes it: facets, the momentum's mass, T, a facet's mass) and image statistics; the
# starts (the optimized starts, the facet search, the photo clusters); the options, which name
# the density's choices; the report of a run; and `render`, which runs the phases in order.
SAMPLING_LAYERS = (
    ("mcmc",),
    ("density", "metrics", "registration"),
    # the starts are points of the density: found by climbing it, polished on it
    ("starts",),
    ("options",),
    # report: the run's record and how it is read and written out (REPORT_LAYERS)
    ("report",),
    ("phases",),
    ("sampler",),
)


def sampling_layer_of(module: str) -> int:
    """The layer inside `samplevis.sampling` of `module` (a dotted name below it)."""
    top = module.split(".")[0]
    for rank, names in enumerate(SAMPLING_LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"samplevis.sampling.{module} is in no layer; add it to SAMPLING_LAYERS")


def sampling_upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import inside `samplevis.sampling` of `graph` (as `package_graph` gives it) from a
    higher layer of SAMPLING_LAYERS, as a sentence."""
    upward = []
    for name, imported_modules in sorted(graph.items()):
        if not name.startswith("sampling."):
            continue
        here = sampling_layer_of(name.removeprefix("sampling."))
        for imported in sorted(imported_modules):
            if imported.startswith("sampling.") and (
                sampling_layer_of(imported.removeprefix("sampling.")) > here
            ):
                upward.append(f"samplevis.{name} imports samplevis.{imported}")
    return upward


def test_inside_sampling_the_core_the_density_the_report_and_render_import_in_order():
    upward = sampling_upward_imports(package_graph())
    assert not upward, "\n".join(upward)
    # the graph sees `from samplevis.sampling.density import facet_mass` as that module
    assert "sampling.density.facet_mass" in package_graph()["sampling.report.summary"]
    assert (
        sampling_layer_of("sampler")
        > sampling_layer_of("report.result")
        > sampling_layer_of("options")
        > sampling_layer_of("density.chain_param")
        == sampling_layer_of("metrics")
    )
    assert sampling_layer_of("density.log_density") > sampling_layer_of("mcmc.chain")
    # a density or options module reaching for the report, or the report for `render`, is caught
    assert sampling_upward_imports(
        {
            "sampling.density.chain_param": {"sampling.report.result", "sampling.mcmc.chain"},
            "sampling.options": {"sampling.report.advice", "sampling.density.chain_param"},
            "sampling.report.plots": {"sampling.sampler", "sampling.report.result"},
        }
    ) == [
        "samplevis.sampling.density.chain_param imports samplevis.sampling.report.result",
        "samplevis.sampling.options imports samplevis.sampling.report.advice",
        "samplevis.sampling.report.plots imports samplevis.sampling.sampler",
    ]


def test_the_walk_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from samplevis.cli import main\n    import samplevis.io\n")
    assert imports(source) == {"cli", "io"}
    assert layer_of("cli") > layer_of("io") > layer_of("optvis.objectives") > layer_of("models")
    assert layer_of("sampling.sampler") > layer_of("models") > layer_of("sampling.mcmc.chain")


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle of `graph` (module -> the modules it imports), each as the modules in
    order with the first repeated at the end; a cycle is listed once, from its smallest name."""
    found = []

    def walk(path: list[str]) -> None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == path[0]:
                found.append(path + [nxt])
            elif nxt > path[0] and nxt not in path:
                walk(path + [nxt])

    for start in sorted(graph):
        walk([start])
    return found


def type_only(tree: ast.AST) -> set[ast.AST]:
    """The import statements of `tree` under `if TYPE_CHECKING:`, which name types for the type
    checker and never run."""
    found = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and (
            (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
        ):
            found |= {n for part in node.body for n in ast.walk(part)}
    return found


def package_graph(types: bool = True) -> dict[str, set[str]]:
    """Which modules of the package each module imports (wherever the import sits; without
    `types`, those it imports when it runs: not under `if TYPE_CHECKING:`), resolved to
    modules that exist: `from samplevis.sampling.mcmc import chain` is
    samplevis.sampling.mcmc.chain, and `from samplevis.sampling.mcmc.chain import run_chains` is
    samplevis.sampling.mcmc.chain too."""
    names = modules()
    graph = {}
    for name, path in names.items():
        targets = set()
        tree = ast.parse(path.read_text())
        skipped = set() if types else type_only(tree)
        for node in ast.walk(tree):
            if node in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                base = node.module.removeprefix("samplevis").removeprefix(".")
                if node.module.split(".")[0] != "samplevis":
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}".lstrip(".")
                    targets.add(full if full in names else base)
            elif isinstance(node, ast.Import):
                targets |= {
                    a.name.removeprefix("samplevis.")
                    for a in node.names
                    if a.name.startswith("samplevis.")
                }
        graph[name] = {t for t in targets if t in names and t != name}
    return graph


def test_no_module_imports_another_that_imports_it_back():
    # a type named for the checker alone counts too: a reader follows the name all the same
    found = cycles(package_graph())
    assert not found, "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_walk_tells_a_type_named_for_the_checker_alone_and_counts_it_for_the_layers(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from samplevis.sampling.report.result import SampleResult\n"
        "def f():\n    from samplevis.io import save_png\n"
    )
    assert type_only(ast.parse(source.read_text()))
    assert imports(source) == {"sampling.report.result", "io"}  # the layers see both


def test_the_import_graph_sees_submodules_named_in_a_from_import():
    graph = package_graph()
    # from samplevis.sampling.phases import chain_run, facet_starts, outcome
    assert "sampling.phases.chain_run" in graph["sampling.sampler"]
    # from samplevis.sampling.report.result import SampleResult
    assert "sampling.report.result" in graph["sampling.sampler"]


def test_the_cycle_search_finds_a_loop_of_three_and_nothing_in_a_tree():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


# Inside sampling.report, lowest first: the run's record (its fields and numbers, no sentences,
# no files); its words (the sentences of summary, what the draws claim at their power, what
# each facet's draws add, the processing
# check and the blur measure, the kinds' names, the warnings and the diagnostics explained); its
# pictures and files (the figures, its examples, the record as JSON, its folder, ArviZ,
# TensorBoard); the gallery's sections and the notebook's display; and SampleResult, which
# offers them all as its methods.
REPORT_LAYERS = (
    ("run",),
    (
        "summary",
        "draws_words",
        "facet_draws",
        "facet_processing",
        "facet_blur",
        "kind_names",
        "advice",
        "explain",
    ),
    (
        "pictures",
        "plots",
        "facet_examples",
        "record",
        "run_folder",
        "arviz_export",
        "tensorboard_log",
    ),
    ("run_figures", "gallery_section", "inline"),
    ("result",),
)


def report_layer_of(module: str) -> int:
    """The layer inside `samplevis.sampling.report` of `module` (its name below report)."""
    for rank, names in enumerate(REPORT_LAYERS):
        if module in names:
            return rank
    raise AssertionError(
        f"samplevis.sampling.report.{module} is in no layer; add it to REPORT_LAYERS"
    )


def report_graph() -> dict[str, set[str]]:
    """Which modules of report each module of report imports, by their names below report,
    wherever the import sits: under `if TYPE_CHECKING:` and inside functions too."""
    prefix = "sampling.report."
    return {
        name.removeprefix(prefix): {
            other.removeprefix(prefix) for other in imported if other.startswith(prefix)
        }
        for name, imported in package_graph(types=True).items()
        if name.startswith(prefix)
    }


def report_upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of `graph` (as `report_graph` gives it) from a higher layer of REPORT_LAYERS,
    as a sentence; the modules of one layer may import one another."""
    return [
        f"samplevis.sampling.report.{name} imports samplevis.sampling.report.{other}"
        for name, imported in sorted(graph.items())
        for other in sorted(imported)
        if report_layer_of(other) > report_layer_of(name)
    ]


def test_report_reads_top_down_the_record_its_words_its_files_its_page_and_sample_result():
    graph = report_graph()
    for name in graph:
        report_layer_of(name)
    upward = report_upward_imports(graph)
    assert not upward, "\n".join(upward)
    # no cycle, even through a type named for the checker or an import inside a function
    found = cycles(graph)
    assert not found, "\n".join(" -> ".join(cycle) for cycle in found)
    # the record knows nothing of the rest of report, and nothing in report imports
    # SampleResult: following `SampleResult.save` enters result.py once
    assert graph["run"] == set()
    assert not [name for name, imported in graph.items() if "result" in imported]
    assert {"run_folder", "inline", "summary", "pictures"} <= graph["result"]
    # a writer that names SampleResult for its types, or the record reaching for its words, is
    # caught
    assert report_upward_imports(
        {"run_folder": {"result", "record"}, "run": {"summary"}, "summary": {"run"}}
    ) == [
        "samplevis.sampling.report.run imports samplevis.sampling.report.summary",
        "samplevis.sampling.report.run_folder imports samplevis.sampling.report.result",
    ]
