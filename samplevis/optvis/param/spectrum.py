"""Natural-image magnitude spectra: the fixed Fourier magnitude of MACO images.

A spectrum here is float32 [3, H, W // 2 + 1]: the mean absolute 2-D real FFT of photographs of
H x W pixels, per colour channel of the decorrelated ImageNet colour space (``correlate_color``
of RGB in [0, 1]), in ``numpy.fft.rfft2``'s layout. The one shipped (``natural_spectrum``) was
computed by ``benchmarks/maco_spectrum.py`` from the RGB photographs in scikit-image's
``skimage.data`` at 64 x 64 pixels and is stored in ``samplevis/data/maco_spectrum.npy``;
``folder_spectrum`` computes one from your own photographs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from samplevis.optvis.param.base import check_positive_int

SPECTRUM_FILE = "maco_spectrum.npy"
# the side (px) of the photographs the shipped spectrum was computed at
SPECTRUM_SIZE = 64
# what folder_spectrum reads: the formats Pillow reads without plugins
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def spectrum_shape(height: int, width: int) -> tuple[int, int, int]:
    """The shape [3, height, width // 2 + 1] of a spectrum of height x width images."""
    return 3, height, width // 2 + 1


def check_spectrum(magnitude: object, height: int, width: int) -> np.ndarray:
    """`magnitude` as float32 [3, H, W // 2 + 1], finite and >= 0, or a ValueError naming the fix."""
    array = np.asarray(magnitude, dtype=np.float32)
    expected = spectrum_shape(height, width)
    if array.shape != expected:
        raise ValueError(
            f"the magnitude of {height}x{width} images has shape {list(expected)} (3 colour "
            f"channels, {height} rows, {width} // 2 + 1 = {expected[2]} columns, as "
            f"numpy.fft.rfft2); got {list(array.shape)}. Resize it with "
            f"param.resize_spectrum(magnitude, {height}, {width})."
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(
            "the magnitude must be finite and >= 0 (absolute values of Fourier coefficients); "
            "compute one with param.image_spectrum(images) or param.folder_spectrum(folder)."
        )
    return array


def resize_spectrum(magnitude: object, height: int, width: int) -> np.ndarray:
    """A spectrum resampled for height x width images, float32.

    Resampled in frequency (cycles per pixel), bilinearly on the logarithm of the magnitude:
    photographs are close to scale invariant, so their spectrum as a function of cycles per
    pixel hardly depends on the number of pixels.

    Args:
        magnitude: a magnitude spectrum [3, h, w // 2 + 1].
        height: the images' height, px.
        width: their width, px.

    Returns:
        float32 [3, height, width // 2 + 1].
    """
    height = check_positive_int("height", height)
    width = check_positive_int("width", width)
    source = np.asarray(magnitude, dtype=np.float64)
    if source.ndim != 3 or source.shape[0] != 3 or source.shape[2] < 2:
        raise ValueError(
            f"a spectrum has shape [3, H, W // 2 + 1] (numpy.fft.rfft2 of each colour channel); "
            f"got {list(source.shape)}."
        )
    rows = source.shape[1]
    # the source's own width cannot be told apart from W // 2 + 1 alone; the even one is taken
    source_width = 2 * (source.shape[2] - 1)
    order = np.argsort(np.fft.fftfreq(rows))
    fy = np.fft.fftfreq(rows)[order]
    log = np.log(np.maximum(source[:, order, :], np.finfo(np.float32).tiny))
    if rows % 2 == 0:  # the Nyquist row is both -1/2 and +1/2: give it at both ends
        fy = np.append(fy, 0.5)
        log = np.concatenate([log, log[:, :1]], axis=1)
    fx = np.fft.rfftfreq(source_width)
    ty, tx = np.fft.fftfreq(height), np.fft.rfftfreq(width)
    along_x = np.stack([[np.interp(tx, fx, row) for row in channel] for channel in log])
    out = np.stack([[np.interp(ty, fy, col) for col in channel.T] for channel in along_x])
    return np.exp(np.transpose(out, (0, 2, 1))).astype(np.float32)


def natural_spectrum(height: int, width: int) -> np.ndarray:
    """The shipped photographs' spectrum resampled for height x width images.

    Args:
        height: the images' height, px.
        width: their width, px.

    Returns:
        float32 [3, height, width // 2 + 1].
    """
    stored = resources.files("samplevis").joinpath(f"data/{SPECTRUM_FILE}").read_bytes()
    import io

    magnitude = np.load(io.BytesIO(stored)).astype(np.float32)
    if (height, width) == (SPECTRUM_SIZE, SPECTRUM_SIZE):
        return magnitude
    return resize_spectrum(magnitude, height, width)


def _square(image: np.ndarray, size: int) -> np.ndarray:
    """The centre square of an RGB image in [0, 1], resized to size x size (Pillow, Lanczos)."""
    from PIL import Image

    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = np.clip(image[top : top + side, left : left + side] * 255.0 + 0.5, 0, 255)
    resized = Image.fromarray(crop.astype(np.uint8)).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.float32) / 255.0


def _views(image: np.ndarray, size: int) -> list[np.ndarray]:
    """The whole centre square and its four quarters, each size x size: five views per photograph
    at two scales (photographs are close to scale invariant, so both count alike)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top : top + side, left : left + side]
    half = side // 2
    quarters = [square[y : y + half, x : x + half] for y in (0, half) for x in (0, half)]
    return [_square(square, size)] + [_square(q, size) for q in quarters]


def image_spectrum(images: Sequence[object], size: int = SPECTRUM_SIZE) -> np.ndarray:
    """The mean magnitude spectrum [3, size, size // 2 + 1] of RGB photographs.

    Args:
        images: arrays [H, W, 3] in [0, 1] (float) or [0, 255] (uint8), any size; each gives its
            centre square and that square's four quarters, resized to size x size.
        size: the side (px) the spectrum is computed at; `resize_spectrum` serves other sizes.
    """
    from samplevis.optvis.param.color import COLOR_CORRELATION_NORMALIZED

    size = check_positive_int("size", size)
    # correlate_color, in NumPy: RGB to the decorrelated colour space the MACO image is made in
    to_decorrelated = np.linalg.inv(COLOR_CORRELATION_NORMALIZED.astype(np.float64))
    total = np.zeros(spectrum_shape(size, size))
    count = 0
    for i, image in enumerate(images):
        array = np.asarray(image)
        if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 2:
            raise ValueError(
                f"image {i} has shape {list(array.shape)}; give RGB images [H, W, 3] "
                "(convert greyscale or RGBA images to RGB first)."
            )
        scaled = array / 255.0 if array.dtype == np.uint8 else array.astype(np.float64)
        for view in _views(scaled, size):
            decorrelated = view.astype(np.float64) @ to_decorrelated.T
            total += np.abs(np.fft.rfft2(np.transpose(decorrelated, (2, 0, 1))))
            count += 1
    if count == 0:
        raise ValueError(
            "no images given: pass a list of RGB arrays [H, W, 3], or use "
            "param.folder_spectrum(folder) for a folder of photographs."
        )
    return (total / count).astype(np.float32)


def folder_spectrum(folder: str | os.PathLike, size: int = SPECTRUM_SIZE) -> np.ndarray:
    """The mean magnitude spectrum [3, size, size // 2 + 1] of the photographs in `folder`.

    Reads every file whose name ends in one of IMAGE_SUFFIXES (not in sub-folders), converted to
    RGB; pass the result as `param.maco(..., magnitude=resize_spectrum(s, h, w))` or save it.

    Args:
        folder: the photographs' folder.
        size: the side (px) the spectrum is computed at.

    Returns:
        float32 [3, size, size // 2 + 1].

    Raises:
        NotADirectoryError: `folder` is not a folder.
        ValueError: it holds no images.
    """
    from PIL import Image

    path = Path(folder)
    if not path.is_dir():
        raise NotADirectoryError(
            f"{path} is not a folder; give the folder holding your photographs."
        )
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(
            f"{path} holds no images (files ending in {', '.join(IMAGE_SUFFIXES)}); put "
            "photographs there, or give the folder that holds them."
        )
    images = []
    for file in files:
        with Image.open(file) as image:
            images.append(np.asarray(image.convert("RGB")))
    return image_spectrum(images, size)
