"""The draws come from the density a run states: its chains start at an optimum of what they move
(`starts.polish`) and the momentum's mass matches the target's curvature (`target.low_rank`);
each on a target whose answer is known exactly (a drifting chain told apart from a settled one:
test_stationarity.py)."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import samplevis
from samplevis import objectives, param
from samplevis.sampling.density import chain_param, low_rank
from samplevis.sampling.density.log_density import LogDensity
from samplevis.sampling.mcmc import chain, kernels
from samplevis.sampling.starts import polish

SIZE, CHAINS = 16, 2
# The colour a unit of `colour_peak` prefers: A = -mean over pixels of |pixel - PEAK|^2, so over
# the mean colour (all that moves at 16 px with cutoff 1/16) its optimum is PEAK exactly.
PEAK = np.array([0.3, 0.6, 0.7], np.float32)


def colour_peak() -> samplevis.Model:
    inputs = keras.Input((None, None, 3))
    close = keras.layers.Lambda(
        lambda x: -tf.reduce_sum(tf.square(x - PEAK), -1, keepdims=True), name="close"
    )
    return samplevis.Model(keras.Model(inputs, close(inputs)))


def linear_image(batch: int = CHAINS) -> param.ImageParam:
    """Pixels are the spectral tensor itself (no sigmoid, no colour mixing): the mean colour is a
    linear function of the DC coefficients."""
    return param.image(SIZE, batch=batch, decorrelate=False, sigmoid=False)


def grey_starts() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.clip(0.5 + 0.05 * rng.standard_normal((CHAINS, SIZE, SIZE, 3)), 0.05, 0.95)


def test_the_climb_along_what_the_chains_move_reaches_the_units_optimum():
    image = linear_image()
    starts = param.initialized(image, grey_starts().astype("float32"))
    moving = chain_param.chain_parameterization(
        image, [s.numpy() for s in starts.init(None)], 1 / 16
    )
    density = LogDensity(
        colour_peak(), objectives.channel("close", 0), moving, temperature=1.0, prior_weight=1.0
    )
    found = polish.polish(density, 2048)
    climbed = chain_param.restarted(moving, found.state)
    colours = climbed.to_image(climbed.init(None)).numpy().mean(axis=(1, 2))
    np.testing.assert_allclose(colours, np.broadcast_to(PEAK, colours.shape), atol=0.01)
    assert found.settled.all() and found.steps < 2048
    assert (found.activations > found.first).all()
    # the fine detail is the start's: only the mean colour moved
    detail = climbed.to_image(climbed.init(None)).numpy() - colours[:, None, None]
    start = grey_starts() - grey_starts().mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(detail, start, atol=1e-4)


def test_render_starts_its_chains_where_the_climb_ended_and_measures_the_gain_there():
    result = samplevis.render(
        colour_peak(),
        objectives.channel("close", 0),
        hmc_opts=dict(
            init=grey_starts().astype("float32"),
            num_results=4,
            num_burnin_steps=10,
            num_transforms=0,
            polish_steps=2048,
            warp=False,
        ),
        param_f=lambda: linear_image(),
        seed=0,
        progress=False,
    )
    colours = result.init_images.mean(axis=(1, 2))
    np.testing.assert_allclose(colours, np.broadcast_to(PEAK, colours.shape), atol=0.02)
    # a* is the climbed start's: the spread of the fixed detail alone is left
    detail = grey_starts() - grey_starts().mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(
        result.init_activations, -np.sum(detail**2, axis=-1).mean(axis=(1, 2)), atol=2e-3
    )


# A quadratic activation of a state [C, N]: A = -sum_i a_i (u_i . z)^2 / 2 along K orthonormal
# directions u_i, flat elsewhere; under the prior N(0, I / LAM) at T the target is Gaussian with
# precision LAM + a_i / T along u_i and LAM elsewhere.
N, K, LAM, T = 40, 4, 2.0, 0.5
CURVATURES = np.array([40.0, 20.0, 8.0, 2.0])
DIRECTIONS = np.linalg.qr(np.random.default_rng(1).standard_normal((N, K)))[0].astype(np.float32)


def quadratic(z: tf.Tensor) -> tf.Tensor:
    along = tf.matmul(z, DIRECTIONS)  # [C, K]
    return -0.5 * tf.reduce_sum(CURVATURES * tf.square(along), axis=-1)


def test_the_range_finder_finds_the_curved_directions_and_their_curvature():
    state = [tf.zeros([3, N])]
    (found,) = low_rank.activation_curvatures(quadratic, state, rank=8, seed=0)
    np.testing.assert_allclose(found.values[:, :K], np.tile(CURVATURES, (3, 1)), rtol=1e-3)
    np.testing.assert_allclose(found.values[:, K:], 0.0, atol=1e-3)
    for c in range(3):  # the top K directions span the curved ones
        overlap = np.linalg.svd(DIRECTIONS.T @ found.directions[c, :, :K], compute_uv=False)
        np.testing.assert_allclose(overlap, 1.0, atol=1e-3)


def test_hmc_under_the_low_rank_mass_draws_the_gaussians_variances_along_and_across():
    chains = 4
    start = tf.zeros([chains, N])
    (found,) = low_rank.activation_curvatures(quadratic, [start], rank=8, seed=0)

    def target(z: tf.Tensor) -> tf.Tensor:
        return quadratic(z) / T - LAM * tf.reduce_sum(z * z, -1) / 2

    kernel = kernels.make_kernel(
        target,
        "hmc",
        kernels.per_chain_step_size(0.5, [start]),
        num_leapfrog_steps=4,
        num_adaptation_steps=80,
        momentum_distribution=low_rank.low_rank_momentum(found, LAM, T),
    )
    run = chain.run_chains(
        kernel, [start], chain.ChainPlan(500, 100, 0, 300), seed=2, progress=False
    )
    draws = run.samples[0].reshape(-1, N).astype(np.float64)  # [n * C, N]
    along = draws @ DIRECTIONS
    across = draws - along @ DIRECTIONS.T
    exact = 1 / (LAM + CURVATURES / T)
    # 2000 draws of nearly independent samples: variances within 15 %
    np.testing.assert_allclose(along.var(axis=0), exact, rtol=0.15)
    np.testing.assert_allclose(across.var(axis=0).sum() / (N - K), 1 / LAM, rtol=0.15)
    np.testing.assert_allclose(draws.mean(axis=0), 0.0, atol=4 * np.sqrt(1 / LAM / 500))
    # a step of the order of the target's spread in every direction: the stiffest (1 / 80 of
    # the prior's variance) no longer sets the step for all
    assert np.median(run.trace["step_size"]) > 0.2


# A second part shaped as a 2 x 2 warp ([C, 2, 2, 2]: 8 numbers), as anisotropic as a facet's
# warp: one direction the activation holds two thousand times more stiffly than the prior alone
# holds the other seven.
WARP_STIFF = 2000.0
WARP_DIRECTION = np.full(8, 1 / np.sqrt(8.0), np.float32)


def two_parts(z: tf.Tensor, warp: tf.Tensor) -> tf.Tensor:
    along = tf.linalg.matvec(tf.reshape(warp, [-1, 8]), WARP_DIRECTION)  # [C]
    return quadratic(z) - 0.5 * WARP_STIFF * tf.square(along)


def test_each_part_gets_its_own_low_rank_mass_and_hmc_draws_both_parts_variances():
    chains = 4
    start = [tf.zeros([chains, N]), tf.zeros([chains, 2, 2, 2])]
    found = low_rank.activation_curvatures(two_parts, start, parts=(0, 1), rank=8, seed=0)
    np.testing.assert_allclose(found[0].values[:, :K], np.tile(CURVATURES, (chains, 1)), rtol=1e-3)
    np.testing.assert_allclose(found[1].values[:, 0], WARP_STIFF, rtol=1e-3)
    np.testing.assert_allclose(found[1].values[:, 1:], 0.0, atol=1e-2)

    def target(z: tf.Tensor, warp: tf.Tensor) -> tf.Tensor:
        squares = tf.reduce_sum(z * z, -1) + tf.reduce_sum(warp * warp, [1, 2, 3])
        return two_parts(z, warp) / T - LAM * squares / 2

    momenta = tfp.distributions.JointDistributionSequential(
        [low_rank.part_momentum(f, s.shape[1:], LAM, T) for f, s in zip(found, start)]
    )
    kernel = kernels.make_kernel(
        target,
        "hmc",
        kernels.per_chain_step_size(0.5, start),
        num_leapfrog_steps=4,
        num_adaptation_steps=80,
        momentum_distribution=momenta,
    )
    run = chain.run_chains(kernel, start, chain.ChainPlan(500, 100, 0, 300), seed=2, progress=False)
    warps = run.samples[1].reshape(-1, 8).astype(np.float64)  # [n * C, 8]
    along = warps @ WARP_DIRECTION
    across = warps - np.outer(along, WARP_DIRECTION)
    # 2000 nearly independent draws: variances within 15 %, along the stiff direction (1 / 2000
    # of the prior's variance) and across it, where the part's mean curvature as the mass of
    # every direction draws about half of it
    np.testing.assert_allclose(along.var(), 1 / (LAM + WARP_STIFF / T), rtol=0.15)
    np.testing.assert_allclose(across.var(axis=0).sum() / 7, 1 / LAM, rtol=0.15)
    coefficients = run.samples[0].reshape(-1, N).astype(np.float64) @ DIRECTIONS
    np.testing.assert_allclose(coefficients.var(axis=0), 1 / (LAM + CURVATURES / T), rtol=0.15)


def test_restarted_puts_the_state_in_each_kind_of_chain_parameterization():
    image = param.image(SIZE, batch=CHAINS)
    start = image.init(0)[0].numpy()
    warped = chain_param.chain_parameterization(image, start, 1 / 8, warp=True, warp_grid=2)
    moved = [s.numpy() + 0.1 for s in warped.init(None)]
    again = chain_param.restarted(warped, moved)
    for got, want in zip(again.init(None), moved):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-6)
    whole = chain_param.chain_parameterization(image, start, None)
    np.testing.assert_array_equal(
        chain_param.restarted(whole, [start * 2]).init(None)[0].numpy(), start * 2
    )
    held = chain_param.held_warp(again)
    np.testing.assert_allclose(
        held.to_image(held.init(None)).numpy(), again.to_image(again.init(None)).numpy()
    )


def test_the_prior_centred_at_the_start_is_highest_there():
    image = param.image(SIZE, batch=CHAINS)
    start = image.init(0)[0].numpy() * 3
    facet = chain_param.chain_parameterization(image, start, 1 / 8)
    density = LogDensity(
        colour_peak(), objectives.channel("close", 0), facet, temperature=1.0, prior_weight=4.0
    ).centred_at_start()
    at_start = density.prior_log_prob(*facet.init(None)).numpy()
    np.testing.assert_allclose(at_start, 0.0)
    away = [s + 0.5 for s in facet.init(None)]
    np.testing.assert_allclose(
        density.prior_log_prob(*away).numpy(), -0.5 * 4.0 * 0.25 * facet.num_moving, rtol=1e-5
    )
    at_zero = dataclasses.replace(density, prior_centre=None).prior_log_prob(*facet.init(None))
    norm = np.sum(facet.init(None)[0].numpy() ** 2, axis=1)
    np.testing.assert_allclose(at_zero.numpy(), -0.5 * 4.0 * norm, rtol=1e-5)


@pytest.mark.parametrize("polish_steps", [0, 64])
def test_polish_steps_is_refused_below_zero_and_zero_leaves_the_starts(polish_steps):
    from samplevis.runtime.checks import OptionError
    from samplevis.sampling.options import resolve_options

    assert resolve_options(dict(polish_steps=polish_steps)).polish_steps == polish_steps
    with pytest.raises(OptionError, match=r"polish_steps.*int >= 0"):
        resolve_options(dict(polish_steps=-1))
