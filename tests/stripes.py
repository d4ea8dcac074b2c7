"""Striped test images for the stripes networks of conftest (the Gabor filters' wavelength):
gratings, grey noise, and a folder of files with vertical or horizontal stripes pasted in."""

from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 48  # px, the Gabor network's input
WAVELENGTH = 6.0  # px, conftest's Gabor filters'
PATCH = 23  # px, the side of the pasted grating
# A short photo run over `stripes_folder`'s files: two clusters, two chains, a few steps each.
PHOTO_RUN = dict(
    num_chains=2,
    num_results=2,
    num_burnin_steps=4,
    photo_steps=16,
    photo_clusters=2,
    search_rounds=0,
)


def grating(side: int = PATCH) -> np.ndarray:
    """Channel 0's preferred pattern: vertical stripes of its wavelength, in [0, 1], uint8."""
    x = np.arange(side)
    row = 0.5 + 0.5 * np.cos(2 * np.pi * (x - side // 2) / WAVELENGTH)
    return np.round(np.tile(row, (side, 1))[..., None].repeat(3, -1) * 255).astype(np.uint8)


def grey(height: int, width: int, seed: int) -> np.ndarray:
    """Mid grey with faint noise, uint8 [H, W, 3]."""
    rng = np.random.default_rng(seed)
    return np.round(rng.uniform(0.45, 0.55, (height, width, 3)) * 255).astype(np.uint8)


def striped(contrast: float, vertical: bool, seed: int) -> np.ndarray:
    """Grey noise with the grating pasted at `contrast`, its stripes vertical or horizontal."""
    image = grey(SIDE, SIDE, seed).astype(np.float64)
    patch = grating() / 255.0 if vertical else np.transpose(grating(), (1, 0, 2)) / 255.0
    image[12 : 12 + PATCH, 12 : 12 + PATCH] = 255 * (0.5 + contrast * (patch - 0.5))
    return np.round(image).astype(np.uint8)


def stripes_folder(root) -> None:
    """Three files of vertical stripes, three of horizontal ones (named by way and contrast),
    two of noise."""
    root.mkdir()
    for way, contrasts in (("v", (1.0, 0.8, 0.6)), ("h", (0.9, 0.7, 0.5))):
        for contrast in contrasts:
            image = striped(contrast, way == "v", seed=int(contrast * 10))
            Image.fromarray(image).save(root / f"{way}_{round(contrast * 100):03d}.png")
    for seed in (1, 2):
        Image.fromarray(grey(SIDE, SIDE, seed)).save(root / f"noise_{seed}.png")


def stripes_way(model, images: np.ndarray) -> list[str]:
    """'v' or 'h' per image: which of the vertical and horizontal channels it drives more."""
    pooled = np.asarray(model.features(images, ["mix"])["mix"]).mean(axis=(1, 2))
    return ["v" if p[1] > p[2] else "h" for p in pooled]
