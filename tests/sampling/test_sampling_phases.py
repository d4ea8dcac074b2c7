"""The phases before sampling, each called on its own: the starts (`starts.find_starts`), the
temperature (`temperature.choose_temperature`) and its adaptation (`temperature.adaptation`).

The temperature's tests use an objective linear in the state: with a pixel state z and a
sigmoid image, logit(image) = z, so A(z) = B + mean(z) over the pixels of one image. Under a
prior N(0, I / lam) the floor a0 = E[A] = B exactly, and a hand-built start of constant z = s
has a* = B + s.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives, param
from samplevis.optvis import optimize, renderer
from samplevis.optvis.evaluation import objective_of
from samplevis.optvis.param.base import normal_state
from samplevis.runtime.checks import OptionWarning
from samplevis.runtime.seeds import as_seed, fold_in
from samplevis.sampling.density import chain_param as facet
from samplevis.sampling.density import log_density as log_density_lib
from samplevis.sampling.density import temperature
from samplevis.sampling.options import STARTS, resolve_options
from samplevis.sampling.starts import chains as starts

from conftest import (
    InterruptingBar,
    brightness_above_half,
    dead_keras_model,
    gabor_keras_model,
)

SIZE, CHAINS = 16, 2
SEED = as_seed(0)
GRATING = objectives.channel("gabor_relu", 0)


@pytest.fixture(scope="module")
def gabor():
    return samplevis.Model(gabor_keras_model())


def log_density_of(model, objective, image_param, prior_weight=1.0):
    """The target at T = 1 with no transforms: its activation is the objective of the images."""
    return log_density_lib.make_log_density(model, objective, image_param, 1.0, prior_weight)


def find(model, objective, image_param, opts, log_density, log_dir=None):
    """`find_starts` from SEED with the options render passes it."""
    return starts.find_starts(
        model,
        objective,
        image_param,
        log_density,
        SEED,
        False,
        log_dir,
        start=opts.start,
        init=opts.init,
        optimize_steps=opts.optimize_steps,
        start_diversity=opts.start_diversity,
    )


# ---- find_starts ----------------------------------------------------------------------------


def test_given_images_are_the_starts_state_and_their_objective_is_a_star(gabor):
    rng = np.random.default_rng(0)
    images = rng.uniform(0.1, 0.9, (CHAINS, SIZE, SIZE, 3)).astype(np.float32)
    image_param = param.image(SIZE, batch=CHAINS)
    opts = resolve_options(dict(init=images))
    log_density = log_density_of(gabor, GRATING, image_param)
    found = find(gabor, GRATING, image_param, opts, log_density)
    np.testing.assert_allclose(image_param.to_image(found.state).numpy(), images, atol=1e-4)
    expected = objective_of(gabor, GRATING, tf.constant(images), tf.constant(images)).numpy()
    np.testing.assert_allclose(found.activations, expected, rtol=1e-4, atol=1e-6)
    assert not found.interrupted
    np.testing.assert_array_equal(found.dead, [False, False])  # given starts are never re-seeded
    np.testing.assert_array_equal(found.saturated, [False, False])  # a ReLU of a linear filter


def test_prior_starts_are_the_seeds_standard_normal_state(gabor):
    image_param = param.image(SIZE, batch=CHAINS)
    opts = resolve_options(dict(init="prior", temperature=0.1))
    log_density = log_density_of(gabor, GRATING, image_param)
    found = find(gabor, GRATING, image_param, opts, log_density)
    drawn = normal_state(image_param.state_shapes, SEED, 1.0)
    for part, expected in zip(found.state, drawn):
        np.testing.assert_array_equal(part.numpy(), expected.numpy())
    z = np.concatenate([p.numpy().ravel() for p in found.state])
    assert abs(z.mean()) < 0.1 and z.std() == pytest.approx(1.0, abs=0.1)
    np.testing.assert_allclose(found.activations, log_density.activation(*drawn).numpy(), rtol=1e-6)
    assert not found.interrupted and not found.dead.any()


def test_find_starts_makes_the_start_kinds_options_resolved_but_photos_which_it_refuses(gabor):
    assert set(starts.CHAIN_STARTS) == set(STARTS) - {"photos"}
    image_param = param.image(SIZE, batch=CHAINS)
    log_density = log_density_of(gabor, GRATING, image_param)
    with pytest.raises(ValueError, match="Photos' facets start from their clusters"):
        starts.find_starts(
            gabor,
            GRATING,
            image_param,
            log_density,
            SEED,
            False,
            start="photos",
            init="optimize",
            optimize_steps=8,
        )


def test_optimized_starts_are_render_vis_images_and_beat_prior_images(gabor, tmp_path):
    image_param = param.image(32, batch=CHAINS)  # at 16 px this seed leaves a start dead
    opts = resolve_options(dict(optimize_steps=32))
    log_density = log_density_of(gabor, GRATING, image_param)
    found = find(gabor, GRATING, image_param, opts, log_density, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["starts"]  # no start dead: no re-seed
    # the same optimization render_vis runs from the same seed, none of it dead
    probe = samplevis.render_vis(
        gabor, GRATING, param_f=image_param, thresholds=(32,), progress=False, seed=SEED
    )[-1]
    np.testing.assert_allclose(image_param.to_image(found.state).numpy(), probe, atol=1e-6)
    # every start beats each of 16 images drawn from the prior the chains sample under,
    # N(0, I / lam) with lam matched to the starts
    sd = 1 / np.sqrt(log_density_lib.matched_prior_weight(found.state))
    prior = [
        log_density.activation(*normal_state(image_param.state_shapes, fold_in(SEED, k), sd))
        for k in range(8)
    ]
    assert found.activations.min() > np.max(prior) > 0
    assert not found.dead.any() and not found.interrupted


def test_start_diversity_optimizes_the_starts_with_lucids_diversity_term(gabor):
    image_param = param.image(32, batch=CHAINS)
    opts = resolve_options(dict(optimize_steps=16, start_diversity=2.0))
    log_density = log_density_of(gabor, GRATING, image_param)
    found = find(gabor, GRATING, image_param, opts, log_density)
    diverse = GRATING - 2.0 * objectives.diversity("gabor_relu")
    probe = samplevis.render_vis(
        gabor, diverse, param_f=image_param, thresholds=(16,), progress=False, seed=SEED
    )[-1]
    np.testing.assert_allclose(image_param.to_image(found.state).numpy(), probe, atol=1e-6)
    plain = find(gabor, GRATING, image_param, resolve_options(dict(optimize_steps=16)), log_density)
    assert np.abs(image_param.to_image(plain.state).numpy() - probe).max() > 0.01
    # a* is the objective alone, without the diversity term
    np.testing.assert_allclose(found.activations, log_density.activation(*found.state), rtol=1e-6)


def test_starts_at_a_dead_unit_are_reseeded_and_reported_dead_when_none_revives(tmp_path):
    model = samplevis.Model(dead_keras_model())
    dead_unit = objectives.channel("dead", 0)
    image_param = param.image(SIZE, batch=CHAINS)
    opts = resolve_options(dict(optimize_steps=4))
    log_density = log_density_of(model, dead_unit, image_param)
    found = find(model, dead_unit, image_param, opts, log_density, tmp_path)
    # the first optimization and RESEEDS more, each in its own log folder
    assert starts.RESEEDS == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "starts",
        "starts_reseed1",
        "starts_reseed2",
    ]
    np.testing.assert_array_equal(found.activations, [0.0, 0.0])  # bias -100: off everywhere
    np.testing.assert_array_equal(found.dead, [True, True])
    np.testing.assert_array_equal(found.saturated, [False, False])
    # dead: objective <= 0 and no gradient; saturated needs an objective above 0
    assert starts.flat(log_density, found.state).all()


def test_dead_starts_are_optimized_again_from_other_seeds_and_live_ones_are_kept(gabor):
    objective = brightness_above_half()
    image_param = param.image(SIZE, batch=6)
    opts = resolve_options(dict(num_chains=6, optimize_steps=8))
    log_density = log_density_of(gabor, objective, image_param)
    first = samplevis.render_vis(
        gabor, objective, param_f=image_param, thresholds=(8,), progress=False, seed=SEED
    )[-1]
    alive = first.mean(axis=(1, 2, 3)) > 0.5
    assert 2 <= int(np.sum(~alive)) < 6  # the seed leaves some starts dead, some alive
    found = find(gabor, objective, image_param, opts, log_density)
    images = image_param.to_image(found.state).numpy()
    np.testing.assert_allclose(images[alive], first[alive], atol=1e-6)  # kept as they were
    np.testing.assert_allclose(
        found.activations, np.maximum(images.mean(axis=(1, 2, 3)) - 0.5, 0), atol=1e-5
    )
    assert int(np.sum(found.dead)) < int(np.sum(~alive))  # some revived
    np.testing.assert_array_equal(found.dead, found.activations <= 0)


def test_ctrl_c_while_optimizing_returns_the_state_reached_and_no_verdict(gabor, monkeypatch):
    monkeypatch.setattr(renderer, "_progress_bar", lambda *a: InterruptingBar(at_call=1))
    image_param = param.image(SIZE, batch=CHAINS)
    opts = resolve_options(dict(optimize_steps=2 * optimize.STEPS_PER_CALL))
    log_density = log_density_of(gabor, GRATING, image_param)
    with pytest.warns(UserWarning, match="interrupted"):
        found = find(gabor, GRATING, image_param, opts, log_density)
    assert found.interrupted
    probe = samplevis.render_vis(
        gabor,
        GRATING,
        param_f=image_param,
        thresholds=(optimize.STEPS_PER_CALL,),
        progress=False,
        seed=SEED,
    )[-1]
    np.testing.assert_allclose(image_param.to_image(found.state).numpy(), probe, atol=1e-6)
    np.testing.assert_array_equal(found.dead, [False, False])  # not judged, not re-seeded
    np.testing.assert_array_equal(found.saturated, [False, False])


# ---- choose_temperature and adaptation --------------------------------------------------------

OFFSET = 3.0  # B


def linear_in_state():
    """A(z) = B + mean(logit(image)) = B + mean(z) for `pixel_param`'s images."""
    return objectives.Objective(
        lambda T: OFFSET + tf.reduce_mean(tf.math.log(T("input") / (1 - T("input"))), [1, 2, 3]),
        name="linear_in_state",
    )


