"""The MCMC machinery on targets whose answer is known exactly (Gaussians)."""

import dataclasses
import json
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.sampling.mcmc import chain, diagnostics, kernels, stationarity
from samplevis.sampling.report.diagnostics_line import diagnostics_line
from samplevis.sampling.report.run_json import diagnostics_from_dict, diagnostics_to_dict

D, C = 50, 4
T, LAM = 0.5, 1.0
A = np.linspace(-1.0, 1.0, D).astype(np.float32)


def linear_target(z):
    """log pi(z) = a.z / T - lam |z|^2 / 2: Gaussian, mean a / (T lam), variance 1 / lam."""
    return tf.reduce_sum(A * z, -1) / T - LAM * tf.reduce_sum(z * z, -1) / 2


# Quadratic "activation" -sum w (z - c)^2 / 2: Gaussian with precision w / T + lam.
W = np.linspace(0.0, 1.5, D).astype(np.float32)
CENTER = np.cos(np.arange(D)).astype(np.float32)
QUAD_PRECISION = W / T + LAM
QUAD_MEAN = (W / T) * CENTER / QUAD_PRECISION


def quadratic_target(z):
    activation = -tf.reduce_sum(W * (z - CENTER) ** 2, -1) / 2
    return activation / T - LAM * tf.reduce_sum(z * z, -1) / 2


def sample(target, kind, *, seed=0, num_results=400, burnin=200, thin=0, block=100, step=0.1):
    z0 = tf.zeros([C, D])
    kernel = kernels.make_kernel(
        target,
        kind,
        kernels.per_chain_step_size(step, [z0]),
        num_leapfrog_steps=8,
        num_adaptation_steps=kernels.default_adaptation_steps(burnin),
        max_tree_depth=5,
    )
    plan = chain.ChainPlan(num_results, burnin, thin, block)
    return chain.run_chains(kernel, [z0], plan, seed=seed, progress=False)


def assert_gaussian(draws, mean, var):
    """Per-dimension mean and variance within 4 Monte Carlo standard errors (from the ESS)."""
    draws = tf.constant(draws, tf.float64)  # [n, C, D]
    mean = np.broadcast_to(mean, [D])
    var = np.broadcast_to(var, [D])
    ess_mean = tfp.mcmc.effective_sample_size(draws, cross_chain_dims=1).numpy()
    sq = (draws - mean) ** 2
    ess_var = tfp.mcmc.effective_sample_size(sq, cross_chain_dims=1).numpy()
    est_mean = draws.numpy().mean((0, 1))
    est_var = sq.numpy().mean((0, 1))
    # Var[(z - mu)^2] = 2 var^2 for a Gaussian.
    assert np.all(np.abs(est_mean - mean) < 4 * np.sqrt(var / ess_mean)), (est_mean, mean)
    assert np.all(np.abs(est_var - var) < 4 * np.sqrt(2 * var**2 / ess_var)), (est_var, var)
    # The bounds must be informative: enough effective draws in every dimension.
    # (Fixed-length HMC trajectories resonate with some Gaussian periods, so a
    # few dimensions mix slowly; the median dimension must mix well.)
    assert ess_mean.min() > 10 and np.median(ess_mean) > 100, ess_mean


@pytest.fixture(scope="module")
def runs():
    return {
        "hmc": sample(linear_target, "hmc"),
        "mala": sample(linear_target, "mala", num_results=300, thin=3, block=300),
        "nuts": sample(linear_target, "nuts", num_results=300, burnin=150),  # slowest kernel
    }


@pytest.mark.parametrize("kind", kernels.KINDS)
def test_sampler_recovers_mean_and_variance_of_linear_gaussian_target(runs, kind):
    assert_gaussian(runs[kind].samples[0], A / (T * LAM), 1.0 / LAM)


@pytest.mark.parametrize("kind", kernels.KINDS)
def test_split_rhat_of_each_chain_is_below_1_05(runs, kind):
    diag = diagnostics.diagnose(runs[kind])
    assert max(diag.rhat) < 1.05, diag.rhat


