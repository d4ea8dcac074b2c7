"""Writers for PNGs, image grids, GIFs and JSON, and a reader for image files.

Every file is written whole or not at all: the bytes go to a temporary file in the same directory,
which then replaces the target in one step, so an interrupted run never leaves a truncated file
(`runtime.files`, which also writes the JSON; its names are this module's too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samplevis.runtime.checks import TensorLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure


import io as _io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from samplevis.runtime.checks import RESAMPLING_SLACK, is_int, is_number
from samplevis.runtime.files import (
    as_path,
    atomic_path,
    check_suffix,
    json_text,
    json_value,
    make_folder,
    partial_writes,
    write_bytes,
    write_json,
)


def writable_folder(folder: str | os.PathLike, name: str | None = None, fix: str = "") -> Path:
    """`folder` as a Path, checked before anything is written in it; the folder itself may be
    missing.

    Args:
        folder: the folder.
        name: how the messages call it (default its path).
        fix: what the messages add after "give another folder".

    Returns:
        The folder, as a Path.

    Raises:
        NotADirectoryError: it is a file or lies under one.
        PermissionError: it cannot be written in (OSErrors, as a disk that refuses a file
            raises).
    """
    out = Path(folder)
    said = name if name is not None else repr(str(folder))
    existing = next(p for p in (out.absolute(), *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        where = "is a file" if existing == out.absolute() else f"lies under the file {existing}"
        raise NotADirectoryError(f"{said} {where}; give a folder (it is created if missing).")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(
            f"cannot write in {str(existing)!r} for {said}; give another folder.{fix}"
        )
    return out


def to_uint8(image: TensorLike) -> np.ndarray:
    """Image(s) → uint8 with the same shape.

    Args:
        image: floats in [0, 1] (a resize's overshoot of up to 0.5 is clipped) or integers in
            0..255, any shape.

    Returns:
        uint8, the same shape.

    Raises:
        ValueError: NaN or infinite values, floats beyond the slack, or integers beyond 0..255.

    Examples:
        >>> to_uint8(np.array([0.0, 0.5, 1.0]))
        array([  0, 128, 255], dtype=uint8)
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    low, high = (image.min(), image.max()) if image.size else (0, 0)
    if np.issubdtype(image.dtype, np.integer):
        if low < 0 or high > 255:
            raise ValueError(
                f"integer images hold 0..255; these reach [{low}, {high}]. Nothing was written."
            )
        return image.astype(np.uint8)
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values; nothing was written.")
    if low < -RESAMPLING_SLACK or high > 1.0 + RESAMPLING_SLACK:  # clipping would hide them
        raise ValueError(
            f"float images are in [0, 1]; these reach [{low:g}, {high:g}]. Divide "
            "8-bit values by 255, or map [-1, 1] with (x + 1) / 2. Nothing was "
            "written."
        )
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _single_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"expected one image [H, W, 3] (or a batch of one); got shape {image.shape}. "
            "Write batches with save_grid or save_pngs."
        )
    return image


def png_bytes(image: TensorLike) -> bytes:
    """PNG encoding of one image.

    Args:
        image: [H, W, 3], RGBA [H, W, 4] or grey [H, W, 1], floats in [0, 1] or integers in 0..255.

    Returns:
        The PNG file's bytes.
    """
    from PIL import Image

    pixels = to_uint8(_single_image(image))
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    buffer = _io.BytesIO()
    # zlib's fastest level: a run writes hundreds of PNGs (a unit's photos and crops, its
    # draws), and level 1 encodes them several times faster for files a little larger
    # (docs/benchmarks.md, "Writing PNGs").
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def save_png(path: str | os.PathLike, image: TensorLike) -> Path:
    """Write one image as a PNG (RGBA keeps its alpha), atomically.

    Args:
        path: a .png path; its folder is created if missing.
        image: [H, W, 3] or RGBA [H, W, 4], floats in [0, 1] or integers in 0..255.

    Returns:
        The path.

    Raises:
        TypeError: the image is given first (the path comes first, as Lucid's `save`).
        ValueError: a path that does not end in .png, or values `to_uint8` refuses.

    Examples:
        ```python
        images = samplevis.render_vis(model, "block5c_add:12", thresholds=(256,))
        io.save_png("channel12.png", images[-1][0])
        ```
    """
    check_suffix(path, ".png")
    return write_bytes(path, png_bytes(image))


