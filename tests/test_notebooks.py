"""The notebooks in notebooks/ run from top to bottom and produce what they say they do."""
from __future__ import annotations

import re
from pathlib import Path

import imageio.v3 as iio
import nbclient
import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run(name: str, cwd: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # A cell that raises fails the run with the cell's traceback.
    client = nbclient.NotebookClient(notebook, timeout=600,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode, output_type: str) -> list:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
            if o.output_type == output_type]


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == ["quickstart.ipynb"]


def test_quickstart_optimizes_and_samples(tmp_path):
    notebook = run("quickstart.ipynb", tmp_path)
    text = "".join(o.get("text", "") for o in outputs(notebook, "stream"))
    assert "Closest layer names: block5c_add" in text  # the misspelt layer's error
    assert "(6, 2, 128, 128, 3)" in text
    # chains this short drift, as the notebook says; render warns exactly when one did
    worst_rhat = float(re.search(r"split R-hat per chain <= ([\d.]+)", text)[1])
    assert ("were still drifting (split R-hat > 1.05)" in text) == (worst_rhat > 1.05)
    images = [o for o in outputs(notebook, "display_data") if "image/png" in o.data]
    assert len(images) == 3  # the optimized images, the samples and their std map
    assert iio.imread(tmp_path / "std.png").shape == (2 + 128 + 2, 2 + 2 * (128 + 2), 3)
    frames = iio.imread(tmp_path / "samples.gif", index=None)
    assert frames.shape[0] == 6
    assert iio.imread(tmp_path / "optimized.png").shape[2] in (3, 4)
