"""Dataset examples against known answers: a hand-built Gabor filter finds the files its grating
was pasted into, at the place it was pasted; a folder and an array give the same ranking; bad files
are counted and skipped; an interrupted run resumes to what one run finds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import samplevis
from samplevis import objectives
from samplevis.examples import collect, examples_json, topk
from samplevis.examples.images import Fit, source_boxes
from samplevis.models import geometry
from samplevis.optvis.blur_check import BLUR_SIGMA
from samplevis.sampling.phases.facet_checks import DRAWS

from conftest import InterruptingBar, gabor_keras_model
from stripes import PATCH, SIDE, grating, grey, stripes_folder, stripes_way


@pytest.fixture(scope="module")
def gabor48():
    """Two ReLU'd Gabor channels on a 48 x 48 px input: 0 likes vertical stripes (varying along
    x), 1 horizontal ones; each position sees 15 x 15 px."""
    return samplevis.Model(gabor_keras_model((0.0, 90.0), (SIDE, SIDE, 3)), name="gabor48")


def photo(name: str, height: int, width: int) -> np.ndarray:
    import skimage.data
    from skimage.transform import resize

    image = getattr(skimage.data, name)()
    image = np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]
    return np.round(resize(image, (height, width), anti_aliasing=True) * 255).astype(np.uint8)


def pasted(height: int, width: int, top: int, left: int, seed: int) -> np.ndarray:
    image = grey(height, width, seed)
    image[top : top + PATCH, left : left + PATCH] = grating()
    return image


def make_folder(root) -> dict[str, tuple[int, int, int, int]]:
    """Noise, photos and four files with the grating pasted (PNG, lossless WebP, a JPEG in a
    subfolder, and a JPEG stored on its side with an EXIF orientation that turns it upright);
    returns {pasted file: (left, top, right, bottom) of the grating in the upright file}."""
    (root / "sub").mkdir(parents=True)
    for i in range(4):
        Image.fromarray(grey(SIDE + 8 * i, SIDE + 16, seed=i)).save(root / f"noise{i}.png")
    for name in ("chelsea", "coffee", "astronaut"):
        Image.fromarray(photo(name, SIDE, SIDE * 4 // 3)).save(root / f"{name}.jpg", quality=95)
    places = {}
    # wide: the centre crop starts 8 px from the left
    Image.fromarray(pasted(SIDE, SIDE + 16, 5, 20, seed=10)).save(root / "p_wide.png")
    places["p_wide.png"] = (20, 5, 20 + PATCH, 5 + PATCH)
    # tall: the crop starts 8 px from the top
    Image.fromarray(pasted(SIDE + 16, SIDE, 30, 12, seed=11)).save(
        root / "p_tall.webp", lossless=True
    )
    places["p_tall.webp"] = (12, 30, 12 + PATCH, 30 + PATCH)
    Image.fromarray(pasted(SIDE, SIDE, 20, 4, seed=12)).save(root / "sub/p.jpg", quality=98)
    places["sub/p.jpg"] = (4, 20, 4 + PATCH, 20 + PATCH)
    upright = Image.fromarray(pasted(SIDE, SIDE + 12, 12, 30, seed=13))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(root / "p_exif.jpg", quality=98, exif=exif)
    places["p_exif.jpg"] = (30, 12, 30 + PATCH, 12 + PATCH)
    return places


def inside(box, place, slack: int = 2) -> bool:
    left, top, right, bottom = place
    return (
        box[0] >= left - slack
        and box[1] >= top - slack
        and box[2] <= right + slack
        and box[3] <= bottom + slack
    )


def test_the_files_with_the_pasted_grating_rank_first_and_their_boxes_hold_it(tmp_path, gabor48):
    places = make_folder(tmp_path / "images")
    found = samplevis.dataset_examples(
        gabor48, "gabor_relu:0", images=tmp_path / "images", top=6, batch=4, progress=False
    )
    ranked = found.ranked("gabor_relu:0")
    assert {name for name, _, _ in ranked[:4]} == set(places)
    assert ranked[3][1] > 2 * ranked[4][1] > 0  # the grating, well above anything else
    for name, _, box in ranked[:4]:
        assert (box[2] - box[0], box[3] - box[1]) == (15, 15)  # the filter's window, at scale 1
        assert inside(box, places[name]), (name, box, places[name])
    # p_exif.jpg is stored on its side, its stripes horizontal: it ranks here only upright


def test_a_layer_scores_all_its_channels_and_a_neuron_its_own_position(tmp_path, gabor48):
    places = make_folder(tmp_path / "images")
    # the grating of sub/p.jpg covers input rows 20..42 and columns 4..26: the neuron at x=8,
    # y=24 sees rows 24..38 and columns 8..22, inside it
    neuron = objectives.neuron("gabor_relu", 0, x=8, y=24)
    found = samplevis.dataset_examples(
        gabor48, neuron, layer="gabor_relu", images=tmp_path / "images", top=2, progress=False
    )
    assert [u.name for u in found.units] == [
        "gabor_relu:0@(8,24)",
        "gabor_relu:0",
        "gabor_relu:1",
    ]
    name, _, box = found.ranked(0)[0]
    assert (name, box) == ("sub/p.jpg", (8, 24, 23, 39))
    assert found.ranked(1)[0][0] in places


def test_a_folder_and_the_same_images_as_an_array_give_the_same_top_images(tmp_path, gabor48):
    rng = np.random.default_rng(0)
    images = [photo(n, 60, 80) for n in ("chelsea", "coffee", "astronaut", "rocket")]
    images += [np.round(rng.uniform(0, 255, (60, 80, 3))).astype(np.uint8) for _ in range(3)]
    folder = tmp_path / "images"
    folder.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i}.png")
    units = ["gabor_relu:0", "gabor_relu:1"]
    from_files = samplevis.dataset_examples(
        gabor48, units, images=folder, top=3, batch=4, progress=False
    )
    from_array = samplevis.dataset_examples(
        gabor48, units, images=np.stack(images) / 255.0, top=3, batch=4, progress=False
    )
    for unit in units:
        files = from_files.ranked(unit)
        array = from_array.ranked(unit)
        assert [f"{n}.png" for n, _, _ in array] == [n for n, _, _ in files]
        np.testing.assert_allclose([v for _, v, _ in array], [v for _, v, _ in files], rtol=1e-6)
        assert [b for _, _, b in array] == [b for _, _, b in files]


@pytest.mark.slow
def test_a_channel_of_the_built_in_model_ranks_a_folder_as_the_array(tmp_path, effnet):
    images = [photo(n, 240, 300) for n in ("chelsea", "coffee", "astronaut", "rocket")]
    images.append(np.round(np.random.default_rng(1).uniform(0, 255, (240, 300, 3))).astype("uint8"))
    folder = tmp_path / "images"
    folder.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i}.png")
    unit = "block3a_expand_activation:20"
    kwargs = dict(top=3, batch=2, progress=False)
    from_files = samplevis.dataset_examples(effnet, unit, images=folder, **kwargs)
    from_array = samplevis.dataset_examples(effnet, unit, images=np.stack(images) / 255.0, **kwargs)
    files, array = from_files.ranked(0), from_array.ranked(0)
    assert [f"{n}.png" for n, _, _ in array] == [n for n, _, _ in files]
    np.testing.assert_allclose([v for _, v, _ in array], [v for _, v, _ in files], rtol=1e-5)
    assert [b for _, _, b in array] == [b for _, _, b in files]
    # each box is what one of block3a's 56 x 56 positions sees (19 x 19 px of the 224 px input,
    # from the layers' geometry), in the 240 x 300 px file's pixels
    field = geometry.ReceptiveField((-9, -9), (4, 4), (19, 19))
    keras_model = effnet.keras_model
    layer = keras_model.get_layer("block3a_expand_activation").output
    assert geometry.receptive_field(keras_model.inputs, layer, 224, 224) == field
    fit = Fit.centre((240, 300), (224, 224))
    seen = {to_source(fit, field.box(r, c, 224, 224)) for r in range(56) for c in range(56)}
    for _, _, box in files:
        assert box in seen


def test_bad_files_are_counted_in_one_line_and_skipped(tmp_path, gabor48):
    folder = tmp_path / "images"
    make_folder(folder)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("not a picture")
    jpeg = (folder / "chelsea.jpg").read_bytes()
    (folder / "sub/cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    png = (folder / "p_wide.png").read_bytes()
    (folder / "cut.png").write_bytes(png[: len(png) // 2])
    (folder / "readme.txt").write_text("not an image name: not read")
    with pytest.warns(UserWarning) as caught:
        found = samplevis.dataset_examples(
            gabor48, "gabor_relu:0", images=folder, top=4, out=tmp_path / "out", progress=False
        )
    assert found.skipped == {
        "empty.jpg": "empty",
        "notes.png": "not an image",
        "sub/cut.jpg": "truncated or unreadable",
        "cut.png": "truncated or unreadable",
    }
    assert found.read == 15
    lines = [str(w.message) for w in caught]
    assert any(
        line.startswith("skipped 4 of 15 files: 1 empty, 1 not an image, 2 truncated or unreadable")
        and "\n" not in line
        for line in lines
    ), lines
    saved = json.loads((tmp_path / "out/examples.json").read_text())
    assert saved["skipped_counts"] == {"empty": 1, "not an image": 1, "truncated or unreadable": 2}
    assert {e["file"] for e in saved["units"][0]["examples"]} == {
        "p_wide.png",
        "p_tall.webp",
        "sub/p.jpg",
        "p_exif.jpg",
    }


def test_a_missing_folder_a_file_or_a_folder_without_images_is_an_error_naming_it(
    tmp_path, gabor48
):
    for given, words in (
        (tmp_path / "nowhere", "does not exist"),
        (tmp_path / "empty", "holds no image files"),
        (tmp_path / "file.png", "is a file, not a folder"),
    ):
        (tmp_path / "empty").mkdir(exist_ok=True)
        (tmp_path / "file.png").write_bytes(b"x")
        with pytest.raises(ValueError, match=words) as raised:
            samplevis.dataset_examples(gabor48, "gabor_relu:0", images=given, progress=False)
        assert str(given) in str(raised.value)


def test_a_ranking_skips_the_pictures_an_earlier_ranking_wrote_inside_the_folder(tmp_path, gabor48):
    places = make_folder(tmp_path / "images")
    args = dict(images=tmp_path / "images", top=6, batch=4, progress=False)
    first = samplevis.dataset_examples(gabor48, "gabor_relu:0", out=tmp_path / "images/ex", **args)
    written = list((tmp_path / "images/ex").rglob("*.png"))
    assert len(written) == 12  # 6 pictures and 6 crops, the gratings' crops among them
    with pytest.warns(
        UserWarning, match=r"skipped 1 folder under .* that hold examples.json \(ex\)"
    ):
        again = samplevis.dataset_examples(gabor48, "gabor_relu:0", **args)
    assert again.read == first.read == 11
    assert again.ranked("gabor_relu:0") == first.ranked("gabor_relu:0")
    assert {name for name, _, _ in again.ranked("gabor_relu:0")[:4]} == set(places)
    with pytest.raises(ValueError, match="is the images folder.*a subfolder such as"):
        samplevis.dataset_examples(gabor48, "gabor_relu:0", out=tmp_path / "images", **args)
    with pytest.raises(ValueError, match="holds examples.json.*give the folder of photos"):
        samplevis.dataset_examples(gabor48, "gabor_relu:0", images=tmp_path / "images/ex")


def test_an_interrupted_run_resumes_to_what_one_run_finds(tmp_path, gabor48, monkeypatch):
    make_folder(tmp_path / "images")
    args = dict(images=tmp_path / "images", layer="gabor_relu", top=3, batch=2, progress=False)
    whole = samplevis.dataset_examples(gabor48, out=tmp_path / "whole", **args)
    with monkeypatch.context() as patch:
        patch.setattr(collect, "_bar", lambda *a: InterruptingBar(at_call=2))
        with pytest.warns(UserWarning, match="interrupted after 4 of 11"):
            first = samplevis.dataset_examples(gabor48, out=tmp_path / "part", **args)
    assert first.interrupted and first.read == 4
    saved = json.loads((tmp_path / "part/examples.json").read_text())
    assert len(saved["files_read"]) == 4
    resumed = samplevis.dataset_examples(gabor48, out=tmp_path / "part", **args)
    assert not resumed.interrupted and resumed.read == 11
    for unit in range(2):
        assert resumed.ranked(unit) == whole.ranked(unit)
    on_disk = json.loads((tmp_path / "part/examples.json").read_text())
    assert on_disk == json.loads((tmp_path / "whole/examples.json").read_text())
    assert (tmp_path / "part" / on_disk["units"][0]["examples"][0]["crop"]).exists()
    # other arguments into that folder are refused, naming what differs
    with pytest.raises(examples_json.OtherRunError, match="top"):
        samplevis.dataset_examples(gabor48, out=tmp_path / "part", **{**args, "top": 2})


def test_saving_two_halves_into_one_folder_gives_the_record_of_the_whole(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(10, 3))
    names = [f"f{i}.png" for i in range(10)]
    boxes = rng.integers(0, 9, (10, 3, 4))
    run = {"model": "m", "images": "x", "input": [8, 8], "top": 4, "units": ["a", "b", "c"]}
    units = [{"unit": u} for u in "abc"]

    def part(rows):
        top = topk.merge(
            topk.empty(3, 4), topk.of_batch(values[rows], [names[i] for i in rows], boxes[rows])
        )
        return examples_json.Record(run, units, top, frozenset(names[i] for i in rows))

    examples_json.save(tmp_path / "halves", part([0, 1, 2, 3, 4, 5]))
    examples_json.save(tmp_path / "halves", part([4, 5, 6, 7, 8, 9]))  # overlapping: kept once
    examples_json.save(tmp_path / "whole", part(list(range(10))))
    halves = json.loads((tmp_path / "halves/examples.json").read_text())
    assert halves == json.loads((tmp_path / "whole/examples.json").read_text())
    for u in range(3):
        best = np.argsort(-values[:, u])[:4]
        assert [e["file"] for e in halves["units"][u]["examples"]] == [names[i] for i in best]


def test_processes_saving_into_one_folder_at_once_end_with_the_union_of_their_work(tmp_path):
    import multiprocessing

    # from a module that does not import TensorFlow, which each spawned process imports
    from examples_saving import record_values, save_rows

    out = str(tmp_path / "shared")
    context = multiprocessing.get_context("spawn")
    parts = [list(range(0, 80, 2)), list(range(1, 80, 2))]
    barrier = context.Barrier(len(parts))
    workers = [context.Process(target=save_rows, args=(out, rows, barrier)) for rows in parts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    saved = json.loads((tmp_path / "shared/examples.json").read_text())
    values, names, _ = record_values()
    assert sorted(saved["files_read"]) == sorted(names)
    for u in range(3):
        best = np.argsort(-values[:, u])[:4]
        assert [e["file"] for e in saved["units"][u]["examples"]] == [names[i] for i in best]


def test_ties_rank_by_file_name_whichever_order_the_images_came_in():
    a = topk.of_batch(np.zeros((3, 1)), ["c", "a", "b"], np.zeros((3, 1, 4)))
    b = topk.of_batch(np.array([[0.0], [1.0]]), ["d", "e"], np.zeros((2, 1, 4)))
    for first, second in ((a, b), (b, a)):
        merged = topk.merge(topk.merge(topk.empty(1, 3), first), second)
        assert [f for f, _, _ in merged.ranked(0)] == ["e", "a", "b"]


def to_source(fit: Fit, box: tuple[int, ...]) -> tuple[int, ...]:
    """A (left, top, right, bottom) box of the input's px as the file's px (`source_boxes` of one
    box)."""
    return tuple(int(v) for v in source_boxes(np.asarray(box)[None, None], [fit])[0, 0])


def test_fit_maps_boxes_of_the_centre_crop_back_to_the_file():
    fit = Fit.centre((300, 400), (224, 224))  # scaled by 224/300, 37.33 px cut from each side
    assert to_source(fit, (0, 0, 224, 224)) == (50, 0, 350, 300)
    assert to_source(fit, (112, 112, 224, 224)) == (200, 150, 350, 300)


def test_the_receptive_field_is_the_set_of_pixels_the_gradient_reaches():
    import keras
    import tensorflow as tf

    x = keras.Input((64, 64, 3))
    a = keras.layers.Conv2D(2, 3, padding="same")(x)
    b = keras.layers.Conv2D(2, 5, strides=2, padding="same")(a)
    c = keras.layers.ZeroPadding2D(((1, 0), (1, 0)))(b)
    d = keras.layers.DepthwiseConv2D(3, strides=2, padding="valid")(c)
    e = keras.layers.AveragePooling2D(2)(d)  # a max pool's gradient reaches one pixel
    f = keras.layers.Conv2D(2, 3, dilation_rate=2, padding="same")(e)
    out = keras.layers.Add()([f, keras.layers.Conv2D(2, 1)(e)])
    model = keras.Model(x, out)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    field = geometry.receptive_field(model.inputs, model.outputs[0], 64, 64)
    # by hand, (start, jump, size) per layer: 3x3 same (-1, 1, 3); 5x5 stride 2 same, padded 1
    # before (-2, 2, 7); zero padding 1 (-4, 2, 7); 3x3 stride 2 (-4, 4, 11); 2x2 pool (-4, 8,
    # 15); 3x3 dilated 2, same, padded 2 before (-20, 8, 47); the 1x1 branch (-4, 8, 15) is
    # inside it
    assert field == geometry.ReceptiveField((-20, -20), (8, 8), (47, 47))
    image = tf.constant(rng.normal(size=(1, 64, 64, 3)).astype("float32"))
    for row, col in ((0, 0), (3, 4), (7, 7)):
        with tf.GradientTape() as tape:
            tape.watch(image)
            value = tf.reduce_sum(model(image)[0, row, col])
        ys, xs = np.nonzero(np.abs(tape.gradient(value, image)[0].numpy()).sum(-1))
        reached = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert reached == field.box(row, col, 64, 64)


def test_the_examples_command_writes_the_index_and_pngs_and_names_its_units(tmp_path, capsys):
    from samplevis import cli

    places = make_folder(tmp_path / "images")
    base = ["examples", "--model", "conftest:gabor_keras_model", "--images"]
    args = [*base, str(tmp_path / "images"), "--size", str(SIDE), "--top", "4", "--quiet"]
    assert cli.main([*args, "--objective", "gabor_relu:0", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "out/examples.json")
    saved = json.loads((tmp_path / "out/examples.json").read_text())
    (unit,) = saved["units"]
    assert unit["unit"] == "gabor_relu:0" and unit["channel"] == 0
    assert {e["file"] for e in unit["examples"]} == set(places)
    for entry in unit["examples"]:
        assert inside(entry["box"], places[entry["file"]])
        crop = np.asarray(Image.open(tmp_path / "out" / entry["crop"]))
        assert crop.shape == (15, 15, 3)
        # the crop holds the grating: its columns swing from dark to light
        assert np.ptp(crop.mean(axis=(0, 2))) > 150
    assert cli.main([*args, "--out", str(tmp_path / "none")]) == 2
    assert "--objective LAYER:CHANNEL" in capsys.readouterr().err


def test_the_gallery_shows_a_units_crops_beside_its_optimized_image(tmp_path, gabor48):
    from samplevis import cli, io

    make_folder(tmp_path / "images")
    samplevis.dataset_examples(
        gabor48,
        "gabor_relu:0",
        images=tmp_path / "images",
        top=3,
        out=tmp_path / "page/ex",
        progress=False,
    )
    # what `samplevis optimize --objective gabor_relu:0` names its images
    optimized = tmp_path / "page/channel__gabor_relu___0_0064_0.png"
    io.save_png(optimized, np.full((48, 48, 3), 0.5))
    assert cli.main(["gallery", str(tmp_path / "page")]) == 0
    page = (tmp_path / "page/index.html").read_text()
    assert "dataset examples (ex/)" in page
    crops = [f"ex/gabor_relu_0/{rank:02d}_crop.png" for rank in range(3)]
    strip = page[page.index(crops[0]) : page.index(optimized.name)]
    assert all(crop in strip for crop in crops)  # in rank order, the optimized image after them
    assert strip.index(crops[0]) < strip.index(crops[1]) < strip.index(crops[2])
    assert "ex/gabor_relu_0/00.png" not in page  # the whole images stay in their folder


@pytest.mark.slow
def test_an_atlas_with_images_shows_each_channels_top_crops_beside_it(tmp_path):
    from samplevis import cli

    places = make_folder(tmp_path / "images")
    args = ["atlas", "--model", "conftest:gabor_keras_model", "--layers", "gabor_relu"]
    args += ["--steps", "2", "--size", str(SIDE), "--images", str(tmp_path / "images")]
    assert cli.main([*args, "--top", "4", "--out", str(tmp_path / "atlas"), "--quiet"]) == 0
    page = (tmp_path / "atlas/index.html").read_text()
    data = page[page.index('id="atlas-data">') + len('id="atlas-data">') :]
    entries = json.loads(data[: data.index("</script>")])
    (channel0,) = [e for e in entries if e["channel"] == 0]
    assert channel0["files"][0] == "gabor_relu/0.png"
    crops = channel0["files"][1:]
    assert crops == [f"examples/gabor_relu_0/{rank:02d}_crop.png" for rank in range(4)]
    assert all((tmp_path / "atlas" / crop).is_file() for crop in crops)
    assert set(channel0["examples"]) == set(places)
    # each channel's image checked against its top photos and the others read (Geirhos et
    # al.'s check), a share of the layers the page shows and sorts by
    checked = json.loads((tmp_path / "atlas" / "processing.json").read_text())
    assert set(checked["channels"]) == {f"gabor_relu/{e['channel']}" for e in entries}
    assert all(0 <= e["processed_like_photos"] <= 1 for e in entries)
    assert 'id="sort-processing"' in page
    # and the share of its value each keeps under a 1 px blur, and its top photos' median share
    for key, entry in checked["channels"].items():
        assert {"blur_kept", "photos_blur_kept", "blur_passed"} <= set(entry), key
    shown = [e for e in entries if isinstance(e["blur_kept"], float)]
    assert shown and all(isinstance(e["photos_blur_kept"], float) for e in shown)


@pytest.mark.parametrize("size", [(107, 107), (107, 300), (1, 1), (20, 3000), (3000, 20)])
def test_a_file_of_any_size_is_fitted_to_the_input(tmp_path, size):
    from samplevis.examples.images import load_fitted

    # 107 px scaled to 224 px rounds the crop's corner to a hair outside the image
    path = tmp_path / "image.png"
    Image.fromarray(grey(*size, seed=0)).save(path)
    pixels, fit = load_fitted(path, (224, 224))
    assert pixels.shape == (224, 224, 3)
    assert to_source(fit, (0, 0, 224, 224)) == (
        (size[1] - min(size)) // 2,
        (size[0] - min(size)) // 2,
        (size[1] + min(size)) // 2 + (size[1] - min(size)) % 2,
        (size[0] + min(size)) // 2 + (size[0] - min(size)) % 2,
    )


def test_a_direction_along_one_channel_ranks_as_that_channel(tmp_path, gabor48):
    make_folder(tmp_path / "images")
    units = [
        objectives.direction("gabor_relu", [1.0, 0.0]),
        objectives.direction("gabor_relu", [0.0, 2.0]),
        "gabor_relu:0",
        "gabor_relu:1",
    ]
    found = samplevis.dataset_examples(
        gabor48, units, images=tmp_path / "images", top=4, progress=False
    )
    assert len({u.name for u in found.units}) == 4
    for direction, channel, weight in ((0, 2, 1.0), (1, 3, 2.0)):
        along, alone = found.ranked(direction), found.ranked(channel)
        assert [(n, b) for n, _, b in along] == [(n, b) for n, _, b in alone]
        np.testing.assert_allclose(
            [v for _, v, _ in along], [weight * v for _, v, _ in alone], rtol=1e-5
        )


# ----- starts from examples: one chain per facet --------------------------------------------


@pytest.fixture(scope="module")
def either48():
    """'mix:0' fires on vertical and on horizontal stripes; 'mix:1' and 'mix:2' tell them apart."""
    from conftest import either_stripes_keras_model

    return samplevis.Model(either_stripes_keras_model(), name="either48")


def test_two_chains_start_one_from_each_kind_of_example(tmp_path, either48):
    from samplevis.examples import clusters as example_clusters

    stripes_folder(tmp_path / "images")
    found = samplevis.dataset_examples(
        either48, "mix:0", images=tmp_path / "images", top=6, out=tmp_path / "ex", progress=False
    )
    assert {Path(f).name[0] for f, _, _ in found.ranked("mix:0")} == {"v", "h"}  # noise is out
    found_clusters = example_clusters.clusters(
        tmp_path / "ex" / "examples.json", either48, "mix:0", 2
    )
    # each cluster is its kind's strongest file, and holds the three of its kind
    assert [(c.best.file.name, len(c.members)) for c in found_clusters] == [
        ("v_100.png", 3),
        ("h_090.png", 3),
    ]
    images = samplevis.examples.starts(found, either48, "mix:0", num_chains=2, size=SIDE)
    assert images.shape == (2, SIDE, SIDE, 3) and images.dtype == np.float32
    assert stripes_way(either48, images) == ["v", "h"]
    np.testing.assert_allclose(
        images[0], np.asarray(Image.open(tmp_path / "images/v_100.png")) / 255.0, atol=1e-6
    )
    # one chain: the best image; more chains than examples: the facets repeat, said once
    assert stripes_way(
        either48, example_clusters.starts(tmp_path / "ex", either48, "mix:0", 1, SIDE)
    ) == ["v"]
    with pytest.warns(UserWarning, match="6 distinct examples for 8 chains: the facets repeat"):
        many = example_clusters.starts(tmp_path / "ex", either48, "mix:0", 8, SIDE)
    assert len(many) == 8


def test_each_facet_gets_the_examples_that_look_like_it(tmp_path, either48):
    from samplevis.examples import clusters as example_clusters

    stripes_folder(tmp_path / "images")
    samplevis.dataset_examples(
        either48, "mix:0", images=tmp_path / "images", top=6, out=tmp_path / "ex", progress=False
    )
    # two facets as a render of "mix:0" would show them: a vertical and a horizontal grating
    vertical = grating(SIDE) / 255.0
    optima = np.stack([vertical, np.transpose(vertical, (1, 0, 2))]).astype(np.float32)
    assert stripes_way(either48, optima) == ["v", "h"]
    found = example_clusters.by_facet(tmp_path / "ex", either48, "mix:0", optima, per_facet=2)
    assert [[e.file.name for e in facet] for facet in found] == [
        ["v_100.png", "v_080.png"],
        ["h_090.png", "h_070.png"],
    ]
    assert found[0][0].value > found[0][1].value and found[0][0].box is not None
    swapped = example_clusters.by_facet(tmp_path / "ex", either48, "mix:0", optima[::-1])
    assert [{e.file.name[0] for e in facet} for facet in swapped] == [{"h"}, {"v"}]
    assert [len(facet) for facet in swapped] == [3, 3]
    with pytest.raises(ValueError, match=r"one image per facet, float \[K, H, W, 3\]"):
        example_clusters.by_facet(tmp_path / "ex", either48, "mix:0", optima[0])


def stripes_examples_and_sample(tmp_path) -> list[str]:
    """`samplevis examples` of 'mix:0' over `stripes_folder` into tmp_path/ex (top 6), and the
    start of a short `samplevis sample` of it (2 chains of 2 samples at SIDE px, into
    tmp_path/s)."""
    from samplevis import cli

    stripes_folder(tmp_path / "images")
    model = ["--model", "conftest:either_stripes_keras_model"]
    out = str(tmp_path / "ex")
    examples = ["--images", str(tmp_path / "images"), "--top", "6", "--quiet", "--out", out]
    assert cli.main(["examples", *model, "--objective", "mix:0", *examples]) == 0
    return [
        "sample",
        *model,
        "--objective",
        "mix:0",
        "--size",
        str(SIDE),
        "--num-results",
        "2",
        "--num-chains",
        "2",
        "--num-burnin-steps",
        "4",
        "--out",
        str(tmp_path / "s"),
        "--quiet",
    ]


@pytest.mark.slow
def test_sample_with_examples_shows_each_facet_s_examples_in_the_gallery(tmp_path, capsys):
    from samplevis import cli

    sample = stripes_examples_and_sample(tmp_path) + ["--optimize-steps", "16"]
    sample += ["--search-rounds", "1"]
    capsys.readouterr()
    assert cli.main([*sample, "--examples", str(tmp_path / "nowhere.json")]) == 2
    assert "--examples: no examples file" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # refused before any work

    assert cli.main([*sample, "--examples", str(tmp_path / "ex" / "examples.json")]) == 0
    assert "examples beside the facets (facet_*_example_*.png)" in capsys.readouterr().out
    report = json.loads((tmp_path / "s" / "diagnostics.json").read_text())
    listed = [e for facet in report["facets"] for e in facet["examples"]]
    # every facet's examples are the unit's top images (noise is not among them), best first
    assert listed and all(Path(e["file"]).name[0] in "vh" for e in listed)
    for facet in report["facets"]:
        values = [e["value"] for e in facet["examples"]]
        assert values == sorted(values, reverse=True) and len(values) <= 4
    # each facet checked against its examples and the others (the noise files read too)
    assert all(facet["processing"]["layers"] == ["gabor_relu"] for facet in report["facets"])
    assert any(line.startswith("processed like their photos (") for line in report["summary"])
    # and measured under a 1 px blur against them: its optimum and up to DRAWS of its draws
    # (2 per chain here), as many as the check read
    for facet in report["facets"]:
        drawn = min(DRAWS, 2 * len(facet["chains"]))
        assert (facet["blur"]["sigma"], facet["blur"]["draws"]) == (BLUR_SIGMA, drawn)
        assert facet["processing"]["draws"] == drawn
    assert any(line.startswith("under a 1 px blur (") for line in report["summary"])
    for entry in listed:
        crop = np.asarray(Image.open(tmp_path / "s" / entry["png"]))
        assert crop.ndim == 3 and crop.shape[2] == 3
    assert cli.main(["gallery", str(tmp_path / "s")]) == 0
    page = (tmp_path / "s" / "index.html").read_text()
    assert all(entry["png"] in page for entry in listed)
    assert "the part its unit saw" in page


def test_starts_from_examples_name_what_is_wrong_with_the_file(tmp_path, either48):
    from samplevis.examples import clusters as example_clusters

    stripes_folder(tmp_path / "images")
    samplevis.dataset_examples(
        either48, "mix:0", images=tmp_path / "images", top=4, out=tmp_path / "ex", progress=False
    )
    index = tmp_path / "ex" / "examples.json"
    with pytest.raises(ValueError, match=r"has no unit 'mix:1'; it holds mix:0\. Run"):
        example_clusters.starts(index, either48, "mix:1", 2, SIDE)
    (tmp_path / "other.json").write_text('{"chains": 2}')
    with pytest.raises(ValueError, match=r"other\.json' is not an examples\.json .*\(OUT/examples"):
        example_clusters.starts(tmp_path / "other.json", either48, "mix:0", 2, SIDE)
    with pytest.raises(ValueError, match="no examples file"):
        example_clusters.starts(tmp_path / "nowhere", either48, "mix:0", 2, SIDE)
    (tmp_path / "images" / "v_100.png").unlink()
    with pytest.raises(ValueError, match=r"1 of the 4 example images .* are not in .*images"):
        example_clusters.starts(index, either48, "mix:0", 2, SIDE)
    (tmp_path / "images").rename(tmp_path / "moved")
    with pytest.raises(ValueError, match=r"images folder .* is gone; put the images back"):
        example_clusters.starts(index, either48, "mix:0", 2, SIDE)


def test_kmeans_splits_two_directions_whatever_their_lengths():
    from samplevis.examples.clusters import kmeans

    rng = np.random.default_rng(0)
    a = np.array([1.0, 0.0, 0.2]) * rng.uniform(0.5, 5.0, (5, 1))
    b = np.array([0.0, 1.0, 0.2]) * rng.uniform(0.5, 5.0, (4, 1))
    features = np.concatenate([a, b]) + rng.normal(0, 0.01, (9, 3))
    assert kmeans(features, 2).tolist() == [0] * 5 + [1] * 4
    assert kmeans(features, 1).tolist() == [0] * 9


def test_clusters_whose_images_neighbour_each_other_are_one_kind_and_a_gap_parts_kinds():
    from samplevis.examples.clusters import kinds

    # a long arc of peppers cut in three clusters, and a far group of theatres in two; rows
    # ranked (row 0 the best image, a theatre)
    rng = np.random.default_rng(0)
    arc = np.linspace(0.0, 1.0, 60)
    peppers = np.stack([np.cos(arc), np.sin(arc), np.zeros(60), np.zeros(60)], axis=1)
    theatres = np.array([0.0, 0.0, 1.0, 0.3]) + rng.normal(0, 0.05, (30, 4))
    features = np.concatenate([theatres, peppers])
    labels = np.concatenate([np.repeat([3, 4], 15), np.repeat([0, 1, 2], 20)])
    assert kinds(features, labels).tolist() == [1, 1, 1, 0, 0]


def test_sample_init_names_a_unit_missing_from_the_examples_file(tmp_path, capsys):
    from samplevis import cli

    stripes_folder(tmp_path / "images")
    model = ["--model", "conftest:either_stripes_keras_model"]
    args = ["--images", str(tmp_path / "images"), "--top", "4", "--quiet"]
    out = str(tmp_path / "ex")
    assert cli.main(["examples", *model, *args, "--objective", "mix:0", "--out", out]) == 0
    index = str(tmp_path / "ex" / "examples.json")
    code = cli.main(["sample", *model, "--objective", "mix:2", "--init", index, "--out", out])
    assert code == 2
    assert "--init: " in capsys.readouterr().err


@pytest.mark.slow
def test_sample_init_from_examples_starts_each_chain_at_a_cluster_s_facet(
    tmp_path, capsys, either48
):
    from samplevis import cli

    sample = stripes_examples_and_sample(tmp_path) + ["--temperature-steps", "0"]
    sample += ["--photo-clusters", "2", "--photo-steps", "8", "--search-rounds", "0"]
    index = tmp_path / "ex" / "examples.json"
    assert cli.main([*sample, "--init", str(index)]) == 0
    err = capsys.readouterr().err
    assert "2 facets (2 from photo clusters, 0 found by the search)" in err
    assert "from photos: facet 0 cluster " in err and "3 photos)" in err
    report = json.loads((tmp_path / "s" / "diagnostics.json").read_text())
    assert report["options"]["init"] == str(index)
    grid = np.asarray(Image.open(tmp_path / "s" / "starts.png")) / 255.0  # chains side by side
    cells = np.stack(
        [grid[2 : 2 + SIDE, 2 + c * (SIDE + 2) : 2 + c * (SIDE + 2) + SIDE] for c in (0, 1)]
    )
    # each chain starts at its facet's optimum, whose stripes are its photos' way
    ways = [Path(f["examples"][0]["file"]).name[0] for f in report["facets"]]
    assert sorted(ways) == ["h", "v"]
    assert stripes_way(either48, cells.astype(np.float32)) == ways


def test_examples_made_without_a_folder_save_as_out_writes_and_show_their_crops_inline(
    tmp_path, gabor48
):
    import base64
    import io as bytes_io
    import re

    places = make_folder(tmp_path / "images")
    kwargs = dict(images=tmp_path / "images", top=5, batch=4, progress=False)
    found = samplevis.dataset_examples(gabor48, "gabor_relu:0", **kwargs)
    written = samplevis.dataset_examples(gabor48, "gabor_relu:0", out=tmp_path / "out", **kwargs)
    assert found.save(tmp_path / "saved") == tmp_path / "saved" / examples_json.FILE
    ours, theirs = (
        json.loads((tmp_path / w / examples_json.FILE).read_text()) for w in ("saved", "out")
    )
    assert ours == theirs  # what `out` writes, and `samplevis examples`
    crops = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.png"))
    assert crops == sorted(
        p.relative_to(tmp_path / "saved") for p in (tmp_path / "saved").rglob("*.png")
    )

    html = found._repr_html_()
    assert html == written._repr_html_()  # from the run's folder, or from the images
    strip = re.search(r'<div class="chain"><b>(.*?)</b>(.*?)</div></div>', html)
    assert strip[1] == "gabor_relu:0"
    # its tiles: the top images' crops, best first, inline
    tiles = re.findall(r'<img src="data:image/png;base64,([^"]+)"', strip[2])
    values = re.findall(r"<figcaption>([\d.]+)</figcaption>", strip[2])
    assert len(tiles) == 5 and [float(v) for v in values] == sorted(map(float, values))[::-1]
    first = np.asarray(Image.open(bytes_io.BytesIO(base64.b64decode(tiles[0]))))
    best = np.asarray(Image.open(tmp_path / "out" / theirs["units"][0]["examples"][0]["crop"]))
    np.testing.assert_array_equal(first, best)
    assert {name for name, _, _ in found.ranked(0)[:4]} == set(places)
