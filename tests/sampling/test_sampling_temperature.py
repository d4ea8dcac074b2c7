"""Adapting each chain's temperature to a target ratio, on Gaussian targets whose answer is exact.

A(z) = a*_c - sum_i k_ci (z_i - m_i)^2 / 2 under a prior N(0, I / LAM) gives the Gaussian
pi(z) ~ exp(A / T - LAM |z|^2 / 2): per coordinate precision P = k / T + LAM and mean
(k m / T) / P, so E[A] = a* - sum_i k_i (LAM^2 m_i^2 / P_i^2 + 1 / P_i) / 2, and under the prior
alone a0 = a* - sum_i k_i (m_i^2 + 1 / LAM) / 2. The share kept, (E[A] - a0) / (a* - a0), falls
as T rises, so the T that keeps a share rho is found by bisection.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from samplevis.sampling.density import temperature
from samplevis.sampling.density.log_density import LogDensity
from samplevis.sampling.mcmc import chain, curvature, kernels, stationarity

D, LAM, FLOOR = 50, 1.0, -10.0
SCALES = np.array([1.0, 1.0, 1.0, 1.0, 6.0, 6.0, 6.0, 6.0])  # two targets, four chains each
C = len(SCALES)
K = (SCALES[:, None] * np.linspace(0.5, 2.0, D)).astype(np.float32)  # curvatures [C, D]
M = np.tile(np.linspace(-0.6, 0.6, D, dtype=np.float32), (C, 1))  # the optima [C, D]
# each chain's a*, so that every chain's prior floor a0 is FLOOR
A_STAR = FLOOR + 0.5 * np.sum(K * (M**2 + 1 / LAM), axis=1)


def kept_share(t: np.ndarray) -> np.ndarray:
    """The exact share of a* - a0 that pi keeps at T = t [C], [C]."""
    precision = K / np.asarray(t, np.float64)[:, None] + LAM
    drop = np.sum(K * (LAM**2 * M**2 / precision**2 + 1 / precision), axis=1)
    return 1.0 - drop / np.sum(K * (M**2 + 1 / LAM), axis=1)


def exact_temperature(rho: float) -> np.ndarray:
    """The T [C] at which each chain's target keeps a share rho (bisection on log T)."""
    low, high = np.full(C, -12.0), np.full(C, 6.0)
    for _ in range(80):
        mid = (low + high) / 2
        above = kept_share(np.exp(mid)) > rho  # keeps too much: T must rise
        low, high = np.where(above, mid, low), np.where(above, high, mid)
    return np.exp((low + high) / 2)


@dataclasses.dataclass(frozen=True)
class QuadraticLogDensity:
    """log pi(z) = A(z) / T - LAM |z|^2 / 2, T a number or one per chain [C]."""

    temperature: object

    def activation(self, *parts):
        z = tf.concat(parts, -1)  # a state in parts [C, d_1], [C, d_2], ...
        return A_STAR - 0.5 * tf.reduce_sum(K * tf.square(z - M), -1)

    def prior_log_prob(self, *parts):
        z = tf.concat(parts, -1)
        return -LAM * tf.reduce_sum(z * z, -1) / 2

    def __call__(self, *parts):
        return self.activation(*parts) / self.temperature + self.prior_log_prob(*parts)

    retempered = LogDensity.retempered  # reads only the temperature and the prior

    def activation_from_log_prob(self, state, target_log_prob):
        z = tf.concat(state, -1)
        return self.temperature * (target_log_prob + LAM * tf.reduce_sum(z * z, -1) / 2)


def adapt(
    rho,
    first,
    burnin=200,
    steps=150,
    results=200,
    kind="hmc",
    block_steps=10,
    correct=False,
    closing=0,
    thin=0,
    rescale=False,
):
    """Chains from the optima M with T adapted over `steps` of `burnin` (then corrected once,
    `closing` steps or a block before the draws, if `correct`), then `results` draws."""
    adaptation = temperature.TemperatureAdaptation(
        first,
        A_STAR,
        rho,
        steps,
        floor=FLOOR,
        burnin_steps=burnin if correct else None,
        closing_steps=closing,
    )
    log_density = adaptation.log_density(QuadraticLogDensity(1.0))
    kernel = kernels.make_kernel(
        log_density,
        kind,
        kernels.per_chain_step_size(0.05, [tf.constant(M)]),
        num_leapfrog_steps=8,
        num_adaptation_steps=int(0.8 * burnin),
        max_tree_depth=4,
    )
    run = chain.run_chains(
        kernel,
        [tf.constant(M)],
        chain.ChainPlan(results, burnin, thin, block_steps=block_steps),
        seed=0,
        trace_fns={"activation": log_density.activation_from_log_prob},
        progress=False,
        retarget=adaptation,
        rescale=(
            (lambda z, lp, g: log_density.retempered(z, lp, g, adaptation.previous_temperature))
            if rescale
            else None
        ),
    )
    return adaptation, run


