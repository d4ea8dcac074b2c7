"""How large a drift the draws' tests catch: their power, simulated with the run's own tests.

`stationarity` controls false alarms: a settled chain is named at most about 1 time in 100. What a
pass means depends on power, and with few autocorrelated draws it is low: a chain can still
drift by several of its standard deviations over 10 draws and pass
(docs/sampling_designs.md, "What the draws' tests catch"). So each drift a run might have is
planted on stationary AR(1) chains of the run's autocorrelation, length and window, and named
by the run's tests (`stationarity.limits`, `split_rhat_per_chain`, `trend_per_chain`, as
`diagnostics.diagnose` calls them):

* "steady": a straight climb of `size` standard deviations over the draws, begun before the
  window (the chain is still coming down from its start when it is drawn);
* "settling": an exponential approach to the chain's level, falling by `size` standard
  deviations over the draws with a time constant of the draws' length;
* "random walk": Gaussian steps of `size` / sqrt(draws) standard deviations each, over the
  window and the draws (`size` the walk's spread over the draws).

Numbers only; the words are `report.draws_words`'. Simulated with fixed seeds: the same
arguments always give the same figures.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from samplevis.sampling.mcmc import stationarity

KINDS = ("steady", "settling", "random walk")
# "Caught" is named at least this often: 4 times in 5, the power a study is commonly designed
# for (Cohen 1988), and the wording of a claim.
POWER = 0.8
# A run calls its chains stationary only where its tests catch a steady drift of this many
# standard deviations over the draws POWER of the time: such a drift moves the draws' mean a
# standard deviation from the level they end at (docs/sampling_designs.md, "What the draws'
# tests catch").
STATIONARY_SIZE = 2.0
# The draws the run's suggestion tries, doubling from the run's own.
MAX_DRAWS = 320
SIZES = np.geomspace(0.5, 128.0, 25)  # the drifts, in sd over the draws, power is read on
SIMULATED_CHAINS = 1000  # simulated chains per drift size
_RHO_STEP = 0.05  # autocorrelations are rounded to this before simulating (a cache key)
# The chance that settled chains' trends summed exceed the pooled limit (two-sided).
POOLED_FALSE_ALARM = 1 / 300
# The autocorrelations of the settled chains whose trends' spread scales the pooled sum; the
# sum is scaled by the spread at the slowest of them the chains' joint measurement does not rule
# out (its settled chains measure as low at least this often): a measurement from 20-50 values
# reads slow chains as faster than they are, and scaled by what they read, settled runs of slow
# chains were named several times in 100 (docs/sampling_designs.md, "How the limits are set").
_POOLED_GRID = np.linspace(0.0, 0.9, 19)
POOLED_RULED_OUT = 0.025
_POOLED_RUNS = 2000  # simulated runs of settled chains per autocorrelation


def planted(
    kind: str, size: float, rho: float, num_before: int, num_draws: int, count: int, seed: int
) -> np.ndarray:
    """[num_before + num_draws, count] stationary AR(1) chains of unit variance and lag-1
    autocorrelation `rho`, plus a drift of `kind` (`KINDS`) of `size` standard deviations over
    the draws (0: settled chains)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    rng = np.random.default_rng(seed)
    length = num_before + num_draws
    noise = stationarity.ar1(float(rho), length, count, rng)
    # time in units of the draws' length, 0 at the first draw
    t = (np.arange(length) - num_before) / max(num_draws - 1, 1)
    if kind == "steady":
        drift = size * t
        return noise + drift[:, None]
    if kind == "settling":
        # falls by `size` between the first and the last draw: size * e^-t / (1 - e^-1)
        drift = size * np.exp(-t) / (1.0 - math.exp(-1.0))
        return noise + drift[:, None]
    steps = rng.standard_normal((length, count)) * size / math.sqrt(num_draws)
    return noise + np.cumsum(steps, axis=0)


