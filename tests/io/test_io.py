"""Writers: files are whole or absent; PNG, grid and GIF contents round-trip."""

import json

import imageio.v3 as iio
import numpy as np
import pytest

from samplevis import io


def test_png_round_trips_pixels(tmp_path):
    image = np.random.default_rng(0).uniform(0, 1, (9, 7, 3)).astype(np.float32)
    path = io.save_png(tmp_path / "a.png", image)
    np.testing.assert_array_equal(iio.imread(path), np.round(image * 255).astype(np.uint8))


def test_grid_places_images_in_rows(tmp_path):
    images = np.stack([np.full((4, 4, 3), v, np.float32) for v in (0.0, 0.5, 1.0)])
    tiled = io.grid(images, ncols=2, pad=1)
    assert tiled.shape == (1 + 2 * 5, 1 + 2 * 5, 3)
    assert tiled[1, 6, 0] == 0.5 and tiled[6, 1, 0] == 1.0


def test_gif_holds_one_frame_per_image_in_order(tmp_path):
    levels = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    frames = np.broadcast_to(levels[:, None, None, None], (5, 8, 8, 3))  # flat greys
    path = io.save_gif(tmp_path / "a.gif", frames, fps=10)
    with pytest.raises(ValueError, match="fps must be a number of frames per second > 0"):
        io.save_gif(tmp_path / "b.gif", frames, fps=0)
    read = iio.imread(path, index=None)
    assert read.shape[0] == 5
    np.testing.assert_allclose(read[..., :3].reshape(5, -1).mean(1), levels * 255, atol=1)
    grey = iio.imread(io.save_gif(tmp_path / "grey.gif", frames[..., :1]), index=None)
    np.testing.assert_allclose(grey.reshape(5, -1).mean(1), levels * 255, atol=1)


def test_gif_keeps_a_frame_of_few_colours_exactly_and_many_colours_closely(tmp_path):
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (200, 3))  # 200 colours: a GIF frame holds them all
    few = palette[rng.integers(0, 200, (2, 16, 16))].astype(np.uint8)
    read = iio.imread(io.save_gif(tmp_path / "few.gif", few), index=None)[..., :3]
    np.testing.assert_array_equal(read, few)
    # a ramp of 4096 colours: each frame's 256 keep every pixel within a few levels
    y, x = np.mgrid[0:64, 0:64] * 4
    ramp = np.stack([x, y, np.full_like(x, 128)], -1).astype(np.uint8)
    read = iio.imread(io.save_gif(tmp_path / "ramp.gif", np.stack([ramp, ramp[::-1]])), index=None)
    error = np.sqrt(np.mean((read[..., :3].astype(float) - [ramp, ramp[::-1]]) ** 2))
    assert error < 8.0, error


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "keep.png"
    io.save_png(target, np.zeros((2, 2, 3)))
    before = target.read_bytes()
    with pytest.raises(ValueError, match="NaN"):
        io.save_png(target, np.full((2, 2, 3), np.nan))
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_json_holds_numpy_values_and_null_for_nan_and_refuses_other_types(tmp_path):
    io.write_json(tmp_path / "d.json", {"rate": np.float32(0.5), "v": np.arange(3)})
    assert json.loads((tmp_path / "d.json").read_text()) == {"rate": 0.5, "v": [0, 1, 2]}
    io.write_json(
        tmp_path / "nan.json",
        {
            "t": float("nan"),
            "a": np.array([1.5, np.inf]),
            "r": np.float32("nan"),
            "ok": True,
            "n": None,
        },
    )

    def reject(token):
        raise ValueError(f"non-standard JSON token {token}")

    assert json.loads((tmp_path / "nan.json").read_text(), parse_constant=reject) == {
        "t": None,
        "a": [1.5, None],
        "r": None,
        "ok": True,
        "n": None,
    }
    with pytest.raises(TypeError, match="cannot write set"):
        io.write_json(tmp_path / "bad.json", {"s": {1}})
    assert not (tmp_path / "bad.json").exists()


