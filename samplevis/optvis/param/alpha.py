"""Transparency: RGBA images, an image parameterization with an alpha channel beside it."""

from __future__ import annotations

import dataclasses

from samplevis.optvis.param.base import ImageParam, State, TensorParam
from samplevis.runtime.checks import TensorLike

# The alpha state is drawn from the seed folded with this number, so that the colour state of an
# RGBA image is the very state its RGB image has for the same seed (any fixed int would do).
_ALPHA_STREAM = 4


def alpha_seed(seed: object) -> TensorLike:
    """The stateless seed [2] an RGBA image's alpha state is drawn from, given the image's seed."""
    from samplevis.runtime.seeds import as_seed, fold_in

    return fold_in(as_seed(seed), _ALPHA_STREAM)


@dataclasses.dataclass(frozen=True)
class RGBAImage(ImageParam):
    """Images [B, H, W, 4] in [0, 1]: the colours of ``color`` and ``sigmoid(alpha)``.

    The state is ``color``'s state followed by ``alpha``'s; ``color``'s is drawn from the seed
    exactly as ``color`` alone draws it, so an RGBA render starts from the RGB render's colours.
    ``alpha`` is a one-channel tensor parameterization of ``color``'s batch and size. As Lucid's
    ``param.image(..., alpha=True)``, alpha 1 is opaque; a transform such as
    ``transform.collapse_alpha_random()`` composites the images before the network sees them.

    Attributes:
        color: the colours' image parameterization (an ``RGBImage``).
        alpha: the alpha's one-channel tensor parameterization.
    """

    color: ImageParam
    alpha: TensorParam

    def __post_init__(self) -> None:
        if not isinstance(self.color, ImageParam):
            raise TypeError(
                f"RGBAImage's color must be an image parameterization such as "
                f"param.image(128); got {type(self.color).__name__}."
            )
        if self.color.channels != 3:
            raise ValueError(
                f"{self.color!r} already gives {self.color.channels}-channel images and cannot "
                "take another alpha channel; give RGBAImage an RGB parameterization."
            )
        if not isinstance(self.alpha, TensorParam):
            raise TypeError(
                f"RGBAImage's alpha must be a tensor parameterization such as "
                f"param.fft_image([1, 128, 128, 1]); got {type(self.alpha).__name__}."
            )
        want = (self.color.batch, self.color.height, self.color.width, 1)
        got = (self.alpha.batch, self.alpha.height, self.alpha.width, self.alpha.channels)
        if got != want:
            raise ValueError(
                f"the alpha tensor has shape {list(got)} but the colours need {list(want)}; "
                f"build it with that shape, e.g. param.fft_image({list(want)})."
            )

    @property
    def batch(self) -> int:
        return self.color.batch

    @property
    def height(self) -> int:
        return self.color.height

    @property
    def width(self) -> int:
        return self.color.width

    @property
    def channels(self) -> int:
        return 4

    @property
    def state_shapes(self) -> tuple:
        return tuple(self.color.state_shapes) + tuple(self.alpha.state_shapes)

    def _split(self, state: State) -> tuple[State, State]:
        n = len(self.color.state_shapes)
        return tuple(state[:n]), tuple(state[n:])

    def init(self, seed: object) -> State:
        return tuple(self.color.init(seed)) + tuple(self.alpha.init(alpha_seed(seed)))

    def to_image(self, state: State) -> TensorLike:
        import tensorflow as tf

        color, alpha = self._split(state)
        opacity = tf.nn.sigmoid(self.alpha.to_tensor(alpha))
        return tf.concat([self.color.to_image(color), opacity], axis=-1)