def named(before: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """bool [C]: the chains the run's tests name (split R-hat or trend over its limit), from
    the steps `before` [m, C] at the draws' density and the draws [n, C]."""
    rhat_limits, trend_limits = stationarity.limits(before, draws)
    rhat = stationarity.split_rhat_per_chain(draws)
    trend = stationarity.trend_per_chain(draws)
    with np.errstate(invalid="ignore"):
        return (rhat > rhat_limits) | (np.abs(trend) > trend_limits)


def named_rate(
    kind: str,
    size: float,
    rho: float,
    num_draws: int,
    num_before: int,
    count: int = SIMULATED_CHAINS,
    seed: int = 0,
) -> float:
    """The share of `count` simulated chains (`planted`) the run's tests name, in [0, 1]."""
    series = planted(kind, size, rho, num_before, num_draws, count, seed)
    return float(named(series[:num_before], series[num_before:]).mean())


@functools.lru_cache(maxsize=256)
def _caught(kind: str, rho: float, num_draws: int, num_before: int) -> float:
    if num_draws < stationarity.MIN_DRAWS_FOR_RHAT:
        return math.inf

    def caught(k: int) -> bool:
        rate = named_rate(kind, float(SIZES[k]), rho, num_draws, num_before, seed=k)
        return rate >= POWER

    # power rises with the drift's size: bisect the grid for the least size caught
    if not caught(len(SIZES) - 1):
        return math.inf
    low, high = -1, len(SIZES) - 1
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if caught(mid) else (mid, high)
    return float(SIZES[high])


def caught_size(rho: float, num_draws: int, num_before: int, kind: str = "steady") -> float:
    """The least drift of `kind`, in standard deviations over the draws (on a geometric grid
    from 0.5 to 128, about 26 % apart), that the run's tests name at least POWER of the time
    on chains of lag-1 autocorrelation `rho` (rounded to 0.05); inf where none on the grid is,
    or with too few draws."""
    if not math.isfinite(rho):
        rho = float(stationarity._GRID[-1])  # unknown: the slowest the limits know
    rho = round(min(max(rho, 0.0), float(stationarity._GRID[-1])) / _RHO_STEP) * _RHO_STEP
    return _caught(kind, round(rho, 2), int(num_draws), int(num_before))


def caught_sizes(
    rho: Sequence[float] | np.ndarray, num_draws: int, num_before: int, kind: str = "steady"
) -> np.ndarray:
    """`caught_size` of each chain [C] from its autocorrelation `rho` [C]."""
    return np.array([caught_size(float(r), num_draws, num_before, kind) for r in rho])


def draws_to_catch(
    rho: float, num_draws: int, num_before: int, size: float = STATIONARY_SIZE
) -> int | None:
    """The fewest draws, doubling from `num_draws` up to MAX_DRAWS, at which the run's tests
    catch a steady drift of `size` standard deviations POWER of the time on chains of
    autocorrelation `rho`; None where MAX_DRAWS do not."""
    n = max(int(num_draws), stationarity.MIN_DRAWS_FOR_TREND)
    while n <= MAX_DRAWS:
        if caught_size(rho, n, num_before) <= size:
            return n
        n *= 2
    return None


@functools.lru_cache(maxsize=32)
def _pooled_null(num_draws: int, num_before: int, num_chains: int) -> tuple[np.ndarray, np.ndarray]:
    """For settled chains of each autocorrelation on _POOLED_GRID: (the joint measurement
    (`stationarity.joint_lag1`) that `num_chains` of them fall below with probability
    POOLED_RULED_OUT [G], the standard deviation of one chain's trend [G]), each rising."""
    rng = np.random.default_rng(1)
    runs = _POOLED_RUNS
    lowest, spread = [], []
    for rho in _POOLED_GRID:
        series = stationarity.ar1(float(rho), num_before + num_draws, runs * num_chains, rng)
        before, draws = series[:num_before], series[num_before:]
        spread.append(np.nanstd(stationarity.trend_per_chain(draws)))
        # each run's chains side by side: `joint_lag1` of each run at once
        products, squares = (
            x.reshape(runs, num_chains).sum(axis=1) for x in stationarity.lag1_parts(before, draws)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            lowest.append(np.nanquantile(products / squares, POOLED_RULED_OUT))
    return np.maximum.accumulate(lowest), np.maximum.accumulate(spread)


def pooled_trend(before: np.ndarray, draws: np.ndarray) -> tuple[float, float]:
    """(the chains' trends summed, in units of the spread of that sum over settled chains of
    the slowest autocorrelation their joint measurement (`stationarity.joint_lag1`) does not
    rule out; its limit): the sum of C settled chains' trends is near normal, so the limit is
    the normal's two-sided quantile at POOLED_FALSE_ALARM. A drift every chain shares (all
    still falling from their optima) shows in the sum before any one chain's test sees it.

    Args:
      before: the steps at the draws' density just before them [m, C].
      draws: the draws [n, C].

    Returns:
      (the sum in its units, NaN with fewer than MIN_DRAWS_FOR_TREND draws; the limit).
    """
    before, draws = stationarity.as_steps(before, draws)
    trend = stationarity.trend_per_chain(draws)
    limit = NormalDist().inv_cdf(1 - POOLED_FALSE_ALARM / 2)
    keep = np.isfinite(trend)
    if not np.any(keep):
        return math.nan, limit
    before, draws, trend = before[:, keep], draws[:, keep], trend[keep]
    measured = stationarity.joint_lag1(before, draws)
    if not math.isfinite(measured):
        return math.nan, limit
    lowest, spread = _pooled_null(draws.shape[0], before.shape[0], draws.shape[1])
    slowest = np.interp(measured, lowest, _POOLED_GRID)
    sd = float(np.interp(slowest, _POOLED_GRID, spread))
    return float(np.sum(trend) / (sd * math.sqrt(len(trend)))), limit
