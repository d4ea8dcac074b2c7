"""Colour: ImageNet colour decorrelation and mapping to valid RGB in [0, 1]."""

from __future__ import annotations

import dataclasses

import numpy as np

from samplevis.optvis.param.base import ImageParam, State, TensorParam, mix_channels
from samplevis.runtime.checks import TensorLike, check_bool

# Square root of the ImageNet colour correlation matrix, from Lucid
# (lucid.optvis.param.color.color_correlation_svd_sqrt).
COLOR_CORRELATION_SVD_SQRT = np.asarray(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
"""Square root of ImageNet's colour correlation [3, 3] (Lucid's), mapping decorrelated to RGB."""
# Lucid normalizes the matrix by its largest column norm (same source).
MAX_NORM_SVD_SQRT = float(np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)))
COLOR_CORRELATION_NORMALIZED = COLOR_CORRELATION_SVD_SQRT / MAX_NORM_SVD_SQRT
# ImageNet mean colour added when decorrelating without a sigmoid (Lucid, same source).
COLOR_MEAN = np.asarray([0.48, 0.46, 0.41], dtype=np.float32)
"""ImageNet's mean colour [3] in [0, 1], added when decorrelating without a sigmoid."""

# Inputs of the inverse sigmoid are clipped to this margin so that it stays finite.
_LOGIT_EPS = 1e-6


def decorrelate_color(t: TensorLike) -> TensorLike:
    """Map colours from the decorrelated space to RGB: ``t @ M.T``, last axis 3.

    Args:
        t: a float tensor [..., 3] in the decorrelated colour space.

    Returns:
        A tensor of its shape, in RGB.
    """
    return mix_channels(t, COLOR_CORRELATION_NORMALIZED)


def correlate_color(t: TensorLike) -> TensorLike:
    """Inverse of ``decorrelate_color``: RGB to the decorrelated colour space."""
    inv = np.linalg.inv(COLOR_CORRELATION_NORMALIZED.astype(np.float64)).astype(np.float32)
    return mix_channels(t, inv)


def constrain_l_inf(x: TensorLike) -> TensorLike:
    """Clip ``x`` to [-1, 1] with Lucid's gradient (lucid.optvis.param.unit_balls).

    The forward value is ``x / max(1, |x|)``; the gradient passes through
    unchanged except where ``|x| >= 1`` and the gradient points further out,
    so a saturated value can still move back inside.

    Args:
        x: a float tensor, any shape.

    Returns:
        A tensor of its shape in [-1, 1].
    """
    import tensorflow as tf

    @tf.custom_gradient
    def _constrain(x):
        def grad(dy):
            outward = tf.logical_and(tf.abs(x) >= 1.0, x * dy > 0.0)
            return tf.where(outward, tf.zeros_like(dy), dy)

        return x / tf.maximum(1.0, tf.abs(x)), grad

    return _constrain(x)


def to_valid_rgb(t: TensorLike, decorrelate: bool = False, sigmoid: bool = True) -> TensorLike:
    """Lucid's ``to_valid_rgb``: a tensor [..., 3] to colours in [0, 1].

    If ``decorrelate``, colours are read in the decorrelated ImageNet space
    (and the ImageNet mean is added when not using the sigmoid); then either a
    sigmoid or Lucid's L-inf clip ``constrain_l_inf(2t - 1)/2 + 0.5``.

    Args:
        t: a float tensor [..., 3]; or a ``TensorParam`` (as Lucid's
            ``to_valid_rgb(fft_image(shape))``), for which it returns the image
            parameterization ``rgb(t, decorrelate, sigmoid)`` instead.
        decorrelate: read the colours in the decorrelated ImageNet space.
        sigmoid: squash with a sigmoid; False: Lucid's L-inf clip.

    Returns:
        Colours of `t`'s shape in [0, 1] (or an `RGBImage`, given a `TensorParam`).
    """
    import tensorflow as tf

    if isinstance(t, TensorParam):
        return rgb(t, decorrelate, sigmoid)
    t = tf.convert_to_tensor(t, tf.float32)
    if t.shape.rank is not None and t.shape[-1] != 3:
        raise ValueError(
            f"to_valid_rgb needs 3 colour channels on the last axis, got shape "
            f"{t.shape}; slice the colour channels first."
        )
    if decorrelate:
        t = decorrelate_color(t)
    return _squashed(t, decorrelate, sigmoid)


