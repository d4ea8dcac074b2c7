"""Keras application presets: each reproduces its own preprocess_input and keeps its layer names."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from samplevis import Model
from samplevis.zoo import APPLICATIONS, keras_application

# A layer every Keras user of that application knows, read from the Keras source.
KNOWN_LAYER = {
    "inception_v3": "mixed4",
    "vgg16": "block5_conv3",
    "vgg19": "block5_conv4",
    "resnet50": "conv4_block6_out",
    "resnet50_v2": "post_relu",
    "mobilenet_v2": "block_13_expand_relu",
    "efficientnet_b0": "block5c_add",
    "convnext_tiny": "convnext_tiny_stage_2_block_8_identity",
}


def _small_shape(name: str) -> tuple[int, int, int]:
    size = APPLICATIONS[name].min_size  # the smallest size keeps building and running quick
    return (size, size, 3)


@pytest.fixture(scope="module", params=sorted(KNOWN_LAYER))
def preset(request):
    """(name, Model) built once per application with random weights at its smallest size."""
    name = request.param
    return name, keras_application(name, weights=None, input_shape=_small_shape(name))


def _images(shape, batch=2, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (batch, *shape)).astype(np.float32)


def test_the_presets_are_the_eight_documented_applications():
    assert set(APPLICATIONS) == set(KNOWN_LAYER)


def test_to_input_equals_the_applications_preprocess_input_on_0_255(preset):
    name, model = preset
    x = _images(_small_shape(name))
    expected = getattr(keras.applications, APPLICATIONS[name].module).preprocess_input(x * 255.0)
    got = model.to_input(x).numpy()
    assert got.shape == x.shape
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-5, atol=1e-4)


def test_preprocessing_has_the_documented_style(preset):
    name, model = preset
    grey = np.full([1, *_small_shape(name)], 0.5, np.float32)
    pixel = model.to_input(grey).numpy()[0, 0, 0]
    style = APPLICATIONS[name].preprocessing
    if style == "caffe":  # BGR order, mean subtracted: blue has the smallest mean, so is largest
        np.testing.assert_allclose(pixel, 127.5 - np.array([103.939, 116.779, 123.68]), atol=1e-4)
    elif style == "tf":
        np.testing.assert_allclose(pixel, 0.0, atol=1e-6)
    else:
        np.testing.assert_allclose(pixel, 127.5, atol=1e-4)
    assert {
        "inception_v3": "tf",
        "vgg16": "caffe",
        "vgg19": "caffe",
        "resnet50": "caffe",
        "resnet50_v2": "tf",
        "mobilenet_v2": "tf",
        "efficientnet_b0": "none",
        "convnext_tiny": "none",
    }[name] == style


def test_forward_pass_resizes_and_gives_probabilities_from_the_logits_layer(preset):
    name, model = preset
    x = _images((48, 40, 3))  # not the input shape: resized to it
    acts = model.activations(x, ["logits", "predictions"])
    assert acts["logits"].shape == acts["predictions"].shape == (2, 1000)
    np.testing.assert_allclose(acts["predictions"].sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        tf.nn.softmax(acts["logits"]).numpy(), acts["predictions"], rtol=1e-4, atol=1e-7
    )


def test_layer_names_keep_the_applications_own_names(preset):
    name, model = preset
    names = set(model.layer_names)
    assert {KNOWN_LAYER[name], "logits", "predictions"} <= names
    assert set(APPLICATIONS[name].example_layers) <= names
    assert model.name == name and model.input_size == _small_shape(name)[:2]


def test_unknown_name_lists_the_valid_names_closest_first():
    with pytest.raises(
        ValueError, match=r"'resnet5'.*expected one of: resnet50, resnet50_v2, "
    ) as err:
        keras_application("resnet5", weights=None)
    assert all(name in str(err.value) for name in APPLICATIONS)


def test_input_smaller_than_the_minimum_says_the_minimum():
    with pytest.raises(ValueError, match=r"H, W >= 75.*\(299, 299, 3\)"):
        keras_application("inception_v3", weights=None, input_shape=(64, 64, 3))


def test_without_top_the_network_is_fully_convolutional():
    model = keras_application("vgg16", weights=None, include_top=False)
    assert isinstance(model, Model) and model.input_size is None
    assert "logits" not in model.layer_names and model.layer_names[-1] == "block5_pool"
    assert model(_images((64, 96, 3), batch=1)).shape == (1, 2, 3, 512)


def test_imagenet_weights_without_a_network_say_how_to_work_offline(no_network):
    with pytest.raises(
        ConnectionError,
        match=r"downloading mobilenet_v2's ImageNet weights failed "
        r"\(URL fetch failure.*weights=None",
    ):
        keras_application("mobilenet_v2")
