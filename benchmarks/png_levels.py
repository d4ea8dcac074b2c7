"""Writing PNGs: zlib's compression levels, timed, with the files' sizes.

    python benchmarks/png_levels.py                 # a few seconds
    python benchmarks/png_levels.py --photos DIR    # a folder's photos, as `examples` writes them
    python benchmarks/png_levels.py --quick         # a smoke run: one repeat

A photo run writes hundreds of PNGs: `dataset_examples` writes each top photo scaled to 256 px
on its longer side and its crop (examples.pictures), the run its facets, draws and pictures
at 128 px. The images: scikit-image's bundled photographs (or the first 20 of `--photos`), each
scaled as `dataset_examples` scales a photo (`examples.pictures.outlined`, no box), and a
128 px square from each, the size of a run's facets and draws. Seconds per image are the median
of alternating repeats of encoding them all (`io.png_bytes` encodes at the level marked, 1);
sizes are the mean file in KB. Every level is lossless: each file is checked to decode to its
image.
"""

from __future__ import annotations

import argparse
import functools
import io as _io
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from samplevis import io
from samplevis.examples.pictures import IMAGE_SIDE, outlined

from common import command_line, format_table, interleaved_medians, machine

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")
LEVELS = (1, 3, 6, 9)  # Pillow's default is 6


def sources(folder: Path | None) -> list[Image.Image]:
    """The photos, RGB: scikit-image's, or the first 20 image files of `folder` in name order."""
    if folder is None:
        return [Image.fromarray(getattr(data, name)()).convert("RGB") for name in PHOTOS]
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    return [Image.open(p).convert("RGB") for p in files[:20]]


def encode(images: list[np.ndarray], level: int) -> list[bytes]:
    """Each image as PNG bytes at zlib `level`."""
    out = []
    for image in images:
        buffer = _io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG", compress_level=level)
        out.append(buffer.getvalue())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, help="a folder of photos (default: scikit-image's)")
    parser.add_argument("--quick", action="store_true", help="one repeat")
    args = parser.parse_args()
    repeats = 1 if args.quick else 7
    photos = sources(args.photos)
    scaled = [outlined(p, (-1, -1, -1, -1)) for p in photos]  # no box: nothing drawn
    sets = {
        f"photos, {IMAGE_SIDE} px": scaled,
        "a run's images, 128 px": [s[:128, :128] for s in scaled],
    }
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    rows = []
    for name, images in sets.items():
        calls = {level: functools.partial(encode, images, level) for level in LEVELS}
        medians = interleaved_medians(calls, repeats)
        for level in LEVELS:
            files = encode(images, level)
            for image, file in zip(images, files):
                assert np.array_equal(np.asarray(Image.open(_io.BytesIO(file))), image)
            used = " (io.png_bytes)" if files[0] == io.png_bytes(images[0]) else ""
            rows.append(
                [
                    name,
                    f"{level}{used}",
                    f"{1000 * medians[level] / len(images):.2f}",
                    f"{np.mean([len(f) for f in files]) / 1000:.1f}",
                    f"{medians[6] / medians[level]:.2f}",
                ]
            )
    print(format_table(["images", "zlib level", "ms per image", "KB per file", "x level 6"], rows))


if __name__ == "__main__":
    main()