def sampled_share(run) -> np.ndarray:
    return (np.mean(run.trace["activation"], axis=0) - FLOOR) / (A_STAR - FLOOR)


def test_the_exact_temperature_differs_by_chain_and_keeps_the_share():
    exact = exact_temperature(0.8)
    assert kept_share(exact) == pytest.approx(0.8, abs=1e-9)
    assert exact[4] / exact[0] > 3  # the stiffer target needs a higher T


@pytest.mark.parametrize("rho, start", [(0.8, 0.2), (0.8, 5.0), (0.6, 1.0)])
def test_each_chains_adapted_temperature_is_the_exact_one_within_monte_carlo_error(rho, start):
    exact = exact_temperature(rho)
    adaptation, run = adapt(rho, start * np.exp(np.mean(np.log(exact))))
    error = np.log(adaptation.temperature / exact)
    # Monte Carlo error: the spread of log T between chains that adapted to the same target
    spread = np.sqrt(np.mean([np.var(error[:4], ddof=1), np.var(error[4:], ddof=1)]))
    assert spread < 0.15, error
    assert np.all(np.abs(error) < 3 * spread + 0.02), (error, spread)
    for group in (error[:4], error[4:]):  # no bias beyond the group mean's own error
        assert abs(np.mean(group)) < 3 * spread / 2 + 0.02, (error, spread)
    # so the samples, drawn at the frozen T, keep the share asked
    assert kept_share(adaptation.temperature) == pytest.approx(np.full(C, rho), abs=0.05)
    assert sampled_share(run) == pytest.approx(np.full(C, rho), abs=0.05)


def test_t_adapts_to_the_exact_one_when_log_pi_is_rescaled_at_each_change_of_t():
    # render's way: the kernel's log pi and gradient follow a new T without a pass of the
    # target (equal to a recomputation up to rounding, which a chain then carries on its own)
    adaptation, run = adapt(0.8, exact_temperature(0.8).mean(), rescale=True)
    assert kept_share(adaptation.temperature) == pytest.approx(np.full(C, 0.8), abs=0.05)
    assert sampled_share(run) == pytest.approx(np.full(C, 0.8), abs=0.05)


@pytest.mark.parametrize("kind", ["mala", "nuts"])
def test_the_adaptation_works_beside_each_kernel(kind):
    adaptation, run = adapt(0.8, exact_temperature(0.8).mean(), kind=kind)
    assert kept_share(adaptation.temperature) == pytest.approx(np.full(C, 0.8), abs=0.05)


def test_the_adaptation_works_with_two_parts_at_their_own_step_sizes():
    # render's warp: a second part in the same HMC, each part's step scaled by its curvature
    adaptation = temperature.TemperatureAdaptation(0.1, A_STAR, 0.8, 150, floor=FLOOR)
    log_density = adaptation.log_density(QuadraticLogDensity(1.0))
    state = [tf.constant(M[:, :40]), tf.constant(M[:, 40:])]
    curvatures = curvature.part_curvatures(log_density, state, tf.constant([0, 1]))
    kernel = kernels.make_kernel(
        log_density,
        "hmc",
        curvature.part_step_sizes(tf.fill([C], 0.05), curvatures, state),
        8,
        num_adaptation_steps=160,
    )
    run = chain.run_chains(
        kernel,
        state,
        chain.ChainPlan(200, 200),
        seed=0,
        trace_fns={"activation": log_density.activation_from_log_prob},
        progress=False,
        retarget=adaptation,
    )
    assert kept_share(adaptation.temperature) == pytest.approx(np.full(C, 0.8), abs=0.05)
    assert sampled_share(run) == pytest.approx(np.full(C, 0.8), abs=0.05)


def test_t_is_frozen_after_the_adaptation_steps_and_recorded_per_block():
    adaptation, run = adapt(0.8, 0.05, burnin=60, steps=45, results=20, block_steps=10)
    # blocks ending at 10 ... 40 adapt (45 rounds down to whole blocks); the last freezes T
    assert adaptation.frozen and adaptation.temperatures.shape == (4, C)
    assert adaptation.adapted_steps == 40
    assert adaptation.shares.shape == (4, C)
    assert adaptation.temperatures[0] == pytest.approx(np.full(C, 0.05))
    np.testing.assert_allclose(adaptation.variable.numpy(), adaptation.temperature, rtol=1e-6)
    # the samples' log pi is the frozen T's: recomputed from their states it agrees
    z = tf.constant(run.samples[0][-1])
    frozen = QuadraticLogDensity(tf.constant(adaptation.temperature, tf.float32))
    np.testing.assert_allclose(frozen(z).numpy(), run.trace["target_log_prob"][-1], rtol=1e-4)


