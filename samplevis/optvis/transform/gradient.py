"""``NormalizeGradient``: the images unchanged, each image's gradient rescaled on the way back."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from samplevis.optvis.transform.contract import as_images
from samplevis.runtime.checks import TensorLike, is_number


@dataclasses.dataclass(frozen=True)
class NormalizeGradient:
    """The images unchanged; on the way back, each image's gradient scaled to L2 norm 1, or to
    ``scales[i]`` for image i (Lucid's ``normalize_gradient``; a zero gradient stays zero where
    Lucid's turns NaN). Only the optimizer's steps change, not the objective's value. It acts on
    the gradient through the network: terms reading ``T("input")`` (``L1``, ``input_diff``) see
    the image before the transforms, as in Lucid.

    Attributes:
        scales: one factor per image [B], or None (1 for each).
    """

    scales: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if self.scales is None:
            return
        try:
            items = () if isinstance(self.scales, (str, bytes)) else tuple(self.scales)
        except TypeError:
            items = ()
        if not items or not all(is_number(v) for v in items):
            raise ValueError(
                f"normalize_gradient scales must be a list of numbers, one per "
                f"image, e.g. (1.0, 0.5); got {self.scales!r}."
            )
        object.__setattr__(self, "scales", tuple(float(v) for v in items))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = as_images(images)
        batch = images.shape[0]
        if self.scales is not None and batch is not None and batch != len(self.scales):
            raise ValueError(
                f"normalize_gradient has {len(self.scales)} scales but the batch "
                f"holds {batch} images; give one scale per image."
            )

        @tf.custom_gradient
        def identity(x):
            def unit_gradient(dy):
                norm = tf.sqrt(tf.reduce_sum(tf.square(dy), axis=[1, 2, 3], keepdims=True))
                dx = tf.math.divide_no_nan(dy, norm)
                if self.scales is None:
                    return dx
                return dx * tf.reshape(tf.constant(self.scales, dx.dtype), [-1, 1, 1, 1])

            return tf.identity(x), unit_gradient

        return identity(images)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width
