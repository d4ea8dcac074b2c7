"""Regularizers that act on the pixels between steps of a climb, as Yosinski et al. (2015) and
Nguyen et al.'s multifaceted visualization (2016) keep an optimized image near natural ones.

Each is a projection of images (float [N, H, W, 3] in [0, 1]) applied every few steps rather than
a term of the objective: L2 decay toward a centre colour (`decayed`), a Gaussian blur
(`blur_check.gaussian_blur`), the weakest pixels set to the centre (`weak_pixels_clipped`), and,
beyond theirs, the colourfulness held at most at a limit (`colourfulness_capped`), so that a climb
cannot paint a palette its photos do not have (a DeepDream palette). `PixelRegularizers` holds
their settings and applies them in that order.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from samplevis.optvis.blur_check import gaussian_blur
from samplevis.optvis.natural_measures import colourfulness

# Steps between applications: one compiled call of the renderer (renderer.STEPS_PER_CALL).
EVERY = 16


def decayed(images: np.ndarray, centres: np.ndarray, rate: float) -> np.ndarray:
    """float32 [N, H, W, 3]: each image's distance from its centre colour (float [N, 3]) shrunk by
    the factor 1 - `rate` (L2 decay, in [0, 1]): the image comes `rate` of the way to a flat
    image of its centre."""
    centre = np.asarray(centres, np.float32)[:, None, None, :]
    return (centre + (1.0 - rate) * (np.asarray(images, np.float32) - centre)).astype(np.float32)


def weak_pixels_clipped(images: np.ndarray, centres: np.ndarray, share: float) -> np.ndarray:
    """float32 [N, H, W, 3]: in each image the `share` (in [0, 1)) of its pixels nearest its
    centre colour (float [N, 3]; the L2 norm of a pixel's RGB distance from it) set to it, as
    Yosinski et al. clip pixels of small norm: what the climb did not push away from the centre
    is taken back to it. Ties at the cut are clipped too."""
    images = np.asarray(images, np.float32)
    if share <= 0:
        return images.copy()
    centre = np.asarray(centres, np.float32)[:, None, None, :]
    norms = np.linalg.norm(images - centre, axis=-1)  # [N, H, W]
    cut = np.quantile(norms.reshape(len(images), -1), share, axis=1)[:, None, None]
    weak = (norms <= cut)[..., None]
    return np.where(weak, np.broadcast_to(centre, images.shape), images).astype(np.float32)


def colourfulness_capped(images: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """float32 [N, H, W, 3]: each image whose colourfulness (`natural_measures.colourfulness`)
    is above its limit (float [N], on that measure's 0-255 scale) with its colours drawn toward
    each pixel's grey (its channels' mean) until it is at the limit; the others as they are. The
    opponent colours R - G and (R + G) / 2 - B scale with the draw, and so does the measure, to
    within the rounding to 8 bits."""
    images = np.asarray(images, np.float32)
    measured = colourfulness(images)
    limits = np.asarray(limits, np.float64)
    keep = np.where(measured > limits, limits / np.maximum(measured, 1e-12), 1.0)
    grey = images.mean(axis=-1, keepdims=True)
    return (grey + keep[:, None, None, None].astype(np.float32) * (images - grey)).astype(
        np.float32
    )


@dataclasses.dataclass(frozen=True)
class PixelRegularizers:
    """Decay, blur, clipping and a colour cap, applied to images between steps of a climb.

    Attributes:
        decay: the share of each pixel's distance from its centre colour taken away at each
            application (L2 decay, `decayed`), in [0, 1).
        blur: the Gaussian blur's standard deviation at each application, px (0: none).
        clip: the share of each image's pixels nearest its centre set to it
            (`weak_pixels_clipped`), in [0, 1).
        colour: the colourfulness cap as a multiple of each image's reference colourfulness
            (`colourfulness_capped`; None: no cap).
        every: steps of the climb between applications.
    """

    decay: float = 0.01
    blur: float = 0.3
    clip: float = 0.05
    colour: float | None = 1.0
    every: int = EVERY

    def __post_init__(self) -> None:
        for name in ("decay", "clip"):
            value = getattr(self, name)
            if not (0.0 <= value < 1.0):
                raise ValueError(f"PixelRegularizers {name} is a share in [0, 1); got {value!r}.")
        if not (self.blur >= 0 and math.isfinite(self.blur)):
            raise ValueError(f"PixelRegularizers blur is a width in px, >= 0; got {self.blur!r}.")
        if self.colour is not None and not self.colour > 0:
            raise ValueError(
                f"PixelRegularizers colour is a multiple > 0 of the reference colourfulness, or "
                f"None for no cap; got {self.colour!r}."
            )
        if self.every < 1:
            raise ValueError(f"PixelRegularizers every is a count of steps >= 1; got {self.every}.")

    def __call__(
        self,
        images: np.ndarray,
        centres: np.ndarray,
        colourfulness_of: np.ndarray | None = None,
    ) -> np.ndarray:
        """float32 [N, H, W, 3] in [0, 1]: `images` (float [N, H, W, 3] in [0, 1]) decayed toward
        their `centres` (float [N, 3]), blurred, their weak pixels clipped, and their
        colourfulness capped at `colour` times `colourfulness_of` (float [N], a reference such
        as their photos' median; None: no cap)."""
        out = decayed(images, centres, self.decay)
        if self.blur > 0:
            out = gaussian_blur(np.clip(out, 0.0, 1.0), self.blur)
        out = weak_pixels_clipped(out, centres, self.clip)
        if self.colour is not None and colourfulness_of is not None:
            out = colourfulness_capped(
                np.clip(out, 0.0, 1.0), self.colour * np.asarray(colourfulness_of)
            )
        return np.clip(out, 0.0, 1.0).astype(np.float32)
