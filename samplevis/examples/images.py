"""Image files under a folder, decoded and fitted to a network's input.

A file is fitted as a classifier's evaluation does: its shorter side resized to the input's, then
the centre cropped (for a non-square input, the smallest scale that covers it). `Fit` maps boxes in
the network's input back to the file's pixels. Files are read in threads ahead of the network, so
the CPU does not wait for the disk.
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.examples import examples_json

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

# Why a file was skipped, as the one-line summary counts them.
EMPTY = "empty"
NOT_AN_IMAGE = "not an image"
UNREADABLE = "truncated or unreadable"


class BadImage(Exception):
    """A file that does not decode to an image; `reason` is one of EMPTY, NOT_AN_IMAGE,
    UNREADABLE."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def image_suffixes() -> frozenset[str]:
    """File name endings (lower case, with the dot) of the formats Pillow can open."""
    from PIL import Image

    Image.init()
    return frozenset(s for s, f in Image.registered_extensions().items() if f in Image.OPEN)


def image_files(folder: str | os.PathLike) -> list[str]:
    """The image files under `folder` (recursively, by their names' endings), as paths relative
    to it with '/' between parts, sorted, leaving out the folders `examples_outputs` names. A
    missing folder, a file, a folder without image files, or one that holds an examples.json
    itself is a ValueError that names it."""
    root = Path(folder)
    if not root.exists():
        raise ValueError(
            f"the images folder {str(root)!r} does not exist; give a folder of images."
        )
    if not root.is_dir():
        raise ValueError(
            f"{str(root)!r} is a file, not a folder; give the folder that holds the images."
        )
    if (root / examples_json.FILE).is_file():
        raise ValueError(
            f"the images folder {str(root)!r} holds {examples_json.FILE}: it is a folder the examples "
            "were written to, and its pictures are not photos; give the folder of photos."
        )
    suffixes = image_suffixes()
    outputs = examples_outputs(root)
    found = sorted(
        name
        for path in root.rglob("*")
        if path.suffix.lower() in suffixes
        and path.is_file()
        and not _inside(name := path.relative_to(root).as_posix(), outputs)
    )
    if not found:
        raise ValueError(
            f"the images folder {str(root)!r} holds no image files (JPEG, PNG, WebP, ... "
            "under it, at any depth)."
        )
    return found


def examples_outputs(folder: str | os.PathLike) -> list[str]:
    """The folders under `folder` (not itself) that hold an examples.json, as paths relative to
    it, sorted: what `dataset_examples` wrote there (pictures of the top images and their crops),
    which a ranking of `folder` skips so that it never ranks its own output."""
    root = Path(folder)
    return sorted(
        path.parent.relative_to(root).as_posix()
        for path in root.rglob(examples_json.FILE)
        if path.is_file() and path.parent != root
    )


def _inside(name: str, folders: Sequence[str]) -> bool:
    return any(name.startswith(folder + "/") for folder in folders)


@dataclass(frozen=True)
class Fit:
    """How a `size` (H, W) px image becomes the `target` (H, W) px input: scaled by `scale`, then
    cropped from `offset` (rows, columns) of the scaled image."""

    size: tuple[int, int]
    target: tuple[int, int]
    scale: float
    offset: tuple[float, float]

    @classmethod
    def centre(cls, size: tuple[int, int], target: tuple[int, int]) -> Fit:
        """The shorter side resized to the target's, the centre cropped."""
        scale = max(target[0] / size[0], target[1] / size[1])
        offset = [(n * scale - t) / 2 for n, t in zip(size, target)]
        return cls((size[0], size[1]), (target[0], target[1]), scale, (offset[0], offset[1]))

    def source_box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the image's px that the input shows."""
        (rows, cols), (oy, ox) = self.target, self.offset
        s = self.scale
        return (ox / s, oy / s, (ox + cols) / s, (oy + rows) / s)


def source_boxes(boxes: np.ndarray, fits: Sequence[Fit]) -> np.ndarray:
    """Boxes (left, top, right, bottom) of the input's px [B, U, 4] as px of each image `fits`
    [B] describes: the smallest whole-pixel boxes holding them, inside the images; int64."""
    boxes = np.asarray(boxes, np.float64)
    scale = np.array([f.scale for f in fits])[:, None]
    oy = np.array([f.offset[0] for f in fits])[:, None]
    ox = np.array([f.offset[1] for f in fits])[:, None]
    height = np.array([f.size[0] for f in fits])[:, None]
    width = np.array([f.size[1] for f in fits])[:, None]
    slack = 1e-6  # px: a side that maps to a whole pixel stays on it despite rounding
    return np.stack(
        [
            np.maximum(np.floor((boxes[..., 0] + ox) / scale + slack), 0),
            np.maximum(np.floor((boxes[..., 1] + oy) / scale + slack), 0),
            np.minimum(np.ceil((boxes[..., 2] + ox) / scale - slack), width),
            np.minimum(np.ceil((boxes[..., 3] + oy) / scale - slack), height),
        ],
        axis=-1,
    ).astype(np.int64)


