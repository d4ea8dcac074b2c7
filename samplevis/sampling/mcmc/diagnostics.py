"""MCMC health figures of a chain run, per chain: numbers only (the report words them and writes
them).

Chains of a feature-visualization sampler sit in different facets on purpose,
so convergence is judged per chain (split R-hat of a traced scalar within
each chain), and R-hat between chains only among the chains of one facet
(`rhat_within_facets`): chains of different facets sample different densities.
Bulk and tail ESS are ArviZ's rank-normalized ones (Vehtari et al., Bayesian
Analysis 2021), per chain and per facet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.sampling.mcmc.chain import ChainRun
from samplevis.sampling.mcmc.kernels import step_stats
from samplevis.sampling.mcmc.power import caught_sizes, pooled_trend
from samplevis.sampling.mcmc.stationarity import (
    MIN_DRAWS_FOR_RHAT,
    autocorrelation_per_chain,
    limits,
    split_rhat_per_chain,
    trend_per_chain,
)

# Above this share of divergent steps a run is unhealthy (the sampling target is < 1 %).
MAX_DIVERGENCE_RATE = 0.01
# Below this the momentum draws move a chain between energy levels too slowly to explore the
# target (Betancourt 2016, arXiv:1604.00695; Stan's and ArviZ's threshold).
EBFMI_LIMIT = 0.3


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """Per-chain figures (tuples of length C) over the sampling phase.

    Attributes:
      acceptance_rate: accepted fraction of every sampling step, thinned ones
        too (always 1 for NUTS, which samples within its trajectory).
      accept_prob: mean Metropolis acceptance probability min(1, exp(log
        accept ratio)) over sampling steps; what step-size adaptation targets
        (for NUTS, the trajectory average).
      burnin_acceptance_rate: mean acceptance probability over burn-in.
      step_size: leapfrog step size at the end of the run.
      divergences: divergent sampling steps (non-finite or energy error > 1000).
      num_steps: sampling steps per chain.
      rhat: split R-hat of `scalar` within each chain (NaN with < 4 draws).
      ess: effective sample size of `scalar` per chain (NaN with < 4 draws; at most
        n·log10(n) for n draws).
      e_bfmi: energy Bayesian fraction of missing information per chain, on the Hamiltonian
        of the kept samples (as Stan and ArviZ compute it on saved draws): about 1 or more
        is healthy, below EBFMI_LIMIT the chain explores the energy levels slowly (NaN with
        < 4 draws or constant energy).
      scalar: the name of the traced scalar R-hat and ESS are computed on.
      num_results: kept samples per chain.
      interrupted: True when the run was stopped early.
      autocorrelation: per chain, the lag-1 autocorrelation of `scalar` at the draws'
        density, over the burn-in steps at it and the draws (`stationarity`).
      rhat_limits: per chain, the split R-hat above which it counts as unsettled: what
        stationary chains exceed one time in 400 at the slowest autocorrelation the chain's
        measurement does not rule out (`stationarity.limits`).
      trend: per chain, the slope of `scalar` over the draws in units of its standard error
        (`trend_per_chain`; NaN with fewer than MIN_DRAWS_FOR_TREND draws).
      trend_limits: per chain, the |trend| beyond which the chain was still moving, as
        `rhat_limits` is set.
      ess_bulk, ess_tail: per chain, ArviZ's rank-normalized bulk and tail ESS of `scalar`
        (NaN without ArviZ or with < 4 draws).
      facets: each chain's facet (empty: not known).
      rhat_facets: per facet, split R-hat among its chains (NaN for a facet of one chain):
        they sample one density, so it means what R-hat means.
      ess_bulk_facets, ess_tail_facets: per facet, bulk and tail ESS over its chains.
      caught: per chain, the least steady drift (standard deviations over the draws) its
        tests catch at least `power.POWER` of the time at its autocorrelation, draws and
        window (`power.caught_size`; inf: none up to 128, NaN: no autocorrelation).
      pooled_trend: the chains' trends summed, in units of that sum's spread over settled
        chains of the slowest autocorrelation their joint measurement does not rule out
        (`power.pooled_trend`; NaN: too few draws).
      pooled_limit: the |pooled_trend| settled chains exceed one time in 300.
    """

    acceptance_rate: tuple[float, ...]
    accept_prob: tuple[float, ...]
    burnin_acceptance_rate: tuple[float, ...]
    step_size: tuple[float, ...]
    divergences: tuple[int, ...]
    num_steps: int
    rhat: tuple[float, ...]
    ess: tuple[float, ...]
    e_bfmi: tuple[float, ...]
    scalar: str
    num_results: int
    interrupted: bool
    autocorrelation: tuple[float, ...] = ()
    rhat_limits: tuple[float, ...] = ()
    trend: tuple[float, ...] = ()
    trend_limits: tuple[float, ...] = ()
    ess_bulk: tuple[float, ...] = ()
    ess_tail: tuple[float, ...] = ()
    facets: tuple[int, ...] = ()
    rhat_facets: tuple[float, ...] = ()
    ess_bulk_facets: tuple[float, ...] = ()
    ess_tail_facets: tuple[float, ...] = ()
    caught: tuple[float, ...] = ()
    pooled_trend: float = math.nan
    pooled_limit: float = math.nan

    @property
    def unsettled_chains(self) -> tuple[int, ...]:
        """Chains whose split R-hat exceeds their limit (`rhat_limits`): still drifting when
        sampling ended. An infinite R-hat counts (each half of the chain held one value, the
        halves two: it moved between them and nowhere else); NaN does not (a chain that never
        moved)."""
        return tuple(
            c
            for c, (r, limit) in enumerate(zip(self.rhat, self.rhat_limits, strict=False))
            if not math.isnan(r) and r > limit
        )

    @property
    def trending_chains(self) -> tuple[int, ...]:
        """Chains whose draws still rose or fell: a trend beyond their limit (`trend_limits`)."""
        return tuple(
            c
            for c, (z, limit) in enumerate(zip(self.trend, self.trend_limits, strict=False))
            if abs(z) > limit
        )

    @property
    def drifting_chains(self) -> tuple[int, ...]:
        """Chains not yet stationary by either test: R-hat (`unsettled_chains`) or trend."""
        return tuple(sorted(set(self.unsettled_chains) | set(self.trending_chains)))

    @property
    def pooled_drift(self) -> bool:
        """True when the chains' trends summed (`pooled_trend`) exceed their limit: the chains
        drift together, although no single chain's test need see it."""
        return math.isfinite(self.pooled_trend) and abs(self.pooled_trend) > self.pooled_limit

    @property
    def stuck_chains(self) -> tuple[int, ...]:
        """Chains that accepted none of their sampling steps: every sample is the same image, and
        their R-hat is NaN, so `unsettled_chains` cannot flag them."""
        if not self.num_steps:
            return ()
        return tuple(c for c, r in enumerate(self.acceptance_rate) if r == 0)

    @property
    def low_bfmi_chains(self) -> tuple[int, ...]:
        """Chains whose E-BFMI is below EBFMI_LIMIT: momentum resampling barely changes their
        energy, so they cross the target's energy levels slowly (heavy tails, or a mass that
        fits the target badly)."""
        return tuple(c for c, e in enumerate(self.e_bfmi) if math.isfinite(e) and e < EBFMI_LIMIT)

    @property
    def divergence_rate(self) -> float:
        """Divergent fraction of all sampling steps of all chains, in [0, 1]."""
        total = self.num_steps * len(self.divergences)
        return sum(self.divergences) / total if total else math.nan