def pixel_param():
    """Images sigmoid(z) of a pixel state z [C, 8, 8, 3] (no colour decorrelation)."""
    return param.image(8, batch=CHAINS, fft=False, decorrelate=False)


def hand_built_starts(log_density, levels):
    """Starts whose state is the constant levels[c] on chain c."""
    shape = log_density.image_param.state_shapes[0]
    state = (tf.constant(np.broadcast_to(np.reshape(levels, [-1, 1, 1, 1]), shape), tf.float32),)
    activations = log_density.activation(*state).numpy()
    none = np.zeros(len(levels), bool)
    return starts.Starts(state, activations, none, False, none)


@pytest.fixture(scope="module")
def linear(gabor):
    return log_density_of(gabor, linear_in_state(), pixel_param())


def choose(log_density, image_param, found, opts):
    """`choose_temperature` with the options render passes it."""
    return temperature.choose_temperature(
        log_density,
        image_param,
        found,
        SEED,
        start=opts.start,
        prior_weight=opts.prior_weight,
        temperature=opts.temperature,
        target_ratio=opts.target_ratio,
    )


def adapt(chosen, found, opts):
    """`adaptation` with the options render passes it."""
    return temperature.adaptation(chosen, found, opts.target_ratio, opts.temperature_steps)


def test_the_linear_objective_is_b_plus_the_mean_state(linear):
    found = hand_built_starts(linear, [1.0, 3.0])
    np.testing.assert_allclose(found.activations, [OFFSET + 1, OFFSET + 3], rtol=1e-5)


