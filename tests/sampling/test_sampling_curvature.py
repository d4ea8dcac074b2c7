"""Per-part step sizes from each part's curvature, on Gaussian targets whose answers are known."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.sampling.mcmc import chain, curvature, kernels

CHAINS = 4
# Two independent parts of unlike scale: x [C, 3] ~ N(1, 0.2^2), y [C, 2, 2, 1] ~ N(-2, 3^2).
MEANS, SDS = (1.0, -2.0), (0.2, 3.0)


def two_gaussians(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    return -0.5 * tf.reduce_sum(tf.square((x - MEANS[0]) / SDS[0]), 1) - 0.5 * tf.reduce_sum(
        tf.reshape(tf.square((y - MEANS[1]) / SDS[1]), [CHAINS, -1]), 1
    )


def state() -> list[tf.Tensor]:
    return [tf.zeros([CHAINS, 3]), tf.zeros([CHAINS, 2, 2, 1])]


def test_each_parts_curvature_is_its_precision_on_a_gaussian():
    found = curvature.part_curvatures(two_gaussians, state(), tf.constant([0, 1]))
    for c, sd in zip(found, SDS):
        np.testing.assert_allclose(c.numpy(), np.full(CHAINS, 1 / sd**2), rtol=1e-3)


def test_a_part_the_target_ignores_reports_the_floor():
    def first_only(x, y):
        return -0.5 * tf.reduce_sum(tf.square(x / SDS[0]), 1) + 0.0 * tf.reduce_sum(y)

    found = curvature.part_curvatures(first_only, state(), tf.constant([0, 1]), floor=0.5)
    np.testing.assert_allclose(found[0].numpy(), 1 / SDS[0] ** 2, rtol=1e-3)
    np.testing.assert_allclose(found[1].numpy(), 0.5)


def test_a_softer_part_takes_proportionally_longer_steps():
    found = curvature.part_curvatures(two_gaussians, state(), tf.constant([0, 1]))
    steps = curvature.part_step_sizes(tf.fill([CHAINS], 0.1), found, state())
    assert [s.shape.as_list() for s in steps] == [[CHAINS, 1], [CHAINS, 1, 1, 1]]
    np.testing.assert_allclose(steps[0].numpy().ravel(), 0.1)
    np.testing.assert_allclose(steps[1].numpy().ravel(), 0.1 * SDS[1] / SDS[0], rtol=1e-3)


def test_a_part_moved_as_if_softer_steps_further_and_starts_within_its_own_curvature():
    # render's warp: its steps as if only a prior 16x softer than its curvature held it
    found = curvature.part_curvatures(two_gaussians, state(), tf.constant([0, 1]))
    scales = [found[0], found[1] / 16]
    steps = curvature.part_step_sizes(tf.fill([CHAINS], 0.1), found, state(), scales=scales)
    # the second part's step is 4x the first's more than by curvature alone ...
    ratio = steps[1].numpy().ravel() / steps[0].numpy().ravel()
    np.testing.assert_allclose(ratio, 4 * SDS[1] / SDS[0], rtol=1e-3)
    # ... and the first is lowered 4x, so the second starts at the step its curvature allows
    np.testing.assert_allclose(steps[0].numpy().ravel(), 0.1 / 4, rtol=1e-3)
    np.testing.assert_allclose(steps[1].numpy().ravel(), 0.1 * SDS[1] / SDS[0], rtol=1e-3)


@pytest.mark.parametrize("softer, least_ess", [(1, 300), (16, 100)])
def test_one_hmc_with_per_part_steps_samples_each_part_with_its_mean_and_variance(
    softer, least_ess
):
    found = curvature.part_curvatures(two_gaussians, state(), tf.constant([0, 1]))
    scales = [found[0], found[1] / softer]
    kernel = kernels.make_kernel(
        two_gaussians,
        "hmc",
        curvature.part_step_sizes(tf.fill([CHAINS], 0.05), found, state(), scales=scales),
        num_leapfrog_steps=4,
        num_adaptation_steps=400,
    )
    run = chain.run_chains(
        kernel, state(), chain.ChainPlan(1500, 500, 1, 500), seed=1, progress=False
    )
    for part, mean, sd in zip(run.samples, MEANS, SDS):
        draws = part.reshape(part.shape[0], CHAINS, -1)  # [N, C, coordinates]
        ess = tfp.mcmc.effective_sample_size(
            tf.constant(draws, tf.float64), cross_chain_dims=1
        ).numpy()
        # the 15x wider part mixes as well as the narrow one: one step fits both (a part moved
        # as if softer than it is costs acceptance, so fewer effective draws, same moments)
        assert ess.min() > least_ess, ess
        est_mean = draws.mean(axis=(0, 1))
        est_var = ((draws - mean) ** 2).mean(axis=(0, 1))
        np.testing.assert_array_less(np.abs(est_mean - mean), 4 * np.sqrt(sd**2 / ess))
        np.testing.assert_array_less(np.abs(est_var - sd**2), 4 * np.sqrt(2 * sd**4 / ess))
