"""`SampleResult`: what `render` returns, and how to write it out."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.runtime.checks import is_int
from samplevis.sampling.report import facet_draws, summary
from samplevis.sampling.report.facet_draws import FacetDraws
from samplevis.sampling.report.run import TARGET_TOLERANCE, Facet, Run

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example

STD_MAP_PERCENTILE = 99.0  # of a run's std maps' pixels: white in std.png


@dataclasses.dataclass(frozen=True, repr=False)
class SampleResult(Run):
    """Samples of `render`: the run's record (`run.Run`, whose docstring lists its fields) and
    how it is read and written out.

    In a notebook a result shows itself as `samplevis gallery` shows its folder (`save`): its
    facets by kind, each optimum beside its photos and the draws that differ, and the lines
    that say what the run found and whether its draws are at their target.
    """

    def off_target_reasons(self) -> dict[int, str]:
        """Why each of `chains_off_target` is off its target, in words
        (`summary.off_target_reasons`)."""
        return summary.off_target_reasons(self)

    def draws_line(self) -> str | None:
        """Whether the draws come from the stated density, in one sentence
        (`summary.draws_line`)."""
        return summary.draws_line(self)

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
        """One image: a row per chain, the start first (if `with_init`), then samples."""
        from samplevis import io

        columns = [self.init_images[None]] if with_init else []
        frames = np.concatenate(columns + [self.images], axis=0)  # [N(+1), C, H, W, 3]
        rows = np.swapaxes(frames, 0, 1)
        return io.grid(rows.reshape(-1, *rows.shape[2:]), ncols=frames.shape[0])

    def facet_grid(self, photos: int = 4, samples: int = 4) -> np.ndarray:
        """One image: a row per facet, best first: its optimum, up to `photos` of its photos
        (from photos: the part of each its unit saw, fitted to the image size), then up to
        `samples` of its samples, evenly spaced over its chains' draws; white where a facet
        has fewer. Float [R * (H + 2) + 2, W', 3] in [0, 1]; empty [0, 0, 3] without facets."""
        from samplevis import io
        from samplevis.examples.clusters import seen
        from samplevis.examples.images import array_fitted

        if not self.facets:
            return np.zeros([0, 0, 3], np.float32)
        size = self.init_images.shape[1:3]
        blank = np.ones([*size, 3], np.float32)
        width = 1 + photos + samples
        tiles = []
        for facet in self.facets:
            shown = [array_fitted(seen(e), size)[0] / 255.0 for e in facet.examples[:photos]]
            drawn = self.images[:, list(facet.chains)].reshape(-1, *size, 3)
            if len(drawn):
                drawn = drawn[np.linspace(0, len(drawn) - 1, min(samples, len(drawn))).astype(int)]
            row = [facet.image, *shown, *drawn]
            tiles += row + [blank] * (width - len(row))
        return io.grid(np.stack(tiles).astype(np.float32), ncols=width)

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
            own (`sampling.report.facet_examples.nearest_examples`).
          objective: its name in the record (default: the name `render` was given).
        Raises:
          OSError: NotADirectoryError or PermissionError, naming the fix, for a folder that
            cannot be written (the result is unchanged: save it elsewhere).
        """
        from samplevis.sampling.report.run_folder import save_run

        return save_run(folder, self, objective, examples)

    def _repr_html_(self) -> str:
        """The run as `samplevis gallery` shows its folder, its images inline (`report.inline`):
        what Jupyter shows for a result at the end of a cell."""
        from samplevis.sampling.report.inline import run_html

        return run_html(self)

    def save_grid(self, path: str | os.PathLike, with_init: bool = True) -> Path:
        """Write `grid()` as a PNG (atomically)."""
        from samplevis import io

        return io.save_png(path, self.grid(with_init))

    def save_gif(
        self, path: str | os.PathLike, fps: float = 4.0, chain: int | None = None, every: int = 1
    ) -> Path:
        """An animated GIF of the samples in the order drawn: one chain, or (chain=None) all
        chains side by side.

        `every` keeps every k-th sample as a frame (long runs make large GIFs).
        """
        from samplevis import io

        if self.images.shape[0] == 0:
            raise ValueError("no samples to write: the run was interrupted before the first one.")
        if not is_int(every) or every < 1:
            raise ValueError(f"every must be an int >= 1 (keep every k-th sample); got {every!r}.")
        images = self.images[::every]
        if chain is None:
            frames = np.stack([io.grid(f, ncols=self.num_chains) for f in images])
        else:
            if not is_int(chain) or not 0 <= chain < self.num_chains:
                raise ValueError(
                    f"chain must be an int in 0..{self.num_chains - 1}, or None for all; got "
                    f"{chain!r}."
                )
            frames = images[:, chain]
        return io.save_gif(path, frames, fps=fps)

    def save_structure_map(self, path: str | os.PathLike) -> Path:
        """Write `structure_maps()` as one grey PNG, a tile per chain, all on one scale: a
        standardized structure map's std of 1 is white (atomically)."""
        from samplevis import io

        maps = np.clip(self.structure_maps(), 0.0, 1.0)
        return io.save_grid(path, np.repeat(maps[..., None], 3, axis=-1), ncols=self.num_chains)

    def save_std_map(self, path: str | os.PathLike) -> Path:
        """Write `std_maps()` as one grey PNG, a tile per chain, all on one scale so the chains
        compare: white from STD_MAP_PERCENTILE of all their pixels up (from the largest where
        fewer pixels vary at all) (atomically)."""
        from samplevis import io

        maps = self.std_maps()
        # a few pixels' spread is far larger than the rest's: scaled by the largest, the map
        # is black with specks where a person wants to see where the colours vary
        peak = np.percentile(maps, STD_MAP_PERCENTILE)
        peak = peak if peak > 0 else maps.max()
        scaled = np.clip(maps / peak, 0.0, 1.0) if peak > 0 else maps
        return io.save_grid(path, np.repeat(scaled[..., None], 3, axis=-1), ncols=self.num_chains)

    def save_pngs(self, directory: str | os.PathLike, prefix: str = "sample") -> list[Path]:
        """Write every sample as `{prefix}_chain{c}_{i:03d}.png` in `directory`."""
        from samplevis import io

        if self.images.shape[0] == 0:
            raise ValueError("no samples to write: the run was interrupted before the first one.")
        paths = []
        for c in range(self.num_chains):
            paths += io.save_pngs(directory, self.images[:, c], prefix=f"{prefix}_chain{c}")
        return paths


# Facet and TARGET_TOLERANCE are the record's (`run`), named here as before.
__all__ = ["STD_MAP_PERCENTILE", "TARGET_TOLERANCE", "Facet", "SampleResult"]