@pytest.mark.parametrize("kind", kernels.KINDS)
def test_adapted_acceptance_probability_is_near_the_target(runs, kind):
    diag = diagnostics.diagnose(runs[kind])
    # Dual averaging ends on the averaged step, which sits a little below the
    # exploring one, so acceptance lands at or somewhat above the 0.75 target.
    assert all(0.65 < p < 0.92 for p in diag.accept_prob), diag.accept_prob
    assert sum(diag.divergences) == 0


@pytest.mark.parametrize("kind", kernels.KINDS)
def test_traced_energy_is_the_hamiltonian_whose_mean_a_gaussian_target_fixes(runs, kind):
    run = runs[kind]
    energy = run.trace["energy"]  # [n, C]
    kinetic = energy + run.trace["target_log_prob"]
    assert kinetic.min() >= 0  # K(p) = |p|^2 / 2
    # -log pi = |z - mu|^2 / 2 - |mu|^2 / 2 with mu = a / T, and K(p) = |p|^2 / 2: each
    # quadratic term averages 1/2 per dimension, so E[H] = D - |mu|^2 / 2.
    expected = D - np.sum((A / T) ** 2) / 2
    ess = np.sum(diagnostics.ess_per_chain(energy))
    assert abs(energy.mean() - expected) < 4 * energy.std() / np.sqrt(ess), energy.mean()
    assert abs(kinetic.mean() - D / 2) < 4 * kinetic.std() / np.sqrt(ess), kinetic.mean()


@pytest.mark.parametrize("kind", kernels.KINDS)
def test_e_bfmi_of_a_well_mixed_gaussian_is_healthy(runs, kind):
    diag = diagnostics.diagnose(runs[kind])
    assert all(e > 2 * diagnostics.EBFMI_LIMIT for e in diag.e_bfmi), diag.e_bfmi
    assert diag.low_bfmi_chains == ()
    assert f"E-BFMI >= {min(diag.e_bfmi):.2f}" in diagnostics_line(diag)


def test_e_bfmi_is_2_for_independent_energies_and_far_below_0_3_for_a_random_walk():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=[4000, 2]) * [1.0, 30.0] + 100.0  # shift and scale do not matter
    # E[(E_n - E_n-1)^2] = 2 Var E for independent draws.
    np.testing.assert_allclose(diagnostics.e_bfmi_per_chain(iid), [2.0, 2.0], rtol=0.05)
    walk = np.cumsum(rng.normal(size=[1000, 3]), axis=0)
    # A random walk of n steps: sum of squared steps ~ n, spread about its mean ~ n^2 / 6.
    assert np.all(diagnostics.e_bfmi_per_chain(walk) < 0.05)
    assert np.all(np.isnan(diagnostics.e_bfmi_per_chain(iid[:3])))  # too few draws
    assert np.isnan(diagnostics.e_bfmi_per_chain(np.ones([10, 1]))[0])  # no spread


def test_chains_with_e_bfmi_below_0_3_are_named_in_the_summary(runs):
    diag = dataclasses.replace(diagnostics.diagnose(runs["hmc"]), e_bfmi=(1.1, 0.12, math.nan, 0.9))
    assert diag.low_bfmi_chains == (1,)
    assert diagnostics_line(diag).endswith("E-BFMI >= 0.12 (chains [1] below 0.3)")


@pytest.fixture(scope="module")
def two_draws():
    """A run that kept 2 draws per chain, too few for R-hat or ESS (the JSON and the summary
    line of such a run)."""
    return sample(linear_target, "hmc", num_results=2, burnin=0, block=2)


def to_json(d: diagnostics.Diagnostics) -> dict:
    """`d` through standard JSON and back, as diagnostics.json holds it."""
    return json.loads(json.dumps(diagnostics_to_dict(d), allow_nan=False))


def test_diagnostics_come_back_from_their_json(runs):
    diag = diagnostics.diagnose(runs["hmc"])
    marked = dataclasses.replace(diag, rhat=(1.0, math.nan, 1.2, 1.0))
    assert diagnostics_to_dict(diagnostics_from_dict(to_json(marked))) == (
        diagnostics_to_dict(marked)
    )
    older = to_json(diag)
    del older["e_bfmi"]  # written before E-BFMI was recorded
    assert all(math.isnan(e) for e in diagnostics_from_dict(older).e_bfmi)


