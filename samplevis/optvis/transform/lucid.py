"""Lucid's transforms by Lucid's names (``pad``, ``jitter``, ``random_scale``, ...),
``standard_transforms`` and the library's default transforms.

Names shared with Lucid take Lucid's positional arguments in Lucid's order; what samplevis adds
(``fill_mode``, ``fill_value``) is keyword only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from samplevis.optvis.transform.chain import Compose
from samplevis.optvis.transform.compositing import CollapseAlpha
from samplevis.optvis.transform.contract import Transform, as_transform
from samplevis.optvis.transform.gradient import NormalizeGradient
from samplevis.optvis.transform.spatial import (
    CropOrPadTo,
    Jitter,
    Pad,
    RandomRotate,
    RandomScale,
)


def pad(w: int, mode: str = "REFLECT", constant_value: float | str = 0.5) -> Pad:
    """Pad ``w`` pixels on each side (Lucid's ``pad``).

    Args:
        w: the pad's width in px, an int >= 0.
        mode: "CONSTANT", "REFLECT" or "SYMMETRIC".
        constant_value: the value of a "CONSTANT" pad, a float or one per channel.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> transforms = [pad(12, mode="constant", constant_value=0.5), jitter(8)]
    """
    return Pad(w, mode, constant_value)


def jitter(d: int, seed: int | None = None) -> Jitter:
    """Random crop by ``d`` pixels in height and width (Lucid's ``jitter``).

    Args:
        d: the crop's play in px, an int >= 0: the images lose `d` px in height and width.
        seed: an int folded into the seed of every call (the same draws whatever ran before);
            None: the call's seed alone.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> output_size([pad(12), jitter(8)], 128, 128)
        (144, 144)
    """
    return Jitter(d, seed)


def random_scale(
    scales: Sequence[float],
    seed: int | None = None,
    *,
    fill_mode: str = "CONSTANT",
    fill_value: float = 0.5,
) -> RandomScale:
    """Zoom by a random factor from ``scales`` keeping the size (Lucid's ``random_scale``, but
    see ``RandomScale``).

    Args:
        scales: the factors to draw from, each > 0 (repeats weigh a factor more).
        seed: an int folded into the seed of every call (the same draws whatever ran before);
            None: the call's seed alone.
        fill_mode: what fills outside the image when it shrinks: "CONSTANT", "REFLECT", "WRAP"
            or "NEAREST".
        fill_value: the value of a "CONSTANT" fill, in the images' range.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> t = random_scale([1 + (i - 5) / 50.0 for i in range(11)])
    """
    return RandomScale(scales, fill_mode, fill_value, seed)


def random_rotate(
    angles: Sequence[float],
    units: str = "degrees",
    seed: int | None = None,
    *,
    fill_mode: str = "CONSTANT",
    fill_value: float = 0.0,
) -> RandomRotate:
    """Rotate by a random angle from ``angles`` (Lucid's ``random_rotate``).

    Args:
        angles: the angles to draw from (repeats weigh an angle more).
        units: "degrees" or "radians".
        seed: an int folded into the seed of every call (the same draws whatever ran before);
            None: the call's seed alone.
        fill_mode: what fills the corners: "CONSTANT", "REFLECT", "WRAP" or "NEAREST".
        fill_value: the value of a "CONSTANT" fill, in the images' range.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> t = random_rotate(list(range(-10, 11)) + 5 * [0])
    """
    return RandomRotate(angles, units, fill_mode, fill_value, seed)


def crop_or_pad_to(height: int, width: int) -> CropOrPadTo:
    """Centre-crop or zero-pad to a fixed size (Lucid's ``crop_or_pad_to``).

    Args:
        height: the images' height after it, px.
        width: their width, px.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> output_size(standard_transforms + [crop_or_pad_to(128, 128)], 128, 128)
        (128, 128)
    """
    return CropOrPadTo(height, width)


def normalize_gradient(grad_scales: Sequence[float] | None = None) -> NormalizeGradient:
    """Unit-norm gradient per image, times ``grad_scales[i]`` if given (Lucid's
    ``normalize_gradient``): the images pass unchanged, their gradient is rescaled.

    Args:
        grad_scales: one factor per image [B], or None (1 for each).

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.
    """
    return NormalizeGradient(grad_scales)


def collapse_alpha_random(sd: float = 0.5) -> CollapseAlpha:
    """Composite RGBA images over a random image each call, so the network sees RGB (Lucid's
    ``collapse_alpha_random``).

    Args:
        sd: the std of the background's random spectrum.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.
    """
    return CollapseAlpha(sd)


def compose(transforms: Sequence[Transform]) -> Compose:
    """One transform applying ``transforms`` in order with independent seeds (Lucid's
    ``compose``); one-argument functions ``t(images)`` are accepted.

    Args:
        transforms: transforms, or Lucid-style functions of the images alone.

    Returns:
        The transform `(images [B, H, W, C], seed [2]) -> images`.

    Examples:
        >>> t = compose([pad(4), jitter(4), lambda images: images[..., ::-1]])
    """
    return Compose(tuple(transforms))


# Lucid's standard_transforms (lucid.optvis.transform): pad 12 grey, jitter 8,
# scale 0.9..1.1 in steps of 0.02, rotate -10..10 degrees (0 five extra times), jitter 4.
_STANDARD_TRANSFORMS = (
    pad(12, mode="constant", constant_value=0.5),
    jitter(8),
    random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
    random_rotate(list(range(-10, 11)) + 5 * [0]),
    jitter(4),
)

# A list, as Lucid's, so that `standard_transforms + [crop_or_pad_to(h, w)]` works. The
# library's defaults read the tuple above: editing this list changes no default.
standard_transforms: list[Callable] = list(_STANDARD_TRANSFORMS)
"""Lucid's standard transforms (pad, jitter, scale, rotate, jitter), as a list to extend."""


def default_transforms() -> tuple:
    """The library's default transforms: Lucid's ``standard_transforms`` as this module
    defines them, whatever edits the public list ``standard_transforms`` has had since."""
    return _STANDARD_TRANSFORMS


def as_transforms(transforms: object) -> tuple:
    """A tuple of transforms ``(images, seed) -> images`` from a list (or tuple) of
    transforms or Lucid-style ``t(images)`` functions, or from one of them.

    Args:
        transforms: a transform, a list or tuple of them, or None: the library's default,
            Lucid's standard transforms as defined here (edits of the list
            ``standard_transforms`` do not change it).

    Returns:
        The transforms, as a tuple.
    """
    if transforms is None:
        return default_transforms()
    if callable(transforms):
        transforms = (transforms,)
    if not isinstance(transforms, (list, tuple)):
        raise TypeError(
            "transforms must be a list of transforms t(images, seed) -> images, e.g. "
            f"transform.standard_transforms or [transform.jitter(8)], or () for none; got "
            f"{transforms!r}."
        )
    return tuple(as_transform(t) for t in transforms)
