"""Facets: a chain moves the coarse coefficients of its own start, and each facet's log-mass is
estimated, on targets whose answers are known exactly."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import samplevis
from samplevis import objectives, param
from samplevis.optvis.param.fourier import rfft2d_freqs
from samplevis.sampling.density import facet_mass
from samplevis.sampling.density.chain_param import FacetImage, moving_mask
from samplevis.sampling.mcmc import chain, kernels

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
# sqrt(16 * 16) * 16 over the inverse FFT's 16 * 16, divided by 4). Images given as starts keep
# the prior N(0, 1/lam) (only an optimized facet centres it), so the target is Gaussian: z_c has
# mean W_c / (4 T lam) and variance 1 / lam (mean colour W / (16 T lam), chosen here a little off
# the start's grey so that the chains must move, and inside (0, 1) so that no pixel clips).
LAM, TEMPERATURE = 25.0, 1.0
MEAN_COLOUR = np.array([0.6, 0.55, 0.42])
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
def colour_model():
    """The colour reader, wrapped once: both of its runs read its layers with one extractor."""
    return samplevis.Model(colour_reader())


@pytest.fixture(scope="module")
def gaussian_run(colour_model):
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
        polish_steps=0,  # a linear activation has no optimum to climb to
    )
    result = samplevis.render(
        colour_model,
        objectives.channel("read", 0),
        hmc_opts=opts,
        param_f=linear_image,
        seed=0,
        progress=False,
    )
    return start, result


def test_a_gaussian_target_on_the_moving_coefficients_has_its_mean_and_variance(gaussian_run):
    start, result = gaussian_run
    assert result.num_moving == 6  # the DC coefficient of 3 colours, real and imaginary
    colour = result.images.mean(axis=(2, 3))  # [N, C, 3] = z_c / 4
    draws = tf.constant(colour, tf.float64)
    ess = tfp.mcmc.effective_sample_size(draws, cross_chain_dims=1).numpy()
    assert ess.min() > 100, ess
    mean, var = MEAN_COLOUR, 1 / LAM / 16  # (z / 4): 1 / (16 lam)
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
    estimated = facet_mass.laplace_estimate(
        two_basins, [start], [np.zeros(D, np.int64)], prior_weight=1.0, seed=0
    ).log_mass
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


# Two basins that are Gaussian near their modes and not away from them:
# log pi(u) = logsumexp_k [b_k - h_k sum_i log cosh(u_i - m_k)] in E dimensions. Basin k holds
# exp(b_k) B_k^E with B_k = int cosh(x)^-h_k dx = sqrt(pi) Gamma(h_k / 2) / Gamma((h_k + 1) / 2)
# exactly (the other basin's share there is below e^-50); near its mode it is a Gaussian of
# precision h_k, while 1.5 away from it the curvature is a fifth of that and the slope almost h_k,
# so a Laplace estimate taken there without reaching the mode is tens of nats off.
E = 4
COSH_HEIGHTS = np.array([0.0, -2.0])
COSH_PRECISIONS = np.array([16.0, 4.0])
COSH_MODES = np.stack([np.full(E, -3.0), np.full(E, 3.0)]).astype(np.float32)


def cosh_basins(u):
    terms = [
        b - h * tf.reduce_sum(tf.math.log(tf.math.cosh(u - m)), -1)
        for b, h, m in zip(COSH_HEIGHTS, COSH_PRECISIONS, COSH_MODES)
    ]
    return tf.reduce_logsumexp(tf.stack(terms), axis=0)


def cosh_log_masses() -> np.ndarray:
    h = COSH_PRECISIONS
    one = 0.5 * np.log(np.pi) + np.array([math.lgamma(x / 2) - math.lgamma((x + 1) / 2) for x in h])
    return COSH_HEIGHTS + E * one


@pytest.mark.parametrize("offset", [0.0, 1.5, -1.0])
def test_log_mass_differences_are_the_exact_ones_within_1_nat_from_the_mode_or_away(offset):
    exact = cosh_log_masses()
    start = tf.constant(COSH_MODES + offset)
    estimate = facet_mass.laplace_estimate(
        cosh_basins, [start], [np.zeros(E, np.int64)], prior_weight=1.0, seed=0
    )
    difference = estimate.log_mass[1] - estimate.log_mass[0]
    assert abs(difference - (exact[1] - exact[0])) < 1.0, (difference, exact)
    # each chain's own basin's, not its neighbour's: Newton's steps climbed to its own mode
    np.testing.assert_allclose(estimate.log_mass, exact, atol=0.5)
    below = cosh_basins(tf.constant(COSH_MODES)).numpy() - cosh_basins(start).numpy()
    np.testing.assert_allclose(estimate.climbed, below, atol=0.5)
    assert (estimate.gradient_term < facet_mass.GRADIENT_TOLERANCE).all()
    assert np.isfinite(estimate.error).all()


def test_without_newton_steps_a_start_away_from_the_mode_gets_no_mass():
    start = tf.constant(COSH_MODES + 1.5)
    estimate = facet_mass.laplace_estimate(
        cosh_basins, [start], [np.zeros(E, np.int64)], prior_weight=1.0, seed=0, newton_steps=0
    )
    # the gradient term, not the basin, would carry the estimate: it overshoots the rise to
    # the mode by more than 10 nats, so the estimate is refused
    below = cosh_basins(tf.constant(COSH_MODES)).numpy() - cosh_basins(start).numpy()
    assert (estimate.gradient_term - below > 10).all()
    assert estimate.refused.all() and np.isinf(estimate.error).all()
    assert (estimate.climbed == 0).all()


# A Gaussian whose precision is not diagonal: P = a I + b 11' in F dimensions. Its diagonal is
# a + b everywhere, so with one group the diagonal Laplace estimate is F/2 log(2 pi/(a + b))
# (not the exact log det, which the diagonal cannot see), and each sign vector's estimate
# v * (P v) = a + b + b sum_{j != i} v_i v_j scatters around it: the jackknife's error bar must
# match the scatter of estimates over independent seeds.
F, CROSS = 16, 0.4


def correlated(u):
    return -0.5 * (2.0 * tf.reduce_sum(u * u, -1) + CROSS * tf.reduce_sum(u, -1) ** 2)


def test_the_error_bar_is_the_scatter_of_the_estimate_over_independent_probes():
    start = tf.zeros([2, F])
    runs = [
        facet_mass.laplace_estimate(
            correlated, [start], [np.zeros(F, np.int64)], 1.0, seed=s, probes=8
        )
        for s in range(12)
    ]
    masses = np.stack([r.log_mass for r in runs])  # [seeds, C]
    errors = np.stack([r.error for r in runs])
    scatter, error = masses.std(axis=0, ddof=1), np.sqrt(np.mean(errors**2, axis=0))
    assert (scatter > 0).all()
    np.testing.assert_array_less(error, 2.5 * scatter)
    np.testing.assert_array_less(scatter, 2.5 * error)
    # the estimate scatters around the diagonal's answer
    diagonal = F / 2 * np.log(2 * np.pi / (2.0 + CROSS))
    assert abs(masses.mean() - diagonal) < 3 * scatter.mean()


def test_a_target_without_a_mode_gets_no_mass():
    def rising(u):  # a slope the prior's floor cannot hold: no mode within reach
        return 50.0 * tf.reduce_sum(u, -1)

    estimate = facet_mass.laplace_estimate(
        rising, [tf.zeros([2, 3])], [np.zeros(3, np.int64)], 1.0, seed=0, newton_steps=4
    )
    assert estimate.refused.all() and np.isnan(estimate.log_mass).all()
    assert np.isinf(estimate.error).all()


def test_the_log_mass_sentence_names_the_heaviest_basin_and_says_the_samples_weigh_all_equally():
    text = facet_mass.sentence(facet_mass.relative([-3.0, -1.0, -900.0]))
    assert text.startswith(
        "log-masses of each chain's basin (nats, relative to the heaviest): -2, 0, -899."
    )
    assert (
        "Chain 1's basin is the widest" in text and "1 other basin is within a factor of 10" in text
    )
    assert "equally" in text
    assert "not measured" in facet_mass.sentence([np.nan, np.nan])


def test_the_sentence_gives_error_bars_and_says_which_facets_the_masses_do_not_tell_apart():
    relative = facet_mass.relative([-3.0, -1.0, -900.0, np.nan])
    text = facet_mass.sentence(relative, [0.8, 0.7, 2.0, np.inf])
    assert text.startswith(
        "log-masses of each chain's basin (nats, relative to the heaviest): -2.0 ± 0.8, 0.0 ± 0.7, -899 ± 2, none."
    )
    # 2 nats apart with an error of 1.06 on the difference: within twice of it
    assert "Chain 0 and 1: within the error, the masses do not tell these basins apart." in text
    assert (
        "The basin of chain 3 has no mass: Newton's method from the start did not reach a mode"
        in text
    )
    apart = facet_mass.sentence(relative[:3], [0.2, 0.2, 2.0])
    assert "within the error" not in apart and "no mass" not in apart


def test_render_reports_a_log_mass_per_facet_relative_to_the_heaviest(gaussian_run):
    _, result = gaussian_run
    assert result.log_masses.shape == (CHAINS,) and np.nanmax(result.log_masses) == 0
    assert result.mass_sentence.startswith("log-masses of each chain's basin")
    # a Gaussian target: every group's curvature is the prior's, so the probes agree exactly and
    # the error is only the gradient term Newton's steps leave on their way from the start
    assert result.log_mass_errors.shape == (CHAINS,)
    assert (result.log_mass_errors < facet_mass.GRADIENT_TOLERANCE / 10).all()


def test_cutoff_none_moves_the_whole_state(colour_model, gaussian_run):
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
        colour_model,
        objectives.channel("read", 0),
        hmc_opts=opts,
        param_f=linear_image,
        seed=0,
        progress=False,
    )
    assert result.num_moving == linear_image().state_size and result.cutoff is None
