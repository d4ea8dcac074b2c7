"""SampleResult.to_arviz, and samplevis's R-hat, ESS and E-BFMI against ArviZ's on the same draws."""

import sys
import warnings

import numpy as np
import pytest
from test_sampling_render import CHAINS, OBJECTIVE, QUICK, image_param, tiny_model

import samplevis
from samplevis.sampling.mcmc import diagnostics, stationarity

az = pytest.importorskip("arviz", reason="pip install 'samplevis[arviz]'")

NUM_RESULTS = 6
TUNING = 10  # burn-in steps adapting T
BURNIN = 20


@pytest.fixture(scope="module")
def result():
    # Blocks of 5 steps: burn-in and sampling share one block function.
    opts = dict(
        QUICK,
        num_results=NUM_RESULTS,
        num_steps_between_results=1,
        num_transforms=0,
        temperature_steps=TUNING,
        num_burnin_steps=BURNIN,
        block_steps=5,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a short run on a tiny model drifts
        return samplevis.render(
            samplevis.Model(tiny_model()),
            OBJECTIVE,
            hmc_opts=opts,
            param_f=image_param,
            seed=0,
            progress=False,
        )


def test_posterior_holds_the_activation_and_log_pi_of_each_chain_and_draw(result):
    idata = samplevis.to_arviz(result)
    posterior = idata.posterior
    assert dict(posterior.sizes) == {"chain": CHAINS, "draw": NUM_RESULTS}
    np.testing.assert_array_equal(posterior["activation"].values, result.activations.T)
    np.testing.assert_array_equal(
        posterior["target_log_prob"].values, result.trace["target_log_prob"].T
    )
    warmup = idata.warmup_posterior["activation"].values  # burn-in, the first steps adapting T
    np.testing.assert_array_equal(warmup, result.burnin_activations.T)
    assert warmup.shape == (CHAINS, BURNIN)
    np.testing.assert_array_equal(idata.attrs["temperature"], result.chain_temperatures)
    assert idata.attrs["tuning_steps"] == TUNING


def test_sample_stats_carry_arviz_names_so_its_summary_and_energy_plot_read_them(result):
    idata = samplevis.to_arviz(result)
    stats = idata.sample_stats
    assert {"acceptance_rate", "step_size", "diverging", "energy", "lp"} <= set(stats)
    assert stats["diverging"].dtype == bool
    assert int(stats["diverging"].sum()) == sum(result.diagnostics.divergences)
    accept = stats["acceptance_rate"].values
    assert np.all((0 <= accept) & (accept <= 1))
    np.testing.assert_allclose(
        accept, np.exp(np.minimum(result.trace["log_accept_ratio"].T, 0)), rtol=1e-6
    )
    np.testing.assert_array_equal(stats["energy"].values, result.trace["energy"].T)
    # ArviZ's E-BFMI reads the same energies with the same formula.
    np.testing.assert_allclose(az.bfmi(idata), result.diagnostics.e_bfmi, rtol=1e-6)
    summary = az.summary(idata)
    assert list(summary.index) == ["activation", "target_log_prob"]
    assert summary.loc["activation", "mean"] == pytest.approx(result.activations.mean(), abs=1e-3)
    ax = az.plot_energy(idata)
    assert [t.get_text() for t in ax.get_legend().get_texts()][2:] == [
        f"chain {c:>2} BFMI = {e:.2f}" for c, e in enumerate(result.diagnostics.e_bfmi)
    ]
    axes = az.plot_trace(idata, var_names=["activation"])
    assert axes.shape == (1, 2) and len(axes[0, 1].get_lines()) == CHAINS
    import matplotlib.pyplot as plt  # ArviZ draws with pyplot

    plt.close(ax.figure)
    plt.close(axes[0, 0].figure)


def test_to_arviz_without_arviz_names_the_extra_to_install(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "arviz", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'samplevis\[arviz\]'"):
        samplevis.to_arviz(result)


def ar1(rng, n: int, chains: int, rho: float) -> np.ndarray:
    """[n, chains] Gaussian AR(1) draws with unit innovations, started at 0."""
    draws = np.zeros([n, chains])
    noise = rng.normal(size=[n, chains])
    for i in range(n):
        draws[i] = rho * (draws[i - 1] if i else 0.0) + noise[i]
    return draws


def test_split_rhat_is_arviz_split_rhat_under_brooks_and_gelmans_correction():
    rng = np.random.default_rng(0)
    draws = ar1(rng, 400, 4, 0.5)
    draws[:, 3] += np.linspace(0.0, 3.0, 400)  # a drifting chain
    n = draws.shape[0] // 2

    # TFP (and so samplevis) returns Brooks & Gelman's (1998) corrected ratio of variances,
    # (M + 1) / M * sigma_+^2 / W - (N - 1) / (M N), for M chains of N draws after splitting;
    # ArviZ's split R-hat is sqrt(sigma_+^2 / W) of the same split chains.
    def from_arviz(chains: np.ndarray) -> float:
        m = chains.shape[0] * 2
        rhat = float(az.rhat(chains, method="split"))
        return (m + 1) / m * rhat**2 - (n - 1) / (m * n)

    # Per chain: ArviZ needs two chains, so the halves go in as two, unsplit ("identity").
    halves = [np.stack([draws[:n, c], draws[n:, c]]) for c in range(4)]
    arviz_per_chain = [float(az.rhat(h, method="identity")) for h in halves]
    expected = [3 / 2 * r**2 - (n - 1) / (2 * n) for r in arviz_per_chain]
    np.testing.assert_allclose(stationarity.split_rhat_per_chain(draws), expected, rtol=1e-9)
    assert diagnostics.split_rhat_across_chains(draws) == pytest.approx(
        from_arviz(draws.T), rel=1e-9
    )
    # So near 1 samplevis's value lies about three times as far from 1 as ArviZ's: its 1.05
    # limit is about 1.017 on ArviZ's split scale (ArviZ's default, method="rank", rank-
    # normalizes the draws first and differs again).
    assert 3 / 2 * 1.017**2 - 1 / 2 == pytest.approx(stationarity.RHAT_LIMIT, abs=0.002)


def test_ess_agrees_with_arviz_ess_of_the_same_unsplit_draws():
    rng = np.random.default_rng(1)
    draws = ar1(rng, 1000, 40, 0.5)
    ours = diagnostics.ess_per_chain(draws)
    # method="identity": no rank normalization and no splitting, as samplevis (TFP) computes.
    theirs = np.array(
        [float(az.ess(draws[:, c][None], method="identity")) for c in range(draws.shape[1])]
    )
    ratio = ours / theirs
    # Both sum the autocorrelations up to the first negative pair (Geyer's initial positive
    # sequence); ArviZ also lowers any pair sum that rises again (initial monotone sequence),
    # which can only shorten its sum. So ours is about ArviZ's, and lower on chains where a
    # noisy later pair rises: equal at the median, never more than a few % above it.
    assert abs(np.median(ratio) - 1) < 0.02, np.median(ratio)
    assert np.all((ratio > 0.6) & (ratio < 1.05)), ratio
    # Both close to the AR(1) answer n (1 - rho) / (1 + rho).
    assert np.mean(ours) == pytest.approx(1000 / 3, rel=0.1)
