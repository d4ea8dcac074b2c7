"""`SampleResult`: what `render` returns, and how to write it out."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.runtime.checks import is_int
from samplevis.sampling.density import facet_mass
from samplevis.sampling.mcmc.diagnostics import MIN_DRAWS_FOR_RHAT
from samplevis.sampling.report import facet_draws
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
        """Why each of `chains_off_target` is off its target, in words, e.g. {2: "kept 0.41 of
        its gain, still rising (+3.1 standard errors)"}; empty when every chain is at it."""
        d = self.diagnostics
        off = self.chains_off_target
        if d is None or not off:
            return {}
        target = self.options.target_ratio
        adapted = target is not None and self.options.temperature is None
        kept = self.gain_ratios
        reasons = {}
        for c in off:
            why = []
            if c in self.still_chains:
                why.append("its draws never varied (no step accepted)")
            if adapted and abs(kept[c] - target) > TARGET_TOLERANCE:
                why.append(f"kept {kept[c]:.2f} of its gain")
            if c in d.unsettled_chains:
                why.append(f"split R-hat {d.rhat[c]:.2f}")
            if c in d.trending_chains:
                way = "rising" if d.trend[c] > 0 else "falling"
                why.append(f"still {way} ({d.trend[c]:+.1f} standard errors)")
            reasons[c] = ", ".join(why)
        return reasons

    def draws_line(self) -> str | None:
        """Whether the draws come from the stated density, in one sentence: every chain at its
        target share and stationary, or which chains are not and why; None without draws to
        judge (fewer than 4 per chain)."""
        d = self.diagnostics
        if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
            return None
        off = self.chains_off_target
        target = self.options.target_ratio
        adapted = target is not None and self.options.temperature is None
        kept = self.gain_ratios
        if not off:
            share = (
                f"kept {np.nanmin(kept):.2f}-{np.nanmax(kept):.2f} of its start's gain (asked "
                f"{target:.2f}) and "
                if adapted
                else ""
            )
            return (
                f"draws at their target: every chain {share}was stationary over its "
                f"{d.num_results} draws (split R-hat <= {np.nanmax(d.rhat):.2f}, trend within "
                f"{np.nanmax(np.abs(d.trend)):.1f} standard errors)"
                if len(d.trend)
                else f"draws at their target: every chain {share}was stationary"
            )
        reasons = [f"chain {c}: {why}" for c, why in self.off_target_reasons().items()]
        asked = f" (asked {target:.2f}, stationary)" if adapted else " (stationary)"
        return (
            f"not at their target{asked}: "
            + "; ".join(reasons)
            + ". Their draws show where the chain was going, not the stated density; a "
            "longer burn-in lets them settle"
        )

    def facet_draws(self, structural_shares: np.ndarray | None = None) -> tuple[FacetDraws, ...]:
        """Per facet (`facets`), what its draws add to its optimum (`report.facet_draws`): its
        draws that differ from each other, from its chains at their target (all its chains,
        marked, when none is), what varied between them in words, and where their pixels
        vary; `structural_shares` passes `structural_shares` in when it was computed."""
        shares = self.structural_shares if structural_shares is None else structural_shares
        off = set(self.chains_off_target)
        return tuple(
            facet_draws.facet_draws(
                self.images, self.init_images, f.chains, f.image, off, self.warps, shares
            )
            for f in self.facets
        )

    def facets_line(self) -> str | None:
        """The facets in one line, e.g. "3 facets in 2 kinds (1 found by the search): heights
        1.00, 0.62, 0.93"; None when the search did not run."""
        if not self.facets:
            return None
        searched = sum(f.found.startswith("search") for f in self.facets)
        photos = sum(f.found.startswith("photos") for f in self.facets)
        kinds = len({f.kind for f in self.facets})
        heights = ", ".join(f"{f.height:.2f}" for f in self.facets)
        how = f"{searched} found by the search"
        if photos:
            how = f"{photos} from photo clusters, {how}"
        many = "s" if len(self.facets) != 1 else ""
        in_kinds = (
            f" in {kinds} kind{'s' if kinds != 1 else ''}" if kinds != len(self.facets) else ""
        )
        return f"{len(self.facets)} facet{many}{in_kinds} ({how}): heights {heights}"

    def kinds_line(self) -> str | None:
        """What the unit answers to, in a sentence, e.g. "the unit answers most to kind 0
        (facets 0, 2; bell pepper, 13 of 15 photos), also to kind 1 (facet 1; photos like
        theatre_9.jpg) at 0.62 of the best, its photos at 0.80", each kind by its name
        (`Facet.kind_name`) or a photo of it; without photos each facet is a kind ("facet 1
        (search round 1) at 0.68 of the best"); with one kind, its name ("its photos are of one
        kind: bell pepper, 13 of 15 photos"), None without one. Kinds without a chain are
        named, with the chains that would sample every kind."""
        kinds = sorted({f.kind for f in self.facets})
        if len(kinds) == 1 and self.facets[0].kind_name:
            return f"its photos are of one kind: {self.facets[0].kind_name}"
        if len(kinds) < 2:
            return None
        named = [self._kind_words(k) for k in kinds]
        line = f"the unit answers most to {named[0]}, also to " + ", to ".join(named[1:])
        unsampled = [k for k in kinds if not any(f.chains for f in self.facets if f.kind == k)]
        if unsampled:
            line += (
                f"; {len(unsampled)} of the {len(kinds)} kinds have no chain (num_chains "
                f"{len(kinds)} would sample every kind)"
            )
        return line

    def _kind_words(self, kind: int) -> str:
        """Kind `kind` in words: its height and its photos' (but for the first), its facets, a
        photo of it."""
        facets = [(k, f) for k, f in enumerate(self.facets) if f.kind == kind]
        first = facets[0][1]
        if first.examples:
            which = ", ".join(str(k) for k, _ in facets)
            like = first.kind_name or f"photos like {first.examples[0].file.name}"
            name = f"kind {kind} (facet{'s' if len(facets) > 1 else ''} {which}; {like})"
        else:
            name = f"facet {facets[0][0]} ({first.found})"
        if kind == self.facets[0].kind:
            return name
        said = f"{name} at {first.height:.2f} of the best"
        if math.isfinite(first.photos_height):
            said += f", its photos at {first.photos_height:.2f}"
        return said

    def photos_line(self) -> str | None:
        """Where each facet from photos came from and how high it is, and the clusters whose
        climb failed, e.g. "from photos: facet 0 cluster 3 (1.00, 15 photos), facet 1 cluster 0
        (0.93, 12 photos); failed climbs, no facets: cluster 7 (0.24)"; None without photos."""
        from_photos = [
            f"facet {k} {f.found.removeprefix('photos, ')} ({f.height:.2f}, "
            f"{len(f.examples)} photos)"
            for k, f in enumerate(self.facets)
            if f.found.startswith("photos")
        ]
        if not from_photos:
            return None
        under = ", ".join(f"cluster {c} ({h:.2f})" for c, h in self.clusters_below_floor)
        return (
            "from photos: "
            + ", ".join(from_photos)
            + (
                f"; failed climbs (under {self.options.kind_floor:g} of the height their photos"
                f" promise, or nearer another kind's photos), no facets: {under}"
                if under
                else ""
            )
        )

    @property
    def mass_sentence(self) -> str:
        """What `log_masses` mean, in one plain sentence: each chain's facet's, against the
        heaviest, each with its error bar; facets whose difference from the heaviest is within
        facet_mass.SEPARATION of its standard error are said to be within the error (their
        masses do not tell them apart)."""
        return facet_mass.sentence(
            self.log_masses.tolist(), _matching(self.log_mass_errors, self.log_masses.shape)
        )

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


def _matching(errors: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`errors` when it has `shape`, else NaN of that shape (a result made without them)."""
    errors = np.asarray(errors, np.float64)
    return errors if errors.shape == shape else np.full(shape, np.nan)


# Facet and TARGET_TOLERANCE are the record's (`run`), named here as before.
__all__ = ["STD_MAP_PERCENTILE", "TARGET_TOLERANCE", "Facet", "SampleResult"]
