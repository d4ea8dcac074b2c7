"""Transforms for vision transformers, after Ghiasi et al. (2022, "What do vision transformers
learn? A visual exploration"): a patch grid invites optima fixed on it, so the image moves across
a whole patch (``Roll``) and its colours change strongly (``ColorShift``) at every step;
``vit_transforms`` is the default for token layers.
"""

from __future__ import annotations

import dataclasses

from samplevis.optvis.transform.contract import as_images, call_seed, check_own_seed, dims
from samplevis.runtime.checks import TensorLike, is_int, is_number


@dataclasses.dataclass(frozen=True)
class Roll:
    """Shift the images by whole pixels, up to ``d`` each way along both axes, wrapping around
    (Ghiasi et al.'s jitter, a ``torch.roll``): the size stays, and what leaves one side comes
    in at the other. An FFT image is periodic, so it wraps without a seam.

    ``seed``: None, or an int folded into the seed of every call.

    Attributes:
        d: the most the images shift each way, px.
        seed: None, or an int folded into the seed of every call.
    """

    d: int
    seed: int | None = None

    def __post_init__(self) -> None:
        if not is_int(self.d) or self.d < 0:
            raise ValueError(f"roll d must be an int >= 0, got {self.d!r}.")
        object.__setattr__(self, "d", int(self.d))
        object.__setattr__(self, "seed", check_own_seed(self.seed))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = as_images(images)
        shift = tf.random.stateless_uniform(
            [2], call_seed(seed, self.seed), -self.d, self.d + 1, dtype=tf.int32
        )
        return tf.roll(images, shift, axis=[1, 2])

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


@dataclasses.dataclass(frozen=True)
class ColorShift:
    """Change each colour channel's contrast and level at random: ``(x - 0.5) * exp(u) + 0.5 +
    v``, u uniform in [-``contrast``, ``contrast``] and v in [-``level``, ``level``], drawn per
    channel and call (Ghiasi et al.'s colour jitter, in image units: theirs shifts the level by
    up to one ImageNet std, about 0.23, and scales the contrast by up to e).

    ``seed``: None, or an int folded into the seed of every call.

    Attributes:
        contrast: the most the log of the contrast moves, each way.
        level: the most the level moves, each way, in image units.
        seed: None, or an int folded into the seed of every call.
    """

    contrast: float = 1.0
    level: float = 0.23
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("contrast", "level"):
            value = getattr(self, name)
            if not is_number(value) or value < 0:
                raise ValueError(f"ColorShift {name} must be a number >= 0, got {value!r}.")
        object.__setattr__(self, "seed", check_own_seed(self.seed))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        from samplevis.runtime.seeds import split

        images = as_images(images)
        channels = dims(images)[3]
        s = split(call_seed(seed, self.seed), 2)
        gain = tf.exp(tf.random.stateless_uniform([channels], s[0], -self.contrast, self.contrast))
        shift = tf.random.stateless_uniform([channels], s[1], -self.level, self.level)
        return (images - 0.5) * gain + 0.5 + shift

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


def vit_transforms(patch: int) -> tuple:
    """The default transforms for a vision transformer's token layers: a roll by up to half a
    patch each way (every alignment of the image with the patch grid) and a strong colour shift
    (Ghiasi et al. 2022). docs/vit.md has the designs measured against each other.

    Args:
        patch: the side of the transformer's patches in px of the images transformed.

    Returns:
        The transforms, as a tuple.

    Examples:
        >>> transforms = vit_transforms(16)
    """
    if not is_int(patch) or patch < 1:
        raise ValueError(f"vit_transforms: patch is a side in px, an int >= 1; got {patch!r}.")
    return (Roll(max(1, patch // 2)), ColorShift())
