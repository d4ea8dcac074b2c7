"""The README's picture: for each sampled channel in images/, the optimized start of chain 0
beside four of that chain's samples, taken from the GIF `sampling_quality.py --images` wrote.

    python benchmarks/readme_picture.py      # writes images/readme.png
"""
from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from samplevis import io

IMAGES = Path(__file__).resolve().parent.parent / "images"
CHANNELS = ("block3a_expand_activation_20", "block6a_expand_activation_301")
FRAMES = (0, 6, 13, 19)  # spread over the GIF's 20 frames
SIZE = 128  # the sampled images' size; the GIF puts the chains side by side, chain 0 first


def row(name: str) -> np.ndarray:
    """[5, SIZE, SIZE, 3] in [0, 1]: the start, then chain 0 in FRAMES."""
    start = iio.imread(IMAGES / f"{name}_opt.png")[..., :3]
    frames = iio.imread(IMAGES / f"{name}_samples.gif")[..., :3]
    # the GIF's frames are the sample grid: a border, then the chains' images side by side
    border = (frames.shape[1] - SIZE) // 2
    samples = [frames[f, border:border + SIZE, border:border + SIZE] for f in FRAMES]
    return np.stack([start, *samples]).astype(np.float32) / 255.0


def main() -> None:
    images = np.concatenate([row(name) for name in CHANNELS])
    print(io.save_grid(IMAGES / "readme.png", images, ncols=len(FRAMES) + 1))


if __name__ == "__main__":
    main()