def test_hmc_recovers_anisotropic_quadratic_target():
    run = sample(quadratic_target, "hmc", seed=3)
    assert_gaussian(run.samples[0], QUAD_MEAN, 1.0 / QUAD_PRECISION)


def test_traced_target_log_prob_equals_target_recomputed_on_kept_states(runs):
    run = runs["hmc"]
    states = tf.constant(run.samples[0])  # [n, C, D]
    recomputed = tf.map_fn(linear_target, states).numpy()
    np.testing.assert_allclose(run.trace["target_log_prob"], recomputed, rtol=1e-5, atol=1e-3)


def test_same_seed_gives_identical_samples_and_another_seed_differs():
    a = sample(linear_target, "hmc", seed=7, num_results=20, burnin=20, block=10)
    b = sample(linear_target, "hmc", seed=7, num_results=20, burnin=20, block=10)
    c = sample(linear_target, "hmc", seed=8, num_results=20, burnin=20, block=10)
    np.testing.assert_array_equal(a.samples[0], b.samples[0])
    np.testing.assert_array_equal(a.trace["step_size"], b.trace["step_size"])
    assert not np.allclose(a.samples[0], c.samples[0])


def test_keyboard_interrupt_returns_finished_blocks():
    z0 = tf.zeros([C, D])
    kernel = kernels.make_kernel(
        linear_target, "hmc", kernels.per_chain_step_size(0.1, [z0]), 8, num_adaptation_steps=16
    )
    plan = chain.ChainPlan(
        num_results=12, num_burnin_steps=20, num_steps_between_results=1, block_steps=10
    )
    # Blocks: two burn-in blocks of 10 steps, then 5 kept per block (2 steps each): 5, 5, 2.
    assert [b.steps for b in plan.blocks()] == [10, 10, 10, 10, 4]

    def stop_at_block_3(index):
        if index == 3:
            raise KeyboardInterrupt

    partial = chain.run_chains(kernel, [z0], plan, seed=5, progress=False, on_block=stop_at_block_3)
    assert partial.interrupted and partial.blocks_done == 3 < len(plan.blocks())
    assert partial.samples[0].shape == (5, C, D)
    assert partial.burnin_trace["step_size"].shape == (20, C)
    assert partial.counts["steps"].tolist() == [10] * C

    whole = chain.run_chains(kernel, [z0], plan, seed=5, progress=False)
    assert whole.blocks_done == len(plan.blocks()) and not whole.interrupted
    assert whole.samples[0].shape == (12, C, D)
    # the finished blocks' draws are the uninterrupted run's first ones
    np.testing.assert_array_equal(partial.samples[0], whole.samples[0][:5])
    assert whole.counts["steps"].tolist() == [24] * C
    assert whole.burnin_counts["steps"].tolist() == [20] * C


def test_blocks_of_the_same_length_are_compiled_once():
    calls = []

    def counting_target(z):
        calls.append(1)  # runs in Python only while a graph is being traced
        return linear_target(z)

    def python_calls(num_results):
        calls.clear()
        sample(counting_target, "hmc", num_results=num_results, burnin=0, block=5)
        return len(calls)

    # 2 and 8 blocks of 5 results: the block function is traced once either way.
    assert python_calls(10) == python_calls(40)


