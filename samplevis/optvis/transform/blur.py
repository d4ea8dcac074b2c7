"""``RandomBlur``: a Gaussian blur of a width drawn at random from a list.

A climb through it cannot gain from what a blur removes: texture finer than the blur carries
little value whenever a blur is drawn, so the climb's gain comes from what survives it, as a
photo's value does (docs/trust.md, "The blur measure").
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from samplevis.optvis.transform.contract import as_images, call_seed, check_own_seed
from samplevis.optvis.transform.spatial import _numbers
from samplevis.runtime.checks import TensorLike

# the kernel reaches 4 sigma each way, as blur_check.gaussian_blur's
_REACH = 4.0


def gaussian_taps(sigmas: tuple[float, ...]) -> np.ndarray:
    """float32 [S, 2R + 1]: a Gaussian kernel of sum 1 for each of `sigmas` (px), all of the
    widest one's length R = ceil(4 max sigma) each way; sigma 0 is a single tap of 1 (the
    identity)."""
    reach = max(1, math.ceil(_REACH * max(sigmas)))
    offsets = np.arange(-reach, reach + 1, dtype=np.float64)
    rows = []
    for sigma in sigmas:
        if sigma == 0:
            taps = (offsets == 0).astype(np.float64)
        else:
            taps = np.exp(-0.5 * (offsets / sigma) ** 2)
        rows.append(taps / taps.sum())
    return np.array(rows, np.float32)


@dataclasses.dataclass(frozen=True)
class RandomBlur:
    """Blur by a Gaussian of standard deviation drawn uniformly from ``sigmas`` (px, >= 0; 0
    leaves the images as they are): [B, H, W, C] -> [B, H, W, C]. A separable kernel of sum 1,
    the image mirrored at its edges, so that a constant image stays as it is and every image
    keeps its mean (as the blur measure's `gaussian_blur`). The same width for the whole batch,
    as Lucid's transforms draw one parameter per call."""

    sigmas: tuple = (0.0, 0.5, 1.0)
    seed: int | None = None

    def __post_init__(self) -> None:
        sigmas = _numbers("random_blur sigmas", self.sigmas, "(0, 0.5, 1.0)")
        if any(not (s >= 0 and math.isfinite(s)) for s in sigmas):
            raise ValueError(f"random_blur sigmas are widths in px, >= 0; got {self.sigmas!r}.")
        object.__setattr__(self, "sigmas", sigmas)
        object.__setattr__(self, "seed", check_own_seed(self.seed))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = as_images(images)
        table = tf.constant(gaussian_taps(self.sigmas))
        index = tf.random.stateless_uniform(
            [], call_seed(seed, self.seed), 0, len(self.sigmas), dtype=tf.int32
        )
        taps = tf.gather(table, index)
        reach = (table.shape[1] - 1) // 2
        channels = images.shape[-1]
        out = tf.pad(images, [[0, 0], [reach, reach], [reach, reach], [0, 0]], "SYMMETRIC")
        down = tf.tile(tf.reshape(taps, [-1, 1, 1, 1]), [1, 1, channels, 1])
        across = tf.reshape(down, [1, -1, channels, 1])
        out = tf.nn.depthwise_conv2d(out, down, [1, 1, 1, 1], "VALID")
        return tf.nn.depthwise_conv2d(out, across, [1, 1, 1, 1], "VALID")

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


def random_blur(sigmas: tuple = (0.0, 0.5, 1.0), seed: int | None = None) -> RandomBlur:
    """Blur by a Gaussian of a width drawn from ``sigmas`` (px; 0 the images unchanged);
    ``seed``, if an int, is folded into the seed of every call."""
    return RandomBlur(sigmas, seed)
