"""The deformation facet: a smooth warp of each facet's image, moved in a block of its own, on
images and targets whose answers are known exactly."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives, param
from samplevis.runtime.checks import OptionError
from samplevis.sampling.density.chain_param import WARP_GRID, warp_images
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
    # reads past an edge come back from the other side, as in a periodic image: reading 24 px
    # to the left puts the column at x = 20 at x = 44, and a column at 60 wraps round to 20
    warp[..., 0], warp[..., 1] = 0.0, -1.5
    image = bars()
    image[:, :, 60, 2] = 1.0
    wrapped = warp_images(tf.constant(image), tf.constant(warp), pixels=16.0).numpy()
    assert np.argmax(wrapped[0, 10, :, 0]) == 44
    assert np.argmax(wrapped[0, 10, :, 2]) == 20


def test_each_chain_reads_its_own_image_under_its_own_warp():
    # chain 0's bars moved 4 px left, chain 1's (the same bars, 8 px lower) 8 px up: a chain
    # reading another's image would put its row where the other's is
    images = np.concatenate([bars(), np.roll(bars(), 8, axis=1)])
    warp = np.zeros((2, WARP_GRID, WARP_GRID, 2), np.float32)
    warp[0, ..., 1], warp[1, ..., 0] = 0.25, 0.5
    warped = warp_images(tf.constant(images), tf.constant(warp), pixels=16.0).numpy()
    assert np.argmax(warped[0, 10, :, 0]) == 16 and np.argmax(warped[0, :, 30, 1]) == 40
    assert np.argmax(warped[1, 10, :, 0]) == 20 and np.argmax(warped[1, :, 30, 1]) == 40
    # the images' gradient is the warp's adjoint: <warp(x), g> = <x, warp'(g)>
    g = tf.constant(np.random.default_rng(0).normal(size=images.shape), tf.float32)
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        inner = tf.reduce_sum(warp_images(x, tf.constant(warp), pixels=16.0) * g)
    np.testing.assert_allclose(
        float(tf.reduce_sum(tape.gradient(inner, x) * x)), float(inner), rtol=1e-5
    )


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


@pytest.mark.parametrize("warp", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_render_warps_each_facet_unless_told_not_to(warp):
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
            warp=warp,
            polish_steps=0,  # the unit rises with brightness without bound: no optimum to climb to
        ),
        param_f=lambda: param.image(size, batch=chains, decorrelate=False, sigmoid=False),
        seed=0,
        progress=False,
    )
    coarse = 6  # the mean of 3 colours, real and imaginary parts
    assert result.num_moving == coarse + (2 * WARP_GRID**2 if warp else 0)
    detail = result.images - result.images.mean(axis=(2, 3), keepdims=True)
    start_detail = np.broadcast_to(start - start.mean(axis=(1, 2), keepdims=True), detail.shape)
    # without the warp only colour and brightness move; with it, the texture itself moves
    # (under the prior N(0, 1/lam) a warp unit moves the image by about 3 px)
    moved = np.abs(detail - start_detail).max(axis=(2, 3, 4))
    if warp:
        assert np.all(moved > 0.1), moved
        # each sample's warp from its chain's start, in px: a unit of the state is 16 px
        assert result.warps.shape == (4, chains, WARP_GRID, WARP_GRID, 2)
        assert np.all(np.abs(result.warps).max(axis=(2, 3, 4)) > 0.1)
    else:
        np.testing.assert_allclose(detail, start_detail, atol=1e-5)
        assert len(result.warps) == 0  # no warp moved


def test_the_warp_is_on_by_default_wherever_there_is_a_facet():
    assert resolve_options(None).warp is True
    assert resolve_options(dict(warp=False)).warp is False
    assert resolve_options(dict(cutoff=None)).warp is False  # the whole state: no facet to warp
    # the option's default is the facet's: the command line reads it without TensorFlow
    assert resolve_options(None).warp_grid == WARP_GRID
    assert resolve_options(dict(warp_grid=8)).warp_grid == 8
    assert resolve_options(dict(mass="fisher")).warp is False  # a mass of the coefficients
    with pytest.raises(OptionError, match="warp_every is gone.*warp=False"):
        resolve_options(dict(warp_every=4))
    with pytest.raises(OptionError, match="warp_grid"):
        resolve_options(dict(warp_grid=1))
