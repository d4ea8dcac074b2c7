"""Draw docs/facet.png: a facet of a small photo run as `samplevis gallery` shows it (its
optimum, its photos, its draws that differ, where they vary), its processing plot beside it
(Geirhos et al.'s check, docs/trust.md; facet_K_processing.png drawn again at the row's height).
The photos are crops of pictures scikit-image bundles, the unit the built-in model's Egyptian
cat logit, the run the small one of docs/trust.md, "On a small photo run"; the row is taken in
headless Chromium (Debian's chromium package, driven by Playwright).

    python docs/facet_picture.py                            # facet 0, docs/facet.png
    python docs/facet_picture.py --work /tmp/cat --facet 1  # keeps the run; again reuses it
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

PHOTOS = "chelsea coffee astronaut rocket immunohistochemistry colorwheel hubble_deep_field"
CROP = 160  # px of each photo crop
UNIT = "logits:285"  # Egyptian cat
SAMPLE = [  # the small photo run of docs/trust.md
    "--photo-clusters", "2", "--photo-steps", "64", "--num-results", "4",
    "--num-burnin-steps", "20", "--num-chains", "2",
]  # fmt: skip
COLOURS = 160  # a palette keeps the PNG small


def write_photos(folder: Path) -> None:
    """Five crops of each bundled picture (its quarters and its centre, CROP px, from the
    picture at 2 * CROP px on its short side), every other one mirrored, as PNGs."""
    import skimage.data
    from PIL import Image, ImageOps

    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for name in PHOTOS.split():
        image = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        scale = 2 * CROP / min(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        w, h = image.width - CROP, image.height - CROP
        for i, (left, top) in enumerate([(0, 0), (w, 0), (0, h), (w, h), (w // 2, h // 2)]):
            crop = image.crop((left, top, left + CROP, top + CROP))
            crop = ImageOps.mirror(crop) if n % 2 else crop
            crop.save(folder / f"{name}_{i}.png")
            n += 1


def samplevis_command(*argv: str) -> None:
    from samplevis.cli.command_line import main

    print("samplevis", " ".join(argv), flush=True)
    if main(list(argv)) != 0:
        sys.exit(f"samplevis {argv[0]} failed")


def screenshot(page_path: Path, facet: int, width: int) -> bytes:
    """The facet's row of the gallery page `width` px wide, without its aside (the processing
    plot at a tile's width)."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).parent))
    from atlas_screenshot import CHROMIUM, FLAGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.goto(page_path.resolve().as_uri())
            page.add_style_tag(content=".aside{display:none}")
            row = page.locator("section .chain").nth(facet)
            row.locator(".strip img").last.wait_for()
            page.wait_for_function("[...document.querySelectorAll('img')].every(i => i.complete)")
            return row.screenshot()
        finally:
            browser.close()


def processing_plot(run: Path, facet: int, height: int):
    """The facet's processing plot as the run drew it (facet_K_processing.png:
    `plots.plot_processing` of its record in diagnostics.json), drawn again `height` px tall."""
    import json

    import numpy as np
    from PIL import Image

    from samplevis.optvis.processing_check import ProcessingCheck
    from samplevis.sampling.report.plots import plot_processing

    record = json.loads((run / "diagnostics.json").read_text())["facets"][facet]["processing"]
    check = ProcessingCheck(
        tuple(record["layers"]), np.array([record["to_photos"]]), np.array([record["to_others"]])
    )
    figure = plot_processing(check)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=height / figure.get_figheight())
    return Image.open(buffer).convert("RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facet", type=int, default=0)
    parser.add_argument("--work", help="folder for the photos and the run (default: temporary)")
    parser.add_argument("--width", type=int, default=760, help="the page's width, px")
    parser.add_argument("--out", default=str(Path(__file__).with_name("facet.png")))
    args = parser.parse_args()

    from PIL import Image, ImageChops

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        run = work / "run"
        if not (run / "diagnostics.json").is_file():
            write_photos(work / "photos")
            samplevis_command(
                "examples", "--images", str(work / "photos"), "--objective", UNIT,
                "--top", "8", "--out", str(work / "examples"), "--quiet",
            )  # fmt: skip
            samplevis_command(
                "sample", "--objective", UNIT, "--init", str(work / "examples/examples.json"),
                *SAMPLE, "--out", str(run), "--quiet",
            )  # fmt: skip
        samplevis_command("gallery", str(run))
        shot = screenshot(run / "index.html", args.facet, args.width)
        row = Image.open(io.BytesIO(shot)).convert("RGB")
        # the row fills the page's width; its tiles may end short of it
        blank = Image.new("RGB", row.size, "white")
        row = row.crop((0, 0, ImageChops.difference(row, blank).getbbox()[2] + 8, row.height))
        plot = processing_plot(run, args.facet, row.height)
    picture = Image.new("RGB", (row.width + 8 + plot.width, row.height), "white")
    picture.paste(row, (0, 0))
    picture.paste(plot, (row.width + 8, 0))
    picture.quantize(COLOURS).save(args.out, optimize=True)
    print(args.out, Path(args.out).stat().st_size // 1024, "KB")


if __name__ == "__main__":
    main()
