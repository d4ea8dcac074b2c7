"""The draws' tests against settled chains as autocorrelated: AR(1) chains, whose
autocorrelation is known, are rarely called unsettled whatever it is, and a drift or a jump
that stands out of a chain's own wandering is named."""

import numpy as np
import pytest

from samplevis.sampling.mcmc import stationarity

BEFORE, DRAWS, CHAINS = 20, 10, 3000


def ar1(rho: float, length: int, rng: np.random.Generator) -> np.ndarray:
    """[length, CHAINS] stationary AR(1) chains of unit variance."""
    x = np.zeros((length + 50, CHAINS))
    x[0] = rng.standard_normal(CHAINS)
    for t in range(1, len(x)):
        x[t] = rho * x[t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(CHAINS)
    return x[50:]


def named(series: np.ndarray, before: int = BEFORE) -> np.ndarray:
    """bool [C]: chains whose draws (after `before` steps) either test names."""
    early, draws = series[:before], series[before:]
    rhat_limits, trend_limits = stationarity.limits(early, draws)
    rhat = stationarity.split_rhat_per_chain(draws)
    trend = stationarity.trend_per_chain(draws)
    return (rhat > rhat_limits) | (np.abs(trend) > trend_limits)


# 3000 chains: at most 30 at 1 in 100, each chain held to the slowest autocorrelation its
# measurement does not rule out (docs/sampling_designs.md, "How the limits are set"); limits
# for independent draws named 11 % at 0.5 and 26 % at 0.8.
@pytest.mark.parametrize("rho, most", [(0.0, 0.006), (0.5, 0.01), (0.8, 0.01)])
def test_settled_chains_are_rarely_named_whatever_their_autocorrelation(rho, most):
    series = ar1(rho, BEFORE + DRAWS, np.random.default_rng(11))
    assert named(series).mean() < most


def test_the_measured_autocorrelation_is_the_chains_own():
    rng = np.random.default_rng(12)
    for rho in (0.0, 0.5, 0.8):
        series = ar1(rho, BEFORE + DRAWS, rng)
        measured = stationarity.autocorrelation_per_chain(series[:BEFORE], series[BEFORE:])
        assert np.median(measured) == pytest.approx(rho, abs=0.1)


def test_a_drift_or_a_jump_beyond_the_chains_wandering_is_named():
    rng = np.random.default_rng(13)
    base = ar1(0.5, BEFORE + DRAWS, rng)
    # 10 draws of a chain this slow tell a steady climb from its wandering only when it is
    # steep: 16 standard deviations over the draws (docs/sampling_designs.md, "The draws' tests")
    rising = base + np.concatenate([np.zeros(BEFORE), np.linspace(0, 16, DRAWS)])[:, None]
    assert named(rising).mean() > 0.9
    jumping = base + 8.0 * (np.arange(BEFORE + DRAWS) >= BEFORE + DRAWS // 2)[:, None]
    assert named(jumping).mean() > 0.9


def test_limits_widen_with_the_autocorrelation_and_need_enough_draws():
    rng = np.random.default_rng(14)
    # one chain of each: independent, autocorrelated, a constant one
    series = np.stack(
        [ar1(0.0, BEFORE + DRAWS, rng)[:, 0], ar1(0.8, BEFORE + DRAWS, rng)[:, 0]], axis=1
    )
    series = np.concatenate([series, np.ones([BEFORE + DRAWS, 1])], axis=1)
    rhat, trend = stationarity.limits(series[:BEFORE], series[BEFORE:])
    assert rhat[0] < rhat[1] and trend[0] < trend[1]
    assert np.isnan(rhat[2]) and np.isnan(trend[2])
    assert stationarity.rhat_limit(40) < stationarity.rhat_limit(10)
    assert np.isnan(stationarity.limits(np.zeros((0, 2)), np.zeros((3, 2)))[0]).all()
    assert np.isnan(stationarity.trend_per_chain(np.zeros((9, 2)))).all()