def grid(
    images: TensorLike, ncols: int | None = None, pad: int = 2, pad_value: float = 1.0
) -> np.ndarray:
    """Tile images into one image, `ncols` per row.

    Args:
        images: [N, H, W, C].
        ncols: images per row (default: about square).
        pad: the gap between images in px.
        pad_value: the gaps' value in every channel (opaque, for RGBA).

    Returns:
        [rows * (H + pad) + pad, ncols * (W + pad) + pad, C], of the images' dtype.

    Raises:
        ValueError: `ncols` or `pad` out of range.
    """
    if ncols is not None and not (is_int(ncols) and ncols >= 1):
        raise ValueError(
            f"ncols is the number of images per row, an int >= 1 or None; got {ncols!r}."
        )
    if not (is_int(pad) and pad >= 0):
        raise ValueError(f"pad is the gap between images in px, an int >= 0; got {pad!r}.")
    images = np.asarray(images)
    scale = 255.0 if np.issubdtype(images.dtype, np.integer) else 1.0
    images = images.astype(np.float32) / scale
    if images.ndim != 4:
        raise ValueError(f"grid takes images [N, H, W, C]; got shape {images.shape}.")
    n, h, w, c = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), pad_value, np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        out[top : top + h, left : left + w] = image
    return out


def on_checkerboard(images: TensorLike, tile: int = 8) -> np.ndarray:
    """RGBA images composited over a light checkerboard (Lucid's transparency notebook's greys,
    0.95 and 0.6), the transparent parts showing the board.

    Args:
        images: RGBA [..., H, W, 4] in [0, 1]; RGB images are returned as they are.
        tile: the board's squares, px.

    Returns:
        RGB [..., H, W, 3] in [0, 1].
    """
    images = np.asarray(images, np.float32)
    if images.ndim < 3 or images.shape[-1] not in (3, 4):
        raise ValueError(
            f"on_checkerboard takes images [..., H, W, 4] (RGBA) or [..., H, W, 3]; got shape "
            f"{images.shape}."
        )
    if not (is_int(tile) and tile >= 1):
        raise ValueError(f"tile is the side of a square in px, an int >= 1; got {tile!r}.")
    if images.shape[-1] == 3:
        return images
    rows, cols = np.indices(images.shape[-3:-1]) // tile
    board = np.where((rows + cols) % 2 == 0, 0.95, 0.6).astype(np.float32)[..., None]
    rgb, alpha = images[..., :3], images[..., 3:]
    return rgb * alpha + board * (1.0 - alpha)


def save_grid(
    path: str | os.PathLike, images: TensorLike, ncols: int | None = None, pad: int = 2
) -> Path:
    """Write images as one PNG grid (see `grid`), atomically.

    Args:
        path: a .png path.
        images: [N, H, W, 3] (or RGBA [N, H, W, 4]), floats in [0, 1] or integers in 0..255.
        ncols: images per row (default: about square).
        pad: the gap between images in px.

    Returns:
        The path.
    """
    return save_png(path, grid(images, ncols=ncols, pad=pad))


def save_pngs(
    directory: str | os.PathLike, images: TensorLike, prefix: str = "image"
) -> list[Path]:
    """Write images as `prefix_000.png`, … in `directory`.

    Args:
        directory: the folder, created if missing.
        images: [N, H, W, 3] (or RGBA [N, H, W, 4]), floats in [0, 1] or integers in 0..255.
        prefix: the files' names before their number.

    Returns:
        The paths, in order.
    """
    if not isinstance(prefix, str) or any(sep and sep in prefix for sep in (os.sep, os.altsep)):
        raise ValueError(
            f"prefix starts each file name and cannot hold a folder; got {prefix!r}. "
            "Give the folder as `directory`."
        )
    directory = as_path(directory)
    make_folder(directory)
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    return [save_png(directory / f"{prefix}_{i:03d}.png", im) for i, im in enumerate(images)]


def save_figure(path: str | os.PathLike, figure: Figure, dpi: float = 100.0) -> Path:
    """Write a matplotlib Figure as a PNG, atomically. matplotlib renders PNGs with Agg whatever
    the figure's backend, so no display is needed.

    Args:
        path: a .png path.
        figure: a matplotlib Figure.
        dpi: its resolution, dots per inch.

    Returns:
        The path.
    """
    check_suffix(path, ".png")
    buffer = _io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return write_bytes(path, buffer.getvalue())


