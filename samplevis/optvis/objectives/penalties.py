"""Penalties on activations or on the image: L1, L2, distance to a photo, total variation,
blur, boundary complexity.

As in Lucid, `L1`, `L2`, `input_diff`, `total_variation` and `blur_input_each_step` are positive:
subtract them, e.g. `channel("block5c_add", 3) - 1e-3 * L1()`. `penalize_boundary_complexity` is
minus its penalty, as Lucid's: add it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from samplevis.models import INPUT
from samplevis.optvis.objectives.algebra import (
    Objective,
    _finite_array,
    _no_positions,
    _objective,
)
from samplevis.runtime.checks import TensorLike, check_unit_range, is_int, is_number


def _per_image_sum(x: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(x, axis=list(range(1, len(x.shape))))


def _value_name(value: np.ndarray) -> str:
    """A number as itself, an array by its shape: names label objectives, params hold values."""
    return repr(value.item()) if value.ndim == 0 else f"array{list(value.shape)}"


def L1(layer: str = INPUT, constant: float = 0.0, *, batch: int | None = None) -> Objective:
    """Sum of |activations - constant| per image (a penalty: subtract it).

    Args:
        layer: a layer name; default the image itself ("input").
        constant: the value the activations are drawn towards, a number or an array that
            broadcasts against the layer's activations.
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel("block5c_add", 12) - 1e-3 * L1(constant=0.5)
    """
    c = _finite_array("L1: constant", constant)
    return _objective(
        f"L1({layer!r}, constant={_value_name(c)})",
        [layer],
        lambda T, c: _per_image_sum(tf.abs(T(layer) - c)),
        batch,
        (c,),
        (layer, c.shape),
    )


def L2(
    layer: str = INPUT, constant: float = 0.0, epsilon: float = 1e-6, *, batch: int | None = None
) -> Objective:
    """sqrt(epsilon + sum of (activations - constant)²) per image (a penalty: subtract it).

    Args:
        layer: a layer name; default the image itself ("input").
        constant: the value the activations are drawn towards, a number or an array that
            broadcasts against the layer's activations.
        epsilon: added under the square root so that its gradient stays finite at 0, >= 0.
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Raises:
        ValueError: `epsilon` is not a number >= 0.

    Examples:
        >>> obj = channel("block5c_add", 12) - 1e-2 * L2()
    """
    c = _finite_array("L2: constant", constant)
    if not is_number(epsilon) or epsilon < 0:
        raise ValueError(f"L2: epsilon must be a number >= 0; got {epsilon!r}.")
    return _objective(
        f"L2({layer!r}, constant={_value_name(c)}, epsilon={epsilon})",
        [layer],
        lambda T, c, e: tf.sqrt(e + _per_image_sum(tf.square(T(layer) - c))),
        batch,
        (c, np.float32(epsilon)),
        (layer, c.shape),
    )


def input_diff(orig_img: TensorLike, *, batch: int | None = None) -> Objective:
    """Root-mean-square difference per image between the image and `orig_img`, as Lucid's; a
    penalty: subtract it to stay near a photo (adversarial counterexamples). On RGBA images
    (`param.image(..., alpha=True)`) it compares their colour channels.

    Args:
        orig_img: the photo, float [H, W, 3] (or [B, H, W, 3], one per image) in [0, 1].
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Raises:
        ValueError: `orig_img` is not an image [H, W, 3] or images [B, H, W, 3].

    Examples:
        >>> import numpy as np
        >>> obj = class_logit("logits", "hen") - 10 * input_diff(np.full((64, 64, 3), 0.5))
    """
    orig = _finite_array("input_diff: orig_img", orig_img)
    if orig.ndim not in (3, 4) or orig.shape[-1] != 3:
        raise ValueError(
            f"input_diff: orig_img is an image [H, W, 3] or images [B, H, W, 3] in "
            f"[0, 1]; got shape {orig.shape}."
        )
    orig = check_unit_range(orig[None] if orig.ndim == 3 else orig)  # [B or 1, H, W, 3]

    def per_image(T, orig_t):
        image = T(INPUT)
        if tuple(image.shape[1:3]) != orig.shape[-3:-1]:
            height, width = orig.shape[-3:-1]
            raise ValueError(
                f"input_diff: orig_img is {height}x{width} px but the images are "
                f"{image.shape[1]}x{image.shape[2]}; render at its size: "
                f"param.image({width}, {height})."
            )
        if image.shape[0] is not None and orig.shape[0] not in (1, image.shape[0]):
            raise ValueError(
                f"input_diff: orig_img holds {orig.shape[0]} images but the batch "
                f"holds {image.shape[0]}; give one image for all, or one per image."
            )
        image = image[..., :3]  # an RGBA image's colours; its alpha has no photo to match
        return tf.sqrt(tf.reduce_mean(tf.square(image - orig_t), axis=[1, 2, 3]))

    return _objective(
        f"input_diff({_value_name(orig)})", [INPUT], per_image, batch, (orig,), (orig.shape,)
    )


def total_variation(layer: str = INPUT, *, batch: int | None = None) -> Objective:
    """Total variation (sum of absolute neighbour differences) per image (a penalty).

    Args:
        layer: a layer name with positions; default the image itself ("input").
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel("block5c_add", 12) - 1e-4 * total_variation()
    """

    def per_image(T):
        acts = T(layer)
        if len(acts.shape) == 3:
            raise ValueError(_no_positions(layer, tuple(acts.shape)))
        if len(acts.shape) != 4:
            raise ValueError(
                f"total_variation needs a layer with spatial positions [B, H, W, C]; "
                f"{layer!r} gives shape {tuple(acts.shape)}."
            )
        return tf.image.total_variation(acts)

    return _objective(f"total_variation({layer!r})", [layer], per_image, batch, (), (layer,))


def _blur(x: tf.Tensor, w: int = 3) -> tf.Tensor:
    """Lucid's w×w per-channel blur (inner weight 1, border 0.5), normalized at the image edges."""
    depth = x.shape[-1]
    k = np.full([w, w], 0.5, np.float32)
    k[1:-1, 1:-1] = 1.0
    kernel = tf.constant(np.tile(k[:, :, None, None], [1, 1, depth, 1]))

    def conv(t: tf.Tensor) -> tf.Tensor:
        return tf.nn.depthwise_conv2d(t, kernel, [1, 1, 1, 1], "SAME")

    return conv(x) / conv(tf.ones_like(x))


