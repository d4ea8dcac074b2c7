"""`SampleResult`: what `render` returns, and how to write it out."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.optvis.processing_check import ProcessingCheck
from samplevis.runtime.checks import is_int
from samplevis.sampling import metrics
from samplevis.sampling.density import facet_mass
from samplevis.sampling.mcmc import verdict
from samplevis.sampling.mcmc.diagnostics import MIN_DRAWS_FOR_RHAT, Diagnostics
from samplevis.sampling.options import SamplingOptions
from samplevis.sampling.report import facet_draws
from samplevis.sampling.report.facet_draws import FacetDraws

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example

STD_MAP_PERCENTILE = 99.0  # of a run's std maps' pixels: white in std.png
# benchmarks/draws_at_target.py's target for the share a chain keeps: within this of
# target_ratio. The run itself gives a tuning notice only beyond mcmc.verdict.TUNING_TOLERANCE.
TARGET_TOLERANCE = 0.05


@dataclasses.dataclass(frozen=True, repr=False)
class Facet:
    """One facet of the unit: what a pattern of the images that excite it looks like.

    Attributes:
      image: float32 [H, W, 3], its best optimum.
      activation: that optimum's objective (a*).
      height: activation as a share of the best facet's (1 for the best).
      found: "seed" (an optimized start), "search round k" or "photos, cluster k".
      kind: the kind of image it is a variant of, numbered in the facets' order (0: the best
        facet's): from photos, its cluster's kind of photo (`examples.clusters.kinds`); a facet
        of the search is a kind of its own.
      chains: the chains that sampled it (their samples: `result.images[:, chains]`).
      std_map: float [H, W], per-pixel std across its samples (None without 2 samples).
      log_mass: its Laplace log-mass (nats) relative to the heaviest chain's facet, that of
        its first chain (NaN: not measured).
      log_mass_error: that log-mass's standard error (nats; see `log_mass_errors`).
      examples: from photos, its cluster's photos (`examples.clusters.Example`: file, value,
        box), best first; empty otherwise.
      photos_height: how strongly the unit answers to its kind's photos: their median value
        over that of the best facet's kind (NaN without photos).
      kind_name: its kind in words: the label a classifier gives most of the kind's photos
        ("bell pepper, 13 of 15 photos"), or the folder most of them sit in; "" without
        either (`report.kind_names`).
      processing: whether its optimum (image 0) and some of its draws are processed like its
        kind's photos more than like the other photos, layer by layer (Geirhos et al.'s check,
        `report.facet_processing`); None where not checked (no photos, or none of another
        kind).
    """

    image: np.ndarray
    activation: float
    height: float
    found: str
    chains: tuple[int, ...]
    std_map: np.ndarray | None
    log_mass: float
    log_mass_error: float
    examples: tuple = ()
    kind: int = 0
    photos_height: float = math.nan
    processing: ProcessingCheck | None = None
    kind_name: str = ""


@dataclasses.dataclass(frozen=True, repr=False)
class SampleResult:
    """Samples of `render`. N = kept samples per chain, C = chains.

    Attributes:
      images: float32 [N, C, H, W, 3] in [0, 1].
      activations: float32 [N, C], objective under the K fixed transforms.
      init_images: float32 [C, H, W, 3], the chains' starts.
      init_activations: float32 [C], the starts' objective (a*).
      prior_activation: a0, the mean objective of images drawn from the prior
        (0 when prior_weight is 0); target_ratio is a share of a* - a0.
      burnin_activations: float32 [n, C], the objective during burn-in, one row per step.
      tuning_steps: how many of those rows are steps that adapted T (the first ones).
      trace: per kept sample, name -> [N, C]: "activation" (as `activations`),
        "target_log_prob" (log pi), "energy" (the Hamiltonian), "is_accepted",
        "log_accept_ratio", "step_size" and "divergent" (see `sampling.mcmc.chain`).
      diagnostics: MCMC health; None if interrupted before burn-in began (while
        optimizing the starts). Interrupted during burn-in, it has
        num_steps 0, the burn-in acceptance and NaN sampling figures.
      temperature: T used, objective units; with T adapted per chain, the geometric mean of
        `chain_temperatures`.
      chain_temperatures: float [C], the T each chain's samples were drawn at (frozen after
        adapting during burn-in; all equal when T was given or not adapted).
      temperatures: float [B, C], each chain's T during each burn-in block that adapted it
        (no rows if T was not adapted).
      prior_weight: lam used.
      interrupted: True when Ctrl-C stopped the run; the fields hold what
        was drawn until then. The starts are kept from the moment their
        optimization stops; a* (init_activations), a0, T and lam are NaN if
        the run stopped before they were measured (a Ctrl-C during the
        optimization leaves a0, T and lam unset).
      seed: int32 [2], reproduces the run with the same options.
      options: the resolved hmc_opts.
      burnin_trace: per step of burn-in, the names of `trace` -> [n, C]
        (acceptance and step size as the step size adapts; its "activation" is
        `burnin_activations`).
      log_masses: float [C], each chain's facet's estimated log-mass (nats) relative to the
        heaviest: the Laplace estimate at the mode of the chain's facet, over the coefficients
        that move, at one T for all (`temperature`; NaN if the run stopped before T was frozen,
        or where Newton's method found no mode to take it at). `mass_sentence` says what they
        mean.
      log_mass_errors: float [C], the standard error of each of `log_masses` (nats; the
        jackknife over the curvature's probes; inf where no mode was found, NaN where not
        measured). A difference of two log-masses has error sqrt(e_i^2 + e_j^2).
      cutoff: cycles per pixel below which the coefficients moved (None: the whole state).
      num_moving: D, the state that moved per chain.
      rule_temperature: T of the equipartition rule over those D, where adapting T began.
      temperature_shares: float [B, C], the share of its start's gain each chain kept during
        each block that adapted T (the adaptation drives it to target_ratio).
      seconds: wall-clock seconds of each phase that ran: "starts", "temperature",
        "burn-in", "sampling", "log-masses" (compiling included).
      facets: the facets the facet search found (`hmc_opts.search_rounds`), or the photo
        clusters and the search (`hmc_opts.init` an examples.json), kinds first (every kind's
        best facet, highest first, then every kind's second, ...), each a `Facet`: its
        optimum, height, kind, how it was found, its chains, std map, log-mass and photos
        (empty when neither ran).
      clusters_below_floor: (cluster, height) of the photo clusters whose climb failed: their
        optimum stayed under `hmc_opts.kind_floor` of the height their photos promise, or lies
        nearer another kind's photos than its own's, highest first; they are no facets.
      warps: float32 [N, C, G, G, 2], each sample's warp less its chain's start's, in px of
        displacement (dy, dx at G x G control points: `target.chain_param.warp_images`); with
        no rows where the chains move no warp.
      objective: the objective's name, as its record and the gallery show it.

    In a notebook a result shows itself as `samplevis gallery` shows its folder (`save`): its
    facets by kind, each optimum beside its photos and the draws that differ, and the lines
    that say what the run found and whether its draws are at their target.
    """

    images: np.ndarray
    activations: np.ndarray
    init_images: np.ndarray
    init_activations: np.ndarray
    prior_activation: float
    burnin_activations: np.ndarray
    tuning_steps: int
    trace: Mapping[str, np.ndarray]
    diagnostics: Diagnostics | None
    temperature: float
    chain_temperatures: np.ndarray
    temperatures: np.ndarray
    prior_weight: float
    interrupted: bool
    seed: np.ndarray
    options: SamplingOptions
    burnin_trace: Mapping[str, np.ndarray]
    log_masses: np.ndarray
    cutoff: float | None
    num_moving: int
    rule_temperature: float
    temperature_shares: np.ndarray
    seconds: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )
    log_mass_errors: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros([0], np.float64)
    )
    facets: tuple[Facet, ...] = ()
    clusters_below_floor: tuple[tuple[int, float], ...] = ()
    warps: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros([0, 0, 0, 0, 2], np.float32)
    )
    objective: str = ""

    @property
    def num_chains(self) -> int:
        return int(self.init_images.shape[0])

    def __repr__(self) -> str:
        # The arrays would print tens of thousands of numbers in a notebook cell.
        n, c, h, w = self.images.shape[:4]
        return (
            f"SampleResult({n} samples x {c} chains of {h}x{w} px, T={self.temperature:.4g}, "
            f"prior_weight={self.prior_weight:.4g}, activation_ratio="
            f"{self.activation_ratio:.2f}, gain_ratio={self.gain_ratio:.2f}"
            f"{', interrupted' if self.interrupted else ''})"
        )

    @property
    def activation_ratio(self) -> float:
        """Median sample activation over the mean start activation (NaN if none, or if the
        starts' mean is 0)."""
        start = np.mean(self.init_activations)
        if self.activations.size == 0 or start == 0:
            return math.nan
        return float(np.median(self.activations) / start)

    @property
    def gain_ratio(self) -> float:
        """The median sample's share of the starts' gain over prior images,
        (median A - a0) / (mean a* - a0), what target_ratio aims at (NaN if none,
        or if the starts gain nothing)."""
        gain = np.mean(self.init_activations) - self.prior_activation
        if self.activations.size == 0 or not gain > 0:
            return math.nan
        return float((np.median(self.activations) - self.prior_activation) / gain)

    @property
    def gain_ratios(self) -> np.ndarray:
        """float [C]: each chain's median sample's share of its own start's gain over prior
        images, (median A_c - a0) / (a*_c - a0), what target_ratio asks of every chain (NaN
        for a chain without samples or whose start gains nothing)."""
        gain = self.init_activations.astype(np.float64) - self.prior_activation
        if self.activations.size == 0:
            return np.full(self.init_activations.shape, math.nan)
        kept = np.median(self.activations, axis=0) - self.prior_activation
        return np.where(gain > 0, kept / np.where(gain > 0, gain, 1.0), math.nan)

    @property
    def chains_off_target(self) -> tuple[int, ...]:
        """Chains whose draws are not from the density they claim (exp(A / T) * prior at their
        frozen T): split R-hat over its limit, a trend, divergences, low E-BFMI, or draws that
        never varied (`mcmc.verdict.not_from_density`). A share of the gain off
        `target_ratio` is T's tuning, not this (`tuning_line`). Empty without draws to judge
        (fewer than 4)."""
        return tuple(self.off_target_reasons())

    @property
    def _still_chains(self) -> tuple[int, ...]:
        """Chains whose draws never varied (no step accepted): no density is sampled."""
        d = self.diagnostics
        if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
            return ()
        values = np.asarray(self.activations, np.float64)
        return tuple(int(c) for c in np.flatnonzero(np.ptp(values, axis=0) == 0))

    def off_target_reasons(self) -> dict[int, str]:
        """Why each of `chains_off_target` is not from its density, in words, e.g. {2: "split
        R-hat 8.04 over 5.80, still rising (+3.8 standard errors)"}; empty when none is."""
        d = self.diagnostics
        if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
            return {}
        still = self._still_chains
        return verdict.not_from_density(
            d.rhat,
            d.rhat_limit,
            d.trend,
            d.divergences,
            d.e_bfmi,
            [c in still for c in range(len(d.rhat))],
        )

    def tuning_line(self) -> str | None:
        """T's tuning: "T tuned to keep 0.80 of each start's gain: chains keep 0.74-0.76",
        and a notice for a chain more than 0.1 off ("T's tuning missed: chain 2 keeps 0.62 of
        its gain"); None where T was given, or without draws."""
        target = self.options.target_ratio
        if target is None or self.options.temperature is not None or not len(self.images):
            return None
        sentence = verdict.tuning_sentence(self.gain_ratios, target)
        missed = verdict.tuning_missed(self.gain_ratios, target)
        return f"{sentence}. {missed}" if missed else sentence

    def draws_line(self) -> str | None:
        """Whether the draws are from their density, in one sentence (every chain stationary,
        or which chains are not and why), then T's tuning (`tuning_line`); None without draws
        to judge (fewer than 4 per chain)."""
        d = self.diagnostics
        if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
            return None
        line = verdict.draws_sentence(self.off_target_reasons(), d.num_results, d.rhat, d.trend)
        tuning = self.tuning_line()
        return f"{line}. {tuning}" if tuning else line

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

    def _need_two_samples(self, what: str) -> None:
        """Raise, naming the fix, unless each chain has 2 samples or more for `what`."""
        if self.images.shape[0] < 2:
            fix = "It was interrupted." if self.interrupted else "Raise num_results."
            raise ValueError(
                f"{what} needs at least 2 samples per chain; this run has "
                f"{self.images.shape[0]}. {fix}"
            )

    def std_maps(self) -> np.ndarray:
        """Per-pixel standard deviation across each chain's samples, float [C, H, W], colours
        averaged: bright where a chain's samples differ (what the unit ignores), dark where
        they agree. Needs at least 2 samples."""
        self._need_two_samples("a standard deviation")
        return np.stack(
            [metrics.pixel_std_map(self.images[:, c]) for c in range(self.num_chains)]
        ).astype(np.float32)

    @functools.cached_property
    def structural_shares(self) -> np.ndarray:
        """How far each chain's patterns moved, float [C]: the median structural distance
        between its samples (`metrics.structural_distances`, blind to colour, lighting and
        shifts) over the median between the chains' starts. 0: the samples are recoloured or
        shifted copies of one image; 1: as different as the starts. Bends count as change (a
        copy bent by 2 px scores about 0.6; `registration.registered_share` takes them out).
        NaN with fewer than 2 samples or 2 chains, or where the starts are structural copies of
        one another (no unit to measure in)."""
        if self.images.shape[0] < 2 or self.num_chains < 2:
            return np.full([self.num_chains], np.nan)
        return metrics.structural_share(self.images, self.init_images)

    def structure_maps(self) -> np.ndarray:
        """Where each chain's motifs changed between its samples, float [C, H, W]
        (`metrics.structure_map`): dark where the samples share the start's motifs, recoloured
        or not, bright where the motifs moved or changed. Needs at least 2 samples."""
        self._need_two_samples("a structure map")
        return np.stack(
            [metrics.structure_map(self.images[:, c]) for c in range(self.num_chains)]
        ).astype(np.float32)

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