def split_rhat_across_chains(draws: np.ndarray) -> float:
    """Split R-hat of [n, C] draws with the C chains as one population."""
    draws = np.asarray(draws, np.float64)
    if draws.shape[0] < MIN_DRAWS_FOR_RHAT:
        return math.nan
    rhat = tfp.mcmc.potential_scale_reduction(
        tf.constant(draws), independent_chain_ndims=1, split_chains=True
    )
    return float(rhat.numpy())


def facets_of(groups: Sequence[int] | np.ndarray) -> dict[int, tuple[int, ...]]:
    """{facet: its chains} from each chain's facet `groups` [C]."""
    out: dict[int, list[int]] = {}
    for c, g in enumerate(groups):
        out.setdefault(int(g), []).append(c)
    return {g: tuple(chains) for g, chains in out.items()}


def rhat_within_facets(draws: np.ndarray, groups: Sequence[int]) -> dict[int, float]:
    """Split R-hat among the chains of each facet that has two or more, {facet: R-hat}: the
    chains there sample one density, so it means what R-hat means (TFP's, as per chain).
    Chains of different facets sample different densities by design: never compared."""
    draws = np.asarray(draws, np.float64)
    return {
        g: split_rhat_across_chains(draws[:, list(chains)])
        for g, chains in facets_of(groups).items()
        if len(chains) >= 2
    }


