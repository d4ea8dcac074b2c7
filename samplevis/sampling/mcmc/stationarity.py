"""Whether a chain's draws are stationary, judged against settled chains that move as slowly.

HMC draws are autocorrelated, strongly so on the README's unit. Limits that assume independent
draws call many such chains unsettled at 10 draws although they only wander
(docs/sampling_designs.md, "The draws' tests"). So each chain's lag-1 autocorrelation is
measured where its density is already the draws' (the burn-in steps at the frozen T before them,
and the draws, each about its own line), and its split R-hat and trend are compared with what
stationary AR(1) chains reach one time in 1 / FALSE_ALARM. Twenty to fifty values measure a slow
chain as faster than it is, so a chain is held to the limits of the slowest autocorrelation its
measurement does not rule out (RULED_OUT), not of the one it measures: a settled chain is named
at most about 1 time in 100 at every autocorrelation up to the grid's last
(docs/sampling_designs.md, "How the limits are set"). The limits are simulated with a fixed
seed: the same counts and measurement always give the same limits.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

# Split R-hat needs two halves of at least two draws each.
MIN_DRAWS_FOR_RHAT = 4
# Fewer draws than this give no trend: too few to tell a slope from the chain's wandering.
MIN_DRAWS_FOR_TREND = 10
# Above this a chain's two halves disagree (Vehtari et al. 2021), given enough draws; with few,
# a stationary chain exceeds it by chance, so the limits are raised to what it reaches.
RHAT_LIMIT = 1.05
# The chance that a stationary chain of the autocorrelation its limits are set at exceeds
# each of them: chains slower than their measurement reads exceed them more often, up to
# about 1 in 100 at the grid's last (docs/sampling_designs.md, "How the limits are set").
FALSE_ALARM = 1 / 400
# An autocorrelation is ruled out for a chain when its settled chains measure as low as the
# chain's measurement less often than this; the chain gets the limits of the slowest one left.
RULED_OUT = 0.025
# The lag-1 autocorrelations of the simulated chains. A chain slower than the last is named
# more often: its draws cannot be told from a drift, and a wider grid would widen every limit
# (docs/sampling_designs.md, "How the limits are set").
_GRID = np.linspace(0.0, 0.9, 19)
_NULL_CHAINS = 20000  # simulated stationary chains per autocorrelation
_NULL_VALUES = 2_000_000  # values of one autocorrelation's simulated series, at most


def split_rhat_per_chain(draws: np.ndarray) -> np.ndarray:
    """Split R-hat of each chain on its own, [C] from draws [n, C]; NaN when n < 4."""
    draws = np.asarray(draws, np.float64)
    if draws.shape[0] < MIN_DRAWS_FOR_RHAT:
        return np.full(draws.shape[1:], np.nan)
    # Chain axis of size one, chains as a batch: each is split in two halves.
    rhat = tfp.mcmc.potential_scale_reduction(
        tf.constant(draws[:, None]), independent_chain_ndims=1, split_chains=True
    )
    return rhat.numpy()


def detrended(series: np.ndarray) -> np.ndarray:
    """Each column less its least-squares line.

    Args:
      series: values [n, C], a column per chain.

    Returns:
      The residuals [n, C].
    """
    n = series.shape[0]
    index = np.arange(n) - (n - 1) / 2
    centred = series - series.mean(axis=0)
    return centred - np.outer(index, index @ centred / (index @ index))


def lag1(before: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The lag-1 autocorrelation of each chain [C] over the steps `before` [m, C] and the
    `draws` [n, C], each about its own least-squares line: a drift left in, or one that starts
    with the draws, would read as autocorrelation and widen the limits.

    Args:
      before: the steps at the draws' density just before them [m, C] (m may be 0; fewer than
        3 are left out).
      draws: the draws [n, C].

    Returns:
      [C], NaN where a chain never varied.
    """
    products, squares = lag1_parts(before, draws)
    with np.errstate(invalid="ignore", divide="ignore"):
        return products / squares


