"""The draws' tests catch what the run says they catch: a drift planted at the size the run
states (`Diagnostics.caught`, from `mcmc.power`) is named at least 4 times in 5, settled chains
at most 1 time in 100; the chains' trends summed catch a drift they share; and the words claim
"stationary" only at that power. Simulated, seeded, numpy only."""

import dataclasses
import math

import numpy as np
import pytest

from samplevis.sampling.mcmc import power, stationarity
from samplevis.sampling.mcmc.diagnostics import Diagnostics
from samplevis.sampling.report import draws_words

BEFORE = 10  # the README run's window: 20 steps at the frozen T, a draw every second step
CHAINS = 600  # fresh chains, seeded apart from those `power` simulates


def named_share(kind: str, size: float, rho: float, draws: int) -> float:
    series = power.planted(kind, size, rho, BEFORE, draws, CHAINS, seed=1234)
    return float(power.named(series[:BEFORE], series[BEFORE:]).mean())


@pytest.mark.parametrize("draws, rho", [(10, 0.6), (40, 0.6), (40, 0.3)])
def test_a_steady_drift_of_the_stated_size_is_named_at_the_stated_power(draws, rho):
    size = power.caught_size(rho, draws, BEFORE)
    assert math.isfinite(size)
    # 600 fresh chains: 0.8 less two standard errors of a share (0.016 each) is 0.77
    assert named_share("steady", size, rho, draws) >= power.POWER - 0.035
    # one grid step smaller is missed more often than stated: the size is the least caught
    smaller = size / (power.SIZES[1] / power.SIZES[0])
    assert named_share("steady", smaller, rho, draws) < power.POWER + 0.035


def test_a_settling_curve_of_the_stated_size_is_named_at_the_stated_power():
    size = power.caught_size(0.6, 40, BEFORE, "settling")
    assert math.isfinite(size)
    assert named_share("settling", size, 0.6, 40) >= power.POWER - 0.035


@pytest.mark.parametrize("draws, rate", [(10, 0.01), (40, 0.07)])
def test_a_random_walk_is_named_as_often_as_the_table_says_whatever_its_size(draws, rate):
    # a walk reads as a slow chain: its measurement cannot rule out the limits' last
    # autocorrelation, so its power stays under 4 in 5 (docs/sampling_designs.md, "What the
    # draws' tests catch")
    assert math.isinf(power.caught_size(0.6, draws, BEFORE, "random walk"))
    for size in (8.0, 64.0):
        assert named_share("random walk", size, 0.6, draws) == pytest.approx(rate, abs=0.04)


SETTLED = 6000  # settled chains a row: 1 in 100 of them is 60, its binomial spread 0.0013


@pytest.mark.parametrize("draws", [10, 40])
def test_settled_chains_are_named_at_most_one_time_in_100_at_every_autocorrelation(draws):
    # every autocorrelation the limits are simulated at, the slowest (0.9) too: each chain is
    # held to the slowest its measurement does not rule out (docs/sampling_designs.md, "How the
    # limits are set"); the slowest are named most, about 0.8 in 100
    for rho in (*np.round(np.arange(0.0, 0.85, 0.1), 1), 0.85, 0.9):
        series = power.planted("steady", 0.0, float(rho), BEFORE, draws, SETTLED, seed=4321)
        assert power.named(series[:BEFORE], series[BEFORE:]).mean() <= 0.01, rho


def test_power_grows_with_the_draws_and_a_2_sd_drift_needs_many():
    # independent draws: 10 of them catch only steep drifts, 80 a drift of about 2 sd
    sizes = [power.caught_size(0.0, n, BEFORE) for n in (10, 40, 80)]
    assert sizes[0] > sizes[1] > sizes[2]
    assert sizes[0] > 2 * power.STATIONARY_SIZE and sizes[2] <= power.STATIONARY_SIZE


