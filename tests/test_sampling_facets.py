"""Facets: a chain moves the coarse coefficients of its own start, and each facet's log-mass is
estimated, on targets whose answers are known exactly."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import samplevis
from samplevis import objectives, param
from samplevis.param.fourier import rfft2d_freqs
from samplevis.sampling.mcmc import chain, kernels
from samplevis.sampling.target import facet_mass
from samplevis.sampling.target.facet import FacetImage, moving_mask

SIZE, CHAINS = 16, 2


def test_moving_mask_is_the_coefficients_below_the_cutoff_in_every_channel_and_part():
    image = param.image(32, batch=2)
    mask = moving_mask(image, 1 / 8)
    below = rfft2d_freqs(32, 32) < 1 / 8
    assert mask.shape == (2, 3, 32, 17)
    assert (mask == below).all() and mask.sum() == 6 * below.sum()
    with pytest.raises(ValueError, match="spectral parameterization"):
        moving_mask(param.image(32, fft=False), 1 / 8)


def test_coefficients_above_the_cutoff_keep_the_start_exactly():
    image = param.image(32, batch=2)
    start = image.init(0)[0].numpy() * 50
    facet = FacetImage(image, start, moving_mask(image, 1 / 8))
    moved = facet.init()[0] + tf.random.stateless_normal([2, facet.num_moving], [1, 2])
    spectrum = facet.spectrum((moved,)).numpy()
    np.testing.assert_array_equal(spectrum[:, ~facet.moving], start[:, ~facet.moving])
    np.testing.assert_array_equal(spectrum[:, facet.moving], moved.numpy())
    # the image is the base parameterization's image of that spectrum
    np.testing.assert_array_equal(
        facet.to_image((moved,)).numpy(), image.to_image((tf.constant(spectrum),)).numpy()
    )


# A 1x1 convolution reads the image's colours with weights W, so the objective (its channel's
# mean) is W . mean colour. With `param.image(decorrelate=False, sigmoid=False)` a pixel is the
# spectral tensor itself while it stays in (0, 1), and at 16 px with cutoff 1/16 only the mean
# colour moves: the DC coefficient's real part z_c gives mean colour z_c / 4 (Lucid's scale
# sqrt(16 * 16) * 16 over the inverse FFT's 16 * 16, divided by 4). So with the prior N(0, 1/lam)
# the target is Gaussian: z_c has mean W_c / (4 T lam) and variance 1 / lam, and the imaginary
# part of DC (which no pixel sees) has mean 0 and variance 1 / lam.
LAM, TEMPERATURE = 25.0, 1.0
MEAN_COLOUR = np.array([0.5, 0.6, 0.4])
W = 4 * LAM * TEMPERATURE * 4 * MEAN_COLOUR  # z_c = 4 * mean colour


def colour_reader() -> keras.Model:
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(1, 1, name="read")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("read").set_weights(
        [W.reshape(1, 1, 3, 1).astype("float32"), np.zeros(1, "float32")]
    )
    return model


def linear_image():
    return param.image(SIZE, batch=CHAINS, decorrelate=False, sigmoid=False)


@pytest.fixture(scope="module")
def gaussian_run():
    rng = np.random.default_rng(0)
    # a textured start: its fine detail must survive every move
    start = np.clip(0.5 + 0.05 * rng.standard_normal((CHAINS, SIZE, SIZE, 3)), 0.05, 0.95)
    opts = dict(
        init=start.astype("float32"),
        temperature=TEMPERATURE,
        prior_weight=LAM,
        num_transforms=0,
        num_results=600,
        num_burnin_steps=100,
        num_steps_between_results=1,
        num_leapfrog_steps=4,
        block_steps=200,
        cutoff=1 / 16,
        warp=False,  # the coefficients alone: the warp has tests of its own
        walk=False,  # one Gaussian facet per chain: the walk has tests of its own
    )
    result = samplevis.render(
        samplevis.Model(colour_reader()),
        objectives.channel("read", 0),
        hmc_opts=opts,
        param_f=linear_image,
        seed=0,
        progress=False,
    )
    return start, result


def test_a_gaussian_target_on_the_moving_coefficients_has_its_mean_and_variance(gaussian_run):
    _, result = gaussian_run
    assert result.num_moving == 6  # the DC coefficient of 3 colours, real and imaginary
    colour = result.images.mean(axis=(2, 3))  # [N, C, 3] = z_c / 4
    draws = tf.constant(colour, tf.float64)
    ess = tfp.mcmc.effective_sample_size(draws, cross_chain_dims=1).numpy()
    assert ess.min() > 100, ess
    mean, var = MEAN_COLOUR, 1 / LAM / 16  # (z / 4) has variance 1 / (16 lam)
    est_mean = colour.mean(axis=(0, 1))
    est_var = ((colour - mean) ** 2).mean(axis=(0, 1))
    np.testing.assert_array_less(np.abs(est_mean - mean), 4 * np.sqrt(var / ess))
    np.testing.assert_array_less(np.abs(est_var - var), 4 * np.sqrt(2 * var**2 / ess))


def test_the_detail_above_the_cutoff_is_the_starts_in_every_sample(gaussian_run):
    start, result = gaussian_run
    detail = result.images - result.images.mean(axis=(2, 3), keepdims=True)
    start_detail = start - start.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(detail, np.broadcast_to(start_detail, detail.shape), atol=1e-5)


# Two Gaussian basins: log pi(u) = logsumexp_k [b_k - h_k |u - m_k|^2 / 2] in D dimensions.
# Basin k holds exp(b_k) (2 pi / h_k)^(D / 2).
D = 12
HEIGHTS = np.array([0.0, -3.0])
PRECISIONS = np.array([4.0, 1.0])
MODES = np.stack([np.full(D, -3.0), np.full(D, 3.0)]).astype(np.float32)


def two_basins(u):
    terms = [
        b - h * tf.reduce_sum((u - m) ** 2, -1) / 2 for b, h, m in zip(HEIGHTS, PRECISIONS, MODES)
    ]
    return tf.reduce_logsumexp(tf.stack(terms), axis=0)


def test_each_chain_stays_in_its_basin_and_log_masses_are_the_analytic_ones():
    start = tf.constant(MODES)  # chain k starts at mode k
    exact = HEIGHTS + D / 2 * np.log(2 * np.pi / PRECISIONS)
    estimated = facet_mass.laplace_log_mass(
        two_basins, [start], [np.zeros(D, np.int64)], prior_weight=1.0, seed=0
    )
    np.testing.assert_allclose(facet_mass.relative(estimated), exact - exact.max(), atol=0.5)
    kernel = kernels.make_kernel(
        two_basins,
        "hmc",
        kernels.per_chain_step_size(0.3, [start]),
        num_leapfrog_steps=8,
        num_adaptation_steps=80,
    )
    run = chain.run_chains(
        kernel, [start], chain.ChainPlan(200, 100, 0, 100), seed=1, progress=False
    )
    nearest = np.argmin([np.linalg.norm(run.samples[0] - m, axis=-1) for m in MODES], axis=0)
    np.testing.assert_array_equal(nearest, np.broadcast_to([0, 1], nearest.shape))


def test_the_log_mass_sentence_names_the_heaviest_facet_and_says_the_samples_weigh_all_equally():
    text = facet_mass.sentence(facet_mass.relative([-3.0, -1.0, -900.0]))
    assert text.startswith("facet log-masses (nats, relative to the heaviest): -2, 0, -899.")
    assert "facet 1" in text and "1 other facet is within a factor of 10" in text
    assert "equally" in text
    assert "not measured" in facet_mass.sentence([np.nan, np.nan])


def test_render_reports_a_log_mass_per_facet_relative_to_the_heaviest(gaussian_run):
    _, result = gaussian_run
    assert result.log_masses.shape == (CHAINS,) and np.nanmax(result.log_masses) == 0
    assert result.mass_sentence.startswith("facet log-masses")


def test_cutoff_none_moves_the_whole_state(gaussian_run):
    start, _ = gaussian_run
    opts = dict(
        init=start.astype("float32"),
        temperature=TEMPERATURE,
        prior_weight=LAM,
        num_transforms=0,
        num_results=2,
        num_burnin_steps=4,
        block_steps=4,
        num_steps_between_results=0,
        num_leapfrog_steps=2,
        cutoff=None,
    )
    result = samplevis.render(
        samplevis.Model(colour_reader()),
        objectives.channel("read", 0),
        hmc_opts=opts,
        param_f=linear_image,
        seed=0,
        progress=False,
    )
    assert result.num_moving == linear_image().state_size and result.cutoff is None