def lag1_parts(before: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each chain's lag-1 products and squares about its own lines, over `before` [m, C]
    (left out below 3 steps) and `draws` [n, C]: `lag1` is their ratio, `joint_lag1` that of
    their sums over the chains.

    Args:
      before: the steps at the draws' density just before them [m, C].
      draws: the draws [n, C].

    Returns:
      (products [C], squares [C]).
    """
    products = np.zeros(draws.shape[1:])
    squares = np.zeros(draws.shape[1:])
    for part in (before, draws):
        if part.shape[0] >= 3:
            residual = detrended(part)
            products += np.sum(residual[1:] * residual[:-1], axis=0)
            squares += np.sum(residual**2, axis=0)
    return products, squares


def joint_lag1(before: np.ndarray, draws: np.ndarray) -> float:
    """The lag-1 autocorrelation the chains share, measured over all of them at once: each
    chain's steps `before` [m, C] and `draws` [n, C] about its own least-squares line (as
    `lag1`), their lag-1 products summed over every chain over their squares summed. C chains
    measure it about as well as one chain C times as long.

    Args:
      before: the steps at the draws' density just before them [m, C] (m may be 0; fewer than
        3 are left out).
      draws: the draws [n, C].

    Returns:
      The autocorrelation; NaN where no chain varied.
    """
    products, squares = (float(np.sum(x)) for x in lag1_parts(before, draws))
    return products / squares if squares > 0 else math.nan


def ar1(rho: float, length: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """[length, count] stationary AR(1) series of unit variance and lag-1 autocorrelation rho:
    the first value drawn from the stationary distribution."""
    noise = rng.standard_normal((length, count))
    out = np.empty_like(noise)
    out[0] = noise[0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, length):
        out[t] = rho * out[t - 1] + scale * noise[t]
    return out


@dataclasses.dataclass(frozen=True)
class NullLimits:
    """What stationary AR(1) chains measure and reach, by their lag-1 autocorrelation.

    Attributes:
      grid: autocorrelations [G] of the simulated chains, rising.
      estimated: the mean autocorrelation `lag1` measures on chains of each on `grid` [G]
        (short series measure it low; this maps a measurement back to the chain's).
      lowest: the measurement chains of each on `grid` fall below with probability RULED_OUT
        [G]: a chain measured at r may be as slow as the last whose `lowest` is at most r.
      rhat: the split R-hat chains of each exceed with probability FALSE_ALARM [G].
      trend: the |trend| (`trend_per_chain`) they exceed with probability FALSE_ALARM [G].
    """

    grid: np.ndarray
    estimated: np.ndarray
    lowest: np.ndarray
    rhat: np.ndarray
    trend: np.ndarray

    def slowest(self, measured: np.ndarray) -> np.ndarray:
        """The slowest autocorrelation on `grid` that chains measured at `measured` [C] (no
        NaN) are not ruled out to have, [C], interpolated between the grid's."""
        return np.interp(measured, self.lowest, self.grid)


@functools.lru_cache(maxsize=32)
def null_limits(num_draws: int, num_before: int) -> NullLimits:
    """The limits for chains of `num_draws` draws whose autocorrelation is measured over
    `num_before` steps before them and the draws (simulated with a fixed seed).

    Each autocorrelation on the grid has its own limits, the quantiles of its own settled
    chains; a chain is held to those of the slowest autocorrelation its measurement does not
    rule out (`NullLimits.slowest`). So a limit holds for any chain the measurement may come
    from, noise and all, not only for the autocorrelation it reads."""
    length = num_before + num_draws
    # long chains: fewer of them, so that one autocorrelation's series fit in _NULL_VALUES
    count = int(min(_NULL_CHAINS, max(_NULL_CHAINS // 20, _NULL_VALUES // length)))
    rng = np.random.default_rng(0)
    estimated, lowest, rhat, trend = [], [], [], []
    for rho in _GRID:
        series = ar1(float(rho), length, count, rng)
        before, draws = series[:num_before], series[num_before:]
        found = lag1(before, draws)
        estimated.append(np.nanmean(found))
        lowest.append(np.nanquantile(found, RULED_OUT))
        rhat.append(np.nanquantile(split_rhat_per_chain(draws), 1 - FALSE_ALARM))
        trend.append(
            np.nanquantile(np.abs(trend_per_chain(draws)), 1 - FALSE_ALARM)
            if num_draws >= MIN_DRAWS_FOR_TREND
            else np.nan
        )
    # each rises with the autocorrelation; the simulation's noise is not allowed to dip
    return NullLimits(
        grid=_GRID,
        estimated=np.maximum.accumulate(estimated),
        lowest=np.maximum.accumulate(lowest),
        rhat=np.maximum(RHAT_LIMIT, np.maximum.accumulate(rhat)),
        trend=np.maximum.accumulate(trend),
    )


def autocorrelation_per_chain(before: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Each chain's lag-1 autocorrelation at the draws' density, [C] in [0, 0.9]: measured
    over `before` [m, C] (the steps at that density just before the draws, m may be 0) and the
    draws [n, C], and mapped back through the low bias of short series. NaN with fewer than
    MIN_DRAWS_FOR_RHAT draws or where a chain never varied."""
    before, draws = as_steps(before, draws)
    if draws.shape[0] < MIN_DRAWS_FOR_RHAT:
        return np.full(draws.shape[1:], np.nan)
    measured = lag1(before, draws)
    table = null_limits(draws.shape[0], before.shape[0])
    return np.where(np.isfinite(measured), np.interp(measured, table.estimated, table.grid), np.nan)


def trend_per_chain(draws: np.ndarray) -> np.ndarray:
    """Per chain, the least-squares slope of draws [n, C] over their index in units of its
    standard error for independent draws, [C] (`limits` allows for the chain's
    autocorrelation). NaN with fewer than MIN_DRAWS_FOR_TREND draws or where a chain never
    varied."""
    draws = np.asarray(draws, np.float64)
    n = draws.shape[0]
    if n < MIN_DRAWS_FOR_TREND:
        return np.full(draws.shape[1:], np.nan)
    index = np.arange(n) - (n - 1) / 2
    centred = draws - draws.mean(axis=0)
    slope = index @ centred / (index @ index)
    residual = centred - np.outer(index, slope)
    error = np.sqrt(np.sum(residual**2, axis=0) / (n - 2) / (index @ index))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(error > 0, slope / error, np.nan)


def limits(before: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(split R-hat limit [C], trend limit [C]) for draws [n, C] after the steps `before`
    [m, C] at their density: what a stationary chain exceeds with probability FALSE_ALARM at the
    slowest autocorrelation the chain's measurement does not rule out (`null_limits`). NaN below
    MIN_DRAWS_FOR_RHAT draws (the trend's below MIN_DRAWS_FOR_TREND) or where a chain never
    varied."""
    before, draws = as_steps(before, draws)
    if draws.shape[0] < MIN_DRAWS_FOR_RHAT:
        nan = np.full(draws.shape[1:], np.nan)
        return nan, nan
    measured = lag1(before, draws)
    table = null_limits(draws.shape[0], before.shape[0])
    known = np.isfinite(measured)
    slowest = table.slowest(np.nan_to_num(measured))
    rhat = np.where(known, np.interp(slowest, table.grid, table.rhat), np.nan)
    trend = np.where(known, np.interp(slowest, table.grid, table.trend), np.nan)
    return rhat, trend


def rhat_limit(num_draws: int, num_before: int = 0) -> float:
    """The least split R-hat limit a chain of `num_draws` draws gets (`limits`: that of
    independent draws, for a chain whose measurement rules out every autocorrelation above 0),
    at least RHAT_LIMIT; NaN below MIN_DRAWS_FOR_RHAT draws."""
    if num_draws < MIN_DRAWS_FOR_RHAT:
        return math.nan
    return float(null_limits(num_draws, num_before).rhat[0])


def as_steps(before: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A run's steps as the tests read them.

    Args:
      before: the steps at the draws' density just before them [m, C] (any shape with C per
        step; empty for none).
      draws: the draws [n, C].

    Returns:
      (before float64 [m, C], draws float64 [n, C]).
    """
    draws = np.asarray(draws, np.float64)
    return np.asarray(before, np.float64).reshape([-1, *draws.shape[1:]]), draws
