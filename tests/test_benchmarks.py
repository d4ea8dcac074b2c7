"""The measuring scripts in benchmarks/ still run: each with --quick, as its own `__main__` in
the test's process (TensorFlow and the built-in model's module already loaded there), ends
without an error and prints its table. Their figures mean nothing at --quick; that they are
printed at all is what is checked, so a change to the library that breaks a script fails here,
not in a later benchmark. The scripts share the worker's built-in model (the `effnet` fixture)
where they would each load their own: loading it and tracing its layers again would cost
seconds per script and test nothing more (tests/test_repeatable.py checks that runs on a model
object that other runs used give what a fresh process gives).

Every suite runs each script's `--help` (a script that no longer imports fails there) and the
`--quick` runs that take a few seconds (`EVERY_RUN`); the others, whose quick runs each trace
programs of their own for 10-25 s, run with `--benchmarks` (`python -m pytest
tests/test_benchmarks.py --benchmarks -n 2`): after a change to a script or to what it calls,
and before a script's figures go into docs/.
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# script -> a column of the table it prints
TABLES = {
    "render_speed.py": "render_vis img-steps/s",
    "render_quality.py": "steps to 0.9 of it",
    "sampling_speed.py": "leapfrog ms",
    "sampling_targets.py": "rhat per chain",
    "atlas_speed.py": "channels/min",
    "maco_speed.py": "images/s per call",
    "network_speed.py": "Keras / samplevis",
    "facet_masses.py": "gradient term",
    "examples_speed.py": "examples img/s",
    "facet_search.py": "best height in B",
    "facet_targets.py": "samples in it",
    "polish_ends.py": "ends at / steps",
    "photo_facets.py": "colour groups",
    "draws_at_target.py": "trend z",
    "draws_tests.py": "kept",
    "draws_power.py": "steady caught 4/5 (sd)",
    "draws_calibration.py": "walk 64 at 0.6",
    "processing_check.py": "median share",
    "phase_floors.py": "wall/floor",
    "natural_facets.py": "facets pass blur",
    "chain_block.py": "accepted",
    "warp_designs.py": "ms fwd+bwd",
    "gif_colours.py": "rms error",
    "png_levels.py": "KB per file",
    "repeat_runs.py": "against the fresh process",
}
# scripts that write pictures or data files rather than print a table
MAKERS = {
    "common.py",
    "readme_picture.py",
    "maco_grid.py",
    "maco_spectrum.py",
    "plot_designs.py",
}

# sampling_targets.py --quick measures three channels, maco_speed.py --quick eight (the settings
# of a table in docs/) and network_speed.py passes a batch of 8: one channel, two channels (a
# warm-up call, then a timed one each) and a batch of 2 run every code path
ARGS = {
    # no design B: tests/atlas/test_atlas.py's Ray test runs the atlas's Ray actors, and a second
    # Ray cluster here would load TensorFlow and the built-in model in two more processes
    "atlas_speed.py": ["--no-ray"],
    # a unit of an earlier layer than the script's (block2a's expansion): the network runs up
    # to its layer only, and every column is measured as on any channel
    "sampling_targets.py": ["--channels", "block2a_expand_activation:20"],
    "maco_speed.py": ["--channels", "2"],
    "network_speed.py": ["--batch", "2"],
    "facet_masses.py": ["--seeds", "2"],
    # the earliest layer's pair: the network runs up to it only
    "facet_search.py": ["--pairs", "block3b", "--designs", "deflation", "--rounds", "1"],
    "facet_targets.py": ["--seeds", "0"],
    # one seed: each seed's run goes through the same code, its search traced anew
    "polish_ends.py": ["--seeds", "0"],
    # one length: each length simulates its own settled chains' limits
    "draws_power.py": ["--draws", "10"],
    "draws_calibration.py": ["--draws", "10"],
    # one design: the blur's transforms (the default climb runs in every photo test)
    "natural_facets.py": ["--designs", "blur"],
}

# Scripts whose --quick run takes a few seconds: in every suite.
EVERY_RUN = {
    "draws_power.py",
    "draws_calibration.py",
    "render_quality.py",
    "maco_speed.py",
    "network_speed.py",
    "polish_ends.py",
    "warp_designs.py",
    "gif_colours.py",
    "png_levels.py",
}

# A rule under a header, as benchmarks/common.format_table draws it: dashes per column.
RULE = re.compile(r"^-+(  -+)+$")


def table_headers(output: str) -> list[str]:
    """The header lines of the plain-text tables in `output` (a header, a rule, at least one
    row)."""
    lines = output.splitlines()
    return [
        lines[i - 1]
        for i in range(1, len(lines) - 1)
        if RULE.match(lines[i]) and lines[i + 1].strip()
    ]


def test_table_headers_finds_a_format_table_and_nothing_in_prose():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from common import format_table
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    table = format_table(["design", "channels/min"], [["A", 1.5], ["B", 2.0]])
    assert table_headers(f"a line\n{table}\n(the run took 3 s)") == [table.splitlines()[0]]
    assert table_headers("no table here\n----\nsome text") == []


def test_every_script_left_in_benchmarks_is_run_here_or_makes_pictures():
    scripts = {p.name for p in (ROOT / "benchmarks").glob("*.py")}
    assert scripts - set(TABLES) == MAKERS


def test_the_scripts_every_suite_runs_are_scripts_with_a_table():
    assert EVERY_RUN < set(TABLES)


def run_as_main(script: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> object:
    """Run benchmarks/`script` with `args` as `python benchmarks/SCRIPT ARGS` would, in this
    process; its exit code (None when it ended without `sys.exit`)."""
    path = ROOT / "benchmarks" / script
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    # first on the path, as `python benchmarks/X.py` puts it (the scripts import common.py)
    monkeypatch.setattr(sys, "path", [str(path.parent), *sys.path])
    monkeypatch.chdir(ROOT)
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as end:
        return end.code
    return None


@pytest.mark.parametrize("script", sorted((set(TABLES) | MAKERS) - {"common.py"}))
def test_benchmark_imports_and_explains_its_flags(script, monkeypatch, capsys):
    assert run_as_main(script, ["--help"], monkeypatch) == 0, capsys.readouterr().err[-3000:]
    assert capsys.readouterr().out.startswith(f"usage: {script}")


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    [
        s if s in EVERY_RUN else pytest.param(s, marks=pytest.mark.benchmarks)
        for s in sorted(TABLES)
    ],
)
def test_benchmark_runs_quick_and_prints_its_table(script, effnet, monkeypatch, capsys):
    from samplevis import zoo

    built = zoo.efficientnet_lite0

    def shared(weights="imagenet"):
        return effnet if weights == "imagenet" else built(weights)

    monkeypatch.setattr(zoo, "efficientnet_lite0", shared)
    status = run_as_main(script, ["--quick", *ARGS.get(script, [])], monkeypatch)
    assert status in (None, 0), capsys.readouterr().err[-3000:]
    output = capsys.readouterr().out
    assert any(TABLES[script] in h for h in table_headers(output)), output[-3000:]
    if script == "repeat_runs.py":  # the same photo run twice in one process: bit for bit
        again = [line for line in output.splitlines() if ", again  " in line]
        assert len(again) == 1 and "  equal  " in again[0], output[-3000:]
