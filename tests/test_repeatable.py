"""A call and its seed fix the result whatever ran before in the process: photo runs, runs
without photos, render_vis, dataset_examples and the atlas repeat, pixel for pixel, what a fresh
process gives, after other units and objectives ran on the same model objects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from repeat_runs import first_runs, models, other_runs

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    """The runs as a fresh process makes them."""
    folder = tmp_path_factory.mktemp("fresh")
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    )
    subprocess.run(
        [sys.executable, str(TESTS / "repeat_runs.py"), str(folder)],
        check=True,
        env=env,
        cwd=TESTS.parent,
        capture_output=True,
    )
    with np.load(folder / "first.npz") as saved:
        return dict(saved)


@pytest.mark.slow
def test_runs_after_other_runs_repeat_a_fresh_process_bit_for_bit(fresh, tmp_path):
    made = models()
    other_runs(tmp_path, made)  # every cache of these models filled by other units' runs
    again = first_runs(tmp_path, made)
    assert sorted(again) == sorted(fresh)
    differing = [name for name in fresh if not np.array_equal(again[name], fresh[name])]
    assert differing == [], f"these differ from a fresh process's: {differing}"
