"""The package's layers import one way: runtime → the MCMC core → models → objectives →
param/transform → io → render/sample → atlas → cli. A module imports only from its own
layer or lower ones, wherever the import sits (module level or inside a function)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "samplevis"
ROOT = PACKAGE.parent

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


def test_the_mcmc_core_is_numbers_it_imports_no_report_phase_or_model_and_writes_no_files():
    graph = package_graph()
    core = {name: imported for name, imported in graph.items() if name.startswith("sampling.mcmc")}
    reached = {m for imported in core.values() for m in imported}
    for floor in ("sampling.report", "sampling.phases", "models", "io"):
        assert not [m for m in reached if m.startswith(floor)], floor
    # its figures are worded and written as JSON by the report
    for name, path in modules().items():
        if name.startswith("sampling.mcmc"):
            tree = ast.parse(path.read_text())
            used = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            assert "json" not in used, name
    assert "sampling.report.verdict" in modules() and "sampling.mcmc.verdict" not in modules()


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
    # report: what the run drew and measured, and how it is read and written out (REPORT_LAYERS)
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
    """An import cycle through each group of modules that import each other (a strongly connected
    component of `graph`, module -> the modules it imports, of more than one module), as its
    modules in order from the group's smallest name with that name repeated at the end: the
    shortest such loop. Listing every simple cycle instead grows exponentially with the package."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for start in sorted(graph):
        if start not in index:
            connect(start)
    found = []
    for group in groups:
        if len(group) == 1:
            continue
        start = min(group)
        paths = {start: [start]}
        frontier = [start]
        while frontier and start not in {n for f in frontier for n in graph.get(f, ())}:
            following = []
            for node in frontier:
                for nxt in sorted(graph.get(node, ())):
                    if nxt in group and nxt not in paths:
                        paths[nxt] = paths[node] + [nxt]
                        following.append(nxt)
            frontier = following
        last = min(f for f in frontier if start in graph.get(f, ()))
        found.append(paths[last] + [start])
    return sorted(found)


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
    # two loops through one group: the shorter is named
    assert cycles({"a": {"b"}, "b": {"c", "a"}, "c": {"a"}}) == [["a", "b", "a"]]


def takes_a_model(module: str, name: str) -> bool:
    """Whether `name` of `samplevis.<module>` is a function (or a class) with a parameter named
    model: what runs the network; read from its source, not imported."""
    path = modules().get(module)
    if path is None:
        return False
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            defs = [node] if isinstance(node, ast.FunctionDef) else node.body
            for fn in defs:
                if isinstance(fn, ast.FunctionDef):
                    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
                    if any(a.arg == "model" for a in args):
                        return True
    return False


def network_uses(path: Path) -> list[str]:
    """What in the module at `path` runs a network or reads a model: a function of its own with
    a `model` parameter, an import of models/ or zoo/ (but zoo.labels, words), or a function
    imported from the package that takes a model, however it is reached."""
    found = []
    tree = ast.parse(path.read_text())
    aliases: dict[str, str] = {}  # a module imported under a name -> its name below samplevis
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            found += [f"{node.name} takes a model" for a in args if a.arg == "model"]
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "samplevis":
                continue
            base = node.module.removeprefix("samplevis").removeprefix(".")
            for alias in node.names:
                full = f"{base}.{alias.name}".lstrip(".")
                module = full if is_module(full) else base
                if module.split(".")[0] in ("models", "zoo") and module != "zoo.labels":
                    found.append(f"imports samplevis.{module}")
                elif is_module(full):
                    aliases[alias.asname or alias.name] = full
                elif takes_a_model(base, alias.name):
                    found.append(f"imports {alias.name}, which takes a model")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and takes_a_model(aliases[node.value.id], node.attr)
        ):
            found.append(f"calls {node.value.id}.{node.attr}, which takes a model")
    return found


def test_the_report_words_what_the_phases_measured_it_reads_no_model_and_runs_no_network(tmp_path):
    report = {n: p for n, p in modules().items() if n.startswith("sampling.report")}
    found = {name: network_uses(path) for name, path in report.items()}
    assert not any(found.values()), found
    # the check sees a report module that runs the processing check or reads a model's layers
    source = tmp_path / "bad.py"
    source.write_text(
        "from samplevis.optvis import processing_check as check\n"
        "from samplevis.optvis.blur_check import kept_under_blur\n"
        "from samplevis.models import redirect\n"
        "def f(model, x):\n    return check.channel_means(model, x, [])\n"
    )
    assert sorted(network_uses(source)) == [
        "calls check.channel_means, which takes a model",
        "f takes a model",
        "imports kept_under_blur, which takes a model",
        "imports samplevis.models.redirect",
    ]
    # the measures are a phase's: the photos read and the network run there
    assert network_uses(modules()["sampling.phases.facet_checks"])


