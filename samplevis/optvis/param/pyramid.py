"""Laplacian-pyramid parameterization: a sum of bilinearly upsampled levels."""

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
from samplevis.runtime.checks import TensorLike


@dataclasses.dataclass(frozen=True)
class LaplacianPyramid(TensorParam):
    """A tensor [B, H, W, C] = sum over levels n of upsample(level_n).

    State: ``n_levels`` tensors [B, H // 2**n, W // 2**n, C], each N(0, sd^2).
    Coarse levels move large areas at once, which favours low frequencies.

    Attributes:
        batch: images.
        height: their height, px.
        width: their width, px.
        channels: channels.
        n_levels: the pyramid's levels.
        sd: the std of the initial state.
    """

    batch: int
    height: int
    width: int
    channels: int = 3
    n_levels: int = 4
    sd: float = DEFAULT_SD

    def __post_init__(self) -> None:
        for name in ("batch", "height", "width", "channels", "n_levels"):
            check_positive_int(name, getattr(self, name))
        check_sd(self.sd)
        object.__setattr__(self, "sd", float(self.sd))
        k = 2 ** (self.n_levels - 1)
        if min(self.height, self.width) < k:
            raise ValueError(
                f"{self.n_levels} pyramid levels need images of at least {k} px, got "
                f"{self.height}x{self.width}; use fewer levels or a larger image."
            )

    @property
    def state_shapes(self) -> tuple:
        return tuple(
            (self.batch, self.height // 2**n, self.width // 2**n, self.channels)
            for n in range(self.n_levels)
        )

    def init(self, seed: object) -> State:
        return normal_state(self.state_shapes, seed, self.sd)

    def to_tensor(self, state: State) -> TensorLike:
        import tensorflow as tf

        from samplevis.runtime.sums import ordered_sum

        size = [self.height, self.width]
        # Level 0 has the full size: resizing it would be the identity.
        levels = [state[0]] + [tf.image.resize(s, size, method="bilinear") for s in state[1:]]
        return ordered_sum(levels)

    def inverse(self, tensor: TensorLike) -> State:
        import tensorflow as tf

        t = tf.convert_to_tensor(tensor, tf.float32)
        batch = tf.shape(t)[0]
        # All detail in the finest level: exact, and the coarse levels start at zero.
        return (t,) + tuple(tf.zeros(tf.concat([[batch], s[1:]], 0)) for s in self.state_shapes[1:])


def laplacian_pyramid(
    shape: Sequence[int], n_levels: int = 4, sd: float | None = None
) -> LaplacianPyramid:
    """Lucid's ``laplacian_pyramid_image`` of ``shape`` [B, H, W, C] with ``n_levels`` levels.

    Args:
        shape: [B, H, W, C].
        n_levels: the pyramid's levels, each half the size of the one before.
        sd: the std of the initial state (default 0.01, as Lucid).

    Returns:
        A `LaplacianPyramid` tensor parameterization.
    """
    batch, height, width, channels = _unpack_shape(shape)
    return LaplacianPyramid(
        batch, height, width, channels, n_levels, DEFAULT_SD if sd is None else sd
    )


def laplacian_pyramid_image(
    shape: Sequence[int], n_levels: int = 4, sd: float | None = None
) -> LaplacianPyramid:
    """Lucid's current name for ``laplacian_pyramid`` (same arguments, same value).

    Args:
        shape: [B, H, W, C].
        n_levels: the pyramid's levels, each half the size of the one before.
        sd: the std of the initial state (default 0.01, as Lucid).

    Returns:
        A `LaplacianPyramid` tensor parameterization.
    """
    return laplacian_pyramid(shape, n_levels, sd)
