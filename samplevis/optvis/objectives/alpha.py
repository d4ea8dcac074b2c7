"""Objectives of the alpha channel of RGBA images (`param.image(w, alpha=True)`), whose
`T("input")` holds the alpha as a fourth channel."""

from __future__ import annotations

import tensorflow as tf

from samplevis.models import INPUT
from samplevis.optvis.objectives.algebra import FeatureLookup, Objective, _objective
from samplevis.optvis.objectives.penalties import _blur, _per_image_sum


def _alpha(T: FeatureLookup, name: str) -> tf.Tensor:
    """The alpha channel [B, H, W, 1] of the RGBA images `T("input")` reads, or a ValueError."""
    image = T(INPUT)
    if image.shape[-1] != 4:
        raise ValueError(
            f"{name} reads the alpha channel of RGBA images, but the images have "
            f"{image.shape[-1]} channels; render them with param.image(w, alpha=True)."
        )
    return image[..., 3:4]


def blur_alpha_each_step() -> Objective:
    """½‖alpha − stop_gradient(blur(alpha))‖² per image, of RGBA images (Lucid's): subtracting k
    times it moves the alpha a fraction k towards its blurred version at every step.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel("block5c_add", 12) - 0.5 * blur_alpha_each_step()
    """

    def per_image(T):
        alpha = _alpha(T, "blur_alpha_each_step()")
        return 0.5 * _per_image_sum(tf.square(alpha - tf.stop_gradient(_blur(alpha))))

    return _objective("blur_alpha_each_step()", [INPUT], per_image, None)


def penalize_alpha(*, batch: int | None = None) -> Objective:
    """Mean alpha per image of RGBA images, in [0, 1] (the penalty of Lucid's alpha notebooks):
    subtract it (`obj - 0.5 * penalize_alpha()`), or scale by what it leaves transparent
    (`obj * (1 - penalize_alpha())`, Lucid's transparency notebook).

    Args:
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel("block5c_add", 12) * (1 - penalize_alpha())
    """

    def per_image(T):
        return tf.reduce_mean(_alpha(T, "penalize_alpha()"), axis=[1, 2, 3])

    return _objective("penalize_alpha()", [INPUT], per_image, batch)
