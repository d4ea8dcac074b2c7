"""Run each notebook of notebooks/ as the suite runs it (tests/test_notebooks.py: its cell tagged
"parameters" replaced by the small settings there, in a scratch folder) and store the run, its
outputs with it, in docs/_site/notebooks/, which the site's notebook pages show
(docs/_site/pages.py). notebooks/ stays without outputs; the site does not build while a stored
run's cells differ from its notebook's (but the parameters).

    python docs/_site/execute_notebooks.py                  # all five, about 10 min on 2 cores
    python docs/_site/execute_notebooks.py maco.ipynb       # one
"""

from __future__ import annotations

import base64
import io
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


# the file a cell runs as, which Python's warnings and tracebacks name (its quotes kept);
# matched from the start of a path only (after a space or a quote), so that an HTML output's
# inline pictures (runs of hundreds of thousands of characters) are read once, not once from
# each of their characters
CELL_FILE = re.compile(r"(?<![^\s\"'])[^\s\"']*?/ipykernel_\d+/\d+\.py")


def without_the_machine(notebook, folder: str) -> None:
    """Drop the machine's lines from the notebook's stderr (MACHINE), and outputs left empty;
    the scratch `folder` it ran in as ".", a cell's file as "<cell>"."""

    def plain(text: str) -> str:
        return CELL_FILE.sub("<cell>", text.replace(folder + "/", "").replace(folder, "."))

    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream":
                text = MACHINE.sub("", output.text) if output.name == "stderr" else output.text
                output.text = plain(text)
            for kind in ("text/plain", "text/html"):
                if kind in output.get("data", {}):
                    output.data[kind] = plain(output.data[kind])
        cell.outputs = [o for o in cell.outputs if o.output_type != "stream" or o.text]


# A picture over this many bytes is stored smaller where that makes it smaller: inside an HTML
# output (the gallery's blocks show the photos whole, as PNGs) as a JPEG, a PNG output (a figure)
# in 256 colours; the page shows them alike.
LARGE = 48_000
INLINE_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def smaller_pictures(notebook) -> None:
    """The large PNGs inside the notebook's HTML outputs as JPEGs (quality 85), its large PNG
    outputs in 256 colours, each where that is smaller."""
    from PIL import Image

    def jpeg(found: re.Match) -> str:
        png = base64.b64decode(found.group(1))
        if len(png) <= LARGE:
            return found.group(0)
        buffer = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").save(buffer, "JPEG", quality=85)
        if buffer.tell() >= len(png):
            return found.group(0)
        return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()

    def palette(png: str) -> str:
        data = base64.b64decode(png)
        if len(data) <= LARGE:
            return png
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").quantize(256).save(buffer, "PNG", optimize=True)
        return base64.b64encode(buffer.getvalue()).decode() if buffer.tell() < len(data) else png

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text/html" in output.get("data", {}):
                output.data["text/html"] = INLINE_PNG.sub(jpeg, output.data["text/html"])
            if "image/png" in output.get("data", {}):
                output.data["image/png"] = palette(output.data["image/png"])


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
        without_the_machine(notebook, str(Path(scratch).resolve()))
        smaller_pictures(notebook)
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)  # the run's timestamps: noise in every diff
        path = write_bytes(STORED / name, (nbformat.writes(notebook) + "\n").encode())
        took = time.perf_counter() - start
        print(f"{path.relative_to(ROOT)}: {took:.0f} s, {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
