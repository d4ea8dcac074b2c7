"""Lucid's image transforms, in-graph, differentiable and stateless-random.

A transform is an immutable callable value ``t(images, seed) -> images``: ``images`` float32
[B, H, W, C], ``seed`` an integer tensor of shape [2]; ``t.output_size(h, w)`` tells its static
output size. Lucid's transforms, functions of the image alone ``t(images)``, are accepted
wherever a transform is (``as_transform`` wraps one).

- ``contract``: what a transform takes (images, seeds) and Lucid-style functions adapted
  (``ImageOnly``, ``as_transform``).
- ``resampling``: the engine of zooms and rotations, a sparse product with an exact adjoint.
- ``spatial``: the transforms that move pixels (``Pad``, ``Jitter``, ``RandomScale``,
  ``RandomRotate``, ``CropOrPadTo``).
- ``blur``: ``RandomBlur`` (``random_blur``), a Gaussian blur of a random width.
- ``gradient``: ``NormalizeGradient``; ``compositing``: ``CollapseAlpha``.
- ``chain``: ``Compose``, which resamples a chain's zooms, rotations, pads and crops at once, and
  ``output_size``.
- ``lucid``: Lucid's factories (``pad``, ``jitter``, ``random_scale``, ...),
  ``standard_transforms`` and the library's default transforms.
- ``maco``: MACO's crops (``MacoCrops``, ``maco_crops``).
- ``vit``: for vision transformers' token layers (``Roll``, ``ColorShift``,
  ``vit_transforms``, their default).
"""

from samplevis.optvis.transform.blur import RandomBlur, random_blur
from samplevis.optvis.transform.chain import Compose, output_size
from samplevis.optvis.transform.compositing import CollapseAlpha
from samplevis.optvis.transform.contract import ImageOnly, Transform, as_transform
from samplevis.optvis.transform.gradient import NormalizeGradient
from samplevis.optvis.transform.lucid import (
    as_transforms,
    collapse_alpha_random,
    compose,
    crop_or_pad_to,
    default_transforms,
    jitter,
    normalize_gradient,
    pad,
    random_rotate,
    random_scale,
    standard_transforms,
)
from samplevis.optvis.transform.maco import MacoCrops, maco_crops
from samplevis.optvis.transform.resampling import XLA_MAP_PIXELS
from samplevis.optvis.transform.spatial import (
    CropOrPadTo,
    Jitter,
    Pad,
    RandomRotate,
    RandomScale,
)
from samplevis.optvis.transform.vit import ColorShift, Roll, vit_transforms

__all__ = [
    "XLA_MAP_PIXELS",
    "CollapseAlpha",
    "ColorShift",
    "Compose",
    "CropOrPadTo",
    "ImageOnly",
    "Jitter",
    "MacoCrops",
    "NormalizeGradient",
    "Pad",
    "RandomBlur",
    "RandomRotate",
    "RandomScale",
    "Roll",
    "Transform",
    "as_transform",
    "as_transforms",
    "collapse_alpha_random",
    "compose",
    "crop_or_pad_to",
    "default_transforms",
    "jitter",
    "maco_crops",
    "normalize_gradient",
    "output_size",
    "pad",
    "random_blur",
    "random_rotate",
    "random_scale",
    "standard_transforms",
    "vit_transforms",
]