def _squashed(t: TensorLike, decorrelated: bool, sigmoid: bool) -> TensorLike:
    """Colours ``t`` [..., 3] (decorrelated ones mapped to RGB already) into [0, 1]: a sigmoid,
    or Lucid's L-inf clip after the ImageNet mean (for decorrelated colours)."""
    import tensorflow as tf

    if decorrelated and not sigmoid:
        t = t + COLOR_MEAN
    if sigmoid:
        return tf.nn.sigmoid(t)
    return constrain_l_inf(2.0 * t - 1.0) / 2.0 + 0.5


def from_valid_rgb(
    images01: TensorLike, decorrelate: bool = False, sigmoid: bool = True
) -> TensorLike:
    """Inverse of ``to_valid_rgb`` for colours strictly inside (0, 1)."""
    import tensorflow as tf

    x = tf.convert_to_tensor(images01, tf.float32)
    if sigmoid:
        x = tf.clip_by_value(x, _LOGIT_EPS, 1.0 - _LOGIT_EPS)
        x = tf.math.log(x) - tf.math.log1p(-x)
    elif decorrelate:
        x = x - COLOR_MEAN
    if decorrelate:
        x = correlate_color(x)
    return x


@dataclasses.dataclass(frozen=True)
class RGBImage(ImageParam):
    """Images in [0, 1] from a 3-channel ``TensorParam`` via ``to_valid_rgb``.

    The state is the tensor parameterization's state (for ``param.image`` the
    spectral coefficients ``z``; a standard normal ``z`` is the intended
    natural-image prior).

    Attributes:
        tensor: the 3-channel ``TensorParam``.
        decorrelate: its colours in the decorrelated ImageNet space.
        sigmoid: squashed with a sigmoid (False: Lucid's clip).
    """

    tensor: TensorParam
    decorrelate: bool = False
    sigmoid: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.tensor, TensorParam):
            raise TypeError(
                f"RGBImage needs a TensorParam, got {type(self.tensor).__name__}; "
                "build one with param.fft_image(shape) or param.pixel_image(shape)."
            )
        if self.tensor.channels != 3:
            raise ValueError(
                f"RGBImage needs a 3-channel tensor, got {self.tensor.channels} "
                "channels; make the tensor with shape [B, H, W, 3]."
            )
        for name in ("decorrelate", "sigmoid"):
            object.__setattr__(self, name, check_bool(name, getattr(self, name)))

    @property
    def batch(self) -> int:
        return self.tensor.batch

    @property
    def height(self) -> int:
        return self.tensor.height

    @property
    def width(self) -> int:
        return self.tensor.width

    @property
    def state_shapes(self) -> tuple:
        return self.tensor.state_shapes

    def init(self, seed: object) -> State:
        return self.tensor.init(seed)

    def to_image(self, state: State) -> TensorLike:
        if not self.decorrelate:
            return to_valid_rgb(self.tensor.to_tensor(state), False, self.sigmoid)
        # the tensor mixes its channels where that costs least (an FFT tensor: channels first)
        t = self.tensor.to_mixed_tensor(state, COLOR_CORRELATION_NORMALIZED)
        return _squashed(t, True, self.sigmoid)

    def state_for(self, images01: TensorLike) -> State:
        """A state whose image is ``images01`` [B, H, W, 3] (to ~1e-5 inside (0, 1)); raises
        NotImplementedError where the tensor has no inverse."""
        return self.tensor.inverse(from_valid_rgb(images01, self.decorrelate, self.sigmoid))

    def with_batch(self, batch: int) -> RGBImage | None:
        """The same colours of the same tensor parameterization with ``batch`` images."""
        if batch == self.batch:
            return self
        if not dataclasses.is_dataclass(self.tensor):
            return None
        return dataclasses.replace(self, tensor=dataclasses.replace(self.tensor, batch=batch))

    @property
    def tensor_param(self) -> TensorParam:
        return self.tensor


def rgb(tensor: TensorParam, decorrelate: bool = False, sigmoid: bool = True) -> RGBImage:
    """Images in [0, 1] from a 3-channel tensor parameterization (Lucid's to_valid_rgb).

    Args:
        tensor: a `TensorParam` of shape [B, H, W, 3] (`fft_image`, `pixel_image`, ...).
        decorrelate: read its colours in the decorrelated ImageNet space.
        sigmoid: squash with a sigmoid; False: Lucid's L-inf clip.

    Returns:
        The image parameterization (an `RGBImage`).

    Examples:
        >>> p = rgb(fft_image([1, 32, 32, 3]), decorrelate=True)
        >>> p.to_image(p.init(0)).shape
        TensorShape([1, 32, 32, 3])
    """
    return RGBImage(tensor, decorrelate, sigmoid)
