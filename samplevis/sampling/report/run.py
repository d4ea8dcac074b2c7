"""What a sample run drew and measured (`Run`): the draws, the starts, the diagnostics, the run's
other fields and the numbers read from them, and its facets (`Facet`). No sentences and no files: `summary` says what a run
found, `pictures` and `run_folder` draw and write it, and `result.SampleResult` (what `render`
returns) offers all of them as its methods."""

from __future__ import annotations

import dataclasses
import functools
import math
import types
from collections.abc import Mapping

import numpy as np

from samplevis.optvis.blur_check import BlurCheck
from samplevis.optvis.natural_measures import NaturalCheck
from samplevis.optvis.processing_check import ProcessingCheck
from samplevis.sampling import metrics
from samplevis.sampling.mcmc.diagnostics import Diagnostics
from samplevis.sampling.mcmc.stationarity import MIN_DRAWS_FOR_RHAT
from samplevis.sampling.options import SamplingOptions
from samplevis.sampling.report import verdict

# benchmarks/draws_at_target.py's target for the share a chain keeps: within this of
# target_ratio. The run itself gives a tuning notice only beyond verdict.TUNING_TOLERANCE.
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
      blur: how much of its objective its optimum (image 0) and those draws keep under a 1 px
        Gaussian blur, against the median its kind's photos keep (`optvis.blur_check`, set by
        `report.facet_processing`); None without photos of its kind.
      natural: measures no climb applies, of its optimum (image 0) and those draws against its
        kind's photos: the share of its objective kept at half resolution, its colourfulness
        and its coarse correlation with its nearest photo (`optvis.natural_measures`, set by
        `report.facet_processing`); None without photos of its kind.
      photos_processing: (passing, checked) of its kind's own photos through the processing
        check, each against the others of its kind (`processing_check.photos_passing`): the
        bar its kind's facets are held to; None where not checked.
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
    blur: BlurCheck | None = None
    natural: NaturalCheck | None = None
    photos_processing: tuple[int, int] | None = None


@dataclasses.dataclass(frozen=True, repr=False)
class Run:
    """What a sample run drew and measured: the samples of `render`, and its starts, diagnostics
    and facets. N = kept samples per chain, C = chains.

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
        displacement (dy, dx at G x G control points: `density.chain_param.warp_images`); with
        no rows where the chains move no warp.
      objective: the objective's name, as its record and the gallery show it.
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
            f"{type(self).__name__}({n} samples x {c} chains of {h}x{w} px, T={self.temperature:.4g}, "
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
        never varied (`verdict.not_from_density`). A share of the gain off
        `target_ratio` is T's tuning, not this (`summary.tuning_line`). Empty without draws to
        judge (fewer than 4)."""
        d = self.diagnostics
        if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
            return ()
        return tuple(verdict.judged(d, self.still_chains))

    @property
    def still_chains(self) -> tuple[int, ...]:
        """Chains whose draws never varied (no step accepted): no density is sampled."""
        d = self.diagnostics
        if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
            return ()
        values = np.asarray(self.activations, np.float64)
        return tuple(int(c) for c in np.flatnonzero(np.ptp(values, axis=0) == 0))

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
        copy bent by 2 px scores about 0.6; `registration.registered_distances` takes them out).
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