def load_images(paths: str | os.PathLike | Sequence[str | os.PathLike], size: int) -> np.ndarray:
    """Image files (any format Pillow reads), each cropped to its centre square and resized, as
    the images render and render_vis start from.

    Args:
        paths: a file path or a list of them.
        size: the images' side in px, an int >= 1.

    Returns:
        float32 [N, size, size, 3] in [0, 1].

    Raises:
        FileNotFoundError: a path that is no file.
        TypeError: something other than paths.
        ValueError: no path, a bad `size`, or a file Pillow cannot read.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not (is_int(size) and size >= 1):
        raise ValueError(f"size is the side of the images in px, an int >= 1; got {size!r}.")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    images = []
    for path in paths:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"load_images takes file paths; got a {type(path).__name__}.")
        try:
            with Image.open(path) as image:
                square = ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
        except FileNotFoundError:
            raise FileNotFoundError(f"no image file {str(path)!r}.") from None
        except OSError as err:  # not an image, a truncated one, a folder, no permission
            why = "" if isinstance(err, UnidentifiedImageError) else f" ({err})"
            raise ValueError(
                f"cannot read {str(path)!r} as an image{why}; give a PNG, JPEG or "
                "another format Pillow reads."
            ) from None
        images.append(np.asarray(square, np.float32) / 255.0)
    if not images:
        raise ValueError("load_images needs at least one path.")
    return np.stack(images)


def save_gif(path: str | os.PathLike, frames: TensorLike, fps: float = 4.0, loop: int = 0) -> Path:
    """Write frames as an animated GIF of T / fps seconds, atomically. A frame equal to the one
    before it is stored as a longer showing of that one (the GIF writer's way), so a reader may
    count fewer frames than T, never less time.

    Args:
        path: a .gif path.
        frames: [T, H, W, 3] or grey [T, H, W, 1], floats in [0, 1] or integers in 0..255.
        fps: frames per second.
        loop: how many times it plays again (0: for ever).

    Returns:
        The path.
    """
    import imageio.v3 as iio

    check_suffix(path, ".gif")
    if not (is_int(loop) and loop >= 0):
        raise ValueError(
            f"loop is how many times the GIF plays, an int >= 0 (0: forever); got {loop!r}."
        )
    if not is_number(fps) or fps <= 0:
        raise ValueError(f"fps must be a number of frames per second > 0; got {fps!r}.")
    frames = to_uint8(np.asarray(frames))
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError(
            f"save_gif takes frames [T, H, W, 3] or [T, H, W, 1]; got shape {frames.shape}."
        )
    if frames.shape[-1] == 1:
        frames = frames[..., 0]  # grey frames: the GIF writer takes them without a colour axis
    else:
        frames = _gif_colours(frames)
    data = iio.imwrite("<bytes>", frames, extension=".gif", duration=1000.0 / fps, loop=loop)
    return write_bytes(path, data)


def _gif_colours(frames: np.ndarray) -> np.ndarray:
    """RGB frames uint8 [T, H, W, 3], each in at most the 256 colours a GIF frame holds: a frame
    of more colours in the palette of Pillow's fast octree, each pixel its nearest colour; a
    frame of 256 colours or fewer as it is. The GIF writer's own median cut was the slowest part
    of writing a run's files and kept the colours no closer (docs/benchmarks.md, "Writing the
    files")."""
    from PIL import Image

    def reduced(frame: np.ndarray) -> np.ndarray:
        image = Image.fromarray(frame)
        if image.getcolors(256) is not None:
            return frame
        palette = image.quantize(256, method=Image.Quantize.FASTOCTREE)
        # each pixel to its nearest colour of the palette, not to its octree cell's
        nearest = image.quantize(palette=palette, dither=Image.Dither.NONE)
        return np.asarray(nearest.convert("RGB"))

    return np.stack([reduced(frame) for frame in frames])


# The files written whole are runtime.files' (below io, so that runtime writes with them too).
__all__ = [
    "as_path",
    "atomic_path",
    "check_suffix",
    "grid",
    "json_text",
    "json_value",
    "load_images",
    "make_folder",
    "on_checkerboard",
    "partial_writes",
    "png_bytes",
    "save_figure",
    "save_gif",
    "save_grid",
    "save_png",
    "save_pngs",
    "to_uint8",
    "writable_folder",
    "write_bytes",
    "write_json",
]
