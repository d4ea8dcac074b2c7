"""Writers: files are whole or absent; PNG, grid and GIF contents round-trip."""

import json
import re
from urllib.parse import unquote

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


def test_gallery_escapes_its_captions(tmp_path):
    page = io.save_gallery(tmp_path / "index.html", [("a <b>", "a.png")]).read_text()
    assert '<img src="a.png"' in page and "a &lt;b&gt;" in page


def test_written_files_get_the_usual_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = io.save_png(tmp_path / "p.png", np.zeros((2, 2, 3)))
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_gallery_links_resolve_for_names_with_url_characters(tmp_path):
    name = "a #1?50%.png"
    io.save_png(tmp_path / name, np.zeros([4, 4, 3]))
    page = io.save_gallery(tmp_path / "index.html", [(name, name)]).read_text()
    src = re.search(r'src="([^"]+)"', page).group(1)
    assert "#" not in src and "?" not in src
    assert (tmp_path / unquote(src)).exists()


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
    with pytest.raises(ValueError, match=r"name the file with \.html"):
        io.save_gallery(tmp_path / "g.png", [("a", "a.png")])
    with pytest.raises(ValueError, match=r"\(caption, image file\) pairs of strings.*got 'ab'"):
        io.save_gallery(tmp_path / "g.html", ["ab"])
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


def test_gallery_page_fits_a_1400_px_window_without_sideways_scrolling(tmp_path, chromium):
    """A sample run's section as `samplevis gallery` lays it out, at a size that overflowed:
    strips of 8 chains of 128 px, an 800 px trace plot, rows of 20 samples per chain, and a
    loose image wider than the window."""

    def png(name: str, height: int, width: int) -> str:
        io.save_png(tmp_path / name, np.full((height, width, 3), 0.5, np.float32))
        return name

    strip = (2 + 128 + 2, 2 + 8 * (128 + 2))
    overview = tuple(
        (name, png(f"{name}.png", *shape))
        for name, shape in [("starts", strip), ("std", strip), ("trace", (350, 800))]
    )
    chains = tuple(
        tuple((f"chain {c}, sample {i}", png(f"s{c}_{i:03d}.png", 128, 128)) for i in range(20))
        for c in range(2)
    )
    section = io.GallerySection("channel 1", ("a line of text " * 40,), (overview, *chains))
    page_path = io.save_gallery(
        tmp_path / "index.html",
        [section, ("a very wide loose image, " + "x" * 300, png("wide.png", 40, 2400))],
    )

    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(page_path.as_uri())
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    widths = page.evaluate("[...document.images].map(i => i.getBoundingClientRect().right)")
    assert len(widths) == 3 + 40 + 1 and max(widths) <= 1400
    # a chain's row wraps onto more lines instead of running off the side
    tops = page.evaluate(
        "[...document.querySelectorAll('section > div')[1].children]"
        ".map(f => f.getBoundingClientRect().top)"
    )
    assert len(tops) == 20 and tops[-1] > tops[0]
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)  # to look at on failure


def test_gallery_strips_wrap_at_128_px_a_tile_and_show_their_tile_of_a_grid(tmp_path, chromium):
    """Two chains of 30 samples of 64 px in a 1300 px window: each strip wraps onto more lines
    of 128 px tiles, nothing runs past the window, its aside (the maps) follows on a line of
    its own, and each start shows its own tile of starts.png (chain 0's red, chain 1's green)."""
    colours = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    io.save_grid(tmp_path / "starts.png", np.broadcast_to(colours[:, None, None], (2, 64, 64, 3)))
    io.save_grid(tmp_path / "std.png", np.full((2, 64, 64, 3), 0.5, np.float32), ncols=2)
    grey = np.full((64, 64, 3), 0.5, np.float32)
    for i in range(30):
        io.save_png(tmp_path / f"s{i:03d}.png", grey)
    width = 2 + 2 * (64 + 2)
    strips = tuple(
        io.Strip(
            f"chain {c}",
            (
                io.Tile("starts.png", "start", crop=io.Crop(2 + 66 * c, 2, 64, 64, width)),
                *(io.Tile(f"s{i:03d}.png", f"{i} · {0.9 + i / 1000:.3f}") for i in range(30)),
            ),
            (io.Tile("std.png", "std", crop=io.Crop(2 + 66 * c, 2, 64, 64, width)),),
        )
        for c in range(2)
    )
    section = io.GallerySection("channel 1", strips=strips, table=(("chain", "T"), ("0", "1.0")))
    page_path = io.save_gallery(tmp_path / "index.html", [section])

    page = chromium.new_page(viewport={"width": 1300, "height": 900})
    page.goto(page_path.as_uri())
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1300
    asides = page.query_selector_all(".aside")
    for strip, aside in zip(page.query_selector_all(".strip"), asides, strict=True):
        tops = strip.eval_on_selector_all(
            "figure", "fs => fs.map(f => f.getBoundingClientRect().top)"
        )
        assert len(tops) == 31 and len(set(tops)) > 1  # it wraps
        assert not strip.evaluate("s => s.scrollWidth > s.clientWidth")  # no sideways scroll
        assert (
            aside.bounding_box()["y"] >= strip.bounding_box()["y"] + strip.bounding_box()["height"]
        )
    right = page.evaluate(
        "[...document.querySelectorAll('figure')].map(f => f.getBoundingClientRect().right)"
    )
    assert len(right) == 2 * 32 and max(right) <= 1300
    images = page.evaluate(
        "[...document.querySelectorAll('figure.tile .crop, figure.tile > img')]"
        ".map(i => i.getBoundingClientRect().width)"
    )
    assert len(images) == 2 * 32 and set(images) == {128}  # the aside's tiles as wide too
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)  # to look at on failure too
    pixels = iio.imread(shot)
    for c, colour in enumerate(colours):
        box = page.query_selector_all(".strip figure:first-child .crop")[c].bounding_box()
        centre = pixels[int(box["y"] + box["height"] / 2), int(box["x"] + box["width"] / 2), :3]
        np.testing.assert_allclose(centre, 255 * colour, atol=8)
