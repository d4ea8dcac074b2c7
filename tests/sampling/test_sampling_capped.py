"""A capped objective (a ReLU6 unit at its cap) is warned about, with the layer before the cap."""

import warnings

import keras
import numpy as np
import pytest

import samplevis
from samplevis import objectives, param
from samplevis.models.redirect import relu_cap
from samplevis.runtime.checks import OptionWarning

SIZE, CHAINS = 16, 2
QUICK = dict(
    num_results=2,
    num_burnin_steps=4,
    num_steps_between_results=0,
    optimize_steps=4,
    num_leapfrog_steps=2,
    temperature_steps=0,
    num_transforms=0,
)


def capped_model() -> keras.Model:
    """conv -> ReLU6. Channel 0 of conv is 100 x the sum of R, G and B, so any image brighter than
    1/50 on average puts that unit of the ReLU6 at its cap of 6; channel 1 is 0.1 x the sum."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 1, name="conv")(inputs)
    x = keras.layers.ReLU(max_value=6.0, name="capped")(x)
    model = keras.Model(inputs, x)
    kernel = np.zeros([1, 1, 3, 2], np.float32)
    kernel[..., 0], kernel[..., 1] = 100.0, 0.1
    model.get_layer("conv").set_weights([kernel, np.zeros([2], np.float32)])
    return model


@pytest.fixture(scope="module")
def model():
    return samplevis.Model(capped_model())


def render(model, objective):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = samplevis.render(
            model,
            objective,
            hmc_opts=QUICK,
            param_f=param.image(SIZE, batch=CHAINS),
            seed=0,
            progress=False,
        )
    return result, [w for w in caught if "with no gradient" in str(w.message)]


def test_starts_at_a_relu6_cap_are_warned_about_naming_the_layer_before_the_cap(model):
    result, caught = render(model, objectives.neuron("capped", 0))
    np.testing.assert_array_equal(result.init_activations, [6.0, 6.0])
    assert len(caught) == 1 and isinstance(caught[0].message, OptionWarning)
    message = str(caught[0].message)
    assert message.startswith("chains [0, 1] start at objective 6, 6 with no gradient: ")
    assert "'capped' is a ReLU capped at 6" in message
    assert "Read the same unit of 'conv', the layer before the cap" in message
    assert "neuron('conv', 0, x=None, y=None)" in message
    assert caught[0].filename == __file__  # it points at the call


def test_the_same_unit_before_the_cap_climbs_past_it_and_is_not_warned_about(model):
    result, caught = render(model, objectives.neuron("conv", 0))
    assert np.all(result.init_activations > 6.0)
    assert caught == []


def test_a_relu6_unit_below_its_cap_is_not_warned_about(model):
    result, caught = render(model, objectives.neuron("capped", 1))  # at most 0.3 on [0, 1] images
    assert np.all(result.init_activations > 0) and np.all(result.init_activations < 6.0)
    assert caught == []


def test_relu_cap_reads_relu6_layers_and_fused_relu6_activations():
    assert relu_cap(keras.layers.ReLU(max_value=6.0)) == 6.0
    assert relu_cap(keras.layers.Activation("relu6")) == 6.0
    assert relu_cap(keras.layers.Conv2D(2, 1, activation="relu6")) == 6.0
    assert relu_cap(keras.layers.ReLU()) is None
    assert relu_cap(keras.layers.Activation("relu")) is None
    assert relu_cap(keras.layers.Dense(2)) is None
