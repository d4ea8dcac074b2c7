"""Redirected ReLU gradients against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from samplevis.models.redirect import redirected_relu


def gradient(x: list, cap: float | None, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """(relu, its redirected gradient) of the loss sign * sum(relu(x)) at a batch of one."""
    x = tf.constant([x], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = redirected_relu(x, cap)
        loss = sign * tf.reduce_sum(y)
    return y.numpy()[0], tape.gradient(loss, x).numpy()[0]


@pytest.mark.parametrize("cap", [None, 6.0, 1.0])
def test_a_live_unit_gets_the_plain_relu_gradient(cap):
    y, g = gradient([-1.0, 0.5, 7.0], cap, 1.0)
    top = 7.0 if cap is None else cap
    np.testing.assert_allclose(y, [0.0, 0.5, top])
    np.testing.assert_allclose(g, [0.0, 1.0, 1.0 if cap is None else 0.0])


@pytest.mark.parametrize("cap", [None, 6.0, 1.0])
def test_a_dead_unit_passes_only_the_gradient_that_brings_it_back(cap):
    # minimizing -sum(y): the gradient -1 would raise the inputs, so it passes below zero
    _, up = gradient([-1.0, -2.0], cap, -1.0)
    np.testing.assert_allclose(up, [-1.0, -1.0])
    # minimizing sum(y): +1 would push them further down, so nothing passes
    _, down = gradient([-1.0, -2.0], cap, 1.0)
    np.testing.assert_allclose(down, [0.0, 0.0])


def test_a_unit_above_its_cap_passes_only_the_gradient_that_lowers_it():
    _, down = gradient([2.0, 3.0], 1.0, 1.0)
    np.testing.assert_allclose(down, [1.0, 1.0])
    _, up = gradient([2.0, 3.0], 1.0, -1.0)
    np.testing.assert_allclose(up, [0.0, 0.0])
