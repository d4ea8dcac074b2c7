"""MACO's views (Fel et al. 2023, Xplique's ``maco``): random crops of each image, resized,
with noise; their size and noise follow the run's progress."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from samplevis.optvis.transform.contract import as_images, call_seed, check_own_seed
from samplevis.runtime.checks import TensorLike, is_int, is_number


def _pair(name: str, value: object, lowest: float, highest: float, example: str) -> tuple:
    """`value`, a number or (start, end), as a pair of floats in [lowest, highest]."""
    items: Any = (value, value) if is_number(value) else value
    try:
        pair = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or not all(lowest <= v <= highest for v in pair):
        raise ValueError(
            f"{name} must be a number in [{lowest:g}, {highest:g}] or a pair (start, end) of "
            f"them, e.g. {example}; got {value!r}."
        )
    return pair


def _axis_weights(start: TensorLike, end: TensorLike, length: int, size: int) -> TensorLike:
    """[n, size, length]: rows that read `size` points from `start` to `end` (fractions of the
    axis, [n] each) of an axis of `length` pixels by linear interpolation, as
    tf.image.crop_and_resize places them; a point outside the axis reads 0."""
    import tensorflow as tf

    steps = tf.range(size, dtype=tf.float32) / max(size - 1, 1)
    where = (start[:, None] + (end - start)[:, None] * steps) * (length - 1)  # [n, size]
    low = tf.floor(where)
    frac = where - low
    inside = tf.cast((where >= 0) & (where <= length - 1), tf.float32)
    low = tf.cast(low, tf.int32)
    rows = (1 - frac)[..., None] * tf.one_hot(low, length) + frac[..., None] * tf.one_hot(
        low + 1, length
    )
    return rows * inside[..., None]


def _crops(images: TensorLike, boxes: TensorLike, size: int) -> TensorLike:
    """The crops [n * B, size, size, C] of images [B, H, W, C] in `boxes` [n, 4] (y1, x1, y2, x2
    as fractions), crop j of image b at j * B + b, bilinear as tf.image.crop_and_resize. Two
    matrix products per crop: their gradient sums in a fixed order, where crop_and_resize's
    gradient over many boxes adds them in whatever order its threads finish, so a seed would not
    fix the images."""
    import tensorflow as tf

    h, w = int(images.shape[1]), int(images.shape[2])
    rows = _axis_weights(boxes[:, 0], boxes[:, 2], h, size)  # [n, size, H]
    cols = _axis_weights(boxes[:, 1], boxes[:, 3], w, size)  # [n, size, W]
    crops = tf.einsum("nyh,bhwc,nxw->nbyxc", rows, images, cols)
    return tf.reshape(crops, [-1, size, size, images.shape[-1]])


@dataclasses.dataclass(frozen=True)
class MacoCrops:
    """MACO's views (Fel et al. 2023, Xplique's ``maco``): ``n`` random square crops of each image,
    resized to ``size`` x ``size``, with noise added.

    Images [B, H, W, C] give views [n * B, size, size, C], crop j of image b at j * B + b; the
    objective of an image is the mean over its crops (``evaluation.objective_of``). A crop's
    centre is N(0.5, center_sd^2) and its side N(box, box_sd^2) clipped to [0.05, 1], as
    fractions of the image's (boxes may reach past the border, which reads as 0). ``box`` and the
    noise's std follow the run: ``box_size`` is (start, end), interpolated linearly, ``noise``
    (start, end), interpolated geometrically, by the fraction of the run done that a renderer
    passes as ``progress``; without it, each call draws that fraction uniformly. The noise is
    Xplique's: N(0, s^2) plus U(-s/2, s/2), in image units ([0, 1]).

    Attributes:
        size: the crops' side in px.
        n: crops of each image.
        box_size: the crops' side as a share of the image's, (start, end).
        noise: the noise's std, (start, end).
        center_sd: the std of a crop's centre, as a share of the image's side.
        box_sd: the std of a crop's side, as a share of the image's.
        seed: None, or an int folded into the seed of every call.
    """

    size: int
    n: int = 32
    box_size: Any = (0.5, 0.05)  # a number or (start, end); (start, end) once made
    noise: Any = (0.08, 0.08)  # likewise
    center_sd: float = 0.15
    box_sd: float = 0.05
    seed: int | None = None

    takes_progress = True  # a class constant, not a field: renderers pass the run's progress

    def __post_init__(self) -> None:
        for name in ("size", "n"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ValueError(f"maco_crops {name} must be an int >= 1, got {value!r}.")
            object.__setattr__(self, name, int(value))
        object.__setattr__(self, "box_size", _pair("box_size", self.box_size, 0.01, 1.0, "0.25"))
        object.__setattr__(self, "noise", _pair("noise", self.noise, 0.0, 10.0, "0.08"))
        if min(self.noise) == 0.0 and max(self.noise) > 0.0:
            raise ValueError(
                f"a noise schedule interpolates geometrically, so it cannot start or end at 0; "
                f"got {self.noise!r}. Use a small number such as 1e-4 instead of 0."
            )
        for name in ("center_sd", "box_sd"):
            if not is_number(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a number >= 0, got {getattr(self, name)!r}.")
        object.__setattr__(self, "seed", check_own_seed(self.seed))

    def __call__(
        self, images: TensorLike, seed: TensorLike, progress: TensorLike | None = None
    ) -> TensorLike:
        import tensorflow as tf

        from samplevis.runtime.seeds import split

        images = as_images(images)
        s = split(call_seed(seed, self.seed), 6)
        if progress is None:
            progress = tf.random.stateless_uniform([], s[5])
        progress = tf.clip_by_value(tf.cast(progress, tf.float32), 0.0, 1.0)
        start, end = self.box_size
        box = start + (end - start) * progress
        centres = 0.5 + self.center_sd * tf.random.stateless_normal([2, self.n], s[0])
        # Xplique clips a crop's side to [0.05, 1]
        side = tf.clip_by_value(
            box + self.box_sd * tf.random.stateless_normal([self.n], s[1]), 0.05, 1.0
        )
        boxes = tf.stack(
            [
                centres[0] - side / 2,
                centres[1] - side / 2,
                centres[0] + side / 2,
                centres[1] + side / 2,
            ],
            axis=1,
        )
        crops = _crops(images, boxes, self.size)
        low, high = self.noise
        if high == 0.0:
            return crops
        sd = low * (high / low) ** progress
        shape = tf.shape(crops)
        noise = sd * tf.random.stateless_normal(shape, s[2])
        noise += sd * tf.random.stateless_uniform(shape, s[3], -0.5, 0.5)
        return crops + noise

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return self.size, self.size


def maco_crops(
    size: int,
    n: int = 32,
    box_size: float | Sequence[float] = (0.5, 0.05),
    noise: float | Sequence[float] = 0.08,
    *,
    seed: int | None = None,
) -> MacoCrops:
    """MACO's random crops with noise (Xplique's ``maco`` defaults), see ``MacoCrops``.

    Args:
        size: the crops' side in px (the network's input size).
        n: crops of each image.
        box_size: the crops' side as a share of the image: one number holds it fixed, (start,
            end) shrinks it over a run (default from 50 % to 5 %).
        noise: the std of the noise added to the crops: one number, or (start, end).
        seed: an int folded into the seed of every call (the same draws whatever ran before);
            None: the call's seed alone.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> t = maco_crops(224, n=16)
    """
    return MacoCrops(size, n, box_size, noise, seed=seed)