@pytest.mark.parametrize("off", [1 / 3, 3.0])
def test_one_correction_after_the_frozen_blocks_brings_t_toward_the_exact_one(off):
    # one adapting block from 3x too cold (or hot) leaves T off; the blocks at the frozen T
    # measure the share it keeps (the first, still following T's change, left out), and one
    # secant step corrects T before the closing window (here the last block)
    exact = exact_temperature(0.8)
    adaptation, run = adapt(0.8, exact * off, burnin=60, steps=10, results=40, correct=True)
    assert adaptation.frozen and adaptation._correction is not None
    corrected = adaptation.temperature
    before = corrected / np.exp(adaptation._correction)
    np.testing.assert_allclose(adaptation.variable.numpy(), corrected, rtol=1e-6)
    assert np.mean(np.abs(np.log(corrected / exact))) < np.mean(np.abs(np.log(before / exact)))
    assert kept_share(corrected) == pytest.approx(np.full(C, 0.8), abs=0.05)
    # without a burn-in beyond the adaptation there is no correction
    plain, _ = adapt(0.8, exact * off, burnin=20, steps=20, results=10, correct=True)
    assert plain._correction is None


# From 5 x too hot (0.8, 5.0) one chain fell far and was still climbing back after the window
# (split R-hat 1.55 over 1.16): a fall of T takes longer to follow than a rise.
@pytest.mark.parametrize("rho, start", [(0.8, 0.2), (0.6, 1.0)])
def test_after_the_closing_window_the_draws_keep_the_share_and_are_stationary(rho, start):
    # T adapts over half of burn-in (as in the tests above), blocks at the frozen T measure it,
    # the correction, then a third of burn-in at the corrected T before the draws, every
    # fifth step kept (split R-hat's limit is for independent draws)
    exact = exact_temperature(rho)
    first = start * np.exp(np.mean(np.log(exact)))
    adaptation, run = adapt(
        rho, first, burnin=300, steps=150, results=100, correct=True, closing=100, thin=4
    )
    assert adaptation.frozen and adaptation._correction is not None
    assert sampled_share(run) == pytest.approx(np.full(C, rho), abs=0.05)
    draws = run.trace["activation"]
    rhat_limits, trend_limits = stationarity.limits(np.zeros([0, C]), draws)
    assert np.all(stationarity.split_rhat_per_chain(draws) < rhat_limits)
    assert np.all(np.abs(stationarity.trend_per_chain(draws)) < trend_limits)


def test_a_robbins_monro_step_is_the_equipartition_secant_in_log_t_clipped():
    steps = temperature.log_step(np.array([0.9, 0.6, 1.2, -5.0, np.nan]), 0.8)
    expected = [np.log(2.0), np.log(0.5), np.log(temperature.MAX_RISE)]
    expected += [-np.log(temperature.MAX_FALL), 0.0]
    np.testing.assert_allclose(steps, expected)


def test_adaptation_needs_starts_above_the_floor_and_a_ratio_in_0_1():
    with pytest.raises(ValueError, match="above the prior's floor"):
        temperature.TemperatureAdaptation(1.0, np.array([1.0, -20.0]), 0.8, 10, floor=FLOOR)
    with pytest.raises(ValueError, match=r"target_ratio must lie in \(0, 1\)"):
        temperature.TemperatureAdaptation(1.0, A_STAR, 1.0, 10, floor=FLOOR)


@pytest.mark.parametrize("lam", [1.0, 4.0])
def test_prior_floor_is_the_mean_objective_under_the_prior(lam):
    # A = PEAK - |z|^2 / 2 with z ~ N(0, I / lam): E[A] = PEAK - D / (2 lam), standard deviation
    # of the mean of 16 draws sqrt(2 D) / (2 lam) / 4 = 1.25 / lam.
    peak = 10.0

    @dataclasses.dataclass(frozen=True)
    class Bowl:
        prior_weight: float

        def activation(self, z):
            return peak - tf.reduce_sum(z * z, -1) / 2

    floor = temperature.prior_floor(Bowl(lam), [tf.zeros([4, D])], seed=3)
    assert temperature.FLOOR_BATCHES * 4 == 16
    assert floor == pytest.approx(peak - D / (2 * lam), abs=4 * 1.25 / lam)
