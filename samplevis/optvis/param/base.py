"""The two value types every parameterization is built from.

A ``TensorParam`` maps a tuple of state tensors to an unconstrained tensor
[B, H, W, C]; an ``ImageParam`` maps its state to images in [0, 1]. Both are
immutable values: their fields are their configuration, so two equal
configurations compare and hash equal. Every state tensor has the batch axis
first, so that image ``i`` of the batch depends only on slice ``i`` of every
state tensor.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from samplevis.runtime.checks import TensorLike, is_int, is_number

State = tuple  # tuple[tf.Tensor, ...], batch axis first in every tensor
Shape = tuple  # tuple[int, ...]


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` as int, or raise naming the argument and the fix."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}; pass an int >= 1.")
    return int(value)


def check_sd(sd: object) -> None:
    """Raise unless `sd`, the std of a random initial state, is a finite number >= 0."""
    if not is_number(sd) or sd < 0:
        raise ValueError(
            f"sd is the std of the initial state, a number >= 0 (0 starts from grey); got {sd!r}."
        )


def split_seed(seed: object, n: int) -> list:
    """Split one stateless seed (an int or [2] tensor) into ``n`` independent seeds [2]."""
    from samplevis.runtime.seeds import split

    return split(seed, n)


def normal_state(shapes: Sequence[Shape], seed: object, sd: float) -> State:
    """One stateless normal tensor of std ``sd`` per shape, independent seeds."""
    import tensorflow as tf

    seeds = split_seed(seed, len(shapes))
    return tuple(
        sd * tf.random.stateless_normal(shape, s, dtype=tf.float32)
        for shape, s in zip(shapes, seeds)
    )


def _size(shapes: Sequence[Shape]) -> int:
    return sum(math.prod(s[1:]) for s in shapes)


class _Stateful(abc.ABC):
    """What tensor and image parameterizations share: a batched state."""

    @property
    @abc.abstractmethod
    def state_shapes(self) -> tuple[Shape, ...]:
        """Full shapes of the state tensors, batch axis first."""

    @abc.abstractmethod
    def init(self, seed: object) -> State:
        """Initial state tensors (float32) from a stateless seed (int or [2])."""

    @property
    def state_size(self) -> int:
        """Number of real scalars of state per image (all tensors, batch axis excluded)."""
        return _size(self.state_shapes)


def mix_channels(t: TensorLike, matrix: np.ndarray) -> TensorLike:
    """``t`` [..., C] with its channels mixed by ``matrix`` [C, C]: channel i of the result is
    sum_j matrix[i, j] * channel j (``t @ matrix.T``)."""
    import tensorflow as tf

    return tf.einsum("...j,ij->...i", t, tf.constant(matrix, tf.float32))


class TensorParam(_Stateful):
    """An unconstrained tensor [batch, height, width, channels] made from a state."""

    batch: int
    height: int
    width: int
    channels: int

    @abc.abstractmethod
    def to_tensor(self, state: State) -> TensorLike:
        """The tensor [B, H, W, C] float32 for ``state``; pure and differentiable."""

    def to_mixed_tensor(self, state: State, matrix: np.ndarray) -> TensorLike:
        """``mix_channels(to_tensor(state), matrix)``; a parameterization may mix where it
        costs least."""
        return mix_channels(self.to_tensor(state), matrix)

    def inverse(self, tensor: TensorLike) -> State:
        """A state whose ``to_tensor`` is ``tensor`` [B, H, W, C] (if invertible)."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot be initialized from a tensor; use a "
            "pixel, fft or laplacian pyramid parameterization instead."
        )


