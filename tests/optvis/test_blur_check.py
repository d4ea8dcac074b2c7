"""The blur measure (optvis.blur_check) on hand-built units whose answers are known: one that
answers to a checkerboard (a Nyquist-frequency filter), whose preferred image loses its value
under a 1 px blur while photos keep most of theirs; and one that answers to the mean redness,
which a blur keeps whole."""

from __future__ import annotations

import fooling
import keras
import numpy as np
import pytest
from fine_detail import SIDE, checker_network, checkerboard, photographs

from samplevis.models import Model
from samplevis.optvis import objectives
from samplevis.optvis.blur_check import (
    KEEP_SHARE,
    BlurCheck,
    blur_check,
    gaussian_blur,
    kept_under_blur,
)


def redness_network() -> keras.Model:
    """The unit "redness:0": R - G at each position (a 1x1 filter, no nonlinearity); its
    objective is the image's mean redness."""
    x = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(1, 1, name="redness")
    y = conv(x)
    conv.set_weights([np.array([1, -1, 0], np.float32)[None, None, :, None], np.zeros(1)])
    return keras.Model(x, y)


def test_a_checkerboard_loses_its_value_under_the_blur_photos_keep_theirs_and_it_fails():
    model = Model(checker_network())
    photos = photographs()
    smooth = fooling.photos("red", 4, 0)  # gentle gradients: the filter is silent on them
    assert kept_under_blur(model, "checker:0", checkerboard())[0] < 0.2
    assert (kept_under_blur(model, "checker:0", photos) > 0.5).all()
    np.testing.assert_allclose(kept_under_blur(model, "checker:0", smooth), 1.0, atol=1e-5)
    check = blur_check(model, objectives.channel("checker", 0), checkerboard(), photos)
    assert check.photos_kept > 0.5 and check.passed.tolist() == [False]
    assert check.words(0) == (
        f"keeps {check.kept[0]:.2f} of its value under a 1 px blur; its photos keep "
        f"{check.photos_kept:.2f}"
    )
    # the photos themselves pass against their median
    assert blur_check(model, "checker:0", photos, photos).passed.sum() >= 2


def test_a_unit_of_the_mean_redness_keeps_its_whole_value_and_passes():
    model = Model(redness_network())
    rng = np.random.default_rng(0)
    noisy = rng.uniform(0, 1, [4, SIDE, SIDE, 3]).astype(np.float32)
    noisy[..., 0] = np.clip(noisy[..., 0] + 0.3, 0, 1)  # redder than green: a positive value
    reds = fooling.photos("red", 4, 0)
    np.testing.assert_allclose(kept_under_blur(model, "redness:0", noisy), 1.0, rtol=1e-4)
    check = blur_check(model, "redness:0", noisy, reds)
    assert check.passed.all()
    # a function of T, as render_vis takes it, reads the same unit
    import tensorflow as tf

    def mean_redness(T):
        return tf.reduce_mean(T("redness"), axis=[1, 2, 3])

    np.testing.assert_allclose(kept_under_blur(model, mean_redness, noisy), 1.0, rtol=1e-4)
    np.testing.assert_allclose(check.photos_kept, 1.0, rtol=1e-4)


def test_an_image_without_a_positive_value_keeps_nan_and_does_not_pass():
    model = Model(redness_network())
    green = fooling.visualization(True)  # redness -1
    check = blur_check(model, "redness:0", green)
    assert np.isnan(check.kept[0]) and np.isnan(check.photos_kept)
    assert check.passed.tolist() == [False]
    assert check.words(0) == "keeps nothing measurable of its value under a 1 px blur"


def test_the_blur_keeps_a_constant_image_and_the_mean_of_any_image():
    constant = np.full([2, 9, 13, 3], 0.4, np.float32)
    np.testing.assert_allclose(gaussian_blur(constant), constant, atol=1e-6)
    noisy = np.random.default_rng(1).uniform(0, 1, [3, 12, 17, 3]).astype(np.float32)
    blurred = gaussian_blur(noisy, 1.5)
    assert blurred.shape == noisy.shape and blurred.dtype == np.float32
    np.testing.assert_allclose(blurred.mean(axis=(1, 2)), noisy.mean(axis=(1, 2)), atol=1e-6)
    assert blurred.std() < noisy.std()
    as_bytes = np.round(noisy * 255).astype(np.uint8)
    np.testing.assert_allclose(gaussian_blur(as_bytes), gaussian_blur(as_bytes / 255.0), atol=1e-6)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_sigma_is_in_pixels(sigma):
    # a point spreads into a Gaussian of sum 1 and variance sigma**2 px**2 along each axis
    point = np.zeros([1, 41, 41, 3], np.float32)
    point[0, 20, 20] = 1.0
    spread = gaussian_blur(point, sigma)[0, :, :, 0]
    assert spread.sum() == pytest.approx(1.0, abs=1e-5)
    offsets = np.arange(41) - 20
    assert (spread.sum(axis=0) * offsets**2).sum() == pytest.approx(sigma**2, rel=1e-3)
    assert (spread.sum(axis=1) * offsets**2).sum() == pytest.approx(sigma**2, rel=1e-3)
    centre = 1 / np.exp(-0.5 * (np.arange(-20, 21) / sigma) ** 2).sum()
    assert spread[20, 20] == pytest.approx(centre**2, rel=1e-3)


def test_passing_is_keeping_enough_of_the_photos_share():
    check = BlurCheck(1.0, np.array([0.5, 0.64, 0.62, np.nan]), 0.7)
    assert check.passed.tolist() == [False, True, False, False]
    assert KEEP_SHARE * 0.7 == pytest.approx(0.63)  # the bar between them
    assert not BlurCheck(1.0, np.array([0.9]), float("nan")).passed.any()


def test_bad_images_are_refused_naming_the_fix():
    model = Model(redness_network())
    with pytest.raises(ValueError, match=r"\[N, H, W, 3\].*images\[None\]"):
        kept_under_blur(model, "redness:0", np.zeros([SIDE, SIDE, 3]))
    with pytest.raises(ValueError, match="holds no image"):
        blur_check(model, "redness:0", np.zeros([0, SIDE, SIDE, 3]))
    with pytest.raises(ValueError, match="photos holds no image"):
        blur_check(model, "redness:0", fooling.photos("red", 1, 0), np.zeros([0, 8, 8, 3]))
    with pytest.raises(ValueError, match="sigma"):
        gaussian_blur(np.zeros([1, 4, 4, 3]), 0.0)
