"""`render` over the weights of a CPPN: every part of the state moves, starts optimize at the
CPPN's own learning rate."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives, param
from samplevis.runtime.seeds import as_seed, fold_in
from samplevis.sampling.density import chain_param as facet

from conftest import gabor_keras_model

SIZE, CHAINS = 20, 2
OBJECTIVE = objectives.channel("gabor_relu", 0)
OPTS = dict(
    cutoff=None,
    num_results=3,
    num_burnin_steps=6,
    num_steps_between_results=0,
    block_steps=3,
    optimize_steps=8,
    num_leapfrog_steps=2,
    temperature_steps=6,  # the check of T runs the chains over the whole state
    search_rounds=0,  # each chain at its own optimized start, the render_vis image below
    polish_steps=0,  # not climbed further: the start is that image
)


def tiny_cppn():
    # weights [2, 4] + [4], [8, 4] + [4], [8, 3] + [3] per chain: 75 numbers
    return param.cppn(SIZE, batch=CHAINS, num_hidden_channels=4, num_layers=2)


@pytest.fixture(scope="module")
def model():
    return samplevis.Model(gabor_keras_model())


@pytest.fixture(scope="module")
def result(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a run this short is warned about as unsettled
        return samplevis.render(
            model, OBJECTIVE, hmc_opts=OPTS, param_f=tiny_cppn, seed=0, progress=False
        )


def test_render_over_a_cppns_weights_returns_finite_images_of_every_sample(result):
    assert result.images.shape == (3, CHAINS, SIZE, SIZE, 3)
    assert np.all(np.isfinite(result.images))
    assert 0.0 <= result.images.min() and result.images.max() <= 1.0
    assert np.all(np.isfinite(result.activations)) and result.tuning_steps == 6


def test_every_weight_and_bias_of_the_cppn_moves(result):
    assert result.num_moving == tiny_cppn().state_size == 75
    # T by equipartition over all 75 numbers (the rule before the check rescaled it)
    a_star = float(np.mean(result.init_activations))
    floor = result.prior_activation if result.prior_activation < a_star else 0.0
    expected = 2 * (1 - result.options.target_ratio) * (a_star - floor) / 75
    np.testing.assert_allclose(result.rule_temperature, expected, rtol=1e-5)
    assert not np.allclose(result.images[-1], result.init_images, atol=1e-4)  # the chains moved


def test_cppn_starts_are_optimized_at_its_own_learning_rate(model, result):
    expected = samplevis.render_vis(
        model,
        OBJECTIVE,
        param_f=tiny_cppn(),
        optimizer=keras.optimizers.Adam(learning_rate=param.cppn(8).start_learning_rate),
        thresholds=(8,),
        seed=fold_in(as_seed(0), 0),  # the seed render derives for its starts
        progress=False,
    )[-1]
    assert param.cppn(8).start_learning_rate == 0.005  # Lucid's xy2rgb notebook
    np.testing.assert_allclose(result.init_images, expected, atol=1e-6)


def test_the_whole_state_of_a_many_part_start_is_kept_and_a_part_short_is_refused():
    cppn = tiny_cppn()
    start = [s.numpy() for s in cppn.init(3)]
    chains = facet.chain_parameterization(cppn, start, None)
    assert len(chains.init(None)) == len(cppn.state_shapes) == 6
    np.testing.assert_allclose(
        chains.to_image(chains.init(None)), cppn.to_image(tuple(map(tf.constant, start)))
    )
    with pytest.raises(ValueError, match="Pass every part of the state"):
        facet.chain_parameterization(cppn, start[0], None)


def test_a_parameterization_says_what_sampling_may_ask_of_it_a_cppn_no_start_at_an_image():
    cppn, image = tiny_cppn(), param.image(SIZE, batch=CHAINS)
    assert image.starts_at_images and not cppn.starts_at_images
    with pytest.raises(NotImplementedError, match="cannot start at an image"):
        cppn.state_for(np.zeros([CHAINS, SIZE, SIZE, 3], np.float32))
    assert cppn.with_batch(CHAINS) is cppn and cppn.with_batch(CHAINS + 1) is None
    assert image.with_batch(CHAINS + 1).batch == CHAINS + 1
    assert cppn.unwrapped is cppn and cppn.tensor_param is None
    # a warped facet is made over a facet of the image: its spectrum is the image's
    chains = facet.chain_parameterization(image, image.init(0)[0].numpy(), 1 / 4, warp=True)
    assert chains.unwrapped is image and not chains.starts_at_images
    assert facet.fft_tensor(chains) is image.tensor_param