def test_a_change_of_t_rescales_log_pi_and_its_gradient_as_the_network_gives_them(linear):
    # log pi = (B + mean z) / T - lam |z - c|^2 / 2, so d/dz = 1 / (N T) - lam (z - c)
    rng = np.random.default_rng(0)
    shape = linear.image_param.state_shapes[0]
    z = tf.constant(rng.normal(size=shape), tf.float32)
    centre = tf.constant(rng.normal(size=shape), tf.float32)
    old, new = np.array([0.5, 2.0]), np.array([0.1, 4.0])
    at_old = dataclasses.replace(
        linear, temperature=tf.constant(old, tf.float32), prior_weight=0.7, prior_centre=(centre,)
    )
    at_new = dataclasses.replace(at_old, temperature=tf.constant(new, tf.float32))
    with tf.GradientTape() as tape:
        tape.watch(z)
        log_prob = at_old(z)
    (gradient,) = tape.gradient(log_prob, [z])
    rescaled, (rescaled_gradient,) = at_new.retempered([z], log_prob, [gradient], old)
    n = np.prod(shape[1:])
    mean = np.mean(z.numpy().reshape(CHAINS, -1), axis=1)
    squares = np.sum((z.numpy() - centre.numpy()).reshape(CHAINS, -1) ** 2, axis=1)
    np.testing.assert_allclose(rescaled, (OFFSET + mean) / new - 0.35 * squares, rtol=1e-5)
    expected = 1 / (n * new[:, None, None, None]) - 0.7 * (z.numpy() - centre.numpy())
    np.testing.assert_allclose(rescaled_gradient, expected, rtol=1e-4, atol=1e-6)


