"""A sample run's pictures (`grid`, `facet_grid`) and the image files of its folder: every draw
as a PNG, the GIF, the std and structure maps (`save_pngs`, `save_gif`, `save_std_map`,
`save_structure_map`), each a function of what the run drew and measured (`run.Run`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.runtime.checks import is_int

if TYPE_CHECKING:
    from samplevis.sampling.report.run import Run

STD_MAP_PERCENTILE = 99.0  # of a run's std maps' pixels: white in std.png


def grid(result: Run, with_init: bool = True) -> np.ndarray:
    """One image: a row per chain, the start first (if `with_init`), then samples."""
    from samplevis import io

    columns = [result.init_images[None]] if with_init else []
    frames = np.concatenate(columns + [result.images], axis=0)  # [N(+1), C, H, W, 3]
    rows = np.swapaxes(frames, 0, 1)
    return io.grid(rows.reshape(-1, *rows.shape[2:]), ncols=frames.shape[0])


def facet_grid(result: Run, photos: int = 4, samples: int = 4) -> np.ndarray:
    """One image: a row per facet, best first: its optimum, up to `photos` of its photos
    (from photos: the part of each its unit saw, fitted to the image size), then up to
    `samples` of its samples, evenly spaced over its chains' draws; white where a facet
    has fewer. Float [R * (H + 2) + 2, W', 3] in [0, 1]; empty [0, 0, 3] without facets."""
    from samplevis import io
    from samplevis.examples.clusters import seen
    from samplevis.examples.images import array_fitted

    if not result.facets:
        return np.zeros([0, 0, 3], np.float32)
    size = result.init_images.shape[1:3]
    blank = np.ones([*size, 3], np.float32)
    width = 1 + photos + samples
    tiles = []
    for facet in result.facets:
        shown = [array_fitted(seen(e), size)[0] / 255.0 for e in facet.examples[:photos]]
        drawn = result.images[:, list(facet.chains)].reshape(-1, *size, 3)
        if len(drawn):
            drawn = drawn[np.linspace(0, len(drawn) - 1, min(samples, len(drawn))).astype(int)]
        row = [facet.image, *shown, *drawn]
        tiles += row + [blank] * (width - len(row))
    return io.grid(np.stack(tiles).astype(np.float32), ncols=width)


def save_grid(result: Run, path: str | os.PathLike, with_init: bool = True) -> Path:
    """Write `grid(result, with_init)` as a PNG (atomically)."""
    from samplevis import io

    return io.save_png(path, grid(result, with_init))


def save_gif(
    result: Run, path: str | os.PathLike, fps: float = 4.0, chain: int | None = None, every: int = 1
) -> Path:
    """An animated GIF of the samples in the order drawn: one chain, or (chain=None) all
    chains side by side.

    `every` keeps every k-th sample as a frame (long runs make large GIFs).
    """
    from samplevis import io

    if result.images.shape[0] == 0:
        raise ValueError("no samples to write: the run was interrupted before the first one.")
    if not is_int(every) or every < 1:
        raise ValueError(f"every must be an int >= 1 (keep every k-th sample); got {every!r}.")
    images = result.images[::every]
    if chain is None:
        frames = np.stack([io.grid(f, ncols=result.num_chains) for f in images])
    else:
        if not is_int(chain) or not 0 <= chain < result.num_chains:
            raise ValueError(
                f"chain must be an int in 0..{result.num_chains - 1}, or None for all; got "
                f"{chain!r}."
            )
        frames = images[:, chain]
    return io.save_gif(path, frames, fps=fps)


def save_structure_map(result: Run, path: str | os.PathLike) -> Path:
    """Write `result.structure_maps()` as one grey PNG, a tile per chain, all on one scale: a
    standardized structure map's std of 1 is white (atomically)."""
    from samplevis import io

    maps = np.clip(result.structure_maps(), 0.0, 1.0)
    return io.save_grid(path, np.repeat(maps[..., None], 3, axis=-1), ncols=result.num_chains)


def save_std_map(result: Run, path: str | os.PathLike) -> Path:
    """Write `result.std_maps()` as one grey PNG, a tile per chain, all on one scale so the chains
    compare: white from STD_MAP_PERCENTILE of all their pixels up (from the largest where
    fewer pixels vary at all) (atomically)."""
    from samplevis import io

    maps = result.std_maps()
    # a few pixels' spread is far larger than the rest's: scaled by the largest, the map
    # is black with specks where a person wants to see where the colours vary
    peak = np.percentile(maps, STD_MAP_PERCENTILE)
    peak = peak if peak > 0 else maps.max()
    scaled = np.clip(maps / peak, 0.0, 1.0) if peak > 0 else maps
    return io.save_grid(path, np.repeat(scaled[..., None], 3, axis=-1), ncols=result.num_chains)


def save_pngs(result: Run, directory: str | os.PathLike, prefix: str = "sample") -> list[Path]:
    """Write every sample as `{prefix}_chain{c}_{i:03d}.png` in `directory`."""
    from samplevis import io

    if result.images.shape[0] == 0:
        raise ValueError("no samples to write: the run was interrupted before the first one.")
    paths = []
    for c in range(result.num_chains):
        paths += io.save_pngs(directory, result.images[:, c], prefix=f"{prefix}_chain{c}")
    return paths
