"""Run each notebook of notebooks/ as the suite runs it (tests/test_notebooks.py: its cell tagged
"parameters" replaced by the small settings there, in a scratch folder) and store the run, its
outputs with it, in docs/_site/notebooks/, which the site's notebook pages show
(docs/_site/pages.py). notebooks/ stays without outputs; the site does not build while a stored
run's cells differ from its notebook's (but the parameters).

    python docs/_site/execute_notebooks.py                  # all five, about 10 min on 2 cores
    python docs/_site/execute_notebooks.py maco.ipynb       # one
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORED = Path(__file__).resolve().with_name("notebooks")

sys.path.insert(0, str(ROOT / "tests"))

# What the machine said, not the notebook: TensorFlow's start-up log (absl's lines) and the
# warnings of installed packages about the machine (tqdm without ipywidgets), each with the line
# of source that Python's warnings show under it.
MACHINE = re.compile(
    r"^(WARNING: All log messages before absl.*|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] .*"
    r"|\S*site-packages/\S+:\d+: \w*Warning: .*\n  .*)\n?",
    re.M,
)


def without_the_machine(notebook) -> None:
    """Drop the machine's lines from the notebook's stderr (MACHINE), and outputs left empty."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.text = MACHINE.sub("", output.text)
        cell.outputs = [o for o in cell.outputs if o.output_type != "stream" or o.text]


def main(names: list[str]) -> int:
    import nbformat

    from samplevis.runtime.files import write_bytes

    import test_notebooks  # type: ignore[import-not-found]  # tests/, put on sys.path above

    unknown = sorted(set(names) - set(test_notebooks.SMALL))
    if unknown:
        print(f"no such notebook: {unknown}; the notebooks: {sorted(test_notebooks.SMALL)}")
        return 2
    # the kernel imports this checkout's samplevis, whichever is installed
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    STORED.mkdir(exist_ok=True)
    for name in names or sorted(test_notebooks.SMALL):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as scratch:
            notebook = test_notebooks.run(name, Path(scratch), test_notebooks.SMALL[name])
        without_the_machine(notebook)
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)  # the run's timestamps: noise in every diff
        path = write_bytes(STORED / name, (nbformat.writes(notebook) + "\n").encode())
        took = time.perf_counter() - start
        print(f"{path.relative_to(ROOT)}: {took:.0f} s, {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