def floor_error(prior_weight):
    """Standard deviation of a0 over FLOOR_BATCHES * C draws of D numbers N(0, 1 / lam)."""
    draws = temperature.FLOOR_BATCHES * CHAINS * pixel_param().state_size
    return 1.0 / np.sqrt(prior_weight * draws)


def test_choose_temperature_matches_the_prior_and_applies_the_equipartition_rule(linear):
    found = hand_built_starts(linear, [1.0, 3.0])
    opts = resolve_options(dict(target_ratio=0.75))
    chosen = choose(linear, linear.image_param, found, opts)
    # mean square of the starts (1 + 9) / 2 = 5, so lam = 1 / 5
    assert chosen.prior_weight == pytest.approx(0.2, rel=1e-6)
    assert chosen.floor == pytest.approx(OFFSET, abs=4 * floor_error(0.2))
    assert chosen.ratio_floor == chosen.floor
    d = linear.image_param.state_size
    a_star = OFFSET + 2.0
    assert chosen.rule == pytest.approx(2 * 0.25 * (a_star - chosen.floor) / d, rel=1e-5)
    assert chosen.rule == pytest.approx(2 * 0.25 * 2.0 / d, rel=0.05)  # a* - a0 = mean level


def test_around_a_photos_facet_the_prior_spreads_a_quarter_of_the_starts(linear):
    found = hand_built_starts(linear, [1.0, 3.0])
    # the photo route: init is its examples' folder
    opts = dataclasses.replace(resolve_options(dict(target_ratio=0.75)), init=Path("examples"))
    chosen = choose(linear, linear.image_param, found, opts)
    # mean square (1 + 9) / 2 = 5: a spread of a quarter of its root, lam = 16 / 5
    assert chosen.prior_weight == pytest.approx(3.2, rel=1e-6)
    assert chosen.floor == pytest.approx(OFFSET, abs=4 * floor_error(3.2))
    d = linear.image_param.state_size
    assert chosen.rule == pytest.approx(2 * 0.25 * (OFFSET + 2.0 - chosen.floor) / d, rel=1e-5)


def test_a_given_prior_weight_sets_the_floors_draws_and_zero_means_no_floor(linear):
    found = hand_built_starts(linear, [1.0, 3.0])
    d = linear.image_param.state_size
    given = resolve_options(dict(prior_weight=4.0))
    chosen = choose(linear, linear.image_param, found, given)
    assert chosen.prior_weight == 4.0
    assert chosen.floor == pytest.approx(OFFSET, abs=4 * floor_error(4.0))
    none = resolve_options(dict(prior_weight=0.0))
    flat = choose(linear, linear.image_param, found, none)
    assert flat.prior_weight == 0.0 and flat.floor == 0.0 and flat.ratio_floor == 0.0
    assert flat.rule == pytest.approx(2 * 0.2 * (OFFSET + 2.0) / d, rel=1e-5)  # rho = 0.8