def ess_bulk_tail(draws: np.ndarray) -> tuple[float, float] | None:
    """Bulk and tail ESS of the draws [n, K] (K chains of one density; each chain alone with
    K = 1), rank-normalized and split as ArviZ's `ess(method="bulk" / "tail")` computes them,
    each a float; None without ArviZ (the "plot" and "arviz" extras bring it) or with fewer
    than 4 draws."""
    draws = np.asarray(draws, np.float64)
    if draws.shape[0] < MIN_DRAWS_FOR_RHAT:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ArviZ's announcement of its 1.0 on import
            import arviz
    except ImportError:
        return None
    chains = np.ascontiguousarray(draws.T)  # ArviZ's (chain, draw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a chain that never varies: NaN, with a warning
        bulk = float(arviz.ess(chains, method="bulk"))
        tail = float(arviz.ess(chains, method="tail"))
    return bulk, tail


def ess_per_chain_and_facet(
    draws: np.ndarray, groups: Sequence[int] | np.ndarray | None
) -> tuple[list[float], list[float], dict[int, list[float]]] | None:
    """(bulk [C], tail [C], {facet: [bulk, tail]}) over draws [n, C]: each chain's own, and
    over the chains of each facet (`groups` [C]; None: no facets); None without ArviZ or with
    fewer than 4 draws."""
    draws = np.asarray(draws, np.float64)
    measured = [ess_bulk_tail(draws[:, [c]]) for c in range(draws.shape[1])]
    per_chain = [e for e in measured if e is not None]
    if len(per_chain) < len(measured):
        return None
    facets: dict[int, list[float]] = {}
    for g, chains in facets_of(groups if groups is not None else []).items():
        # a facet of one chain is that chain: its ESS is the chain's own
        found = per_chain[chains[0]] if len(chains) == 1 else ess_bulk_tail(draws[:, list(chains)])
        if found is not None:
            facets[g] = [float(found[0]), float(found[1])]
    return [float(e[0]) for e in per_chain], [float(e[1]) for e in per_chain], facets


