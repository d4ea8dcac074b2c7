"""Facets from photos, against units whose facets are known: 'mix:0' of the stripes network
fires on vertical and on horizontal stripes, mix:1 + 0.5 mix:2 on horizontal ones less
strongly, and their top photos are three files of each. Two clusters, each optimized from its
photos, give one facet of each orientation, each shown with its own cluster's photos, the
weaker one with its height."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import samplevis
from samplevis import objectives, param
from samplevis.optvis.optimize import Renderer
from samplevis.runtime.checks import OptionError
from samplevis.sampling.report.facet_blur import blur_line
from samplevis.sampling.report.facet_natural import natural_line
from samplevis.sampling.report.facet_processing import NOT_CHECKED, processing_line
from samplevis.sampling.report.processing_bar import bar_line

from conftest import either_stripes_keras_model
from stripes import PHOTO_RUN, SIDE, stripes_folder, stripes_way

# Short runs: what is checked is where each facet starts and what it is shown with.
QUICK = PHOTO_RUN


@pytest.fixture(scope="module")
def either48():
    return samplevis.Model(either_stripes_keras_model(), name="either48")


@pytest.fixture(scope="module")
def examples(tmp_path_factory, either48) -> Path:
    """The examples.json of 'mix:0' over three vertical, three horizontal and two noise files."""
    root = tmp_path_factory.mktemp("photos")
    stripes_folder(root / "images")
    samplevis.dataset_examples(
        either48, "mix:0", images=root / "images", top=6, out=root / "ex", progress=False
    )
    return root / "ex" / "examples.json"


def _render(model, examples, **opts):
    return samplevis.render(
        model,
        "mix:0",
        hmc_opts=dict(QUICK, init=examples, **opts),
        param_f=param.image(SIDE, batch=2),
        seed=0,
        progress=False,
    )


def test_photo_chains_draw_every_fourth_short_hmc_step_where_others_draw_every_second(examples):
    from samplevis.sampling.options import resolve_options

    photo, other = resolve_options(dict(init=examples)), resolve_options({})
    assert (photo.num_leapfrog_steps, photo.num_steps_between_results) == (2, 3)
    assert (other.num_leapfrog_steps, other.num_steps_between_results) == (4, 1)
    # as many leapfrog steps (network gradients) per draw on either route
    per_draw = [o.num_leapfrog_steps * (o.num_steps_between_results + 1) for o in (photo, other)]
    assert per_draw == [8, 8]
    given = resolve_options(dict(init=examples, num_leapfrog_steps=4, num_steps_between_results=1))
    assert (given.num_leapfrog_steps, given.num_steps_between_results) == (4, 1)


def test_a_climb_far_under_what_its_photos_promise_failed_one_the_unit_answers_less_did_not():
    from samplevis.sampling.starts.photos import failed

    heights = np.array([1.0, 0.55, 0.3, np.nan])
    levels = np.array([1.0, 0.6, 0.9, 1.0])  # its photos' median over the highest cluster's
    # 0.55 where its photos are at 0.6: the unit answers to it less; 0.3 where they promise
    # 0.9: the climb went astray
    assert failed(heights, levels, 0.5).tolist() == [False, False, True, True]
    assert failed(np.array([1.0, 0.4]), np.full(2, np.nan), 0.5).tolist() == [False, True]


def test_an_optimum_nearer_another_kind_s_photos_left_its_kind():
    from samplevis.examples.clusters import Cluster, Example
    from samplevis.sampling.starts.photos import left_kind

    photo = Example(Path("p.jpg"), 1.0, None)
    peppers, theaters = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    found = [
        Cluster((photo,) * 3, 0, 0, peppers),
        Cluster((photo,), 0, 0, np.array([0.8, 0.0, 0.6])),
        Cluster((photo,) * 2, 0, 1, theaters),
        Cluster((photo,) * 2, 0, 1, theaters),
    ]
    # the last theater cluster's climb ended among the peppers
    optima = np.array([[1.0, 0.1, 0.0], [0.7, 0.2, 0.7], [0.1, 1.0, 0.0], [0.9, 0.3, 0.0]])
    assert left_kind(optima, found).tolist() == [False, False, False, True]
    one_kind = [dataclasses.replace(c, kind=0) for c in found]
    assert not left_kind(optima, one_kind).any()


@pytest.fixture(scope="module")
def weaker_horizontal(tmp_path_factory, either48):
    """A unit that answers to vertical stripes and to horizontal ones less strongly, the
    examples.json of its top six photos (three of each)."""
    unit = objectives.channel("mix", 1) + 0.5 * objectives.channel("mix", 2)
    root = tmp_path_factory.mktemp("weaker")
    stripes_folder(root / "images")
    samplevis.dataset_examples(
        either48, unit, images=root / "images", top=6, out=root / "ex", progress=False
    )
    return unit, root / "ex" / "examples.json"


def test_a_kind_the_unit_answers_to_less_is_a_facet_beside_its_photos_with_its_height(
    either48, weaker_horizontal, tmp_path
):
    unit, examples = weaker_horizontal
    # the pixels' climb: its heights follow the unit's weights. A phase climb's follow its photo's
    # spectrum too (here a patch of stripes in noise: the horizontal photo's climb gains less),
    # so its weaker kind is measured on photographs (docs/sampling_designs.md, "What a photo's
    # climb moves")
    result = samplevis.render(
        either48,
        unit,
        hmc_opts=dict(QUICK, init=examples, photo_climb="pixels"),
        param_f=param.image(SIDE, batch=2),
        seed=0,
        progress=False,
    )
    assert [f.kind for f in result.facets] == [0, 1] and result.clusters_below_floor == ()
    ways = stripes_way(either48, np.stack([f.image for f in result.facets]))
    assert ways == ["v", "h"]
    for facet, way in zip(result.facets, ways):
        assert [e.file.name[0] for e in facet.examples] == [way] * 3
    vertical, horizontal = result.facets
    assert sorted(f.found for f in result.facets) == ["photos, cluster 0", "photos, cluster 1"]
    assert all(
        [e.value for e in f.examples] == sorted((e.value for e in f.examples), reverse=True)
        for f in result.facets
    )  # a cluster's photos, best first
    assert result.images.shape == (2, 2, SIDE, SIDE, 3)
    # a row per facet: its optimum, its three photos (the part its unit saw), two samples
    grid = result.facet_grid(photos=3, samples=2)
    assert grid.shape == (2 + 2 * (SIDE + 2), 2 + 6 * (SIDE + 2), 3)
    for k, (facet, way) in enumerate(zip(result.facets, ways)):
        top = 2 + k * (SIDE + 2)
        np.testing.assert_allclose(grid[top : top + SIDE, 2 : 2 + SIDE], facet.image, atol=1e-6)
        tiles = [grid[top : top + SIDE, 2 + j * (SIDE + 2) :][:, :SIDE] for j in range(1, 6)]
        assert stripes_way(either48, np.stack(tiles)) == [way] * 5  # photos, then samples
    assert result.facets_line().startswith("2 facets (2 from photo clusters, 0 found by")
    assert result.photos_line().startswith("from photos: facet 0 cluster ")
    assert vertical.height == 1.0 and 0.2 < horizontal.height < 0.8  # under the search's floor
    assert 0.2 < horizontal.photos_height < 0.8 and vertical.photos_height == 1.0
    assert vertical.chains == (0,) and horizontal.chains == (1,)  # every kind has a chain
    line = result.kinds_line()
    assert line.startswith("the unit answers most to kind 0 (facet 0; photos like v_")
    assert "also to kind 1 (facet 1; photos like h_" in line
    said = f"at {horizontal.height:.2f} of the best, its photos at {horizontal.photos_height:.2f}"
    assert said in line
    # each facet, and its draws, processed like its own kind's photos (Geirhos et al.'s check)
    for facet in result.facets:
        assert facet.processing is not None and facet.processing.passed.all()
        assert len(facet.processing.passes) == 1 + 2  # its optimum and its chain's 2 draws
    assert processing_line(result.facets) == (
        "processed like their photos (Geirhos et al.'s check, 1 layer): facet 0 at every layer "
        "(1 of 1), its draws 2 of 2; facet 1 at every layer (1 of 1), its draws 2 of 2"
    )
    # written out, the check's plot stands beside each facet in the gallery
    from samplevis import cli
    from samplevis.sampling.report.facet_examples import facet_examples
    from samplevis.sampling.report.run_folder import write_run
    from samplevis.sampling.report.run_json import record_of

    # and what each keeps of its value under a 1 px blur, against its kind's photos
    for facet in result.facets:
        assert facet.blur is not None and facet.blur.kept.shape == (3,)
        assert np.isfinite(facet.blur.photos_kept)
    said = blur_line(result.facets)
    assert said.startswith(
        "under a 1 px blur (facets keep 0.9 of their photos' share or more): facet 0 keeps "
    )
    by_facet = facet_examples(result, None)  # each facet's own photos
    report = record_of(result, "unit", examples=by_facet)
    assert report["facets"][1]["processing"]["plot"] == "facet_1_processing.png"
    assert said in report["summary"]
    blurred = report["facets"][1]["blur"]
    assert set(blurred) == {
        "sigma",
        "kept",
        "photos_kept",
        "passed",
        "words",
        "draws",
        "draws_kept",
        "draws_passed",
    }
    assert blurred["draws"] == 2 and blurred["words"] == horizontal.blur.words(0)
    write_run(tmp_path, result, report, by_facet)
    assert cli.main(["gallery", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert "facet_0_processing.png" in page and "facet_1_processing.png" in page
    assert f"Its optimum {horizontal.blur.words(0)}" in page
    # the measures no climb applies, and each kind held to its own photos' rate
    for facet in result.facets:
        assert facet.natural is not None and facet.natural.nearest.shape == (3,)
        assert facet.photos_processing is not None and facet.photos_processing[1] == 3
    assert natural_line(result.facets) in report["summary"]
    assert bar_line(result.facets) in report["summary"]
    assert report["facets"][1]["natural"]["words"] == horizontal.natural.words(0)
    assert [bar["photos_checked"] for bar in report["processing_bar"]] == [3, 3]
    assert f"Measures no climb applies: its optimum {horizontal.natural.words(0)}" in page
    # every tile of a facet's row said as a share of the best facet's activation
    best = report["facets"][0]["activation"]
    photo = report["facets"][1]["examples"][0]["value"] / best
    assert f"{photo:.2f} · photo" in page and f"{horizontal.height:.2f} · optimum" in page


def test_photos_of_another_unit_are_refused_before_any_work(either48, examples):
    with pytest.raises(OptionError, match=r"has no unit 'mix:1'; it holds mix:0"):
        _render_unit(either48, examples, "mix:1")
    with pytest.raises(OptionError, match=r"no examples\.json nor a folder holding one"):
        _render(either48, examples.parent / "nowhere")
    with pytest.raises(OptionError, match=r"cannot start at an image; use param\.image"):
        samplevis.render(
            either48,
            "mix:0",
            hmc_opts=dict(QUICK, init=examples, cutoff=None),  # a CPPN has no spectrum
            param_f=param.cppn(SIDE, batch=2),
            progress=False,
        )


def _render_unit(model, examples, unit):
    return samplevis.render(
        model,
        unit,
        hmc_opts=dict(QUICK, init=examples),
        param_f=param.image(SIDE, batch=2),
        progress=False,
    )


def test_ctrl_c_while_clusters_are_optimized_keeps_the_facets_reached(
    either48, examples, monkeypatch, tmp_path, capsys
):
    from samplevis import cli

    climb = Renderer.climb

    def ctrl_c_halfway(self, state, steps, seed=None, progress=None, **more):
        climb(
            self, state, steps // 2, seed, progress, **more
        )  # the clusters climb half their steps
        raise KeyboardInterrupt

    monkeypatch.setattr(Renderer, "climb", ctrl_c_halfway)
    sample = ["sample", "--model", "conftest:either_stripes_keras_model", "--objective", "mix:0"]
    sample += ["--size", str(SIDE), "--num-chains", "2", "--photo-clusters", "2"]
    sample += ["--photo-steps", "8", "--init", str(examples), "--out", str(tmp_path / "s")]
    assert cli.main([*sample, "--quiet"]) == 130
    out = tmp_path / "s"
    report = json.loads((out / "diagnostics.json").read_text())
    # both clusters' optima as the steps taken left them: facets, with their photos, on disk
    assert sorted(f["found"] for f in report["facets"]) == [
        "photos, cluster 0",
        "photos, cluster 1",
    ]
    assert report["interrupted"] and (out / "starts.png").is_file()
    for k, facet in enumerate(report["facets"]):
        assert (out / facet["optimum"]).is_file() and facet["optimum"] == f"facet_{k}_optimum.png"
        assert [e["png"] for e in facet["examples"]] == [
            f"facet_{k}_example_{j}.png" for j in range(3)
        ]
        assert all((out / e["png"]).is_file() for e in facet["examples"])
    assert "from photos: facet 0 cluster " in capsys.readouterr().err


def test_more_photo_clusters_than_the_device_holds_are_refused_naming_the_option(
    either48, examples, monkeypatch
):
    from samplevis.runtime import devices, memory

    chains = memory.needed_bytes(either48, ["mix"], 256, 256, 2)
    monkeypatch.setattr(devices, "default_placement", lambda: devices.HOST)
    monkeypatch.setattr(devices, "host_free", lambda: 4 * chains)  # 2 chains fit, 64 images not
    monkeypatch.setattr(memory, "_UNCHECKED", set())
    with pytest.raises(samplevis.MemoryLimitError, match=r"hmc_opts\['photo_clusters'\]"):
        samplevis.render(
            either48,
            "mix:0",
            hmc_opts=dict(QUICK, init=examples, photo_clusters=64),
            param_f=param.image(256, batch=2),
            progress=False,
        )


def test_a_folder_of_photos_is_ranked_then_made_facets_in_one_command(tmp_path, capsys):
    from samplevis import cli

    stripes_folder(tmp_path / "images")
    sample = ["sample", "--model", "conftest:either_stripes_keras_model", "--objective", "mix:0"]
    sample += ["--size", str(SIDE), "--num-chains", "2", "--photo-clusters", "2"]
    sample += ["--photo-steps", "16", "--search-rounds", "0", "--num-results", "2"]
    sample += ["--num-burnin-steps", "4", "--quiet", "--out", str(tmp_path / "s")]
    assert cli.main([*sample, "--init", str(tmp_path / "images")]) == 0
    err = capsys.readouterr().err
    assert "ranking the photos in" in err and "(their top 30)" in err
    report = json.loads((tmp_path / "s" / "diagnostics.json").read_text())
    assert report["options"]["init"] == str(tmp_path / "s" / "examples" / "examples.json")
    assert report["options"]["photo_clusters"] == 2
    # the stripes' two orientations, each facet led by a photo of its own
    leaders = sorted(Path(facet["examples"][0]["file"]).name[0] for facet in report["facets"])
    assert [f["found"][:16] for f in report["facets"]] == ["photos, cluster "] * 2
    assert leaders == ["h", "v"]
    # every photo it read is among the top ones, all of one kind: nothing to tell them from
    assert all(facet["processing"] is None for facet in report["facets"])
    assert NOT_CHECKED in report["summary"]


def test_a_cluster_starts_at_its_photos_mean_best_medoid_or_best_blurred(either48, examples):
    from samplevis.examples.clusters import cluster_images, clusters

    found = clusters(examples, either48, "mix:0", 2)
    assert [len(c.members) for c in found] == [3, 3] and found[0].best.file.name == "v_100.png"
    files = [[np.asarray(Image.open(e.file), np.float32) / 255.0 for e in c.members] for c in found]
    mean, best, blurred = (
        cluster_images(found, (SIDE, SIDE), k) for k in ("mean", "best", "blurred")
    )
    np.testing.assert_allclose(mean, [np.mean(f, axis=0) for f in files], atol=1e-6)
    np.testing.assert_allclose(best, [f[0] for f in files], atol=1e-6)
    medoids = cluster_images(found, (SIDE, SIDE), "medoid")
    np.testing.assert_allclose(medoids, [f[c.medoid] for f, c in zip(files, found)], atol=1e-6)
    # blurred: the best photo's colours, its stripes (6 px apart) smoothed away
    np.testing.assert_allclose(blurred.mean(axis=(1, 2)), best.mean(axis=(1, 2)), atol=2 / 255)
    assert np.all(blurred.std(axis=(1, 2, 3)) < 0.5 * best.std(axis=(1, 2, 3)))


@pytest.fixture(scope="module")
def phase_climb_from_best(either48, examples):
    """The phase climb from each cluster's best photo through the blur's transforms (the
    default): the phase test and the blur test read this one run."""
    return _render(
        either48, examples, photo_start="best", photo_climb="phase", photo_transforms="blur"
    )


def test_a_phase_climb_keeps_its_photo_s_spectrum_and_the_pixels_climb_does_not(
    either48, examples, phase_climb_from_best
):
    from samplevis.examples.clusters import cluster_images, clusters
    from samplevis.optvis.param.color import from_valid_rgb

    def magnitude(images: np.ndarray) -> np.ndarray:
        # what param.phase_image keeps: per colour channel, before the sigmoid; the columns
        # that pair rows k and -k hold only a real image's part and are left out
        spatial = np.asarray(from_valid_rgb(images, decorrelate=True)).transpose(0, 3, 1, 2)
        return np.abs(np.fft.rfft2(spatial))[..., 1:-1]

    starts = cluster_images(clusters(examples, either48, "mix:0", 2), (SIDE, SIDE), "best")
    pixels_climb = samplevis.render(
        either48,
        "mix:0",
        hmc_opts=dict(QUICK, init=examples, photo_start="best", photo_climb="pixels"),
        param_f=param.image(SIDE, batch=2),
        seed=0,
        progress=False,
    )
    for climb, result in (("phase", phase_climb_from_best), ("pixels", pixels_climb)):
        assert sorted(f.found for f in result.facets) == ["photos, cluster 0", "photos, cluster 1"]
        for facet in result.facets:
            start = starts[int(facet.found.split()[-1])]
            climbed, begun = (
                float(np.mean(either48.features(x[None], ["mix"])["mix"][..., 0]))
                for x in (facet.image, start)
            )
            assert climbed > begun  # the unit answers to the facet more than to its photo
            kept, photo = magnitude(facet.image[None]), magnitude(start[None])
            error = np.abs(kept - photo).max() / photo.max()
            assert error < 0.01 if climb == "phase" else error > 0.05, (climb, error)


def test_the_climb_through_the_blur_s_transforms_climbs_and_keeps_its_photo_s_spectrum(
    either48, examples, phase_climb_from_best
):
    from samplevis.examples.clusters import cluster_images, clusters
    from samplevis.optvis.param.color import from_valid_rgb

    def spectrum(images: np.ndarray) -> np.ndarray:
        spatial = np.asarray(from_valid_rgb(images, decorrelate=True)).transpose(0, 3, 1, 2)
        return np.fft.rfft2(spatial)[..., 1:-1]

    starts = cluster_images(clusters(examples, either48, "mix:0", 2), (SIDE, SIDE), "best")
    result = phase_climb_from_best
    for facet in result.facets:
        start = starts[int(facet.found.split()[-1])]
        climbed, begun = (
            float(np.mean(either48.features(x[None], ["mix"])["mix"][..., 0]))
            for x in (facet.image, start)
        )
        assert climbed > begun
        kept, photo = spectrum(facet.image[None]), spectrum(start[None])
        assert np.abs(np.abs(kept) - np.abs(photo)).max() / np.abs(photo).max() < 0.01


@pytest.mark.slow
def test_the_mfv_climb_climbs_from_its_cluster_s_mean_and_keeps_its_photos_colourfulness(
    either48, examples
):
    from samplevis.examples.clusters import cluster_images, clusters
    from samplevis.optvis.natural_measures import colourfulness
    from samplevis.sampling.starts.photos import photos_colourfulness

    found = clusters(examples, either48, "mix:0", 2)
    starts = cluster_images(found, (SIDE, SIDE), "mean")
    limits = photos_colourfulness(found, (SIDE, SIDE))
    result = _render(either48, examples, photo_start="mean", photo_climb="mfv")
    assert len(result.facets) == 2
    for facet in result.facets:
        cluster = int(facet.found.split()[-1])
        climbed, begun = (
            float(np.mean(either48.features(x[None], ["mix"])["mix"][..., 0]))
            for x in (facet.image, starts[cluster])
        )
        assert climbed > begun  # the unit answers to the facet more than to its mean
        # the cap holds after the last step, to within the 8-bit rounding
        assert colourfulness(facet.image[None])[0] <= limits[cluster] + 1.0
