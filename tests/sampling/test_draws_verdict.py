"""What the draws claim (Stan's split): a chain is named as not from its density only for what
makes its draws untrustworthy; the share it keeps is a report of T's tuning."""

import dataclasses

import numpy as np
import pytest

from samplevis.sampling.mcmc import diagnostics, stationarity
from samplevis.sampling.mcmc.diagnostics import Diagnostics
from samplevis.sampling.mcmc.stationarity import rhat_limit
from samplevis.sampling.report import verdict

N, C = 40, 4
TARGET = 0.8


def planted_draws() -> np.ndarray:
    """[N, C] activations: chains 0 and 1 independent draws about 10, chain 2 climbing by 6
    standard deviations over its draws (a trend: the tests catch 4 sd 4 times in 5 on
    independent draws, when nothing rules out slower chains), chain 3 jumping between two
    levels half way through (split R-hat far above its limit)."""
    rng = np.random.default_rng(0)
    draws = 10 + rng.standard_normal((N, C))
    draws[:, 2] += np.linspace(-3, 3, N)
    draws[:, 3] += np.where(np.arange(N) < N // 2, -3.0, 3.0)
    return draws


def diagnostics_of(draws: np.ndarray) -> Diagnostics:
    ones = (1.0,) * draws.shape[1]
    none = np.zeros([0, draws.shape[1]])
    rho = stationarity.autocorrelation_per_chain(none, draws)
    rhat_limits, trend_limits = stationarity.limits(none, draws)
    return Diagnostics(
        acceptance_rate=ones,
        accept_prob=ones,
        burnin_acceptance_rate=ones,
        step_size=ones,
        divergences=(0,) * draws.shape[1],
        num_steps=2 * draws.shape[0],
        rhat=tuple(stationarity.split_rhat_per_chain(draws)),
        ess=tuple(diagnostics.ess_per_chain(draws)),
        e_bfmi=ones,
        scalar="activation",
        num_results=draws.shape[0],
        interrupted=False,
        autocorrelation=tuple(rho),
        rhat_limits=tuple(rhat_limits),
        trend=tuple(stationarity.trend_per_chain(draws)),
        trend_limits=tuple(trend_limits),
    )


def reasons_of(d: Diagnostics) -> dict[int, str]:
    still = [False] * len(d.rhat)
    return verdict.not_from_density(
        d.rhat, d.rhat_limits, d.trend, d.trend_limits, d.divergences, d.e_bfmi, still
    )


def test_a_planted_trend_and_a_planted_jump_are_named_and_only_they():
    reasons = reasons_of(diagnostics_of(planted_draws()))
    assert sorted(reasons) == [2, 3]
    assert "still rising" in reasons[2]
    limit = diagnostics_of(planted_draws()).rhat_limits[3]
    assert reasons[3].startswith("split R-hat ") and f"over {limit:.2f}" in reasons[3]


def test_divergences_and_low_e_bfmi_name_a_chain_too():
    d = diagnostics_of(planted_draws()[:, :2])
    d = dataclasses.replace(d, divergences=(0, 3), e_bfmi=(0.1, 1.0))
    assert reasons_of(d) == {0: "E-BFMI 0.10 under 0.3", 1: "3 divergent steps"}


def test_stationary_chains_off_the_asked_share_are_from_their_density():
    # every chain stationary, keeping 0.74-0.76 where 0.80 was asked: T's tuning missed by
    # less than 0.1, and the draws are samples of the density at the frozen T
    d = diagnostics_of(planted_draws()[:, :2])
    reasons = reasons_of(d)
    assert reasons == {}
    line = verdict.draws_sentence(reasons, N, d.rhat, d.trend)
    assert line.startswith(f"draws from their density: no chain was seen drifting over its {N}")
    shares = np.array([0.74, 0.76])
    assert verdict.tuning_sentence(shares, TARGET) == (
        "T tuned to keep 0.80 of each start's gain: chains keep 0.74-0.76"
    )
    assert verdict.tuning_missed(shares, TARGET) is None


def test_only_a_share_more_than_0_1_off_gets_a_tuning_notice():
    shares = np.array([0.78, 0.75, 0.62, 0.91])
    assert verdict.tuning_missed(shares, TARGET) == (
        "T's tuning missed: chain 2 keeps 0.62 of its gain, chain 3 keeps 0.91 of its gain"
    )


def test_the_run_names_its_drifting_chains_and_reports_the_share_as_tuning():
    from sample_results import known_run_result

    draws = planted_draws()
    result = dataclasses.replace(
        known_run_result(),
        images=np.zeros([N, C, 4, 6, 3], np.float32),
        activations=draws.astype(np.float32),
        init_activations=np.full(C, 10.0 / 0.74, np.float32),  # every chain keeps ~0.74
        diagnostics=diagnostics_of(draws),
    )
    assert result.chains_off_target == (2, 3)
    line = result.draws_line()
    assert line.startswith("not from their density: chain 2: ") and "still rising" in line
    assert "chain 0" not in line.split(". ")[0] and "chain 1" not in line.split(". ")[0]
    assert "T tuned to keep 0.80 of each start's gain: chains keep" in line
    assert "T's tuning missed" not in line


def test_r_hat_between_chains_is_computed_only_among_chains_of_one_facet():
    draws = planted_draws()[:, :2]
    apart = np.concatenate([draws, draws + 100], axis=1)  # facets 0 and 1, far apart
    within = diagnostics.rhat_within_facets(apart, [0, 0, 1, 1])
    assert set(within) == {0, 1} and all(r < rhat_limit(N) for r in within.values())
    assert diagnostics.rhat_within_facets(apart, [0, 1, 2, 3]) == {}


def test_bulk_and_tail_ess_are_arviz_s_per_chain_and_per_facet():
    az = pytest.importorskip("arviz")
    draws = planted_draws()[:, :2]
    bulk, tail, facets = diagnostics.ess_per_chain_and_facet(draws, [0, 0])
    assert bulk[0] == pytest.approx(float(az.ess(draws[:, :1].T, method="bulk")))
    assert tail[1] == pytest.approx(float(az.ess(draws[:, 1:].T, method="tail")))
    assert facets[0][0] == pytest.approx(float(az.ess(draws.T, method="bulk")))
