"""What the facet search compares: the layer it reads (`upstream_layer`) and each image's
centred, spatially pooled features there (`pooled`, `features`)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from samplevis.models import Model


def pooled(features: tf.Tensor) -> tf.Tensor:
    """Centred, spatially pooled, unit-length features [B, D] of a layer's [B, H, W, D] (or
    [B, D])."""
    f = tf.reduce_mean(features, [1, 2]) if len(features.shape) == 4 else features
    f = f - tf.reduce_mean(f, axis=1, keepdims=True)
    return f / (tf.norm(f, axis=1, keepdims=True) + 1e-8)


def features(model: Model, images: np.ndarray, layer: str) -> np.ndarray:
    """Pooled features [B, D] of images [B, H, W, 3] in [0, 1] (see `pooled`)."""
    return pooled(model.features(tf.constant(images, tf.float32), [layer])[layer]).numpy()


def upstream_layer(model: Model, layer: str) -> str:
    """The layer whose features `layer`'s units are one convolution away from: the input of the
    nearest Conv2D, DepthwiseConv2D or Dense at or before `layer` along single-input layers
    (batch norms, activations); `layer` itself where that path ends first (an addition, the
    model's input) or the model is no Keras graph.

    A unit's facets differ in which upstream features it sums; in its own layer they are one
    channel among hundreds and pool to nearly the same vector (docs/sampling_designs.md, "The
    facet search")."""
    import keras

    try:
        current = model.keras_model.get_layer(layer)
        for _ in range(64):  # a path of single-input layers; real ones are a few long
            source = current.input
            if isinstance(source, (list, tuple)):
                return layer
            previous = source._keras_history[0]
            convolutions = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
            if isinstance(current, convolutions):
                name = previous.name
                return name if name in model.layer_names else layer
            if isinstance(previous, keras.layers.InputLayer):
                return layer
            current = previous
    except (AttributeError, ValueError):
        pass
    return layer