def test_a_given_temperature_is_kept_and_starts_from_the_prior_get_lam_1(linear):
    found = hand_built_starts(linear, [1.0, 3.0])
    opts = resolve_options(dict(init="prior", temperature=0.05))
    chosen = choose(linear, linear.image_param, found, opts)
    assert chosen.rule == 0.05 and chosen.prior_weight == 1.0
    assert chosen.floor == pytest.approx(OFFSET, abs=4 * floor_error(1.0))


def test_starts_below_the_prior_floor_measure_shares_from_zero_with_a_warning(linear):
    found = hand_built_starts(linear, [-1.0, -3.0])  # a* = B - 2, prior images reach B
    opts = resolve_options({})
    with pytest.warns(OptionWarning, match="images drawn from the prior reach") as caught:
        chosen = choose(linear, linear.image_param, found, opts)
    assert "Optimize longer" in str(caught[0].message)  # the default init optimizes
    assert chosen.floor > OFFSET - 2.0 and chosen.ratio_floor == 0.0
    d = linear.image_param.state_size
    assert chosen.rule == pytest.approx(2 * 0.2 * (OFFSET - 2.0) / d, rel=1e-5)


def test_the_rule_counts_the_coefficients_the_chains_move_and_the_floor_the_whole_image(gabor):
    image_param = param.image(SIZE, batch=CHAINS)
    whole = log_density_of(gabor, GRATING, image_param)
    found = find(gabor, GRATING, image_param, resolve_options({}), whole)
    chain_param = facet.chain_parameterization(
        image_param, [s.numpy() for s in found.state], 1 / 16
    )
    moving = log_density_lib.LogDensity(gabor, GRATING, chain_param, 1.0, 1.0)
    chosen = choose(moving, image_param, found, resolve_options({}))
    # 16 px: below 1/16 cycle per pixel only the mean colour moves, 2 parts x 3 channels
    assert chain_param.state_size == 6
    lam = log_density_lib.matched_prior_weight(found.state)
    with_lam = log_density_lib.LogDensity(gabor, GRATING, image_param, 1.0, lam)
    assert chosen.floor == temperature.prior_floor(with_lam, found.state, fold_in(SEED, 1))
    gain = float(np.mean(found.activations)) - chosen.floor
    assert chosen.rule == pytest.approx(2 * 0.2 * gain / 6, rel=1e-6)


def test_no_adaptation_when_t_is_given_or_no_burn_in_step_adapts_it(linear):
    found = hand_built_starts(linear, [1.0, 3.0])
    fixed = temperature.Temperature(0.2, OFFSET, 0.05, OFFSET)
    assert adapt(fixed, found, resolve_options(dict(temperature=0.05))) is None
    assert adapt(fixed, found, resolve_options(dict(temperature_steps=0))) is None


def test_the_adaptation_starts_every_chain_at_the_rule_toward_the_target_ratio(linear):
    found = hand_built_starts(linear, [1.0, 3.0])
    opts = resolve_options(dict(target_ratio=0.6, num_burnin_steps=40, temperature_steps=20))
    chosen = choose(linear, linear.image_param, found, opts)
    adapting = adapt(chosen, found, opts)
    assert isinstance(adapting, temperature.TemperatureAdaptation)
    np.testing.assert_allclose(adapting.temperature, [chosen.rule] * CHAINS, rtol=1e-12)
    np.testing.assert_allclose(adapting.variable.numpy(), [chosen.rule] * CHAINS, rtol=1e-6)
    assert adapting.target_ratio == 0.6 and adapting.num_steps == 20
    assert adapting.floor == chosen.ratio_floor
    np.testing.assert_allclose(adapting.init_activations, found.activations, rtol=1e-6)


def test_a_start_at_or_below_the_floor_adapts_against_the_starts_mean(linear):
    found = hand_built_starts(linear, [-4.0, 5.0])  # a* = B - 4 = -1 and B + 5 = 8
    chosen = temperature.Temperature(1.0, 0.0, 0.01, 0.0)  # shares measured from 0
    adapting = adapt(chosen, found, resolve_options({}))
    assert adapting is not None
    np.testing.assert_allclose(adapting.init_activations, [3.5, 8.0], rtol=1e-5)
