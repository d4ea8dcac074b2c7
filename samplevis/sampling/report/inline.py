"""A sample run shown in a notebook (`run_html`, `SampleResult._repr_html_`): the sections that
`samplevis gallery` makes of its folder, its images inline. The run is written to a temporary
folder by `run_folder.save_run`, so that the notebook shows what the gallery would."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.sampling.report.run import Run


def run_html(result: Run) -> str:
    """`result` as one HTML block (`pages.gallery_html`): its facets by kind, each optimum
    beside its photos and the draws that differ, the lines saying what the run found and
    whether its draws are from their density, the GIF and the trace plot, every image inline."""
    from samplevis import pages
    from samplevis.sampling.report.gallery_section import run_section
    from samplevis.sampling.report.run_folder import RECORD, save_run

    with tempfile.TemporaryDirectory(prefix="samplevis-") as folder:
        save_run(folder, result)
        found = run_section(Path(folder) / RECORD, Path(folder))
        assert found is not None  # the folder save_run wrote is a run's
        return pages.gallery_html(found[0], folder)
