"""Low-resolution parameterization: a small state bilinearly upsampled."""

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
from samplevis.optvis.param.pixel import DEFAULT_SD, _unpack_shape
from samplevis.runtime.checks import TensorLike, is_int


@dataclasses.dataclass(frozen=True)
class LowresTensor(TensorParam):
    """A tensor [B, H, W, C] bilinearly resized from a state [B, low_height, low_width, C].

    ``offset`` (oy, ox) shifts the upsampled tensor down/right by that many
    pixels (symmetric padding, then cropping), like a phase shift.

    Attributes:
        batch: images.
        height: their height, px.
        width: their width, px.
        channels: channels.
        low_height: the state's height.
        low_width: the state's width.
        offset: (oy, ox), px.
        sd: the std of the initial state.
    """

    batch: int
    height: int
    width: int
    channels: int
    low_height: int
    low_width: int
    offset: tuple = (0, 0)
    sd: float = DEFAULT_SD

    def __post_init__(self) -> None:
        for name in ("batch", "height", "width", "channels", "low_height", "low_width"):
            check_positive_int(name, getattr(self, name))
        check_sd(self.sd)
        object.__setattr__(self, "sd", float(self.sd))
        offset = tuple(int(o) for o in self.offset)
        if len(offset) != 2 or min(offset) < 0:
            raise ValueError(f"offset must be two ints >= 0 (oy, ox), got {self.offset!r}.")
        object.__setattr__(self, "offset", offset)

    @property
    def state_shapes(self) -> tuple:
        return ((self.batch, self.low_height, self.low_width, self.channels),)

    def init(self, seed: object) -> State:
        return normal_state(self.state_shapes, seed, self.sd)

    def to_tensor(self, state: State) -> TensorLike:
        import tensorflow as tf

        t = tf.image.resize(state[0], [self.height, self.width], method="bilinear")
        oy, ox = self.offset
        if oy or ox:
            t = tf.pad(t, [(0, 0), (oy, 0), (ox, 0), (0, 0)], mode="SYMMETRIC")
            t = t[:, : self.height, : self.width, :]
        return t

    def inverse(self, tensor: TensorLike) -> State:
        import tensorflow as tf

        if (self.low_height, self.low_width) != (self.height, self.width) or any(self.offset):
            return super().inverse(tensor)
        return (tf.convert_to_tensor(tensor, tf.float32),)


def lowres_tensor(
    shape: Sequence[int],
    underlying_shape: Sequence[int],
    offset: Sequence[float] | int | bool | None = None,
    sd: float | None = None,
) -> LowresTensor:
    """Lucid's ``lowres_tensor``: a tensor of ``shape`` [B, H, W, C] upsampled
    from a state of ``underlying_shape`` [B, h, w, C].

    Args:
        shape: [B, H, W, C].
        underlying_shape: the state's shape [B, h, w, C].
        offset: None/False (no shift), an int (same shift in y and x), a pair
            (oy, ox), or True (half the upsampling ratio, as Lucid). Unlike Lucid the
            offset shifts only the spatial axes.
        sd: the std of the initial state (default 0.01, as Lucid).

    Returns:
        A `LowresTensor` tensor parameterization.
    """
    batch, height, width, channels = _unpack_shape(shape)
    ub, low_height, low_width, uc = _unpack_shape(underlying_shape)
    if (ub, uc) != (batch, channels):
        raise ValueError(
            f"underlying_shape must keep batch and channels of shape {tuple(shape)}, got "
            f"{tuple(underlying_shape)}; change only its height and width."
        )
    pair: tuple
    if offset is None or offset is False:
        pair = (0, 0)
    elif offset is True:
        pair = (height // low_height // 2, width // low_width // 2)
    elif is_int(offset):
        pair = (offset, offset)
    else:
        pair = tuple(offset)  # type: ignore[arg-type]  # a sequence: is_int took the ints
    return LowresTensor(
        batch,
        height,
        width,
        channels,
        low_height,
        low_width,
        pair,
        DEFAULT_SD if sd is None else sd,
    )