def test_written_files_get_the_usual_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = io.save_png(tmp_path / "p.png", np.zeros((2, 2, 3)))
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_paths_that_cannot_hold_the_files_are_refused_naming_the_fix(tmp_path):
    image = np.zeros((2, 2, 3))
    with pytest.raises(ValueError, match=r"name the file with \.gif, e\.g\. .*a\.gif"):
        io.save_gif(tmp_path / "a.png", np.stack([image, image]))
    with pytest.raises(ValueError, match=r"name the file with \.png"):
        io.save_png(tmp_path / "a.jpg", image)
    io.save_png(tmp_path / "upper.PNG", image)  # the suffix's case is the user's choice
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"a_file is a file, not a folder"):
        io.save_pngs(tmp_path / "a_file" / "deeper", [image])
    with pytest.raises(NotADirectoryError, match=r"a_file is a file, not a folder"):
        io.save_pngs(tmp_path / "a_file", [image])
    with pytest.raises(ValueError, match=r"name the file with \.json"):
        io.write_json(tmp_path / "d.png", {"a": 1})
    with pytest.raises(ValueError, match=r"ncols is the number of images per row"):
        io.grid(np.zeros([2, 2, 2, 3]), ncols=-1)
    with pytest.raises(ValueError, match=r"pad is the gap between images in px"):
        io.grid(np.zeros([2, 2, 2, 3]), pad=-5)
    with pytest.raises(ValueError, match=r"loop is how many times the GIF plays"):
        io.save_gif(tmp_path / "l.gif", np.zeros([2, 2, 2, 3]), loop=-1)
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(IsADirectoryError, match=r"is a folder; give a file path inside it"):
        io.save_png(tmp_path / "folder.png", image)
    with pytest.raises(TypeError, match=r"the file path comes first.*got a ndarray as the path"):
        io.save_png(image, tmp_path / "swapped.png")
    with pytest.raises(TypeError, match=r"the file path comes first"):
        io.write_json({"a": 1}, tmp_path / "swapped.json")
    with pytest.raises(TypeError, match=r"the file path comes first"):
        io.save_pngs([image], tmp_path)
    with pytest.raises(ValueError, match=r"prefix .* cannot hold a folder; got '/tmp/x'"):
        io.save_pngs(tmp_path, [image], prefix="/tmp/x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "folder.png", "upper.PNG"]


def test_pixel_values_outside_the_image_range_are_refused_not_clipped_to_white(tmp_path):
    levels = np.arange(0, 256, 17).reshape(4, 4, 1).repeat(3, axis=2)  # int64, 16 grey levels
    np.testing.assert_array_equal(iio.imread(io.save_png(tmp_path / "int.png", levels)), levels)
    np.testing.assert_allclose(io.grid(levels[None], pad=0), levels / 255, rtol=1e-6)
    with pytest.raises(
        ValueError,
        match=r"float images are in \[0, 1\]; these reach \[0, 255\]\. "
        r"Divide 8-bit values by 255",
    ):
        io.save_png(tmp_path / "float255.png", levels.astype(np.float32))
    with pytest.raises(ValueError, match=r"map \[-1, 1\] with \(x \+ 1\) / 2"):
        io.save_gif(tmp_path / "signed.gif", np.full([2, 4, 4, 3], -1.0))
    with pytest.raises(ValueError, match=r"integer images hold 0\.\.255; these reach \[1, 256\]"):
        io.save_pngs(tmp_path, [levels + 1])
    overshoot = np.full([4, 4, 3], 1.2, np.float32)  # a resize's overshoot is clipped, as before
    assert iio.imread(io.save_png(tmp_path / "over.png", overshoot)).min() == 255
    assert sorted(p.name for p in tmp_path.iterdir()) == ["int.png", "over.png"]


def test_load_images_crops_the_centre_square_and_resizes(tmp_path):
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:] = (0, 0, 255)  # blue sides; red from 10 px around the centre square on
    wide[:, 10:50] = (255, 0, 0)
    iio.imwrite(tmp_path / "wide.png", wide)
    grey = np.tile(np.linspace(0, 255, 16).astype(np.uint8), (16, 1))  # a horizontal ramp
    iio.imwrite(tmp_path / "grey.jpg", grey, quality=100)
    images = io.load_images([tmp_path / "wide.png", str(tmp_path / "grey.jpg")], size=8)
    assert images.shape == (2, 8, 8, 3) and images.dtype == np.float32
    np.testing.assert_allclose(images[0], np.broadcast_to([1.0, 0.0, 0.0], (8, 8, 3)), atol=1e-6)
    np.testing.assert_allclose(images[1, ..., 0], images[1, ..., 2], atol=0.02)  # still grey
    assert np.all(np.diff(images[1, :, :, 0].mean(axis=0)) > 0)  # the ramp still rises


def test_load_images_names_the_file_it_cannot_read(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(FileNotFoundError, match="no image file '.*missing.png'"):
        io.load_images([tmp_path / "missing.png"], 8)
    with pytest.raises(ValueError, match="cannot read '.*notes.png' as an image"):
        io.load_images(tmp_path / "notes.png", 8)
