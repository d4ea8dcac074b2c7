"""Images and a unit of known fine detail, shared by the blur measure's and the natural measures'
tests: a unit that answers to a checkerboard (a Nyquist-frequency filter), its preferred image,
speckle it also answers to, small photos, and a rainbow to lay over them."""

from __future__ import annotations

import colorsys

import keras
import numpy as np

SIDE = 32


def checker_network() -> keras.Model:
    """The unit "checker:0": ReLU(a 2x2 filter of +1 and -1 in a checkerboard, summed over
    colours, + 0.1) at each position; its objective, the mean over positions, is highest on a
    checkerboard and 0.1 on any smooth image."""
    x = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(1, 2, activation="relu", name="checker")
    y = conv(x)
    kernel = np.array([[1, -1], [-1, 1]], np.float32)[:, :, None, None].repeat(3, axis=2)
    conv.set_weights([kernel, np.array([0.1], np.float32)])
    return keras.Model(x, y)


def checkerboard() -> np.ndarray:
    """float32 [1, SIDE, SIDE, 3]: black and white pixels alternating, the checker's best."""
    board = np.indices((SIDE, SIDE)).sum(axis=0) % 2
    return np.repeat(board[None, ..., None], 3, axis=-1).astype(np.float32)


def photographs() -> np.ndarray:
    """float32 [3, SIDE, SIDE, 3]: scikit-image's astronaut, coffee and chelsea, made small."""
    from skimage import data, transform

    shown = [getattr(data, name)() for name in ("astronaut", "coffee", "chelsea")]
    small = [transform.resize(image, (SIDE, SIDE), anti_aliasing=True) for image in shown]
    return np.stack(small).astype(np.float32)


def speckle(seed: int = 0) -> np.ndarray:
    """float32 [1, SIDE, SIDE, 3]: grey pixels black or white at random, what the checker unit
    answers to (its 2x2 filter fires wherever the diagonals differ)."""
    noise = np.random.default_rng(seed).random((1, SIDE, SIDE, 1)) > 0.5
    return np.repeat(noise, 3, axis=-1).astype(np.float32)


def rainbow() -> np.ndarray:
    """float32 [SIDE, SIDE, 3]: fully saturated hues swirling across the image."""
    rows, cols = np.mgrid[0:SIDE, 0:SIDE] / SIDE
    hue = (cols + 0.5 * np.sin(6 * rows)) % 1.0
    return np.array([[colorsys.hsv_to_rgb(h, 1.0, 1.0) for h in row] for row in hue], np.float32)
