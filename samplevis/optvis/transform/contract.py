"""What a transform is: an immutable callable ``t(images, seed) -> images``.

``images`` are float32 [B, H, W, C], ``seed`` an integer tensor of shape [2]; the same random
parameters apply to every image of the batch (as Lucid). Each transform also tells its static
output size via ``t.output_size(h, w)``. This module holds the checks every transform makes of
its images and seeds, and the adapter for Lucid's transforms, functions of the image alone
``t(images)``: ``as_transform`` wraps one as a transform.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

from samplevis.runtime.checks import TensorLike, is_int

Transform = Callable  # (images [B, H, W, C] float32, seed [2]) -> images
"""A transform: `(images [B, H, W, C] float32, seed [2]) -> images`."""


def as_images(images: TensorLike) -> TensorLike:
    """`images` as a float32 tensor [B, H, W, C], or a ValueError saying how to batch them."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape.rank != 4:
        raise ValueError(
            f"transforms need images of rank 4 [B, H, W, C], got shape {images.shape}; "
            "add a batch axis with images[None]."
        )
    return images


def dims(images: TensorLike) -> tuple:
    """(batch, height, width, channels): static ints where known, else tensors."""
    import tensorflow as tf

    static = images.shape.as_list()
    dynamic = tf.unstack(tf.shape(images))
    return tuple(s if s is not None else d for s, d in zip(static, dynamic))


def check_own_seed(seed: object) -> int | None:
    """A transform's own seed (Lucid's op-level ``seed``): None or an int."""
    if seed is not None and not is_int(seed):
        raise ValueError(
            f"a transform's seed must be an int or None, got {seed!r}; the "
            "seed each call receives is what makes a render reproducible."
        )
    return None if seed is None else int(seed)


def call_seed(seed: object, own: int | None) -> TensorLike:
    """The seed [2] a call draws from: the one it received, with the transform's own folded in
    (so that two transforms differing only in their seed draw differently)."""
    from samplevis.runtime.seeds import as_seed, fold_in

    seed = as_seed(seed)
    if own is None:
        return seed
    return fold_in(seed, own)


@dataclasses.dataclass(frozen=True)
class ImageOnly:
    """A Lucid-style transform ``fn(images) -> images`` taking ``(images, seed)``.

    The seed is not passed on: randomness inside ``fn`` (TensorFlow's stateful
    random ops) is not reproduced by a render's seed; this package's transforms are.

    Attributes:
        fn: the function of the images.
    """

    fn: Callable

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        return self.fn(as_images(images))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The size ``fn`` gives an RGB batch of one [1, height, width, 3], read from its graph."""
        import tensorflow as tf

        spec = tf.TensorSpec([1, height, width, 3], tf.float32)
        out = tf.function(self.fn, autograph=False).get_concrete_function(spec).structured_outputs
        size = getattr(out, "shape", None)
        if size is None or size.rank != 4 or None in (size[1], size[2]):
            raise TypeError(
                f"{self.fn!r} gives no static image size for {height}x{width} images (got "
                f"{size}); give it a method output_size(height, width) -> (height, width)."
            )
        return int(size[1]), int(size[2])


def _binds(signature: inspect.Signature, count: int) -> bool:
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def as_transform(t: Callable) -> Transform:
    """``t`` as a transform ``(images, seed) -> images``.

    A callable taking ``(images, seed)`` (all of this package's transforms) is
    returned as it is; one taking only ``(images)``, as Lucid's do, is wrapped
    in ``ImageOnly``; one whose signature cannot be read is taken to take
    ``(images, seed)``.

    Args:
        t: a transform, or a function of the images alone.

    Returns:
        The transform.

    Examples:
        >>> import tensorflow as tf
        >>> double = as_transform(lambda images: 2.0 * images)
        >>> type(double).__name__, double(tf.ones([1, 2, 2, 3]), 0).shape
        ('ImageOnly', TensorShape([1, 2, 2, 3]))
    """
    if not callable(t):
        raise TypeError(
            f"a transform is a function t(images, seed) -> images, or Lucid's t(images); got "
            f"{t!r} ({type(t).__name__}). Build one with samplevis.transform, e.g. "
            "transform.jitter(8)."
        )
    try:
        signature = inspect.signature(t)
    except (TypeError, ValueError):  # no signature to read (some builtins): try (images, seed)
        return t
    if _binds(signature, 2):
        return t
    if _binds(signature, 1):
        return ImageOnly(t)
    raise TypeError(
        f"transform {t!r} does not take (images, seed), nor Lucid's (images); write it as "
        "def t(images, seed): ... returning images [B, H, W, C]."
    )
