"""The deformation facet: a smooth warp of each facet's image, moved in a block of its own, on
images and targets whose answers are known exactly."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import samplevis
from samplevis import objectives, param
from samplevis.checks import OptionError
from samplevis.sampling import chain, facet, kernels
from samplevis.sampling.facet import WARP_GRID, warp_images
from samplevis.sampling.gibbs import AlternatingKernel
from samplevis.sampling.options import resolve_options


def bars(size: int = 64) -> np.ndarray:
    """[1, size, size, 3]: a bright column at x = 20 and a bright row at y = 40."""
    image = np.zeros((1, size, size, 3), np.float32)
    image[:, :, 20] = 1.0
    image[:, 40, :, 1] = 1.0
    return image


def test_a_zero_warp_returns_the_images_exactly():
    image = bars()
    warped = warp_images(tf.constant(image), tf.zeros([1, WARP_GRID, WARP_GRID, 2]))
    np.testing.assert_array_equal(warped.numpy(), image)


def test_a_constant_warp_moves_the_image_by_its_pixels():
    # each output pixel reads from (y + 16 dy, x + 16 dx): dx = 0.25 reads 4 px to the right,
    # so the column at x = 20 appears at x = 16; dy = -0.5 reads 8 px up, the row 40 at 48
    warp = np.zeros((1, WARP_GRID, WARP_GRID, 2), np.float32)
    warp[..., 0], warp[..., 1] = -0.5, 0.25
    warped = warp_images(tf.constant(bars()), tf.constant(warp), pixels=16.0).numpy()
    assert np.argmax(warped[0, 10, :, 0]) == 16
    assert np.argmax(warped[0, :, 40, 1]) == 48
    # half a pixel lands between two pixels, half on each
    warp[..., 0], warp[..., 1] = 0.0, 0.5 / 16
    half = warp_images(tf.constant(bars()), tf.constant(warp), pixels=16.0).numpy()
    np.testing.assert_allclose(half[0, 10, 19:21, 0], [0.5, 0.5], atol=1e-6)


# Two independent Gaussian parts: x [C, 3] ~ N(1, 0.5^2), y [C, 2, 2, 1] ~ N(-2, 2^2).
CHAINS = 4
MEANS, SDS = (1.0, -2.0), (0.5, 2.0)


def two_gaussians(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    return -0.5 * tf.reduce_sum(tf.square((x - MEANS[0]) / SDS[0]), 1) - 0.5 * tf.reduce_sum(
        tf.reshape(tf.square((y - MEANS[1]) / SDS[1]), [CHAINS, -1]), 1
    )


def alternating(every: int, adaptation: int | None) -> AlternatingKernel:
    state = [tf.zeros([CHAINS, 3]), tf.zeros([CHAINS, 2, 2, 1])]
    steps = [kernels.per_chain_step_size(0.1, [s]) for s in state]

    def block(fn, part):
        return kernels.make_kernel(
            fn,
            "hmc",
            steps[part],
            num_leapfrog_steps=4,
            num_adaptation_steps=adaptation and max(1, adaptation // (every if part else 1)),
        )

    return AlternatingKernel(two_gaussians, block, every)


def test_the_alternating_kernel_samples_each_part_with_its_mean_and_variance():
    state = [tf.zeros([CHAINS, 3]), tf.zeros([CHAINS, 2, 2, 1])]
    run = chain.run_chains(
        alternating(4, 400), state, chain.ChainPlan(1500, 500, 1, 500), seed=1, progress=False
    )
    for part, mean, sd in zip(run.samples, MEANS, SDS):
        draws = part.reshape(part.shape[0], CHAINS, -1)  # [N, C, coordinates]
        ess = tfp.mcmc.effective_sample_size(
            tf.constant(draws, tf.float64), cross_chain_dims=1
        ).numpy()
        assert ess.min() > 100, ess
        est_mean = draws.mean(axis=(0, 1))
        est_var = ((draws - mean) ** 2).mean(axis=(0, 1))
        np.testing.assert_array_less(np.abs(est_mean - mean), 4 * np.sqrt(sd**2 / ess))
        np.testing.assert_array_less(np.abs(est_var - sd**2), 4 * np.sqrt(2 * sd**4 / ess))
    # acceptance and step size are the first part's: it adapted to the target's 0.75
    accepted = run.counts["accepted"] / run.counts["steps"]
    assert np.all((accepted > 0.6) & (accepted < 0.9)), accepted


def test_the_second_part_moves_only_every_kth_step():
    state = [tf.zeros([CHAINS, 3]), tf.zeros([CHAINS, 2, 2, 1])]
    run = chain.run_chains(
        alternating(3, None), state, chain.ChainPlan(9, 0, 0, 9), seed=2, progress=False
    )
    first, second = run.samples  # after steps 1..9
    assert np.all(np.any(np.diff(first.reshape(9, -1), axis=0) != 0, axis=1))
    changed = [bool(np.any(second[i] != (second[i - 1] if i else 0.0))) for i in range(9)]
    # steps 3, 6 and 9 may move it (a rejected proposal keeps it), the others never do
    assert not any(c for i, c in enumerate(changed) if (i + 1) % 3)
    assert any(changed[2::3])


# As in test_sampling_facets: with the prior N(0, 1/lam) on the spectrum, a 1x1 convolution
# with weights 16 lam T m keeps the mean colour at about m, so no pixel leaves (0, 1).
LAM, MEAN = 25.0, 0.5


def mean_colour() -> keras.Model:
    """A 1x1 convolution reading the colours: it barely sees a warp of the image."""
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(1, 1, name="read")(inputs)
    model = keras.Model(inputs, outputs)
    weights = np.full((1, 1, 3, 1), 16 * LAM * MEAN, "float32")
    model.get_layer("read").set_weights([weights, np.zeros(1, "float32")])
    return model


@pytest.mark.parametrize("warp_every", [0, pytest.param(2, marks=pytest.mark.slow)])
def test_render_warps_each_facet_only_when_asked(warp_every):
    rng = np.random.default_rng(0)
    size, chains = 16, 2  # below 1/16 cycle per pixel only the mean colour moves
    start = np.clip(MEAN + 0.1 * rng.standard_normal((chains, size, size, 3)), 0.2, 0.8)
    result = samplevis.render(
        samplevis.Model(mean_colour()),
        objectives.channel("read", 0),
        hmc_opts=dict(
            init=start.astype("float32"),
            temperature=1.0,
            prior_weight=LAM,
            num_transforms=0,
            num_results=4,
            num_burnin_steps=20,
            num_steps_between_results=1,
            num_leapfrog_steps=2,
            warp_every=warp_every,
        ),
        param_f=lambda: param.image(size, batch=chains, decorrelate=False, sigmoid=False),
        seed=0,
        progress=False,
    )
    coarse = 6  # the mean of 3 colours, real and imaginary parts
    assert result.num_moving == coarse + (2 * WARP_GRID**2 if warp_every else 0)
    detail = result.images - result.images.mean(axis=(2, 3), keepdims=True)
    start_detail = np.broadcast_to(start - start.mean(axis=(1, 2), keepdims=True), detail.shape)
    # without the warp only colour and brightness move; with it, the texture itself moves
    # (under the prior N(0, 1/lam) a warp unit moves the image by about 3 px)
    moved = np.abs(detail - start_detail).max(axis=(2, 3, 4))
    if warp_every:
        assert np.all(moved > 0.1), moved
    else:
        np.testing.assert_allclose(detail, start_detail, atol=1e-5)


def test_the_warp_is_off_by_default_and_needs_a_cutoff_and_plain_hmc():
    assert resolve_options(None).warp_every == 0
    assert resolve_options(dict(warp_every=4)).warp_every == 4
    with pytest.raises(OptionError, match="warp_every=0"):
        resolve_options(dict(cutoff=None, warp_every=2))
    with pytest.raises(OptionError, match="warp_every=0"):
        resolve_options(dict(kernel="nuts", warp_every=4))
    with pytest.raises(OptionError, match="warp_every=0"):
        resolve_options(dict(mass="fisher", warp_every=4))
    with pytest.raises(OptionError, match="warp_every"):
        resolve_options(dict(warp_every=-1))


def test_a_moved_warped_facet_starts_where_the_chains_stopped():
    image = param.image(32, batch=2)
    chains = facet.chain_state(image, image.init(0)[0].numpy(), 1 / 8, warp=True)
    coarse, warp = chains.init()
    final = (
        (coarse + 1.0).numpy(),
        np.full(warp.shape, 0.25, np.float32),
    )
    again = facet.moved(chains, final)
    np.testing.assert_array_equal(again.init()[0].numpy(), final[0])
    np.testing.assert_array_equal(again.init()[1].numpy(), final[1])
    # the coefficients above the cutoff are still the first start's
    fine = ~chains.base.moving
    np.testing.assert_array_equal(again.base.start[:, fine], chains.base.start[:, fine])
