"""``RandomBlur``: a Gaussian blur of a width drawn at random from a list.

A climb through it cannot gain from what a blur removes: texture finer than the blur carries
little value whenever a blur is drawn, so the climb's gain comes from what survives it, as a
photo's value does (docs/trust.md, "The blur measure").
"""

from __future__ import annotations

import dataclasses
import math

from samplevis.optvis.blur_check import gaussian_taps
from samplevis.optvis.transform.contract import as_images, call_seed, check_own_seed
from samplevis.optvis.transform.spatial import _numbers
from samplevis.runtime.checks import TensorLike


@dataclasses.dataclass(frozen=True)
class RandomBlur:
    """Blur by a Gaussian of standard deviation drawn uniformly from ``sigmas`` (px, >= 0; 0
    leaves the images as they are): [B, H, W, C] -> [B, H, W, C]. A separable kernel of sum 1,
    the image mirrored at its edges, so that a constant image stays as it is and every image
    keeps its mean (as the blur measure's `gaussian_blur`). The same width for the whole batch,
    as Lucid's transforms draw one parameter per call.

    Attributes:
        sigmas: the standard deviations to draw from, px.
        seed: None, or an int folded into the seed of every call.
    """

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
    """Blur by a Gaussian of a width drawn from ``sigmas`` (px; 0 the images unchanged).

    Args:
        sigmas: the Gaussian's standard deviations to draw from, px, each >= 0.
        seed: an int folded into the seed of every call (the same draws whatever ran before);
            None: the call's seed alone.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> t = random_blur((0.0, 0.5, 1.0), seed=1)
    """
    return RandomBlur(sigmas, seed)