# Inside sampling.report, lowest first: what the run drew and measured (its fields and numbers,
# no sentences, no files); its words (the sentences of summary, what the draws claim at their
# power, what each facet's draws add, the processing
# check and the blur measure, the kinds' names, the warnings and the diagnostics explained); its
# pictures and files (the figures, its examples, the run as JSON, its folder, ArviZ,
# TensorBoard); the gallery's sections and the notebook's display; and SampleResult, which
# offers them all as its methods.
REPORT_LAYERS = (
    # what the draws may claim, judged from the diagnostics alone: the run reads which chains
    ("verdict",),
    ("run",),
    (
        "summary",
        "draws_words",
        "facet_draws",
        "facet_processing",
        "facet_blur",
        "facet_natural",
        "processing_bar",
        "kind_names",
        "advice",
        "diagnostics_line",
        "explain",
    ),
    (
        "pictures",
        "plots",
        "facet_examples",
        "run_json",
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


def test_report_reads_top_down_the_run_its_words_its_files_its_page_and_sample_result():
    graph = report_graph()
    for name in graph:
        report_layer_of(name)
    upward = report_upward_imports(graph)
    assert not upward, "\n".join(upward)
    # no cycle, even through a type named for the checker or an import inside a function
    found = cycles(graph)
    assert not found, "\n".join(" -> ".join(cycle) for cycle in found)
    # the run knows nothing of the rest of report but the verdict, and nothing in report imports
    # SampleResult: following `SampleResult.save` enters result.py once
    assert graph["run"] == {"verdict"}
    assert not [name for name, imported in graph.items() if "result" in imported]
    assert {"run_folder", "inline", "summary", "pictures"} <= graph["result"]
    # a writer that names SampleResult for its types, or the run reaching for its words, is
    # caught
    assert report_upward_imports(
        {"run_folder": {"result", "run_json"}, "run": {"summary"}, "summary": {"run"}}
    ) == [
        "samplevis.sampling.report.run imports samplevis.sampling.report.summary",
        "samplevis.sampling.report.run_folder imports samplevis.sampling.report.result",
    ]


def private(name: str) -> bool:
    """Whether `name` is private: a leading underscore, not a dunder."""
    return name.startswith("_") and not name.endswith("__")


def private_names_by_string(tree: ast.AST) -> list[str]:
    """The private names `tree` reaches by a string: an attribute named to getattr, setattr,
    delattr, hasattr or a monkeypatch (`setattr(chain, "_refreshed", f)`), or to any call or
    tuple that pairs it with its owner as a patch does (`patched(owner, "_x", wrap)`,
    `(facet_mass, "_gradient", wrap)`), and a dotted path a monkeypatch takes
    ("samplevis.sampling.mcmc.chain._refreshed"); the owner `self` or `cls` aside."""
    found = []
    for node in ast.walk(tree):
        pairs = []
        if isinstance(node, ast.Call):
            pairs.append(node.args[:2])
            if node.args and isinstance(node.args[0], ast.Constant):  # monkeypatch's path
                path = node.args[0].value
                if isinstance(path, str) and path.startswith("samplevis."):
                    if any(private(part) for part in path.split(".")):
                        found.append(repr(path))
        elif isinstance(node, ast.Tuple):
            pairs.append(node.elts[:2])
        for pair in pairs:
            if len(pair) < 2 or not isinstance(pair[0], ast.Name | ast.Attribute):
                continue
            owner, name = pair
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                if name.value.isidentifier() and private(name.value):
                    found.append(f"{ast.unparse(owner)}, {name.value!r}")
    return found


def private_uses(source: str) -> list[str]:
    """The private names (a leading underscore, not a dunder) `source` reaches in other modules:
    imported from samplevis or from another script (`from facet_search import _weights`), read
    as an attribute of anything but `self` or `cls` in a method of its own classes
    (`model._extractor`), or named by a string to patch or read it (`private_names_by_string`)."""

    tree = ast.parse(source)
    # a class's own attributes, read in its own methods: a function patched onto another
    # module's class reads that class's privates, so it is not one of these
    own = {
        id(n)
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef)
        for method in cls.body
        if isinstance(method, ast.FunctionDef)
        for n in ast.walk(method)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"from {node.module} import {a.name}" for a in node.names if private(a.name)]
            if node.module and any(private(part) for part in node.module.split(".")):
                found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if private(a.name.split(".")[-1])]
        elif isinstance(node, ast.Attribute) and private(node.attr):
            owner = node.value
            if not (
                isinstance(owner, ast.Name) and owner.id in ("self", "cls") and id(node) in own
            ):
                found.append(ast.unparse(node))
    return found + private_names_by_string(tree)


