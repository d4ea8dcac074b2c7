"""Lucid's image transforms, in-graph, differentiable and stateless-random.

A transform is an immutable callable value ``t(images, seed) -> images``:
``images`` float32 [B, H, W, C], ``seed`` an integer tensor of shape [2]. The
same random parameters apply to every image of the batch (as Lucid). Each
transform also tells its static output size via ``t.output_size(h, w)``.

Random scaling differs from Lucid on purpose: Lucid resizes the image to a
random size, which gives no static shape; here the content is zoomed about
the centre on a canvas of unchanged size (zoom-in crops the border, zoom-out
fills it with ``fill_value``), so a compiled step sees one shape.

Rotation and zoom resample bilinearly with ImageProjectiveTransformV3's pixel
convention, but as a sparse matrix product, so their gradient is its exact
adjoint (see ``_affine_about_center``). Fill modes: CONSTANT, REFLECT (d c b a | a b c d),
WRAP (a b c d | a b c d) and NEAREST.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

from samplevis.checks import is_int, is_number

_FILL_MODES = ("CONSTANT", "REFLECT", "WRAP", "NEAREST")
_PAD_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")


def _numbers(name: str, values: object, example: str) -> tuple[float, ...]:
    """`values` as a non-empty tuple of finite floats, or a ValueError showing `example`; one
    number is refused, not taken as a list of one (Lucid takes lists here)."""
    try:
        items = tuple(values) if not isinstance(values, (str, bytes)) else None
    except TypeError:
        items = None
    if not items or not all(is_number(v) for v in items):
        raise ValueError(f"{name} must be a non-empty list of numbers to draw from, e.g. "
                         f"{example}; got {values!r}.")
    return tuple(float(v) for v in items)


def _seed(seed: object):
    """A stateless seed [2] from an int or a [2] integer tensor (see `samplevis.seeds`)."""
    from samplevis.seeds import as_seed

    return as_seed(seed)


def _as_images(images):
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape.rank != 4:
        raise ValueError(
            f"transforms need images of rank 4 [B, H, W, C], got shape {images.shape}; "
            "add a batch axis with images[None]."
        )
    return images


def _dims(images) -> tuple:
    """(batch, height, width, channels): static ints where known, else tensors."""
    import tensorflow as tf

    static = images.shape.as_list()
    dynamic = tf.unstack(tf.shape(images))
    return tuple(s if s is not None else d for s, d in zip(static, dynamic))


def _choose(values: tuple, seed):
    """One of ``values`` uniformly at random (float32 scalar tensor)."""
    import tensorflow as tf

    index = tf.random.stateless_uniform([], seed, 0, len(values), dtype=tf.int32)
    return tf.gather(tf.constant(values, tf.float32), index)


def _wrap_index(i, n, fill_mode: str):
    """Map integer pixel indices ``i`` outside [0, n) as ``fill_mode`` says."""
    import tensorflow as tf

    if fill_mode == "WRAP":
        return tf.math.floormod(i, n)
    if fill_mode == "REFLECT":  # d c b a | a b c d | d c b a
        i = tf.math.floormod(i, 2 * n)
        return tf.where(i >= n, 2 * n - 1 - i, i)
    return tf.clip_by_value(i, 0, n - 1)  # NEAREST, and CONSTANT before masking


def _affine_about_center(images, inverse_matrix, fill_mode: str, fill_value: float):
    """Resample ``images`` so output pixel p reads input point c + A (p - c).

    ``inverse_matrix`` A is a [2, 2] float32 tensor in (x, y) pixel
    coordinates, c the image centre ((W-1)/2, (H-1)/2); bilinear
    interpolation, same convention as ImageProjectiveTransformV3. Written as a
    sparse matrix product so that automatic differentiation gives the exact adjoint: the
    gradient registered for ImageProjectiveTransformV3 warps the gradient
    back instead, which is far from the true gradient for a zoom (a sampler
    needs the true one).
    """
    import tensorflow as tf

    b, h, w, c = _dims(images)
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    cx, cy = (wf - 1.0) / 2.0, (hf - 1.0) / 2.0
    ys, xs = tf.meshgrid(tf.range(hf) - cy, tf.range(wf) - cx, indexing="ij")
    a = inverse_matrix
    src_x = tf.reshape(cx + a[0, 0] * xs + a[0, 1] * ys, [-1, 1])
    src_y = tf.reshape(cy + a[1, 0] * xs + a[1, 1] * ys, [-1, 1])
    x0, y0 = tf.floor(src_x), tf.floor(src_y)
    fx, fy = src_x - x0, src_y - y0
    # The four bilinear neighbours of every output pixel, as the rows of a sparse [hw, hw]
    # matrix: one sparse matmul (and its exact adjoint) is far cheaper on CPU than four
    # gathers with masks.
    dx = tf.constant([[0, 1, 0, 1]])
    dy = tf.constant([[0, 0, 1, 1]])
    xi = tf.cast(x0, tf.int32) + dx
    yi = tf.cast(y0, tf.int32) + dy
    weights = tf.where(dx == 1, fx, 1.0 - fx) * tf.where(dy == 1, fy, 1.0 - fy)  # [hw, 4]
    if fill_mode == "CONSTANT":
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        weights *= tf.cast(inside, tf.float32)
    cols = _wrap_index(yi, h, fill_mode) * w + _wrap_index(xi, w, fill_mode)
    rows = tf.repeat(tf.range(h * w, dtype=tf.int64), 4)[:, None]
    indices = tf.concat([rows, tf.cast(tf.reshape(cols, [-1, 1]), tf.int64)], axis=1)
    matrix = tf.sparse.SparseTensor(indices, tf.reshape(weights, [-1]),
                                    tf.cast(tf.stack([h * w, h * w]), tf.int64))
    columns = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), tf.stack([h * w, b * c]))
    out = tf.sparse.sparse_dense_matmul(matrix, columns)
    if fill_mode == "CONSTANT":
        out += fill_value * (1.0 - tf.reduce_sum(weights, axis=1, keepdims=True))
    return tf.transpose(tf.reshape(out, tf.stack([h, w, b, c])), [2, 0, 1, 3])


def _check_fill(fill_mode: str, fill_value: object) -> str:
    """The upper-case fill mode; a ValueError for an unknown mode or a fill value not a number."""
    mode = str(fill_mode).upper()
    if mode not in _FILL_MODES:
        raise ValueError(f"fill_mode must be one of {_FILL_MODES}, got {fill_mode!r}.")
    if not is_number(fill_value):
        raise ValueError(f"fill_value is the grey level of uncovered pixels, a number in [0, 1]; "
                         f"got {fill_value!r}.")
    return mode


@dataclasses.dataclass(frozen=True)
class Pad:
    """Pad ``width`` pixels on each side: [B, H, W, C] -> [B, H+2w, W+2w, C].

    ``mode`` is CONSTANT, REFLECT or SYMMETRIC; ``constant_value`` a float or
    ``"uniform"`` (a random grey level in [0, 1), as Lucid).
    """

    width: int
    mode: str = "REFLECT"
    constant_value: float | str = 0.5

    def __post_init__(self) -> None:
        if not is_int(self.width) or self.width < 0:
            raise ValueError(f"pad width must be an int >= 0, got {self.width!r}.")
        object.__setattr__(self, "width", int(self.width))
        mode = str(self.mode).upper()
        if mode not in _PAD_MODES:
            raise ValueError(f"pad mode must be one of {_PAD_MODES}, got {self.mode!r}.")
        object.__setattr__(self, "mode", mode)
        if not (isinstance(self.constant_value, str) and self.constant_value == "uniform"
                or is_number(self.constant_value)):
            raise ValueError(
                f"constant_value must be a number or 'uniform', got {self.constant_value!r}."
            )

    def __call__(self, images, seed):
        import tensorflow as tf

        images = _as_images(images)
        height, width = images.shape[1], images.shape[2]
        if self.mode != "CONSTANT" and height and width:
            # a mirror copies the image's own rows: REFLECT skips the edge row, SYMMETRIC keeps it
            widest = min(height, width) - (1 if self.mode == "REFLECT" else 0)
            if self.width > widest:
                raise ValueError(f"{self.mode} padding mirrors the images' own rows, so it pads "
                                 f"{height}x{width} images by at most {widest} px; got "
                                 f"{self.width}. Pad by less or use mode='constant'.")
        if self.constant_value == "uniform":
            value = tf.random.stateless_uniform([], _seed(seed), 0.0, 1.0)
        else:
            value = float(self.constant_value)
        w = self.width
        return tf.pad(images, [(0, 0), (w, w), (w, w), (0, 0)], mode=self.mode,
                      constant_values=value)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height + 2 * self.width, width + 2 * self.width


@dataclasses.dataclass(frozen=True)
class Jitter:
    """Random crop reducing height and width by ``d`` (offsets uniform in [0, d])."""

    d: int

    def __post_init__(self) -> None:
        if not is_int(self.d) or self.d < 0:
            raise ValueError(f"jitter d must be an int >= 0, got {self.d!r}.")
        object.__setattr__(self, "d", int(self.d))

    def __call__(self, images, seed):
        import tensorflow as tf

        images = _as_images(images)
        b, h, w, c = _dims(images)
        if isinstance(h, int) and isinstance(w, int) and min(h, w) <= self.d:
            raise ValueError(
                f"jitter({self.d}) needs images larger than {self.d} px, got {h}x{w}; "
                "pad first or use a smaller d."
            )
        return tf.image.stateless_random_crop(images, [b, h - self.d, w - self.d, c], _seed(seed))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height - self.d, width - self.d


@dataclasses.dataclass(frozen=True)
class RandomScale:
    """Zoom the content about the centre by a factor drawn from ``scales``.

    The output keeps the input size (see the module docstring); a factor
    s > 1 enlarges the content, s < 1 shrinks it and fills the border.
    """

    scales: tuple
    fill_mode: str = "CONSTANT"
    fill_value: float = 0.5

    def __post_init__(self) -> None:
        scales = _numbers("scales", self.scales, "[0.9, 1.0, 1.1]")
        if min(scales) <= 0:
            raise ValueError(f"scales must be a non-empty list of positive numbers, got {self.scales!r}.")
        object.__setattr__(self, "scales", scales)
        object.__setattr__(self, "fill_mode", _check_fill(self.fill_mode, self.fill_value))

    def __call__(self, images, seed):
        import tensorflow as tf

        images = _as_images(images)
        inv = 1.0 / _choose(self.scales, _seed(seed))
        zero = tf.zeros([], tf.float32)
        matrix = tf.stack([tf.stack([inv, zero]), tf.stack([zero, inv])])
        return _affine_about_center(images, matrix, self.fill_mode, float(self.fill_value))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


def _to_radians(angle: float, units: str) -> float:
    units = units.lower()
    if units in ("degrees", "degree", "degs", "deg"):
        return angle * math.pi / 180.0
    if units in ("radians", "radian", "rads", "rad"):
        return angle
    raise ValueError(f"units must be 'degrees' or 'radians', got {units!r}.")


@dataclasses.dataclass(frozen=True)
class RandomRotate:
    """Rotate counter-clockwise (as displayed) about the centre by an angle from ``angles``.

    Bilinear; corners outside the input are filled with ``fill_value``
    (0.0, black, as Lucid's rotate).
    """

    angles: tuple
    units: str = "degrees"
    fill_mode: str = "CONSTANT"
    fill_value: float = 0.0

    def __post_init__(self) -> None:
        angles = _numbers("angles", self.angles, "[-5, 0, 5]")
        _to_radians(0.0, self.units)
        object.__setattr__(self, "angles", angles)
        object.__setattr__(self, "fill_mode", _check_fill(self.fill_mode, self.fill_value))

    def __call__(self, images, seed):
        import tensorflow as tf

        images = _as_images(images)
        radians = tuple(_to_radians(a, self.units) for a in self.angles)
        theta = _choose(radians, _seed(seed))
        cos, sin = tf.cos(theta), tf.sin(theta)
        # Image y points down, so this output->input map turns content counter-clockwise on screen.
        matrix = tf.stack([tf.stack([cos, -sin]), tf.stack([sin, cos])])
        return _affine_about_center(images, matrix, self.fill_mode, float(self.fill_value))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


@dataclasses.dataclass(frozen=True)
class CropOrPadTo:
    """Centre-crop or zero-pad to ``height`` x ``width`` (deterministic)."""

    height: int
    width: int

    def __post_init__(self) -> None:
        for name in ("height", "width"):
            v = getattr(self, name)
            if not is_int(v) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}.")
            object.__setattr__(self, name, int(v))

    def __call__(self, images, seed):
        import tensorflow as tf

        return tf.image.resize_with_crop_or_pad(_as_images(images), self.height, self.width)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return self.height, self.width


@dataclasses.dataclass(frozen=True)
class Compose:
    """Apply ``transforms`` in order; each gets its own seed split from ``seed``."""

    transforms: tuple

    def __post_init__(self) -> None:
        transforms = tuple(self.transforms)
        for t in transforms:
            if not callable(t):
                raise TypeError(
                    f"compose needs callables t(images, seed), got {t!r}; build them "
                    "with this module's functions."
                )
        object.__setattr__(self, "transforms", transforms)

    def __call__(self, images, seed):
        images = _as_images(images)
        if not self.transforms:
            return images
        from samplevis.seeds import split

        seeds = split(seed, len(self.transforms))
        for i, t in enumerate(self.transforms):
            images = t(images, seeds[i])
        return images

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return output_size(self.transforms, height, width)


Transform = Callable  # (images [B, H, W, C] float32, seed [2]) -> images


@dataclasses.dataclass(frozen=True)
class NormalizeGradient:
    """The images unchanged; on the way back, each image's gradient scaled to L2 norm 1, or to
    ``scales[i]`` for image i (Lucid's ``normalize_gradient``; a zero gradient stays zero where
    Lucid's turns NaN). Only the optimizer's steps change, not the objective's value. It acts on
    the gradient through the network: terms reading ``T("input")`` (``L1``, ``input_diff``) see
    the image before the transforms, as in Lucid."""

    scales: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.scales is None:
            return
        try:
            items = () if isinstance(self.scales, (str, bytes)) else tuple(self.scales)
        except TypeError:
            items = ()
        if not items or not all(is_number(v) for v in items):
            raise ValueError(f"normalize_gradient scales must be a list of numbers, one per "
                             f"image, e.g. (1.0, 0.5); got {self.scales!r}.")
        object.__setattr__(self, "scales", tuple(float(v) for v in items))

    def __call__(self, images, seed):
        import tensorflow as tf

        images = _as_images(images)
        batch = images.shape[0]
        if self.scales is not None and batch is not None and batch != len(self.scales):
            raise ValueError(f"normalize_gradient has {len(self.scales)} scales but the batch "
                             f"holds {batch} images; give one scale per image.")

        @tf.custom_gradient
        def identity(x):
            def unit_gradient(dy):
                norm = tf.sqrt(tf.reduce_sum(tf.square(dy), axis=[1, 2, 3], keepdims=True))
                dx = tf.math.divide_no_nan(dy, norm)
                if self.scales is None:
                    return dx
                return dx * tf.reshape(tf.constant(self.scales, dx.dtype), [-1, 1, 1, 1])
            return tf.identity(x), unit_gradient

        return identity(images)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


def pad(w: int, mode: str = "REFLECT", constant_value: float | str = 0.5) -> Pad:
    """Pad ``w`` pixels on each side (Lucid's ``pad``)."""
    return Pad(w, mode, constant_value)


def jitter(d: int) -> Jitter:
    """Random crop by ``d`` pixels in height and width (Lucid's ``jitter``)."""
    return Jitter(d)


def random_scale(scales: Sequence[float], fill_mode: str = "CONSTANT",
                 fill_value: float = 0.5) -> RandomScale:
    """Zoom by a random factor from ``scales`` keeping the size (see module docstring)."""
    return RandomScale(scales, fill_mode, fill_value)


def random_rotate(angles: Sequence[float], units: str = "degrees", fill_mode: str = "CONSTANT",
                  fill_value: float = 0.0) -> RandomRotate:
    """Rotate by a random angle from ``angles`` (Lucid's ``random_rotate``)."""
    return RandomRotate(angles, units, fill_mode, fill_value)


def crop_or_pad_to(height: int, width: int) -> CropOrPadTo:
    """Centre-crop or zero-pad to a fixed size (Lucid's ``crop_or_pad_to``)."""
    return CropOrPadTo(height, width)


def normalize_gradient(scales: Sequence[float] | None = None) -> NormalizeGradient:
    """Unit-norm gradient per image, times ``scales[i]`` if given (Lucid's
    ``normalize_gradient``)."""
    return NormalizeGradient(scales)


def compose(transforms: Sequence[Transform]) -> Compose:
    """One transform applying ``transforms`` in order with independent seeds."""
    return Compose(tuple(transforms))


def output_size(transforms, height: int, width: int) -> tuple[int, int]:
    """Static (height, width) after a transform or a sequence of transforms."""
    chain = (transforms,) if callable(transforms) else tuple(transforms)
    for t in chain:
        if not hasattr(t, "output_size"):
            raise TypeError(
                f"{t!r} does not tell its output size; give it a method "
                "output_size(height, width) -> (height, width)."
            )
        height, width = t.output_size(height, width)
    return height, width


# Lucid's standard_transforms (lucid.optvis.transform): pad 12 grey, jitter 8,
# scale 0.9..1.1 in steps of 0.02, rotate -10..10 degrees (0 five extra times), jitter 4.
standard_transforms = (
    pad(12, mode="constant", constant_value=0.5),
    jitter(8),
    random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
    random_rotate(list(range(-10, 11)) + 5 * [0]),
    jitter(4),
)