def blur_input_each_step() -> Objective:
    """½‖input − stop_gradient(blur(input))‖² per image.

    Subtracting k times this objective moves the input a fraction k towards its blurred version at
    every step (Lucid's trick for smoothing pixel-space optimization).

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel("block5c_add", 12) - 0.5 * blur_input_each_step()
    """

    def per_image(T):
        image = T(INPUT)
        return 0.5 * _per_image_sum(tf.square(image - tf.stop_gradient(_blur(image))))

    return _objective("blur_input_each_step()", [INPUT], per_image, None)


def _image_size(shp: Sequence[int]) -> tuple[int, int]:
    """(height, width) from Lucid's `shp`: an image shape [B, H, W, C] or [H, W, C]."""
    dims = tuple(shp) if isinstance(shp, (list, tuple)) else ()
    if len(dims) not in (3, 4) or not all(is_int(d) and d > 0 for d in dims):
        raise ValueError(
            f"penalize_boundary_complexity: shp is the image shape [B, H, W, C] "
            f"(e.g. [1, 128, 128, 3]); got {shp!r}."
        )
    return int(dims[-3]), int(dims[-2])


def penalize_boundary_complexity(
    shp: Sequence[int], w: int = 20, mask: TensorLike = None, C: float = 0.5
) -> Objective:
    """Minus the detail and the distance from grey `C` in a border `w` px wide of images of shape
    `shp` (Lucid's signature).

    Args:
        shp: the images' shape [B, H, W, C].
        w: the border's width in pixels, an int >= 1.
        mask: float [H, W], 1 where penalized, replacing the border when given.
        C: the grey the border is drawn towards, in [0, 1].

    Returns:
        The objective: one value per image [B].

    Raises:
        ValueError: a border or mask that does not fit the images.

    Examples:
        >>> obj = channel("block5c_add", 12) + penalize_boundary_complexity([1, 128, 128, 3], w=16)
    """
    height, width = _image_size(shp)
    if mask is None:
        if not (is_int(w) and w >= 1):
            raise ValueError(
                f"penalize_boundary_complexity: w is the border width in px, an int "
                f">= 1; got {w!r}."
            )
        if 2 * w >= min(height, width):
            raise ValueError(
                f"penalize_boundary_complexity: a border of w={w} px leaves no "
                f"inside in {height}x{width} images; use w <= "
                f"{(min(height, width) - 1) // 2}."
            )
        mask = np.ones([height, width], np.float32)
        mask[w:-w, w:-w] = 0
    else:
        mask = np.asarray(mask, np.float32)
        if mask.shape != (height, width):
            raise ValueError(
                f"penalize_boundary_complexity: mask is [H, W], one weight per pixel "
                f"of the {height}x{width} images shp gives; got shape {mask.shape}."
            )
    if not is_number(C):
        raise ValueError(
            f"penalize_boundary_complexity: C is the grey level the border is pulled "
            f"to, a number in [0, 1]; got {C!r}."
        )

    def per_image(T, m, c):
        image = T(INPUT)
        if tuple(image.shape[1:3]) != (height, width):
            raise ValueError(
                f"penalize_boundary_complexity: shp is for {height}x{width} images "
                f"but they are {image.shape[1]}x{image.shape[2]}; give shp="
                f"{[1, image.shape[1], image.shape[2], 3]}."
            )
        # the 5x5 blur and the 0.8 weight are Lucid's
        diffs = tf.square(_blur(image, w=5) - image) + 0.8 * tf.square(image - c)
        return -_per_image_sum(diffs * m[None, :, :, None])

    return _objective(
        f"penalize_boundary_complexity([{height}, {width}], w={w}, C={C})",
        [INPUT],
        per_image,
        None,
        (mask, np.float32(C)),
        ((height, width),),
    )
