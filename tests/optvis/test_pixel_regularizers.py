"""The pixel regularizers of the photo route's "mfv" climb, on planted images (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from samplevis.optvis.natural_measures import colourfulness
from samplevis.optvis.pixel_regularizers import (
    PixelRegularizers,
    colourfulness_capped,
    decayed,
    weak_pixels_clipped,
)


def planted(seed: int = 0, n: int = 2, side: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.1, 0.9, [n, side, side, 3]).astype(np.float32)


def test_decay_shrinks_each_image_s_distance_from_its_centre_by_one_minus_the_rate():
    images = planted()
    centres = np.array([[0.5, 0.4, 0.3], [0.2, 0.2, 0.2]], np.float32)
    out = decayed(images, centres, 0.1)
    before = np.linalg.norm((images - centres[:, None, None]).reshape(2, -1), axis=1)
    after = np.linalg.norm((out - centres[:, None, None]).reshape(2, -1), axis=1)
    np.testing.assert_allclose(after, 0.9 * before, rtol=1e-5)
    # the direction away from the centre is kept: pixel by pixel, the same offset scaled
    np.testing.assert_allclose(
        out - centres[:, None, None], 0.9 * (images - centres[:, None, None]), atol=1e-6
    )


def test_clipping_sets_the_weakest_pixels_to_the_centre_and_leaves_the_rest():
    side = 8
    centre = np.array([0.5, 0.5, 0.5], np.float32)
    image = np.full([1, side, side, 3], 0.9, np.float32)  # every pixel 0.69 from the centre
    weak = [(0, 0), (3, 5), (7, 7), (4, 1)]
    for k, (y, x) in enumerate(weak):
        image[0, y, x] = 0.5 + 0.01 * (k + 1)  # 0.017-0.069 from the centre
    out = weak_pixels_clipped(image, centre[None], len(weak) / side**2)
    for y, x in weak:
        np.testing.assert_array_equal(out[0, y, x], centre)
    mask = np.ones([side, side], bool)
    for y, x in weak:
        mask[y, x] = False
    np.testing.assert_array_equal(out[0][mask], image[0][mask])
    np.testing.assert_array_equal(weak_pixels_clipped(image, centre[None], 0.0), image)


def test_the_colour_cap_draws_colours_toward_grey_until_the_cap_and_keeps_the_rest():
    rng = np.random.default_rng(1)
    vivid = rng.uniform(0.0, 1.0, [1, 32, 32, 3]).astype(np.float32)
    dull = (0.5 + 0.05 * (vivid - 0.5)).astype(np.float32)
    images = np.concatenate([vivid, dull])
    measured = colourfulness(images)
    assert measured[0] > 4 * measured[1]
    limits = np.array([measured[0] / 2, measured[1] * 2])
    out = colourfulness_capped(images, limits)
    # the vivid image comes down to its cap (to within 8-bit rounding), its greys kept
    assert abs(colourfulness(out[:1])[0] - measured[0] / 2) < 1.0
    np.testing.assert_allclose(out[0].mean(axis=-1), vivid[0].mean(axis=-1), atol=1e-6)
    np.testing.assert_array_equal(out[1], dull[0])  # under its cap: as it was


def test_a_flat_image_of_its_centre_stays_as_it_is_and_bad_settings_are_refused():
    flat = np.full([1, 12, 12, 3], [0.3, 0.6, 0.2], np.float32)
    out = PixelRegularizers()(flat, flat[:, 0, 0], colourfulness(flat))
    np.testing.assert_allclose(out, flat, atol=1e-6)
    with pytest.raises(ValueError, match="decay is a share"):
        PixelRegularizers(decay=1.0)
    with pytest.raises(ValueError, match="blur is a width"):
        PixelRegularizers(blur=-1.0)
    with pytest.raises(ValueError, match="colour is a multiple"):
        PixelRegularizers(colour=0.0)
