"""Batch normalization folded into convolutions computes what the network computes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis.models.folded_batch_norm import FoldedConvolution, fold_batch_norms


def _set_statistics(norm: keras.layers.BatchNormalization, seed: int) -> None:
    """Moving statistics, scale and offset far from their initial 0, 1, 1, 0."""
    rng = np.random.default_rng(seed)
    for variable in norm.weights:
        shape = variable.shape
        if "variance" in variable.path:
            variable.assign(rng.uniform(0.2, 3.0, shape).astype("float32"))
        else:
            variable.assign(rng.normal(0.0, 1.5, shape).astype("float32"))


def _network() -> keras.Model:
    """Five convolution + BatchNormalization pairs, two of which cannot fold: `shared`'s output
    is also read by the Add, and `tail_bn`'s scale-free norm follows a ReLU, not a convolution."""
    x = inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=True, name="stem")(x)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(6.0, name="stem_relu")(x)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False, name="dw")(x)
    x = keras.layers.BatchNormalization(name="dw_bn")(x)
    x = keras.layers.Conv2D(8, 1, strides=2, use_bias=False, name="project")(x)
    x = keras.layers.BatchNormalization(center=False, scale=False, name="project_bn")(x)
    shared = keras.layers.Conv2D(8, 1, use_bias=False, name="shared")(x)
    x = keras.layers.BatchNormalization(name="shared_bn")(shared)
    x = keras.layers.Add(name="add")([x, shared])
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.BatchNormalization(name="tail_bn")(x)
    model = keras.Model(inputs, x)
    for i, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.BatchNormalization):
            _set_statistics(layer, i)
    return model


def _images(batch: int = 2) -> tf.Tensor:
    return tf.random.stateless_uniform((batch, 16, 16, 3), (1, 2), -2.0, 2.0)


def _outputs_and_input_gradient(model: keras.Model, x: tf.Tensor):
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = model(x, training=False)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        total = tf.add_n([tf.reduce_sum(tf.sin(y)) for y in outputs])
    return [y.numpy() for y in outputs] + [tape.gradient(total, x).numpy()]


def _assert_computes_the_same(folded: keras.Model, network: keras.Model) -> None:
    """Each output and the input gradient of a function of all of them, to float32 rounding."""
    got = _outputs_and_input_gradient(folded, _images())
    want = _outputs_and_input_gradient(network, _images())
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())


def test_the_folded_network_computes_the_same_outputs_and_input_gradients():
    network = _network()
    folded, count = fold_batch_norms(network)
    assert count == 3  # stem, dw, project; not shared (read twice), not tail_bn (after a ReLU)
    names = {type(layer).__name__ for layer in folded.layers}
    assert "BatchNormalization" in names and "FoldedConvolution" in names
    _assert_computes_the_same(folded, network)


def test_a_kept_convolution_keeps_its_own_output():
    network = _network()
    sub = keras.Model(
        network.inputs, [network.get_layer("dw").output, network.get_layer("dw_bn").output]
    )
    folded, count = fold_batch_norms(sub, keep=["dw"])
    assert count == 1  # stem: the sub-network ends at dw_bn
    assert not isinstance(folded.get_layer("dw"), FoldedConvolution)
    _assert_computes_the_same(folded, sub)


def test_a_convolution_that_is_an_output_is_not_folded():
    network = _network()
    sub = keras.Model(network.inputs, [network.get_layer("project").output, network.output])
    folded, count = fold_batch_norms(sub)
    assert count == 2  # stem, dw
    _assert_computes_the_same(folded, sub)


def test_the_folded_network_follows_weights_set_after_folding():
    network = _network()
    folded, _ = fold_batch_norms(network)
    for name in ("stem", "stem_bn", "dw_bn"):
        for variable in network.get_layer(name).weights:
            variable.assign(variable * 1.5 + 0.25)
    _assert_computes_the_same(folded, network)


def test_a_norm_built_to_use_the_batchs_statistics_is_not_folded():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    network = keras.Model(inputs, keras.layers.BatchNormalization()(x, training=True))
    assert fold_batch_norms(network) == (network, 0)


def test_a_network_with_nothing_to_fold_is_returned_as_it_is():
    inputs = keras.Input((8, 8, 3))
    network = keras.Model(inputs, keras.layers.Conv2D(2, 3, activation="relu")(inputs))
    assert fold_batch_norms(network) == (network, 0)


@pytest.mark.parametrize("redirect_relu", [False, True])
def test_model_features_read_the_network_as_keras_computes_it(redirect_relu):
    network = _network()
    model = samplevis.Model(network)
    images = tf.random.stateless_uniform((2, 16, 16, 3), (3, 4))
    names = ["stem", "dw_bn", "shared", "tail_bn"]
    got = model.features(images, names, redirect_relu=redirect_relu)
    reference = keras.Model(network.inputs, [network.get_layer(n).output for n in names])
    want = reference(images, training=False)
    for name, value in zip(names, want):
        np.testing.assert_allclose(
            got[name].numpy(), value.numpy(), rtol=1e-4, atol=1e-4 * np.abs(value).max()
        )
