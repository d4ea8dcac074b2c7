"""The measures no climb optimizes (optvis.natural_measures) on known answers: speckle that a
hand-built unit answers to loses its value at half resolution where photos keep theirs; a photo
under a rainbow is far more colourful than the photos; a photo itself, and a photo under a fine
overlay, are flagged as copies while images of their own layout are not."""

from __future__ import annotations

import fooling
import numpy as np
from fine_detail import SIDE, checker_network, checkerboard, photographs, rainbow, speckle

from samplevis.models import Model
from samplevis.optvis.blur_check import KEEP_SHARE, kept_under
from samplevis.optvis.natural_measures import (
    COLOUR_SHARE,
    colourfulness,
    down_up,
    natural_check,
    nearest_correlations,
)


def test_half_resolution_keeps_a_flat_image_and_the_mean_of_any():
    photos = photographs()
    np.testing.assert_allclose(down_up(np.full((1, 8, 6, 3), 0.25)), 0.25, atol=1e-6)
    np.testing.assert_allclose(down_up(photos).mean(), photos.mean(), atol=5e-3)
    # the checkerboard, the finest pattern, becomes its mean grey
    np.testing.assert_allclose(down_up(checkerboard())[:, 2:-2, 2:-2], 0.5, atol=1e-6)


def test_speckle_the_unit_answers_to_fails_the_low_pass_its_photos_pass():
    model = Model(checker_network())
    photos = photographs()
    check = natural_check(model, "checker:0", speckle(), photos)
    assert check.low_pass_kept[0] < 0.2  # only the filter's bias is left
    assert 0.6 < check.photos_low_pass_kept < 0.9
    assert check.low_pass_passed.tolist() == [False]
    assert not check.passed[0]
    # against their own median, the photos (at 32 px, where the unit reads their fine edges)
    # pass but the one whose value lies most in fine detail
    assert natural_check(model, "checker:0", photos, photos).low_pass_passed.sum() == 2
    # the smooth photos: the filter is silent on them, and they keep all of their value
    smooth = fooling.photos("red", 4, 0)
    np.testing.assert_allclose(kept_under(model, "checker:0", smooth, down_up), 1.0, atol=1e-5)
    assert KEEP_SHARE == 0.9


def test_a_photo_under_a_rainbow_fails_the_colour_measure_the_photos_pass():
    photos = photographs()
    assert colourfulness(np.zeros((1, 4, 4, 3)))[0] == 0.0  # grey: no colour at all
    overlaid = 0.5 * photos[:1] + 0.5 * rainbow()[None]
    model = Model(checker_network())
    check = natural_check(model, "checker:0", np.concatenate([overlaid, photos]), photos)
    assert check.colour[0] > 2 * check.photos_colour > 2 * 60
    assert check.colour_passed.tolist() == [False, True, True, True]
    assert COLOUR_SHARE * check.photos_colour > check.colour[1:].max()


def test_a_photo_itself_and_one_under_a_fine_overlay_are_copies_other_images_are_not():
    photos = photographs()
    fine = np.where(np.indices((SIDE, SIDE)).sum(axis=0) % 2 == 0, 0.15, -0.15)
    tinted = np.clip(photos[:1] + fine[None, ..., None] * np.array([1.0, -1.0, 0.5]), 0, 1)
    flipped = photos[:1, ::-1]  # the same colours, another layout
    images = np.concatenate([photos[:1], tinted, flipped, speckle()]).astype(np.float32)
    nearest, theirs = nearest_correlations(images, photos)
    np.testing.assert_allclose(nearest[0], 1.0, atol=1e-9)
    assert nearest[1] > 0.99  # the overlay is finer than the 16 x 16 cells
    assert nearest[2] < theirs + 0.2 and nearest[3] < 0.2
    assert 0.2 < theirs < 0.6  # astronaut, coffee and chelsea are alike only by chance
    check = natural_check(Model(checker_network()), "checker:0", images, photos)
    assert check.copies.tolist() == [True, True, False, False]
    assert check.words(0) == (
        f"keeps {check.low_pass_kept[0]:.2f} of its value at half resolution (its photos "
        f"{check.photos_low_pass_kept:.2f}, fails); colourfulness {check.colour[0]:.0f} (its "
        f"photos {check.photos_colour:.0f}); 1.00 like its nearest photo (the photos "
        f"{theirs:.2f} like each other: a copy)"
    )
