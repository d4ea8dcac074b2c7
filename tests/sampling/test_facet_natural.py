"""A run's facets through the measures no climb applies (report.facet_natural) and the processing
check's bar set by their photos (report.processing_bar), both set in the pass over the photos
(phases.facet_checks.checked): speckle fails the low-pass, a photo under a rainbow fails the
colour measure, a photo itself is a copy; the fooled unit's kind falls short of its photos'
rate, the honest one's meets it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import fooling
import numpy as np
from fine_detail import checker_network, photographs, rainbow, speckle
from PIL import Image

from samplevis.models import Model
from samplevis.optvis.natural_measures import NaturalCheck
from samplevis.optvis.processing_check import ProcessingCheck
from samplevis.sampling.phases.facet_checks import checked
from samplevis.sampling.report.facet_natural import natural_line, natural_record, natural_sentence
from samplevis.sampling.report.processing_bar import bar_line, bar_record


def _saved(folder: Path, images: np.ndarray, stem: str) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = [folder / f"{stem}_{i}.png" for i in range(len(images))]
    for path, image in zip(paths, images):
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    return paths


def test_speckle_a_rainbow_and_a_photo_itself_each_fail_their_measure_through_a_run(tmp_path):
    shown = photographs()
    files = _saved(tmp_path, shown, "photo")
    overlaid = 0.5 * shown[0] + 0.5 * rainbow()
    optima = [speckle(0)[0], shown[0], overlaid]
    # each facet's chain drew its optimum twice: the draws are measured as the optima are
    draws = np.stack([np.stack(optima), np.stack(optima)])
    facets = [fooling.photo_facet(image, files, 0, (c,)) for c, image in enumerate(optima)]
    found = checked(facets, draws, Model(checker_network()), "checker:0", layers=["checker"])
    checks = [f.natural for f in found]
    assert all(isinstance(c, NaturalCheck) and c.nearest.shape == (3,) for c in checks)
    low_pass = [c.low_pass_passed.tolist() for c in checks]
    colour = [c.colour_passed.tolist() for c in checks]
    copies = [c.copies.tolist() for c in checks]
    assert low_pass[0] == [False] * 3 and colour[0] == [True] * 3 and copies[0] == [False] * 3
    assert copies[1] == [True] * 3  # the photo itself
    assert colour[2] == [False] * 3 and copies[2] == [False] * 3  # the rainbow moves the layout
    record = natural_record(checks[1])
    assert (
        record["copy"] and abs(record["nearest_photo"] - 1.0) < 1e-9 and record["draws_copies"] == 2
    )
    assert record["draws"] == 2 and record["words"] == checks[1].words(0)
    line = natural_line(found)
    assert line.startswith("measures no climb applies (a facet keeps 0.9 of its photos' share")
    assert "facet 0 keeps 0.1" in line and "its draws: 0 of 2 keep enough" in line
    assert natural_sentence({"natural": record}).startswith(". Measures no climb applies: its")
    assert natural_line([dataclasses.replace(f, natural=None) for f in found]) is None


def test_the_fooled_kind_falls_short_of_its_photos_rate_and_the_honest_kind_meets_it(tmp_path):
    red = _saved(tmp_path, fooling.photos("red", 6, 0), "red")
    green = _saved(tmp_path, fooling.photos("green", 6, 1), "green")
    lone = _saved(tmp_path, fooling.photos("green", 1, 2), "lone")
    said = {}
    for is_fooled in (False, True):
        optimum = fooling.visualization(is_fooled)[0]
        facets = (
            fooling.photo_facet(optimum, red, 0, ()),
            fooling.photo_facet(optimum[..., ::-1], green, 1, ()),
            fooling.photo_facet(optimum[..., ::-1], lone, 2, ()),
        )
        model = Model(fooling.network(is_fooled))
        found = checked(facets, np.zeros([0]), model, "unit:0", layers=["colours", "mix"])
        assert found[0].photos_processing == (6, 6)  # every red photo is like the other reds
        # a kind of one photo is checked, but has no other photo of its own to set a bar
        assert found[2].processing is not None and found[2].photos_processing is None
        assert [bar["kind"] for bar in bar_record(found)] == [0, 1]
        said[is_fooled] = bar_record(found)[0]
    assert said[False]["met"] and not said[True]["met"]
    assert said[True]["facets_passed"] == 0 and said[True]["photos_passed"] == 6


def _checked(passed: bool) -> ProcessingCheck:
    share = np.array([[1.0]]) if passed else np.array([[-1.0]])
    return ProcessingCheck(("layer",), share, np.zeros([1, 1]))


def test_the_bar_line_states_both_rates_per_kind_and_whether_the_facets_meet_it():
    image = np.zeros([4, 4, 3], np.float32)

    def kind(k: int, passing: int, count: int, photos: tuple[int, int], name: str = ""):
        return [
            dataclasses.replace(
                fooling.photo_facet(image, [Path("a.png")], k, ()),
                processing=_checked(i < passing),
                photos_processing=photos,
                kind_name=name,
            )
            for i in range(count)
        ]

    facets = [
        *kind(0, 9, 10, (31, 40), "marquee, 30 of 40 photos"),
        *kind(1, 1, 3, (35, 40)),
        *kind(2, 7, 10, (32, 40)),  # 0.70 against 0.80 less 10 points: just meets it
    ]
    assert bar_line(facets) == (
        "processed like their photos as often as the photos themselves (a kind's facets pass "
        "at least at its photos' rate less 10 points): kind 0 (marquee, 30 of 40 photos) "
        "facets 9 of 10, their photos 31 of 40 (meets it); kind 1 facets 1 of 3, their photos "
        "35 of 40 (falls short); kind 2 facets 7 of 10, their photos 32 of 40 (meets it)"
    )
    assert [r["met"] for r in bar_record(facets)] == [True, False, True]
    assert bar_line([fooling.photo_facet(image, [], 0, ())]) is None