class ImageParam(_Stateful):
    """Images [batch, height, width, channels] in [0, 1] made from a state: RGB (3 channels), or
    RGBA (4, see ``param.alpha``).

    ``init(seed)`` gives the initial state, ``to_image(state)`` is pure and
    differentiable, and ``build(seed)`` gives Lucid-style
    ``(variables, image_fn)``. ``start_learning_rate`` is the Adam learning rate
    `render` optimizes its starts at (None: `render_vis`'s default).

    What sampling (`samplevis.sampling`) asks of a parameterization, each with a default here:
    ``state_for(images)`` (a state that starts at given images; ``starts_at_images`` says
    whether there is one), ``with_batch(batch)`` (the same parameterization with another
    batch), ``unwrapped`` (the parameterization a wrapper is made over, innermost) and
    ``tensor_param`` (the tensor parameterization the images are coloured from).
    """

    start_learning_rate: ClassVar[float | None] = None

    if TYPE_CHECKING:  # read-only to the type checker; subclasses make them fields or properties

        @property
        def batch(self) -> int: ...

        @property
        def height(self) -> int: ...

        @property
        def width(self) -> int: ...

    @property
    def channels(self) -> int:
        """Channels of the images: 3 (RGB), or 4 (RGBA) for a parameterization with alpha."""
        return 3

    @abc.abstractmethod
    def to_image(self, state: State) -> TensorLike:
        """Images float32 [B, H, W, channels] in [0, 1] for ``state``."""

    def build(self, seed: object = 0) -> tuple[tuple, Callable[[], object]]:
        """Return ``(variables, image_fn)``: tf.Variables holding ``init(seed)``
        and a zero-argument function giving ``to_image(variables)``."""
        import tensorflow as tf

        variables = tuple(
            tf.Variable(t, trainable=True, name=f"param_state_{i}")
            for i, t in enumerate(self.init(seed))
        )
        return variables, lambda: self.to_image(variables)

    def state_for(self, images01: TensorLike) -> State:
        """A state whose images are ``images01`` [B, H, W, 3] in [0, 1] (B the batch): where
        sampling starts at given images (photos, probes). Raises NotImplementedError where the
        parameterization has none (``starts_at_images`` False)."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot start at an image; use a parameterization such as "
            "param.image(...), whose state an image determines."
        )

    @property
    def starts_at_images(self) -> bool:
        """Whether ``state_for`` gives a state for RGB images: where the images are RGB and a
        subclass defines it (it may still raise where its tensor has no inverse)."""
        return self.channels == 3 and type(self).state_for is not ImageParam.state_for

    def with_batch(self, batch: int) -> ImageParam | None:
        """This parameterization with ``batch`` images, so that a state of one image carries
        over; None where it cannot be rebuilt (by default: any batch but its own)."""
        return self if batch == self.batch else None

    @property
    def unwrapped(self) -> ImageParam:
        """The parameterization this one is made over, innermost (``WrappedImage``); itself for
        one made over none."""
        return self

    @property
    def tensor_param(self) -> TensorParam | None:
        """The tensor parameterization whose tensor the images are coloured from; None for one
        without (a CPPN, MACO)."""
        return None


class WrappedImage(ImageParam):
    """An image parameterization made over another, `base`, whose batch and size it keeps."""

    base: ImageParam

    @property
    def batch(self) -> int:
        return self.base.batch

    @property
    def height(self) -> int:
        return self.base.height

    @property
    def width(self) -> int:
        return self.base.width

    @property
    def channels(self) -> int:
        return self.base.channels

    @property
    def unwrapped(self) -> ImageParam:
        return self.base.unwrapped


def as_image_param(param_f: object) -> ImageParam:
    """A parameterization given as itself or as a function returning one (Lucid's `param_f`).

    Args:
        param_f: an `ImageParam`, or a function of no arguments returning one.

    Returns:
        The `ImageParam`.
    """
    image_param = (
        param_f() if callable(param_f) and not isinstance(param_f, ImageParam) else param_f
    )
    if not isinstance(image_param, ImageParam):
        hint = (
            " A tensor parameterization gives no images until coloured: wrap it as "
            "param.rgb(tensor, decorrelate=True)."
            if isinstance(image_param, TensorParam)
            else ""
        )
        raise TypeError(
            "param_f must be a function returning a samplevis.optvis.param parameterization (or the "
            "parameterization itself), e.g. lambda: param.image(128); got "
            f"{type(image_param).__name__}.{hint}"
        )
    return image_param
