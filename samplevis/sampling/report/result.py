"""`SampleResult`: what `render` returns, what the run drew and measured (`run.Run`) with what
is made of it as its methods, each a one-line delegate to the module below that makes it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.sampling.report import facet_draws, pictures, summary
from samplevis.sampling.report.diagnostics_line import diagnostics_line
from samplevis.sampling.report.facet_draws import FacetDraws
from samplevis.sampling.report.inline import run_html
from samplevis.sampling.report.run import Run
from samplevis.sampling.report.run_folder import save_run

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example


@dataclasses.dataclass(frozen=True, repr=False)
class SampleResult(Run):
    """Samples of `render`: what the run drew and measured (`run.Run`, whose docstring lists
    its fields and numbers) and what is made of it: its sentences (`draws_line`, `facets_line`, `kinds_line`,
    `photos_line`, `off_target_reasons`, `mass_sentence`: `summary`; `diagnostics_line`), what each facet's draws
    add (`facet_draws`), its pictures (`grid`, `facet_grid`, `save_grid`, `save_gif`,
    `save_std_map`, `save_structure_map`, `save_pngs`: `pictures`) and its folder (`save`:
    `run_folder`).

    In a notebook a result shows itself as `samplevis gallery` shows its folder (`save`): its
    facets by kind, each optimum beside its photos and the draws that differ, and the lines
    that say what the run found and whether its draws are from their density.
    """

    def off_target_reasons(self) -> dict[int, str]:
        """Why each of `chains_off_target` is not from its density, in words
        (`summary.off_target_reasons`)."""
        return summary.off_target_reasons(self)

    def tuning_line(self) -> str | None:
        """T's tuning: the share of its start's gain each chain keeps, against `target_ratio`
        (`summary.tuning_line`)."""
        return summary.tuning_line(self)

    def draws_line(self) -> str | None:
        """Whether the draws are from their density, then T's tuning, in one sentence
        (`summary.draws_line`)."""
        return summary.draws_line(self)

    def diagnostics_line(self) -> str | None:
        """The MCMC diagnostics in one line: acceptance, divergences, the worst R-hat and ESS,
        E-BFMI (`diagnostics_line.diagnostics_line`); None without diagnostics."""
        return None if self.diagnostics is None else diagnostics_line(self.diagnostics)

    def facet_draws(self, structural_shares: np.ndarray | None = None) -> tuple[FacetDraws, ...]:
        """Per facet, what its draws add to its optimum (`facet_draws.per_facet`)."""
        return facet_draws.per_facet(self, structural_shares)

    def facets_line(self) -> str | None:
        """The facets in one line (`summary.facets_line`)."""
        return summary.facets_line(self)

    def kinds_line(self) -> str | None:
        """What the unit answers to, in a sentence (`summary.kinds_line`)."""
        return summary.kinds_line(self)

    def photos_line(self) -> str | None:
        """Where each facet from photos came from and how high it is (`summary.photos_line`)."""
        return summary.photos_line(self)

    @property
    def mass_sentence(self) -> str:
        """What `log_masses` mean, in one plain sentence (`summary.mass_sentence`)."""
        return summary.mass_sentence(self)

    def grid(self, with_init: bool = True) -> np.ndarray:
        """One image: a row per chain, the start first, then samples (`pictures.grid`)."""
        return pictures.grid(self, with_init)

    def facet_grid(self, photos: int = 4, samples: int = 4) -> np.ndarray:
        """One image: a row per facet, best first (`pictures.facet_grid`)."""
        return pictures.facet_grid(self, photos, samples)

    def save(
        self,
        folder: str | os.PathLike,
        *,
        examples: Sequence[Sequence[Example]] | None = None,
        objective: str | None = None,
    ) -> list[Path]:
        """Write the run to `folder` as `samplevis sample` does, for `samplevis gallery`: every
        draw (sample_chain<c>_<i>.png), samples.gif, std.png, structure.png, starts.png, each
        facet's optimum, photos and std overlay, trace.png (with matplotlib) and
        diagnostics.json, the run's record. Files an earlier run left there are removed, so
        that the folder describes this run; each file is written whole, and a Ctrl-C while they
        are written waits for the last. Returns the files, diagnostics.json last.

        Args:
          folder: created if missing.
          examples: per facet, the top images that look like it where it has no photos of its
            own (`sampling.phases.nearest_examples`).
          objective: its name in the record (default: the name `render` was given).
        Raises:
          OSError: NotADirectoryError or PermissionError, naming the fix, for a folder that
            cannot be written (the result is unchanged: save it elsewhere).
        """
        return save_run(folder, self, objective, examples)

    def _repr_html_(self) -> str:
        """The run as `samplevis gallery` shows its folder, its images inline (`report.inline`):
        what Jupyter shows for a result at the end of a cell."""
        return run_html(self)

    def save_grid(self, path: str | os.PathLike, with_init: bool = True) -> Path:
        """Write `grid()` as a PNG (`pictures.save_grid`)."""
        return pictures.save_grid(self, path, with_init)

    def save_gif(
        self, path: str | os.PathLike, fps: float = 4.0, chain: int | None = None, every: int = 1
    ) -> Path:
        """An animated GIF of the samples in the order drawn (`pictures.save_gif`)."""
        return pictures.save_gif(self, path, fps, chain, every)

    def save_structure_map(self, path: str | os.PathLike) -> Path:
        """Write `structure_maps()` as one grey PNG (`pictures.save_structure_map`)."""
        return pictures.save_structure_map(self, path)

    def save_std_map(self, path: str | os.PathLike) -> Path:
        """Write `std_maps()` as one grey PNG (`pictures.save_std_map`)."""
        return pictures.save_std_map(self, path)

    def save_pngs(self, directory: str | os.PathLike, prefix: str = "sample") -> list[Path]:
        """Write every sample as a PNG in `directory` (`pictures.save_pngs`)."""
        return pictures.save_pngs(self, directory, prefix)