def test_the_chains_trends_summed_catch_a_drift_they_share():
    rng_seed = 5
    settled = power.planted("steady", 0.0, 0.6, BEFORE, 40, 4 * 250, seed=rng_seed)
    pooled = [
        power.pooled_trend(settled[:BEFORE, k : k + 4], settled[BEFORE:, k : k + 4])
        for k in range(0, settled.shape[1], 4)
    ]
    z = np.array([p[0] for p in pooled])
    limit = pooled[0][1]
    assert limit == pytest.approx(2.94, abs=0.01)  # the normal's, two-sided, 1 in 300
    # scaled by the spread at the slowest autocorrelation the chains' joint measurement does
    # not rule out: at most their own, so the settled sums spread a little less than 1
    assert np.mean(np.abs(z) > limit) <= 0.01 and 0.6 <= np.std(z) <= 1.05
    # four chains each falling 4 sd over 40 draws: a size no one chain's test catches often
    # (3 sd: the pooled test catches about 4 in 5, docs/sampling_designs.md)
    falling = power.planted("steady", -4.0, 0.6, BEFORE, 40, 4 * 250, seed=rng_seed + 1)
    alone = power.named(falling[:BEFORE], falling[BEFORE:]).mean()
    together = np.mean(
        [
            abs(power.pooled_trend(falling[:BEFORE, k : k + 4], falling[BEFORE:, k : k + 4])[0])
            > limit
            for k in range(0, falling.shape[1], 4)
        ]
    )
    assert alone < 0.5 and together > 0.8


@pytest.mark.parametrize("num_draws", [10, 40])
def test_settled_runs_of_slow_chains_are_named_by_the_pooled_test_at_most_1_in_100(num_draws):
    # scaled by each chain's own measurement, 4.5-9.6 in 100 were named at 0.85-0.9
    # (docs/sampling_designs.md, "How the limits are set"); 2000 runs a row: the binomial spread
    # of 0.01 among them is 0.0022
    for rho in (0.0, 0.6, 0.85, 0.9):
        settled = power.planted("steady", 0.0, rho, BEFORE, num_draws, 4 * 2000, seed=11)
        z = np.array(
            [
                power.pooled_trend(settled[:BEFORE, k : k + 4], settled[BEFORE:, k : k + 4])[0]
                for k in range(0, settled.shape[1], 4)
            ]
        )
        assert np.mean(np.abs(z) > 2.94) <= 0.01, rho


def diagnostics(caught: tuple[float, ...], num_results: int, **more) -> Diagnostics:
    c = len(caught)
    ones = (1.0,) * c
    return Diagnostics(
        acceptance_rate=ones,
        accept_prob=ones,
        burnin_acceptance_rate=ones,
        step_size=ones,
        divergences=(0,) * c,
        num_steps=2 * num_results,
        rhat=(1.2,) * c,
        ess=(5.0,) * c,
        e_bfmi=ones,
        scalar="activation",
        num_results=num_results,
        interrupted=False,
        trend=(1.0,) * c,
        trend_limits=(8.0,) * c,
        caught=caught,
        **more,
    )


def test_the_words_call_chains_stationary_only_where_a_2_sd_drift_is_caught():
    weak = draws_words.stationary_sentence(diagnostics((10.08, 6.35), 10))
    assert weak.startswith("no chain drifted by more than 10.1 sd over its 10 draws")
    assert "too few draws to call them stationary" in weak
    strong = draws_words.stationary_sentence(diagnostics((2.0, 1.6), 80))
    assert strong.startswith("every chain was stationary over its 80 draws")
    never = draws_words.stationary_sentence(diagnostics((math.inf,), 10))
    assert never.startswith("no steep drift was seen") and "too few draws" in never


def test_low_ess_is_warned_about_as_stan_words_it():
    d = diagnostics(
        (10.0, 10.0),
        10,
        ess_bulk=(4.0, 8.0),
        ess_tail=(150.0, 120.0),
        facets=(0, 0),
        ess_bulk_facets=(12.0,),
        ess_tail_facets=(260.0,),
    )
    found = draws_words.low_ess(d)
    assert set(found) == {"bulk"}  # tail ESS above 100 per chain and 200 for the facet
    bulk = found["bulk"]
    assert "means and medians may be unreliable" in bulk
    assert "12.0 (facet 0, 2 chains)" in bulk
    assert "about 250 at these chains' ESS per draw" in bulk  # 100 / (4 / 10), to tens
    assert "{hmc_opts.num_results}" in bulk  # spelt as its reader names it
    d = dataclasses.replace(d, ess_bulk=(math.nan, math.nan), ess_tail=(math.nan, math.nan))
    assert draws_words.low_ess(d) == {}


def test_the_least_limits_docs_quote_for_a_window_of_20_steps():
    # docs/sampling_designs.md, "The draws' tests", quotes these
    assert stationarity.rhat_limit(10, 10) == pytest.approx(6.23, abs=0.01)
    assert stationarity.rhat_limit(40, 10) == pytest.approx(1.73, abs=0.01)
