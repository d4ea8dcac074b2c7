"""Specifications of the random blur (samplevis.optvis.transform.blur)."""

import numpy as np
import pytest
import tensorflow as tf

from samplevis import transform
from samplevis.optvis.blur_check import gaussian_blur

SEED = tf.constant([1, 2], tf.int32)


def random_images(batch=2, height=32, width=28):
    return tf.random.stateless_uniform([batch, height, width, 3], [7, 7])


def test_a_blur_of_sigma_0_is_the_identity():
    images = random_images()
    out = transform.random_blur(sigmas=(0,))(images, SEED)
    np.testing.assert_array_equal(out.numpy(), images.numpy())


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_a_blur_keeps_a_constant_image_and_every_images_mean(sigma):
    blur = transform.random_blur(sigmas=(sigma,))
    grey = tf.fill([1, 20, 24, 3], 0.3)
    np.testing.assert_allclose(blur(grey, SEED).numpy(), 0.3, atol=1e-6)
    images = random_images()
    out = blur(images, SEED)
    assert out.shape == images.shape
    np.testing.assert_allclose(
        out.numpy().mean(axis=(1, 2)), images.numpy().mean(axis=(1, 2)), atol=2e-3
    )


def test_a_blur_of_1px_is_the_blur_measures_blur():
    images = random_images()
    out = transform.random_blur(sigmas=(1.0,))(images, SEED)
    np.testing.assert_allclose(out.numpy(), gaussian_blur(images.numpy(), 1.0), atol=1e-5)


def test_the_width_is_drawn_by_the_seed_and_each_width_is_drawn():
    blur = transform.random_blur(sigmas=(0, 1.0))
    images = random_images()
    unchanged = [
        bool(np.array_equal(blur(images, tf.constant([s, 3]))[0].numpy(), images[0].numpy()))
        for s in range(16)
    ]
    assert any(unchanged) and not all(unchanged)
    np.testing.assert_array_equal(blur(images, SEED).numpy(), blur(images, SEED).numpy())


def test_the_blur_composes_with_lucids_transforms_and_passes_gradients():
    chain = transform.compose(list(transform.standard_transforms) + [transform.random_blur()])
    images = tf.Variable(random_images(1, 32, 32))
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(chain(images, SEED) ** 2)
    grad = tape.gradient(value, images)
    assert chain.output_size(32, 32) == (44, 44)  # pad 12, jitter 8 and 4: as without it
    assert np.isfinite(grad.numpy()).all() and np.abs(grad.numpy()).sum() > 0


def test_the_blur_is_a_value_and_refuses_negative_widths():
    assert transform.random_blur((0, 1)) == transform.random_blur([0.0, 1.0])
    assert hash(transform.random_blur((0, 1))) == hash(transform.RandomBlur((0.0, 1.0)))
    with pytest.raises(ValueError, match=">= 0"):
        transform.random_blur((-1.0,))
    with pytest.raises(ValueError, match="list of numbers"):
        transform.random_blur(1.0)
