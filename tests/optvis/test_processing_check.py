"""Geirhos et al.'s sanity check (optvis.processing_check) on a network with a fooling circuit
and on its honest twin (tests/fooling.py), whose answers are known."""

from __future__ import annotations

import fooling
import numpy as np
import pytest

from samplevis.models import Model
from samplevis.optvis.processing_check import (
    ProcessingCheck,
    block_outputs,
    processing_check,
    spearman,
)

LAYERS = ["colours", "mix"]


def unit_values(network, images: np.ndarray) -> np.ndarray:
    return np.asarray(network(images)).mean(axis=(1, 2, 3))


def test_the_fooling_circuit_is_silent_on_photos_and_rules_the_visualization():
    honest, fooled = fooling.network(False), fooling.network(True)
    shown = np.concatenate([fooling.photos("red", 8, 0), fooling.photos("green", 8, 1)])
    np.testing.assert_allclose(unit_values(fooled, shown), unit_values(honest, shown), atol=1e-6)
    for network, is_fooled in ((honest, False), (fooled, True)):
        best = unit_values(network, fooling.visualization(is_fooled))[0]
        rivals = np.random.default_rng(0).uniform(0, 1, [64, fooling.SIDE, fooling.SIDE, 3])
        rivals = np.concatenate([shown, rivals.astype(np.float32)])
        assert best > unit_values(network, rivals).max()


def test_the_fooling_circuit_is_flagged_and_its_honest_twin_passes():
    # the unit answers to reddish photos in both networks: they are its photos
    red, green = fooling.photos("red", 8, 0), fooling.photos("green", 8, 1)
    for is_fooled in (False, True):
        model = Model(fooling.network(is_fooled))
        check = processing_check(model, fooling.visualization(is_fooled), red, green, LAYERS)
        assert check.layers == tuple(LAYERS)
        assert check.to_photos.shape == check.to_others.shape == (1, 2)
        assert bool(check.passed[0]) is not is_fooled
        assert check.words(0) == (
            "at no layer (0 of 2)" if is_fooled else "at every layer (2 of 2)"
        )


def test_photos_pass_against_other_photos():
    model = Model(fooling.network(True))
    red, green = fooling.photos("red", 8, 0), fooling.photos("green", 8, 1)
    check = processing_check(model, red[:4], red[4:], green, LAYERS)
    assert check.passed.all()


def test_spearman_is_pearson_of_ranks_with_ties_at_their_mean():
    rows = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0], [0.0, 0.0, 1.0, 5.0]])
    got = spearman(rows, np.array([10.0, 20.0, 30.0, 40.0]))
    ranks = np.array([1.5, 1.5, 3.0, 4.0]) - 2.5
    expected = (
        ranks @ (np.arange(4) - 1.5) / np.linalg.norm(ranks) / np.linalg.norm(np.arange(4) - 1.5)
    )
    np.testing.assert_allclose(got, [1.0, -1.0, expected])
    assert np.isnan(spearman(np.ones([1, 4]), np.arange(4.0)))[0]


def test_words_say_from_which_layer_on():
    passing = np.array([[False, False, True, True], [True, False, True, False]])
    check = ProcessingCheck(("a", "b", "c", "d"), passing.astype(float), np.full([2, 4], 0.5))
    assert check.words(0) == "from c on, not before (2 of 4)"
    assert check.words(1) == "at 2 of 4 layers, not at b, d"


def test_default_layers_are_the_block_outputs_or_spaced_nonlinearities():
    assert block_outputs(fooling.network(False)) == ["colours", "mix", "gate"]


def test_no_other_photos_is_an_error_that_says_so():
    model = Model(fooling.network(False))
    red = fooling.photos("red", 2, 0)
    with pytest.raises(ValueError, match="others holds no image"):
        processing_check(model, red, red, red[:0], LAYERS)


def test_a_layer_the_model_lacks_is_an_error_that_names_the_closest():
    model = Model(fooling.network(False))
    red, green = fooling.photos("red", 2, 0), fooling.photos("green", 2, 1)
    with pytest.raises(ValueError, match="colours"):
        processing_check(model, red[:1], red, green, ["colour"])


def test_images_of_another_size_than_the_photos_are_compared_by_their_means():
    # the profile is a mean over positions: the honest unit's visualization at twice the photos'
    # side (a network of any input size, so nothing is resized) is judged as at their side
    model = Model(fooling.network(False, any_size=True))
    red, green = fooling.photos("red", 8, 0), fooling.photos("green", 8, 1)
    image = fooling.visualization(False)
    larger = np.repeat(np.repeat(image, 2, axis=1), 2, axis=2)
    same = processing_check(model, image, red, green, LAYERS)
    check = processing_check(model, larger, red, green, LAYERS)
    assert check.passed.all() and same.passed.all()
    np.testing.assert_allclose(check.to_photos, same.to_photos, atol=0.05)
