"""Each facet checked against its kind's photos (sampling.phases.facet_checks, said by
sampling.report.facet_processing), on the
network with a fooling circuit and its honest twin (tests/fooling.py): a facet at the fooled
unit's visualization, standing for the reddish photos, is flagged; at the honest one's, it
passes."""

from __future__ import annotations

import math
from pathlib import Path

import fooling
import numpy as np
import pytest
from PIL import Image

from samplevis.models import Model
from samplevis.sampling.phases.facet_checks import checked
from samplevis.sampling.report.facet_blur import blur_line, blur_record
from samplevis.sampling.report.facet_processing import (
    NEEDS_PHOTOS,
    NOT_CHECKED,
    processing_line,
    processing_record,
)

LAYERS = ["colours", "mix"]
UNIT = "unit:0"  # the unit both networks end in (tests/fooling.py)


def _files(folder: Path, kind: str, count: int, seed: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i, image in enumerate(fooling.photos(kind, count, seed)):
        paths.append(folder / f"{kind}_{i}.png")
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(paths[-1])
    return paths


def test_a_facet_at_the_fooling_circuit_s_visualization_is_flagged_the_honest_one_passes(
    tmp_path,
):
    red = _files(tmp_path, "red", 6, 0)
    green = _files(tmp_path, "green", 6, 1)
    for is_fooled in (False, True):
        optimum = fooling.visualization(is_fooled)[0]
        # two draws of each facet's chain: its optimum, and a greener or redder copy
        draws = np.stack([optimum, np.clip(optimum * 0.9 + 0.05, 0, 1)])[:, None]
        draws = np.concatenate([draws, draws[:, :, ::-1, ::-1, ::-1]], axis=1)
        facets = (
            fooling.photo_facet(optimum, red, 0, (0,)),
            fooling.photo_facet(optimum[..., ::-1], green, 1, (1,)),
        )
        model = Model(fooling.network(is_fooled))
        found = checked(facets, draws, model, UNIT, layers=LAYERS)
        check = found[0].processing
        assert check is not None and check.layers == tuple(LAYERS)
        assert check.to_photos.shape == (3, 2)  # the optimum and its 2 draws, at 2 layers
        assert bool(check.passed[0]) is not is_fooled
        record = processing_record(check)
        assert record["passed"] is not is_fooled and record["draws"] == 2
        assert record["passes"] == (
            "at no layer (0 of 2)" if is_fooled else "at every layer (2 of 2)"
        )
        # its blur measure against its kind's photos (a smooth red): the unit keeps its value
        # under a blur of the flat optimum as of the photos (blur's edges are mirrored)
        blur = found[0].blur
        assert blur is not None and blur.kept.shape == (3,)
        np.testing.assert_allclose(blur.kept, 1.0, atol=1e-4)
        np.testing.assert_allclose(blur.photos_kept, 1.0, atol=1e-4)
        assert blur_record(blur) == {
            "sigma": 1.0,
            "kept": pytest.approx(1.0, abs=1e-4),
            "photos_kept": pytest.approx(1.0, abs=1e-4),
            "passed": True,
            "words": "keeps 1.00 of its value under a 1 px blur; its photos keep 1.00",
            "draws": 2,
            "draws_kept": pytest.approx(1.0, abs=1e-4),
            "draws_passed": 2,
        }
    line = processing_line(found)
    assert line.startswith(
        "processed like their photos (Geirhos et al.'s check, 2 layers): facet 0 at no"
    )
    # the fooled unit is silent on the greenish photos: their share cannot be measured
    assert blur_line(found) == (
        "under a 1 px blur (facets keep 0.9 of their photos' share or more): facet 0 keeps 1.00 "
        "of its value, its photos 1.00, its draws 2 of 2 pass; facet 1 keeps 1.00, its photos' "
        "value is not positive (fails), its draws 0 of 2 pass"
    )


def test_search_facets_say_the_check_needs_photos():
    facet = fooling.photo_facet(np.zeros([4, 4, 3], np.float32), [], 0, (0,))
    assert processing_line([facet]) == NEEDS_PHOTOS
    assert processing_line([]) is None
    assert blur_line([facet]) is None and blur_line([]) is None  # nothing measured, nothing said


def test_the_blur_line_says_which_facets_fail_and_how_many_draws_pass():
    import dataclasses

    from samplevis.optvis.blur_check import BlurCheck

    image = np.zeros([4, 4, 3], np.float32)
    coarse = dataclasses.replace(
        fooling.photo_facet(image, [Path("a.png")], 0, (0,)),
        blur=BlurCheck(1.0, np.array([0.45, 0.7, 0.5, 0.65, 0.4]), 0.69),
    )
    fine = dataclasses.replace(
        fooling.photo_facet(image, [Path("b.png")], 1, (1,)),
        blur=BlurCheck(1.0, np.array([0.7]), 0.72),
    )
    bare = fooling.photo_facet(image, [], 2, ())
    assert blur_line([coarse, fine, bare]) == (
        "under a 1 px blur (facets keep 0.9 of their photos' share or more): facet 0 keeps 0.45 "
        "of its value, its photos 0.69 (fails), its draws 2 of 4 pass; facet 1 keeps 0.70, its "
        "photos 0.72; facet 2 not measured (no photos)"
    )
    assert blur_record(fine.blur)["draws"] == 0 and math.isnan(blur_record(fine.blur)["draws_kept"])
    assert blur_record(None) is None


def test_a_kind_without_other_photos_is_not_checked_and_says_why(tmp_path):
    red = _files(tmp_path, "red", 4, 0)
    optimum = fooling.visualization(False)[0]
    facets = (fooling.photo_facet(optimum, red, 0, ()),)
    found = checked(
        facets, np.zeros([0, 1, 32, 32, 3]), Model(fooling.network(False)), UNIT, layers=LAYERS
    )
    assert found[0].processing is None
    assert processing_line(found) == NOT_CHECKED
    # the blur measure needs only its own kind's photos: the unit's redness keeps its value
    blur = found[0].blur
    assert blur is not None and blur.passed.tolist() == [True]
    assert blur_line(found).startswith("under a 1 px blur (facets keep 0.9 of their photos' share")


def test_kinds_are_named_by_their_photos_labels_or_folders():
    import keras

    from samplevis.sampling.phases.facet_checks import label_layer
    from samplevis.sampling.report.kind_names import kind_names, labels

    peppers = [Path(f"photos/peppers/p{i}.jpg") for i in range(3)]
    theaters = [Path(f"photos/theaters/t{i}.jpg") for i in range(2)]
    image = np.zeros([4, 4, 3], np.float32)
    facets = [
        fooling.photo_facet(image, peppers[:2], 0, ()),
        fooling.photo_facet(image, peppers[1:], 0, ()),
    ]
    facets.append(fooling.photo_facet(image, theaters, 1, ()))
    said = dict(zip(peppers + theaters, ["bell pepper"] * 2 + ["maraca", "cinema", "cinema"]))
    assert kind_names(facets, said) == {
        0: "bell pepper, 2 of 3 photos",
        1: "cinema, 2 of 2 photos",
    }
    assert kind_names(facets, None) == {0: "peppers, 3 of 3 photos", 1: "theaters, 2 of 2 photos"}
    one_folder = [fooling.photo_facet(image, [Path("all") / p.name for p in peppers], 0, ())]
    assert kind_names(one_folder, None) == {}
    # a classifier with the 1000 ImageNet classes has labels; another network has none
    x = keras.Input((8, 8, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    classifier = keras.Model(x, keras.layers.Dense(1000, name="predictions")(pooled))
    assert label_layer(Model(classifier)) == "predictions"
    assert label_layer(Model(fooling.network(False))) is None
    outputs = np.zeros([2, 1000])
    outputs[0, 945], outputs[1, 498] = 1.0, 1.0
    assert labels(outputs) == ["bell pepper", "cinema"]


def test_the_summary_names_each_kind_by_its_name():
    import dataclasses

    from sample_results import known_run_result

    image = np.zeros([4, 6, 3], np.float32)
    pepper = dataclasses.replace(
        fooling.photo_facet(image, [Path("p.jpg")], 0, (1,)), kind_name="bell pepper, 2 of 3 photos"
    )
    theater = dataclasses.replace(
        fooling.photo_facet(image, [Path("t.jpg")], 1, (0,)),
        kind_name="cinema, 2 of 2 photos",
        height=0.6,
    )
    result = dataclasses.replace(known_run_result(), facets=(pepper, theater))
    assert result.kinds_line() == (
        "the unit answers most to kind 0 (facet 0; bell pepper, 2 of 3 photos), also to kind 1 "
        "(facet 1; cinema, 2 of 2 photos) at 0.60 of the best"
    )
    alone = dataclasses.replace(result, facets=(pepper,))
    assert alone.kinds_line() == "its photos are of one kind: bell pepper, 2 of 3 photos"