@pytest.mark.parametrize("kind", ["hmc", "nuts"])
def test_a_block_draws_what_tfp_sample_chain_draws_from_the_same_seed(kind):
    z0 = tf.fill([C, D], 0.3)
    kernel = kernels.make_kernel(quadratic_target, kind, 0.2, num_leapfrog_steps=3)
    plan = chain.ChainPlan(num_results=6, num_steps_between_results=2, block_steps=18)
    run = chain.run_chains(kernel, [z0], plan, seed=4, progress=False)
    # one block of 6 kept states, each after 3 steps: sample_chain's skip as burn-in and thinning
    seed = chain.fold_in(chain.as_seed(4), 0)
    expected = tf.function(tfp.mcmc.sample_chain, autograph=False)(
        6,
        z0,
        kernel=kernel,
        num_burnin_steps=2,
        num_steps_between_results=2,
        seed=seed,
        trace_fn=lambda _, results: kernels.step_stats(results).target_log_prob,
    )
    # equal up to the rounding of two graphs that order some sums differently; another seed
    # stream would give other draws altogether
    np.testing.assert_allclose(run.samples[0], expected.all_states.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(run.trace["target_log_prob"], expected.trace.numpy(), rtol=1e-5)
    assert run.counts["steps"].tolist() == [18] * C


def test_divergences_are_counted_when_the_step_size_is_far_too_large():
    z0 = tf.zeros([C, D])
    kernel = kernels.make_kernel(
        linear_target, "hmc", kernels.per_chain_step_size(50.0, [z0]), num_leapfrog_steps=8
    )
    run = chain.run_chains(kernel, [z0], chain.ChainPlan(10), seed=0, progress=False)
    diag = diagnostics.diagnose(run)
    assert diag.divergences == (10,) * C
    assert diag.acceptance_rate == (0.0,) * C
    assert diag.divergence_rate == 1.0


def test_step_size_adapts_separately_for_each_chain():
    scales = tf.constant([0.25, 0.5, 1.0, 2.0])[:, None]  # standard deviation of each chain

    def scaled_gaussian(z):
        return -tf.reduce_sum((z / scales) ** 2, -1) / 2

    run = sample(scaled_gaussian, "hmc", num_results=10, burnin=300, block=150)
    step = np.asarray(diagnostics.diagnose(run).step_size)
    # For a Gaussian the best leapfrog step scales with the standard deviation: ratio 8.
    assert 8 / 1.5 < step[3] / step[0] < 8 * 1.5, step


def test_per_chain_step_size_broadcasts_against_every_state_part():
    state = [tf.zeros([3, 5]), tf.zeros([3, 2, 4, 4])]
    steps = kernels.per_chain_step_size([0.1, 0.2, 0.3], state)
    assert [s.shape.as_list() for s in steps] == [[3, 1], [3, 1, 1, 1]]
    np.testing.assert_allclose(steps[1][:, 0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="one value per chain"):
        kernels.per_chain_step_size([0.1, 0.2], state)


def test_make_kernel_rejects_unknown_kind_and_adaptation_longer_than_burnin():
    with pytest.raises(ValueError, match="kind must be one of"):
        kernels.make_kernel(linear_target, "gibbs")
    kernel = kernels.make_kernel(linear_target, "hmc", 0.1, num_adaptation_steps=50)
    with pytest.raises(ValueError, match="adaptation must end within burn-in"):
        chain.run_chains(kernel, [tf.zeros([C, D])], chain.ChainPlan(5, 10), progress=False)


def test_split_rhat_is_one_for_iid_draws_and_large_for_a_drifting_chain():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=[2000, 2])
    drift = iid.copy()
    drift[:, 1] += np.linspace(0, 10, 2000)
    rhat = stationarity.split_rhat_per_chain(drift)
    assert abs(rhat[0] - 1) < 0.01 and rhat[1] > 1.5
    assert math.isnan(stationarity.split_rhat_per_chain(iid[:3])[0])


def test_unsettled_chains_are_those_whose_split_rhat_settled_chains_rarely_reach(runs):
    diag = diagnostics.diagnose(runs["hmc"])
    assert diag.unsettled_chains == ()  # a Gaussian target, well mixed
    marked = dataclasses.replace(diag, rhat=(1.0, 1.6, math.nan, 1.04))
    assert marked.unsettled_chains == (1,)
    # a chain whose halves each held one value, the two different: infinitely far from settled
    once = stationarity.split_rhat_per_chain(
        np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 2.0], [3.0, 2.0]])
    )
    assert math.isinf(once[0]) and math.isnan(once[1])
    marked = dataclasses.replace(diag, rhat=(1.0, float(once[0]), float(once[1]), 1.04))
    assert marked.unsettled_chains == (1,)


