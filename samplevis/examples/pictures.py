"""PNGs of each unit's top images: the image with the box its unit saw outlined, and that box
cropped from the file at the file's own resolution."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

from samplevis.examples.topk import TopK

IMAGE_SIDE = 256  # px, the longer side of a whole image's PNG
CROP_SIDE = 224  # px, the longer side of a crop's PNG at most


def unit_folder(unit_name: str) -> str:
    """The folder (relative to the output) of a unit's PNGs: its name as a file name."""
    return "".join(c if c.isalnum() or c in "-." else "_" for c in unit_name).strip("_")[:80]


def write_pictures(out: Path, names: list[str], top: TopK, source: Callable) -> dict[str, str]:
    """Write OUT/<unit>/NN.png (the image, its box outlined in red) and NN_crop.png for every
    ranked image of every unit; `source(file name)` gives the upright PIL RGB image. Returns
    {unit name: its folder}."""
    from samplevis import io

    folders = {}
    cache: dict[str, PILImage] = {}
    for u, name in enumerate(names):
        folder = unit_folder(name)
        for rank, (file, _, box) in enumerate(top.ranked(u)):
            if file not in cache:
                cache = {file: source(file)} if len(cache) > 64 else {**cache, file: source(file)}
            image = cache[file]
            io.save_png(out / folder / f"{rank:02d}.png", outlined(image, box))
            io.save_png(out / folder / f"{rank:02d}_crop.png", cropped(image, box))
        folders[name] = folder
    return folders


def outlined(image: PILImage, box: tuple[int, ...]) -> np.ndarray:
    """The PIL image scaled to IMAGE_SIDE px on its longer side, `box` drawn in red: uint8."""
    from PIL import Image, ImageDraw

    scale = IMAGE_SIDE / max(image.size)
    small = image.resize(
        (max(round(image.width * scale), 1), max(round(image.height * scale), 1)),
        Image.Resampling.BILINEAR,
        reducing_gap=3.0,
    )
    if box[0] >= 0 and tuple(box) != (0, 0, image.width, image.height):
        left, top, right, bottom = (v * scale for v in box)
        ImageDraw.Draw(small).rectangle(
            (left, top, max(right - 1, left), max(bottom - 1, top)), outline=(255, 0, 0), width=2
        )
    return np.asarray(small)


def cropped(image: PILImage, box: tuple[int, ...]) -> np.ndarray:
    """`box` of the PIL image (all of it without a box), at most CROP_SIDE px on its longer
    side: uint8."""
    from PIL import Image

    crop = image.crop((box[0], box[1], box[2], box[3])) if box[0] >= 0 else image
    if max(crop.size) > CROP_SIDE:
        scale = CROP_SIDE / max(crop.size)
        crop = crop.resize(
            (max(round(crop.width * scale), 1), max(round(crop.height * scale), 1)),
            Image.Resampling.BILINEAR,
            reducing_gap=3.0,
        )
    return np.asarray(crop)
