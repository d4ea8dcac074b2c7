"""A sample run's folder (`save_run`): what `SampleResult.save` and `samplevis sample` write, the
draws, the starts, a GIF, the std and structure maps, each facet's optimum, photos and std
overlay, the trace plot and diagnostics.json (`run_json.record_of`), replacing what an earlier run
left there so that the folder describes one run. `samplevis gallery` reads it back."""

from __future__ import annotations

import importlib.util
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samplevis.runtime import signals
from samplevis.sampling.report import facet_draws, pictures
from samplevis.sampling.report.run_json import (
    EXAMPLE_PNG,
    FACET_PNG,
    PROCESSING_PNG,
    STD_PNG,
    record_of,
)

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example
    from samplevis.sampling.report.run import Run

# The sample PNGs a run writes (pictures.save_pngs): chain, then sample index.
SAMPLE_PNG = re.compile(r"sample_chain(\d+)_(\d+)\.png")
# What a run writes that another run may not overwrite (other sample counts, chains, facets).
SAMPLE_FILES = re.compile(
    rf"{SAMPLE_PNG.pattern}|facet_\d+_(optimum|example_\d+|std|processing)\.png|samples\.gif|"
    r"std\.png|"
    r"structure\.png|trace\.png"
)
RECORD = "diagnostics.json"


def writable_folder(folder: str | os.PathLike) -> Path:
    """`folder` as a Path, checked before anything is written (`io.writable_folder`): the
    result stays as it is when the folder is refused, so the error says to save it elsewhere."""
    from samplevis import io

    return io.writable_folder(folder, fix=" The result is unchanged: save it there.")


def save_run(
    folder: str | os.PathLike,
    result: Run,
    objective: str | None = None,
    examples: Sequence[Sequence[Example]] | None = None,
    init_files: Sequence[str] | None = None,
) -> list[Path]:
    """Write `result`'s folder (see the module's docstring) and return its files, the record
    last. `objective` names the objective in the record (default `result.objective`);
    `examples` gives each facet without photos of its own the top images that look like it
    (`phases.nearest_examples`); `init_files`, the image files the chains started from.

    Every file is written whole (to a temporary name, then renamed), and a Ctrl-C or a
    termination signal while they are written waits until the folder describes the run. Raises
    NotADirectoryError or PermissionError, naming the fix, for a folder that cannot be written,
    and OSError from a disk that refuses a file (the result is unchanged: save it elsewhere)."""
    from samplevis.sampling.report.facet_examples import facet_examples

    out = writable_folder(folder)
    by_facet = facet_examples(result, examples)
    drawn = facet_draws.per_facet(result)  # what each facet's draws add: in the record and its PNGs
    name = result.objective if objective is None else objective
    report = record_of(result, name, init_files=init_files, examples=by_facet, drawn=drawn)
    with signals.held(), signals.interrupt_held():
        return write_run(out, result, report, by_facet, drawn)


def write_run(
    folder: Path,
    result: Run,
    report: dict[str, Any],
    by_facet: Sequence[Sequence[Example]] | None = None,
    drawn: Sequence[facet_draws.FacetDraws] | None = None,
) -> list[Path]:
    """Write a sample run's files in `folder` with its record `report` (`run_json.record_of`),
    each facet's examples (`by_facet`) and the std overlay of what its draws add (`drawn`,
    default `facet_draws.per_facet`), then delete the ones an earlier run left there that this
    run did not write, so that the folder and its diagnostics.json describe one run."""
    from samplevis import io
    from samplevis.examples.clusters import seen

    paths = pictures.save_pngs(result, folder) if len(result.images) else []
    if len(result.images):
        paths.append(pictures.save_gif(result, folder / "samples.gif"))
    if len(result.images) >= 2:
        paths.append(pictures.save_std_map(result, folder / "std.png"))
        paths.append(pictures.save_structure_map(result, folder / "structure.png"))
    # One row, chain 0 first, as samples.gif and std.png lay the chains out.
    paths.append(io.save_grid(folder / "starts.png", result.init_images, ncols=result.num_chains))
    paths += [
        io.save_png(folder / FACET_PNG.format(k), facet.image)
        for k, facet in enumerate(result.facets)
    ]
    for k, added in enumerate(facet_draws.per_facet(result) if drawn is None else drawn):
        if added.std_overlay is not None:
            paths.append(io.save_png(folder / STD_PNG.format(k), added.std_overlay))
    for k, examples in enumerate(by_facet or []):
        paths += [
            io.save_png(folder / EXAMPLE_PNG.format(k, j), seen(example) / 255.0)
            for j, example in enumerate(examples)
        ]
    # with the optional plot extra, once there are steps to show
    ran = len(result.burnin_activations) or len(result.images)
    if ran and importlib.util.find_spec("matplotlib") is not None:
        from samplevis.sampling.report.plots import plot_trace

        paths.append(io.save_figure(folder / "trace.png", plot_trace(result)))
    elif ran:
        warnings.warn(
            "no trace.png: the trace plot of the chains needs matplotlib (pip install matplotlib).",
            stacklevel=3,
        )
    if importlib.util.find_spec("matplotlib") is not None:
        from samplevis.sampling.report.plots import plot_processing

        paths += [
            io.save_figure(folder / PROCESSING_PNG.format(k), plot_processing(f.processing))
            for k, f in enumerate(result.facets)
            if f.processing is not None
        ]
    paths.append(io.write_json(folder / RECORD, report))
    kept = {Path(p).name for p in paths}
    stale = sorted(
        p for p in folder.iterdir() if SAMPLE_FILES.fullmatch(p.name) and p.name not in kept
    )
    for path in stale:
        path.unlink()
    if stale:
        warnings.warn(
            f"removed {len(stale)} files an earlier run had written to {str(folder)!r} (e.g. "
            f"{stale[0].name}).",
            stacklevel=3,
        )
    return paths
