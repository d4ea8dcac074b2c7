"""Pixel parameterization: the state is the tensor itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from samplevis.optvis.param.base import (
    State,
    TensorParam,
    check_positive_int,
    check_sd,
    normal_state,
)
from samplevis.runtime.checks import TensorLike, is_int

# Lucid's default standard deviation of the initial noise (lucid.optvis.param.spatial).
DEFAULT_SD = 0.01


@dataclasses.dataclass(frozen=True)
class PixelTensor(TensorParam):
    """A tensor [batch, height, width, channels] whose state is its own values.

    State: one float32 tensor [B, H, W, C], initialized N(0, sd^2).

    Attributes:
        batch: images.
        height: their height, px.
        width: their width, px.
        channels: channels.
        sd: the std of the initial values.
    """

    batch: int
    height: int
    width: int
    channels: int = 3
    sd: float = DEFAULT_SD

    def __post_init__(self) -> None:
        for name in ("batch", "height", "width", "channels"):
            check_positive_int(name, getattr(self, name))
        check_sd(self.sd)
        object.__setattr__(self, "sd", float(self.sd))

    @property
    def state_shapes(self) -> tuple:
        return ((self.batch, self.height, self.width, self.channels),)

    def init(self, seed: object) -> State:
        return normal_state(self.state_shapes, seed, self.sd)

    def to_tensor(self, state: State) -> TensorLike:
        import tensorflow as tf

        return tf.identity(state[0])

    def inverse(self, tensor: TensorLike) -> State:
        import tensorflow as tf

        return (tf.convert_to_tensor(tensor, tf.float32),)


def pixel_image(shape: Sequence[int], sd: float | None = None) -> PixelTensor:
    """Lucid's ``pixel_image``: a naive pixel tensor of ``shape`` [B, H, W, C].

    Args:
        shape: [B, H, W, C].
        sd: the std of the initial noise (default 0.01, as Lucid).

    Returns:
        A `PixelTensor` tensor parameterization.
    """
    batch, height, width, channels = _unpack_shape(shape)
    return PixelTensor(batch, height, width, channels, sd=DEFAULT_SD if sd is None else sd)


def _unpack_shape(shape) -> tuple[int, int, int, int]:
    shape = tuple(shape) if not isinstance(shape, str) else (shape,)
    if len(shape) != 4 or not all(is_int(s) and s >= 1 for s in shape):
        raise ValueError(
            f"shape must be [batch, height, width, channels], got {shape!r}; "
            "pass four positive ints, e.g. [1, 128, 128, 3]."
        )
    return int(shape[0]), int(shape[1]), int(shape[2]), int(shape[3])