def notebook_code(path: Path) -> str:
    """The code cells of the notebook at `path`, without IPython's magics and shell lines."""
    cells = json.loads(path.read_text())["cells"]
    lines = [
        line
        for cell in cells
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if not line.lstrip().startswith(("%", "!"))
    ]
    return "\n".join(lines)


def test_outside_the_package_and_its_tests_nothing_reaches_a_private_name():
    # the benchmarks and notebooks use samplevis, and one another, as a user would
    scripts = {p: p.read_text() for p in sorted((ROOT / "benchmarks").glob("*.py"))}
    scripts |= {p: notebook_code(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    found = {str(p.relative_to(ROOT)): private_uses(text) for p, text in scripts.items()}
    assert not any(found.values()), {p: names for p, names in found.items() if names}
    assert len(scripts) > 20
    # the check sees a private import, a private attribute and a sibling's private helper
    assert private_uses(
        "from samplevis.sampling.mcmc.chain import _Tally\n"
        "from facet_search import PAIRS, _weights\n"
        "import numpy as np\n"
        "def f(model, self):\n    self._steps = 1\n    return model._extractor(np.__name__)\n"
        "class Mine:\n    def g(self):\n        return self._own\n"
    ) == [
        "from samplevis.sampling.mcmc.chain import _Tally",
        "from facet_search import _weights",
        "self._steps",  # f is patched onto another's class: its self is theirs
        "model._extractor",
    ]
    # and a private name handed over as a string, to patch it or to read it
    assert private_uses(
        "from samplevis.sampling.mcmc import chain\n"
        "from samplevis.sampling.density import facet_mass\n"
        "setattr(chain, '_refreshed', print)\n"
        "original = getattr(facet_mass.CompiledLogProb, '_cache', None)\n"
        "patches = [(facet_mass, '_gradient', print), (facet_mass, '__call__', print)]\n"
        "patched(chain, '_drive', print)\n"
        "monkeypatch.setattr('samplevis.sampling.mcmc.chain._refreshed', print)\n"
        "monkeypatch.setattr(chain, 'run_chains', print)\n"
        "name = 'a_b'.split('_')\n"
        "class Mine:\n    def g(self):\n        setattr(self, '_own', 1)\n"
    ) == [
        "chain, '_refreshed'",
        "facet_mass.CompiledLogProb, '_cache'",
        "chain, '_drive'",
        "'samplevis.sampling.mcmc.chain._refreshed'",
        "facet_mass, '_gradient'",
    ]


def body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The lines of `function`, its signature and body, its docstring aside."""
    lines = function.end_lineno - function.lineno + 1  # type: ignore[operator]
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):
            lines -= first.end_lineno - first.lineno + 1  # type: ignore[operator]
    return lines


def long_functions(named: dict[str, Path], most: int = 80) -> list[str]:
    """Each function of the files in `named` (a name -> its file) over `most` lines (its
    docstring aside), as "name.function: N lines"."""
    return [
        f"{name}.{node.name}: {body_lines(node)} lines"
        for name, path in named.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and body_lines(node) > most
    ]


def test_no_function_of_the_package_or_its_benchmarks_runs_over_80_lines():
    package = {f"samplevis.{name}": path for name, path in modules().items()}
    # a benchmark's main hands each measurement and each table to a function named for it
    benchmarks = {
        f"benchmarks.{path.stem}": path for path in sorted((ROOT / "benchmarks").glob("*.py"))
    }
    assert len(benchmarks) > 20
    long = long_functions(package | benchmarks)
    assert not long, "\n".join(long)
    tree = ast.parse('def f():\n    """Two\n    lines."""\n    return 1\n')
    assert body_lines(tree.body[0]) == 2  # type: ignore[arg-type]
