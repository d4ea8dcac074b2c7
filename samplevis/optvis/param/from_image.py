"""Start a parameterization from given images."""

from __future__ import annotations

import dataclasses

import numpy as np

from samplevis.optvis.param.base import State, WrappedImage
from samplevis.optvis.param.color import RGBImage
from samplevis.optvis.param.images import image
from samplevis.runtime.checks import TensorLike, check_unit_range


@dataclasses.dataclass(frozen=True, eq=True)
class InitializedImage(WrappedImage):
    """``base`` whose ``init`` returns the state that reproduces given images.

    The images are kept as float32 bytes so that the value stays hashable;
    ``init(seed)`` ignores the seed (the start is the images themselves).

    Attributes:
        base: the image parameterization.
        pixels: the images, float32 [B, H, W, 3] in [0, 1], as bytes.
    """

    base: RGBImage
    pixels: bytes = dataclasses.field(repr=False)

    @property
    def state_shapes(self) -> tuple:
        return self.base.state_shapes

    @property
    def images(self) -> np.ndarray:
        """The target images, float32 [B, H, W, 3] in [0, 1]."""
        shape = (self.batch, self.height, self.width, 3)
        return np.frombuffer(self.pixels, np.float32).reshape(shape)

    def init(self, seed: object = None) -> State:
        return tuple(self.base.state_for(self.images))

    def to_image(self, state: State) -> TensorLike:
        return self.base.to_image(state)


def initialized(base: RGBImage, images01: TensorLike) -> InitializedImage:
    """``base`` started from ``images01`` (B, H, W as ``base``).

    Works for every ``RGBImage`` whose tensor is invertible (pixel, fft,
    laplacian pyramid). Colours at exactly 0 or 1 are pulled slightly inside
    when ``base`` uses a sigmoid.

    Args:
        base: an `RGBImage`.
        images01: float [B, H, W, 3] in [0, 1].

    Returns:
        An `InitializedImage`: `base` whose `init` gives those images.
    """
    if not isinstance(base, RGBImage):
        raise TypeError(
            f"initialized needs an RGBImage such as param.image(...), got {type(base).__name__}."
        )
    images01 = _check_images(images01)
    expected = (base.batch, base.height, base.width, 3)
    if images01.shape != expected:
        raise ValueError(
            f"images must have shape {expected} to start {base!r}, got {images01.shape}; "
            "resize the images or build the parameterization with their size."
        )
    base.state_for(images01[:1])  # fails early if the tensor is not invertible
    return InitializedImage(base, images01.tobytes())


def from_image(
    images01: TensorLike,
    fft: bool = True,
    decorrelate: bool = True,
    sigmoid: bool = True,
    decay_power: float = 1.0,
) -> InitializedImage:
    """``param.image`` of the images' size whose initial state reproduces ``images01``.

    ``to_image(init(seed))`` reproduces them to float32 round-off inside (0, 1); the state is the
    inverse of the sigmoid (or clip), colour matrix and spectral scaling.

    Args:
        images01: float [B, H, W, 3] in [0, 1].
        fft: a spectral state (False: pixels).
        decorrelate: colours in the decorrelated ImageNet space.
        sigmoid: squash with a sigmoid (False: Lucid's clip).
        decay_power: the exponent of the 1/f amplitude scaling.

    Returns:
        The image parameterization.
    """
    images01 = _check_images(images01)
    batch, height, width, _ = images01.shape
    base = image(
        width,
        height,
        batch=batch,
        decorrelate=decorrelate,
        fft=fft,
        sigmoid=sigmoid,
        decay_power=decay_power,
    )
    assert isinstance(base, RGBImage)  # without alpha, image() is RGB
    return initialized(base, images01)


def _check_images(images01) -> np.ndarray:
    return np.ascontiguousarray(check_unit_range(images01))
