"""Batch objectives: an image's value depends on the other images of its batch (Lucid's
`diversity`, `alignment`, `channel_interpolate`)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from samplevis.models import INPUT
from samplevis.optvis.objectives.algebra import (
    Objective,
    _channel_index,
    _channel_mean,
    _check_channel,
)
from samplevis.runtime.checks import is_number


def _grams(acts: tf.Tensor) -> tf.Tensor:
    """L2-normalized Gram matrices [B, C, C] of activations [B, H, W, C]."""
    flat = tf.reshape(acts, [tf.shape(acts)[0], -1, acts.shape[-1]])
    grams = tf.matmul(flat, flat, transpose_a=True)
    return tf.math.l2_normalize(grams, axis=[1, 2], epsilon=1e-10)  # epsilon from Lucid


def diversity(layer: str) -> Objective:
    """Cosine similarity of an image's Gram matrix at `layer` to the other images', summed over
    them and divided by the batch size (Lucid's scaling: (B - 1) / B times the mean).

    A penalty, as in Lucid: subtract it with a weight (e.g. `- 100 * diversity("block5c_add")`) to
    make the images of a batch differ in style. Zero for a batch of one.

    Args:
        layer: a layer name with positions, [B, H, W, C].

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel("block5c_add", 12) - 100 * diversity("block4c_add")
    """

    def fn(T, params):
        grams = _grams(T(layer))
        batch = tf.shape(grams)[0]
        sims = tf.einsum("icd,jcd->ij", grams, grams)
        off_diagonal = tf.reduce_sum(sims, axis=1) - tf.linalg.diag_part(sims)
        return off_diagonal / tf.cast(batch, tf.float32)

    return Objective(fn, frozenset([layer]), f"diversity({layer!r})", (), ("diversity", layer))


def alignment(layer: str, decay_ratio: float = 2.0) -> Objective:
    """Minus the mean squared difference of neighbouring images' activations (Lucid).

    Images d apart in the batch (d = 1..4) are pulled together with weight 1/decay_ratio**d, which
    makes interpolation sequences smooth. The penalty of a pair is split between its two images.

    Args:
        layer: a layer name of the model.
        decay_ratio: how fast the pull falls with the distance d in the batch, a number > 0.

    Returns:
        The objective: one value per image [B].

    Raises:
        ValueError: `decay_ratio` is not a number > 0.

    Examples:
        >>> obj = channel_interpolate("block5c_add", 1, "block5c_add", 7) + alignment("block4c_add")
    """
    if not is_number(decay_ratio) or decay_ratio <= 0:
        raise ValueError(
            f"alignment: decay_ratio must be a number > 0 (Lucid's is 2); got {decay_ratio!r}."
        )

    def fn(T, params):
        acts = T(layer)
        size = acts.shape[0]
        penalty = [tf.zeros([], tf.float32) for _ in range(size)]
        for d in range(1, 5):  # Lucid's neighbourhood of 4
            for i in range(size - d):
                cost = tf.reduce_mean(tf.square(acts[i] - acts[i + d])) / decay_ratio**d
                penalty[i] += cost / 2
                penalty[i + d] += cost / 2
        return -tf.stack(penalty)

    return Objective(
        fn,
        frozenset([layer]),
        f"alignment({layer!r}, decay_ratio={decay_ratio})",
        (),
        ("alignment", layer, decay_ratio),
    )


def channel_interpolate(layer1: str, n_channel1: int, layer2: str, n_channel2: int) -> Objective:
    """Image i of B maximizes (1 - i/(B-1)) · channel 1 + i/(B-1) · channel 2 (Lucid).

    Args:
        layer1: the first channel's layer.
        n_channel1: the first channel's index (image 0's).
        layer2: the second channel's layer.
        n_channel2: the second channel's index (the last image's).

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel_interpolate("block5c_add", 1, "block5c_add", 7)
    """
    n_channel1, n_channel2 = _channel_index(n_channel1), _channel_index(n_channel2)

    def fn(T, params):
        n1, n2 = params
        a, b = T(layer1), T(layer2)
        _check_channel(a, layer1, n1)
        _check_channel(b, layer2, n2)
        size = a.shape[0]
        weights = tf.constant(np.arange(size) / max(size - 1, 1), tf.float32)
        return (1 - weights) * _channel_mean(a, n1) + weights * _channel_mean(b, n2)

    name = f"channel_interpolate({layer1!r}, {n_channel1}, {layer2!r}, {n_channel2})"
    return Objective(
        fn,
        frozenset([layer1, layer2]) - {INPUT},
        name,
        (np.int32(n_channel1), np.int32(n_channel2)),
        ("channel_interpolate", layer1, layer2),
    )