def test_a_chain_that_accepts_nothing_is_reported_stuck(runs):
    assert diagnostics.diagnose(runs["hmc"]).stuck_chains == ()
    z0 = tf.zeros([C, D])
    # Chain 1's fixed step is 100 prior widths: every trajectory is rejected.
    kernel = kernels.make_kernel(
        linear_target,
        "hmc",
        kernels.per_chain_step_size([0.1, 100.0, 0.1, 0.1], [z0]),
        num_leapfrog_steps=8,
    )
    run = chain.run_chains(kernel, [z0], chain.ChainPlan(20, 10), seed=0, progress=False)
    diag = diagnostics.diagnose(run, "target_log_prob")
    assert diag.stuck_chains == (1,)
    assert math.isnan(diag.rhat[1]) and 1 not in diag.unsettled_chains  # why R-hat can't flag it
    assert "chains [1] accepted no step" in diagnostics_line(diag)


def test_ess_matches_theory_for_iid_and_autoregressive_draws():
    rng = np.random.default_rng(1)
    n, rho = 20000, 0.8
    noise = rng.normal(size=[n, 2])
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = rho * ar[i - 1] + noise[i, 1]
    ess = diagnostics.ess_per_chain(np.stack([noise[:, 0], ar], 1))
    # AR(1): ESS = n (1 - rho) / (1 + rho).
    assert abs(ess[0] / n - 1) < 0.1
    assert abs(ess[1] / (n * (1 - rho) / (1 + rho)) - 1) < 0.2


def test_diagnostics_serialise_to_standard_json(runs, two_draws):
    diag = diagnostics.diagnose(runs["hmc"])
    data = to_json(diag)
    assert data["accept_prob"] == pytest.approx(list(diag.accept_prob))
    assert data["divergence_rate"] == 0.0
    assert len(data["rhat"]) == C and data["scalar"] == "target_log_prob"
    empty = diagnostics.diagnose(two_draws)
    assert to_json(empty)["rhat"] == [None] * C
    assert to_json(empty)["ess"] == [None] * C  # 2 draws: no ESS either


def test_summary_gives_the_worst_chain_or_says_how_many_samples_rhat_needs(runs, two_draws):
    diag = dataclasses.replace(
        diagnostics.diagnose(runs["hmc"]),
        rhat=(1.0, 1.6, math.nan, 1.04),
        ess=(50.0, 3.0, math.nan, 20.0),
    )
    assert "split R-hat per chain <= 1.600, ESS >= 3.0" in diagnostics_line(diag)
    short = diagnostics.diagnose(two_draws)
    assert diagnostics_line(short).endswith(
        "no R-hat or ESS: they need 4 samples per chain, this run kept 2"
    )
    assert "nan" not in diagnostics_line(short)
    constant = dataclasses.replace(diag, rhat=(math.nan,) * C, ess=(math.nan,) * C)  # a dead unit
    assert diagnostics_line(constant).endswith(
        "no R-hat or ESS: the activation did not vary within any chain"
    )


def test_ess_is_nan_like_rhat_below_four_draws():
    draws = np.random.default_rng(0).normal(size=(3, 2))
    assert np.all(np.isnan(diagnostics.ess_per_chain(draws)))
    assert np.all(np.isnan(stationarity.split_rhat_per_chain(draws)))
    assert np.all(np.isfinite(diagnostics.ess_per_chain(np.tile(draws, (2, 1))[:4])))


def test_ess_of_anticorrelated_draws_is_capped_at_n_log10_n():
    n = 100
    alternating = np.array([(-1.0) ** i for i in range(n)])  # TFP: infinite or negative
    flip = np.random.default_rng(0).normal(size=n // 2)
    antithetic = np.stack([flip, -flip], 1).ravel()  # pairs that cancel
    ess = diagnostics.ess_per_chain(np.stack([alternating, antithetic], 1))
    np.testing.assert_allclose(ess, [n * 2.0, n * 2.0])  # log10(100) = 2
    four = diagnostics.ess_per_chain(np.array([[1.0, 2.0, 1.0, 2.0]]).T)
    np.testing.assert_allclose(four, [4 * np.log10(4)])
    assert np.isnan(diagnostics.ess_per_chain(np.ones((6, 1))))[0]  # never varies: no ESS


def test_ess_does_not_log_tensorflow_warnings_about_its_own_fft(caplog):
    draws = np.random.default_rng(0).normal(size=(100, 3))
    ess = diagnostics.ess_per_chain(draws)
    assert np.all((ess > 30) & (ess < 200)), ess  # iid draws: ESS about n
    assert not [r for r in caplog.records if "casting an input of type complex" in r.getMessage()]