def open_rgb(
    path: str | os.PathLike, draft: tuple[int, int] | None = None
) -> tuple[PILImage, tuple[int, int]]:
    """A file as an RGB PIL image, turned upright by its EXIF orientation, and its upright size
    (H, W) before any `draft`: a JPEG may be decoded at a smaller scale (1/2, 1/4, 1/8) that
    still covers `draft` (W, H) px, which is much faster. Raises BadImage."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if os.path.getsize(path) == 0:
        raise BadImage(EMPTY)
    try:
        image: Image.Image = Image.open(path)
    except UnidentifiedImageError as err:
        raise BadImage(NOT_AN_IMAGE, str(err)) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadImage(UNREADABLE, str(err)) from None
    try:
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1)  # EXIF Orientation
        if orientation in (5, 6, 7, 8):  # turned by a quarter: the sides swap
            width, height = height, width
        if draft is not None and image.format == "JPEG":
            wanted = draft if orientation not in (5, 6, 7, 8) else draft[::-1]
            image.draft("RGB", wanted)
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            # transparent parts over white, as a browser shows them
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        image = image.convert("RGB")
        image.load()
    except Exception as err:  # noqa: BLE001 Pillow's plugins raise what a broken file provokes
        raise BadImage(UNREADABLE, f"{type(err).__name__}: {err}") from None
    return image, (height, width)


def fitted(
    image: PILImage, size: tuple[int, int], target: tuple[int, int]
) -> tuple[np.ndarray, Fit]:
    """A PIL image (possibly drafted from an upright image of `size` (H, W) px) fitted to
    `target` (H, W): uint8 [H, W, 3] and its `Fit` in the original's px."""
    from PIL import Image

    fit = Fit.centre(size, target)
    # the drafted image is the original scaled by its own factor per axis
    ky, kx = image.size[1] / size[0], image.size[0] / size[1]
    left, top, right, bottom = fit.source_box()
    # clipped: rounding can put a side a hair outside the image, which Pillow refuses
    box = (
        max(left * kx, 0.0),
        max(top * ky, 0.0),
        min(right * kx, image.size[0]),
        min(bottom * ky, image.size[1]),
    )
    resized = image.resize(
        (target[1], target[0]), Image.Resampling.BILINEAR, box=box, reducing_gap=3.0
    )
    return np.asarray(resized, np.uint8), fit


def load_fitted(path: str | os.PathLike, target: tuple[int, int]) -> tuple[np.ndarray, Fit]:
    """A file fitted to `target` (H, W): uint8 [H, W, 3] and its `Fit`. Raises BadImage."""
    image, size = open_rgb(path, draft=(target[1], target[0]))
    return fitted(image, size, target)


def array_fitted(image: np.ndarray, target: tuple[int, int]) -> tuple[np.ndarray, Fit]:
    """An image float [H, W, 3] in [0, 1] (or uint8) fitted to `target` as a file with those
    8-bit pixels would be."""
    from PIL import Image

    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    return fitted(Image.fromarray(image[..., :3]), image.shape[:2], target)


@dataclass(frozen=True)
class Batch:
    """Images read together: `names` of those that decoded, their pixels uint8 [N, H, W, 3] and
    fits, and the names that did not with why ({name: reason})."""

    names: list[str]
    pixels: np.ndarray
    fits: list[Fit]
    bad: dict[str, str]


def read_batches(
    root: Path,
    names: Sequence[str],
    target: tuple[int, int],
    batch: int,
    workers: int,
) -> Iterator[Batch]:
    """`names` (relative to `root`) in order, `batch` images at a time, decoded by `workers`
    threads that keep a few batches ahead (Pillow decodes with the GIL released)."""
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="decode") as pool:
        pending: collections.deque = collections.deque()
        todo = iter(names)
        ahead = batch * 3  # enough to cover a slow file, few enough to keep memory flat

        def submit() -> None:
            for name in todo:
                pending.append((name, pool.submit(_decode, root / name, target)))
                if len(pending) >= ahead:
                    return

        try:
            submit()
            while pending:
                taken = [pending.popleft() for _ in range(min(batch, len(pending)))]
                submit()
                ok, pixels, fits, bad = [], [], [], {}
                for name, future in taken:
                    result = future.result()
                    if isinstance(result, BadImage):
                        bad[name] = result.reason
                    else:
                        ok.append(name)
                        pixels.append(result[0])
                        fits.append(result[1])
                stack = np.stack(pixels) if pixels else np.zeros((0, *target, 3), np.uint8)
                yield Batch(ok, stack, fits, bad)
        finally:
            for _, future in pending:
                future.cancel()


def _decode(path: Path, target: tuple[int, int]) -> tuple[np.ndarray, Fit] | BadImage:
    try:
        return load_fitted(path, target)
    except BadImage as bad:  # anything else is not the file's fault: it goes up
        return bad
