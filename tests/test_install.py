"""`pip install -e .` is enough for the library: the test extras only serve the tests."""

import ast
import configparser
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# imported only where asked for: `cluster=` / `--ray`, to_arviz, the plots, a GPU's free memory
LIBRARY_EXTRAS = ("ray", "arviz", "plot", "gpu", "keras-hub")


def canonical(distribution: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def modules_the_library_imports() -> dict[str, list[str]]:
    """{top-level module: files of samplevis/ importing it} for modules outside the standard
    library and samplevis, wherever the import stands (functions import lazily)."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "samplevis").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "samplevis":
                    found.setdefault(top, []).append(path.relative_to(ROOT).as_posix())
    return found


def test_every_module_the_library_imports_comes_from_install_requires_or_a_feature_extra():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    # what the library needs, and the extras a feature asks for by name (samplevis[ray]); the
    # test, notebook and benchmark extras serve only those
    listed = (
        setup["options"]["install_requires"]
        + "\n"
        + "\n".join(setup["options.extras_require"][extra] for extra in LIBRARY_EXTRAS)
    )
    lines = [line.strip() for line in listed.splitlines()]
    required = {
        canonical(re.split(r"[<>=!~;\[ ]", line)[0])
        for line in lines
        if line and not line.startswith("#")
    }
    providers = importlib.metadata.packages_distributions()
    imported = modules_the_library_imports()
    assert {"tensorflow", "tensorflow_probability", "keras", "numpy"} <= set(imported)
    for module, files in imported.items():
        from_dists = {canonical(d) for d in providers.get(module, [])}
        assert from_dists & required, (
            f"{module} (imported in {', '.join(sorted(set(files)))}) comes from "
            f"{sorted(from_dists) or 'no installed distribution'}, not from install_requires"
        )


@pytest.mark.slow
def test_a_built_wheel_installed_without_e_runs_from_outside_the_checkout(tmp_path):
    """The wheel holds the package and its data: installed into a folder of its own (its
    dependencies are this environment's) and run from elsewhere, it lists layers, names a class
    from the shipped labels and reports its version."""
    import subprocess

    pytest = __import__("pytest")
    pytest.importorskip("build", reason="needs the build package (the test extra)")
    dist, target = tmp_path / "dist", tmp_path / "site"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = dist.glob("samplevis-*.whl")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(target), TF_CPP_MIN_LOG_LEVEL="3")
    script = (
        "import samplevis, samplevis.zoo.labels as labels; "
        "print(samplevis.__file__); print(samplevis.__version__); "
        "print(labels.imagenet_labels()[8])"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    where, version, hen = shown.stdout.split("\n")[:3]
    assert where.startswith(str(target)) and hen == "hen"
    assert version == importlib.metadata.version("samplevis")
    layers = subprocess.run(
        [str(target / "bin" / "samplevis"), "layers", "--model", "efficientnet_lite0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert layers.returncode == 0, layers.stderr[-2000:]
    assert "block6a_expand_activation" in layers.stdout