class _DropComplexCastWarning(logging.Filter):
    """TFP's autocorrelation takes the real part of an FFT on purpose; TF warns about that cast."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "casting an input of type complex" not in record.getMessage()


@contextlib.contextmanager
def _quiet_complex_casts() -> Iterator[None]:
    log_filter = _DropComplexCastWarning()
    tf.get_logger().addFilter(log_filter)
    try:
        yield
    finally:
        tf.get_logger().removeFilter(log_filter)


def ess_per_chain(draws: np.ndarray) -> np.ndarray:
    """Effective sample size of each column of [n, C] draws, [C]; NaN when n < 4 or a column
    never varies, at most n·log10(n).

    Below 4 draws there is no autocorrelation to estimate (TFP returns inf for 2 or 3), and
    R-hat is NaN there too. Anticorrelated draws can make the autocorrelation sum vanish or turn
    negative, and TFP's estimate infinite or negative; like Stan, the ESS is capped at n·log10(n).
    """
    draws = np.asarray(draws, np.float64)
    n = draws.shape[0]
    if n < MIN_DRAWS_FOR_RHAT:
        return np.full(draws.shape[1:], np.nan)
    with _quiet_complex_casts():
        ess = tfp.mcmc.effective_sample_size(
            tf.constant(draws), filter_beyond_positive_pairs=True
        ).numpy()
    cap = n * math.log10(n)
    return np.where(np.isnan(ess) | ((ess >= 0) & (ess <= cap)), ess, cap)


def e_bfmi_per_chain(energy: np.ndarray) -> np.ndarray:
    """E-BFMI of each column of [n, C] Hamiltonian energies, [C]:
    sum_n (E_n - E_{n-1})^2 / sum_n (E_n - mean E)^2. NaN when n < 4 or a column is constant.

    Independent energies give about 2; a chain whose energy only drifts (a random walk) gives
    far below EBFMI_LIMIT.
    """
    energy = np.asarray(energy, np.float64)
    if energy.shape[0] < MIN_DRAWS_FOR_RHAT:
        return np.full(energy.shape[1:], np.nan)
    jumps = np.sum(np.diff(energy, axis=0) ** 2, axis=0)
    spread = np.sum((energy - energy.mean(axis=0)) ** 2, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0, jumps / spread, np.nan)


def _rate(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, ...]:
    den = np.asarray(denominator, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tuple(float(x) for x in np.where(den > 0, numerator / den, np.nan))


def before_draws(run: ChainRun, scalar: str, steps: int) -> np.ndarray:
    """[m, C]: `scalar` over the last `steps` burn-in steps (those at the draws' density),
    thinned as the draws are, the last one a thinning interval before the first draw."""
    burnin = np.asarray(run.burnin_trace.get(scalar, np.zeros([0, run.num_chains])), np.float64)
    window = burnin[max(len(burnin) - steps, 0) :] if steps > 0 else burnin[:0]
    return window[::-1][:: run.plan.num_steps_between_results + 1][::-1]


def diagnose(
    run: ChainRun,
    scalar: str = "target_log_prob",
    facets: Sequence[int] | np.ndarray | None = None,
    settled_steps: int = 0,
) -> Diagnostics:
    """Diagnostics of `run`, with R-hat, trend and ESS on the traced `scalar`; `facets` [C],
    each chain's facet, gives R-hat and ESS among the chains of each facet; the last
    `settled_steps` of burn-in ran at the draws' density, so they measure each chain's
    autocorrelation with the draws."""
    if scalar not in run.trace:
        raise ValueError(
            f"scalar must be one of the traced names {sorted(run.trace)}; got {scalar!r}."
        )
    draws = np.asarray(run.trace[scalar], np.float64)
    step = step_stats(run.final_kernel_results, with_energy=False).step_size.numpy()
    nan = [math.nan] * draws.shape[1]
    ess = ess_per_chain_and_facet(draws, facets)
    groups = [int(g) for g in facets] if facets is not None else []
    num_facets = max(groups, default=-1) + 1
    within = rhat_within_facets(draws, groups)
    per_facet = ess[2] if ess is not None else {}
    before = before_draws(run, scalar, settled_steps)
    rhat_limits, trend_limits = limits(before, draws)
    autocorrelation = autocorrelation_per_chain(before, draws)
    pooled, pooled_limit = pooled_trend(before, draws)
    known = np.isfinite(autocorrelation)
    caught = np.full(draws.shape[1], math.nan)
    if draws.shape[0] >= MIN_DRAWS_FOR_RHAT and np.any(known):
        caught[known] = caught_sizes(autocorrelation[known], draws.shape[0], before.shape[0])
    return Diagnostics(
        acceptance_rate=_rate(run.counts["accepted"], run.counts["steps"]),
        accept_prob=_rate(run.counts["accept_prob"], run.counts["steps"]),
        burnin_acceptance_rate=_rate(run.burnin_counts["accept_prob"], run.burnin_counts["steps"]),
        step_size=tuple(float(s) for s in step),
        divergences=tuple(int(d) for d in run.counts["divergent"]),
        num_steps=int(run.counts["steps"].max(initial=0)),
        rhat=tuple(float(r) for r in split_rhat_per_chain(draws)),
        ess=tuple(float(e) for e in ess_per_chain(draws)),
        e_bfmi=tuple(float(e) for e in e_bfmi_per_chain(run.trace["energy"])),
        scalar=scalar,
        num_results=run.num_kept,
        interrupted=run.interrupted,
        autocorrelation=tuple(float(r) for r in autocorrelation),
        rhat_limits=tuple(float(r) for r in rhat_limits),
        trend=tuple(float(z) for z in trend_per_chain(draws)),
        trend_limits=tuple(float(z) for z in trend_limits),
        ess_bulk=tuple(ess[0] if ess is not None else nan),
        ess_tail=tuple(ess[1] if ess is not None else nan),
        facets=tuple(groups),
        rhat_facets=tuple(within.get(g, math.nan) for g in range(num_facets)),
        ess_bulk_facets=tuple(per_facet.get(g, (math.nan, math.nan))[0] for g in range(num_facets)),
        ess_tail_facets=tuple(per_facet.get(g, (math.nan, math.nan))[1] for g in range(num_facets)),
        caught=tuple(float(k) for k in caught),
        pooled_trend=pooled,
        pooled_limit=pooled_limit,
    )
