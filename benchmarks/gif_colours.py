"""Writing an animated GIF: the 256 colours of each frame chosen four ways, timed, and how far
each frame read back lies from the frame given.

    python benchmarks/gif_colours.py            # a few seconds
    python benchmarks/gif_colours.py --quick    # a smoke run: smaller frames, one repeat

The frames: 10 of the size of the README command's samples.gif (4 images of 128 px side by side
with `io.grid`'s padding), cut from scikit-image's bundled photographs, each shifted a little
from the one before, as a chain's draws change. Seconds are the median of alternating repeats of
the whole write (to a file for `io.save_gif`, to bytes for the others); the error is the root
mean square over every pixel and colour, in levels of 0-255.
"""

from __future__ import annotations

import argparse
import functools
import io as _io
import tempfile
from collections.abc import Callable
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image
from skimage import data

from samplevis import io

from common import command_line, format_table, interleaved_medians, machine

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def frames(size: int, count: int) -> np.ndarray:
    """uint8 [count, H, W, 3]: four photo crops of `size` px side by side, moving 2 px a frame."""
    photos = [getattr(data, name)()[: 2 * size, : 2 * size] for name in PHOTOS]
    out = []
    for t in range(count):
        tiles = [p[2 * t : 2 * t + size, 2 * t : 2 * t + size] / 255.0 for p in photos]
        out.append(io.to_uint8(io.grid(np.stack(tiles), ncols=len(tiles))))
    return np.stack(out)


def _pillow(images: list[Image.Image]) -> bytes:
    buffer = _io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=250)
    return buffer.getvalue()


def writers(folder: Path) -> dict[str, Callable[[np.ndarray], bytes]]:
    """Frames uint8 [T, H, W, 3] -> the GIF's bytes, each way; `io.save_gif` writes in `folder`."""
    octree = Image.Quantize.FASTOCTREE

    def nearest(frame: np.ndarray, dither: Image.Dither) -> Image.Image:
        image = Image.fromarray(frame)
        return image.quantize(palette=image.quantize(256, method=octree), dither=dither)

    return {
        "imageio as it is (Pillow's median cut)": lambda f: iio.imwrite(
            "<bytes>", f, extension=".gif", duration=250.0
        ),
        "io.save_gif (octree palette, nearest colour)": lambda f: io.save_gif(
            folder / "draws.gif", f
        ).read_bytes(),
        "octree, each pixel its cell's colour": lambda f: _pillow(
            [Image.fromarray(x).quantize(256, method=octree) for x in f]
        ),
        "octree palette, Floyd-Steinberg dithered": lambda f: _pillow(
            [nearest(x, Image.Dither.FLOYDSTEINBERG) for x in f]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller frames, one repeat")
    args = parser.parse_args()
    size, count, repeats = (32, 3, 1) if args.quick else (128, 10, 5)
    given = frames(size, count)
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    folder = tempfile.TemporaryDirectory()
    ways = writers(Path(folder.name))
    calls = {name: functools.partial(write, given) for name, write in ways.items()}
    medians = interleaved_medians(calls, repeats)
    rows = []
    for name, write in ways.items():
        read = iio.imread(write(given), index=None)[..., :3].astype(np.float64)
        error = float(np.sqrt(np.mean((read - given) ** 2)))
        rows.append([name, f"{medians[name]:.3f}", f"{error:.2f}"])
    print(f"{count} frames of {given.shape[1]} x {given.shape[2]} px")
    print(format_table(["colours", "seconds", "rms error"], rows))
    folder.cleanup()


if __name__ == "__main__":
    main()
