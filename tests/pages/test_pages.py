"""Pages: the gallery escapes what it shows, its links resolve, and it fits its window in a
browser; the atlas page's data reads back whole."""

import json
import re
from urllib.parse import unquote

import imageio.v3 as iio
import numpy as np
import pytest

from samplevis import io, pages


def test_gallery_escapes_its_captions(tmp_path):
    page = pages.save_gallery(tmp_path / "index.html", [("a <b>", "a.png")]).read_text()
    assert '<img src="a.png"' in page and "a &lt;b&gt;" in page


def test_gallery_links_resolve_for_names_with_url_characters(tmp_path):
    name = "a #1?50%.png"
    io.save_png(tmp_path / name, np.zeros([4, 4, 3]))
    page = pages.save_gallery(tmp_path / "index.html", [(name, name)]).read_text()
    src = re.search(r'src="([^"]+)"', page).group(1)
    assert "#" not in src and "?" not in src
    assert (tmp_path / unquote(src)).exists()


def test_a_gallery_path_of_another_format_or_entries_not_pairs_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"name the file with \.html"):
        pages.save_gallery(tmp_path / "g.png", [("a", "a.png")])
    with pytest.raises(ValueError, match=r"\(caption, image file\) pairs of strings.*got 'ab'"):
        pages.save_gallery(tmp_path / "g.html", ["ab"])
    assert not list(tmp_path.iterdir())


def test_the_atlas_page_escapes_layer_names_and_keeps_its_data_inside_its_script(tmp_path):
    entries = [
        dict(layer="a<b>", channel=0, files=["a/0.png"], notes=["</script><p>x"]),
        dict(layer="c'd", channel=2, files=["c/2.png"], value=float("nan")),
    ]
    page = pages.save_atlas_page(tmp_path / "index.html", entries, {"a<b>": 4, "c'd": None})
    text = page.read_text()
    assert '<a href="#layer-a%3Cb%3E">a&lt;b&gt;</a>' in text
    assert '<div class="grid" data-layer="c&#x27;d">' in text
    assert "<h2>c&#x27;d <small>(1 channel)</small></h2>" in text
    assert "1 of 4 channels" in text and "2 channels in 2 layers." in text
    data = re.search(r'<script type="application/json" id="atlas-data">(.*?)</script>', text)[1]
    assert json.loads(data) == [entries[0], {**entries[1], "value": None}]
    with pytest.raises(ValueError, match=r"name the file with \.html"):
        pages.save_atlas_page(tmp_path / "index.png", entries, {})


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
    section = pages.GallerySection("channel 1", ("a line of text " * 40,), (overview, *chains))
    page_path = pages.save_gallery(
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
        pages.Strip(
            f"chain {c}",
            (
                pages.Tile("starts.png", "start", crop=pages.Crop(2 + 66 * c, 2, 64, 64, width)),
                *(pages.Tile(f"s{i:03d}.png", f"{i} · {0.9 + i / 1000:.3f}") for i in range(30)),
            ),
            (pages.Tile("std.png", "std", crop=pages.Crop(2 + 66 * c, 2, 64, 64, width)),),
        )
        for c in range(2)
    )
    section = pages.GallerySection("channel 1", strips=strips, table=(("chain", "T"), ("0", "1.0")))
    page_path = pages.save_gallery(tmp_path / "index.html", [section])

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
