"""Lucid's image transforms, in-graph, differentiable and stateless-random.

A transform is an immutable callable value ``t(images, seed) -> images``:
``images`` float32 [B, H, W, C], ``seed`` an integer tensor of shape [2]. The
same random parameters apply to every image of the batch (as Lucid). Each
transform also tells its static output size via ``t.output_size(h, w)``.
Lucid's transforms are functions of the image alone, ``t(images)``: ``as_transform``
wraps one as a transform (``compose`` and ``render_vis`` do so for you).
Names shared with Lucid take Lucid's positional arguments in Lucid's order;
what samplevis adds (``fill_mode``, ``fill_value``) is keyword only.

Random scaling differs from Lucid on purpose: Lucid resizes the image to a
random size, which gives no static shape; here the content is zoomed about
the centre on a canvas of unchanged size (zoom-in crops the border, zoom-out
fills it with ``fill_value``), so a compiled step sees one shape.

Rotation and zoom resample bilinearly with ImageProjectiveTransformV3's pixel
convention, but as a sparse matrix product, so their gradient is its exact
adjoint (see ``_resample``). ``compose`` resamples zooms and rotations that follow
each other once, with their maps composed: the images are interpolated once
rather than blurred by each, and the border each one uncovers keeps its own
fill. Fill modes: CONSTANT, REFLECT (d c b a | a b c d), WRAP (a b c d | a b c d)
and NEAREST.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from samplevis.runtime.checks import TensorLike, is_int, is_number

_FILL_MODES = ("CONSTANT", "REFLECT", "WRAP", "NEAREST")
_PAD_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")
# Output pixels from which a resampling's map is compiled with XLA (see `_resample`).
XLA_MAP_PIXELS = 200 * 200


def _numbers(name: str, values: object, example: str) -> tuple[float, ...]:
    """`values` as a non-empty tuple of finite floats, or a ValueError showing `example`; one
    number is refused, not taken as a list of one (Lucid takes lists here)."""
    try:
        items: tuple | None = (
            tuple(values)
            if isinstance(values, Iterable) and not isinstance(values, (str, bytes))
            else None
        )
    except TypeError:
        items = None
    if not items or not all(is_number(v) for v in items):
        raise ValueError(
            f"{name} must be a non-empty list of numbers to draw from, e.g. "
            f"{example}; got {values!r}."
        )
    return tuple(float(v) for v in items)


def _seed(seed: object):
    """A stateless seed [2] from an int or a [2] integer tensor (see `samplevis.runtime.seeds`)."""
    from samplevis.runtime.seeds import as_seed

    return as_seed(seed)


def _check_own_seed(seed: object) -> int | None:
    """A transform's own seed (Lucid's op-level ``seed``): None or an int."""
    if seed is not None and not is_int(seed):
        raise ValueError(
            f"a transform's seed must be an int or None, got {seed!r}; the "
            "seed each call receives is what makes a render reproducible."
        )
    return None if seed is None else int(seed)


def _call_seed(seed: object, own: int | None):
    """The seed [2] a call draws from: the one it received, with the transform's own folded in
    (so that two transforms differing only in their seed draw differently)."""
    seed = _seed(seed)
    if own is None:
        return seed
    from samplevis.runtime.seeds import fold_in

    return fold_in(seed, own)


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


def _choose(values: Sequence[float], seed):
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


def _neighbours(x, y, height, width):
    """The four bilinear neighbours of the points (x, y) (pixel coordinates, [N, 1] each), in
    the order (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1): their columns and rows
    (int32 [N, 4]), weights ([N, 4], summing to 1) and whether each lies on the image."""
    import tensorflow as tf

    x0, y0 = tf.floor(x), tf.floor(y)
    fx, fy = x - x0, y - y0
    dx = tf.constant([[0, 1, 0, 1]])
    dy = tf.constant([[0, 0, 1, 1]])
    xi = tf.cast(x0, tf.int32) + dx
    yi = tf.cast(y0, tf.int32) + dy
    weights = tf.where(dx == 1, fx, 1.0 - fx) * tf.where(dy == 1, fy, 1.0 - fy)
    inside = (xi >= 0) & (xi < width) & (yi >= 0) & (yi < height)
    return xi, yi, weights, inside


def _resample(images, stages, before=(), after=()):
    """Apply the affine resamplings ``stages`` in turn, interpolating the images only once.

    Each stage is (A, fill_mode, fill_value): output pixel p reads the point c + A (p - c) of
    the stage's input, c the image centre ((W-1)/2, (H-1)/2); bilinear, with the pixel
    convention of ImageProjectiveTransformV3. Every stage after the first must fill with a
    constant: its output is then the fraction of its bilinear footprint that falls on its
    input (where it reads the stages before, composed into one interpolation of the images)
    plus the rest of the footprint times its fill. One stage is an ordinary resampling.

    ``before`` and ``after`` are whole-pixel shifts applied before and after the stages, each
    (kind, rows, columns, value): ("pad", w, w, v) pads w px of constant v on each side,
    ("crop", dy, dx, size) crops [dy, dx] to [size[0], size[1]]. They only move pixels, so the
    output is the same as padding and cropping tensors, without making them: pads and crops read
    no pixel in between. With ``before``, the first stage must fill with a constant. The images
    need a static height and width when ``before`` or ``after`` is given.

    The resampling is a sparse matrix product, so automatic differentiation gives the exact
    adjoint: the gradient registered for ImageProjectiveTransformV3 warps the gradient back
    instead, which is far from the true gradient for a zoom (a sampler needs the true one).
    """
    import tensorflow as tf

    b, h, w, c = _dims(images)
    oh, ow = _output_size(h, w, before, after)
    # The map's index arithmetic is dozens of elementwise passes over every output pixel's
    # four neighbours, a fixed cost per step that a light network does not hide at batch 1.
    # XLA fuses them, but compiling costs a fraction of a second once per process and size,
    # which a default render_vis call earns back only on large images (docs/benchmarks.md,
    # "The sampling map under XLA"). XLA needs static sizes.
    static = all(isinstance(n, int) for n in (h, w, oh, ow))
    build = _compiled_sampling_map() if static and oh * ow >= XLA_MAP_PIXELS else _sampling_map
    indices, values, offset = build(h, w, before, stages, after)
    matrix = tf.sparse.SparseTensor(indices, values, tf.cast(tf.stack([oh * ow, h * w]), tf.int64))
    columns = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), tf.stack([h * w, b * c]))
    out = tf.sparse.sparse_dense_matmul(matrix, columns) + offset
    return tf.transpose(tf.reshape(out, tf.stack([oh, ow, b, c])), [2, 0, 1, 3])


def _canvases(h, w, before) -> list:
    """The sizes of the canvases the pads and crops `before` make, the images' (h, w) first."""
    canvases = [(h, w)]
    for kind, dy, dx, extra in before:
        ch, cw = canvases[-1]
        canvases.append((ch + 2 * dy, cw + 2 * dx) if kind == "pad" else extra)
    return canvases


def _output_size(h, w, before, after) -> tuple:
    """(height, width) of `_resample`'s output: the last crop's after the stages, else the
    stages' canvas."""
    return after[-1][3] if after else _canvases(h, w, before)[-1]


@functools.cache
def _compiled_sampling_map() -> Callable:
    """`_sampling_map` compiled with XLA (one program per sizes and fills, made when first
    called)."""
    import tensorflow as tf

    return tf.function(_sampling_map, jit_compile=True)


def _sampling_map(h, w, before, stages, after) -> tuple:
    """The sparse matrix of `_resample` (its args) as (indices [4N, 2] int64, values [4N],
    the constant part of each output pixel [N, 1] or a float 0)."""
    import tensorflow as tf

    canvases = _canvases(h, w, before)
    ch, cw = canvases[-1]  # the stages' canvas
    oh, ow = _output_size(h, w, before, after)
    hf, wf = tf.cast(ch, tf.float32), tf.cast(cw, tf.float32)
    cx, cy = (wf - 1.0) / 2.0, (hf - 1.0) / 2.0
    ys, xs = tf.meshgrid(
        tf.range(tf.cast(oh, tf.float32)), tf.range(tf.cast(ow, tf.float32)), indexing="ij"
    )
    x, y = tf.reshape(xs, [-1, 1]), tf.reshape(ys, [-1, 1])
    for _, dy, dx, _ in reversed(after):  # a crop reads its input at p + (dy, dx)
        x, y = x + tf.cast(dx, tf.float32), y + tf.cast(dy, tf.float32)
    x, y = x - cx, y - cy  # about the centre
    outer = []  # (share of the footprint on the stage's input, fill), the last stage first
    for a, _, fill_value in reversed(stages[1:]):
        x, y = a[0, 0] * x + a[0, 1] * y, a[1, 0] * x + a[1, 1] * y
        _, _, weights, inside = _neighbours(cx + x, cy + y, ch, cw)
        outer.append(
            (tf.reduce_sum(weights * tf.cast(inside, tf.float32), 1, keepdims=True), fill_value)
        )
    a, fill_mode, fill_value = stages[0]
    x, y = a[0, 0] * x + a[0, 1] * y, a[1, 0] * x + a[1, 1] * y
    xi, yi, weights, inside = _neighbours(cx + x, cy + y, ch, cw)
    # the constant part of each output pixel (fills), and the share left for the images
    offset, share = 0.0, 1.0
    if fill_mode == "CONSTANT":
        off_canvas = weights * (1.0 - tf.cast(inside, tf.float32))
        offset = fill_value * tf.reduce_sum(off_canvas, axis=1, keepdims=True)
        # back through the pads and crops to the images: a neighbour in a pad's border reads
        # its value
        for (kind, dy, dx, value), (ih, iw) in zip(reversed(before), reversed(canvases[:-1])):
            xi, yi = (xi - dx, yi - dy) if kind == "pad" else (xi + dx, yi + dy)
            if kind == "pad":
                border = inside & ~((xi >= 0) & (xi < iw) & (yi >= 0) & (yi < ih))
                offset += value * tf.reduce_sum(
                    weights * tf.cast(border, tf.float32), axis=1, keepdims=True
                )
                inside &= ~border
        weights *= tf.cast(inside, tf.float32)
    for on_input, fill in reversed(outer):
        offset = on_input * offset + (1.0 - on_input) * fill
        share = on_input * share
    # The four neighbours of every output pixel as the rows of a sparse [oh*ow, h*w] matrix: one
    # sparse matmul (and its exact adjoint) is far cheaper on CPU than four gathers with masks.
    cols = _wrap_index(yi, h, fill_mode) * w + _wrap_index(xi, w, fill_mode)
    rows = tf.repeat(tf.range(oh * ow, dtype=tf.int64), 4)[:, None]
    indices = tf.concat([rows, tf.cast(tf.reshape(cols, [-1, 1]), tf.int64)], axis=1)
    values = tf.reshape(weights * share, [-1])
    return indices, values, offset


def _check_fill(fill_mode: str, fill_value: object) -> str:
    """The upper-case fill mode; a ValueError for an unknown mode or a fill value not a number."""
    mode = str(fill_mode).upper()
    if mode not in _FILL_MODES:
        raise ValueError(f"fill_mode must be one of {_FILL_MODES}, got {fill_mode!r}.")
    if not is_number(fill_value):
        raise ValueError(
            f"fill_value is the grey level of uncovered pixels, a number in [0, 1]; "
            f"got {fill_value!r}."
        )
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
        if not (
            isinstance(self.constant_value, str)
            and self.constant_value == "uniform"
            or is_number(self.constant_value)
        ):
            raise ValueError(
                f"constant_value must be a number or 'uniform', got {self.constant_value!r}."
            )

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = _as_images(images)
        height, width = images.shape[1], images.shape[2]
        if self.mode != "CONSTANT" and height and width:
            # a mirror copies the image's own rows: REFLECT skips the edge row, SYMMETRIC keeps it
            widest = min(height, width) - (1 if self.mode == "REFLECT" else 0)
            if self.width > widest:
                raise ValueError(
                    f"{self.mode} padding mirrors the images' own rows, so it pads "
                    f"{height}x{width} images by at most {widest} px; got "
                    f"{self.width}. Pad by less or use mode='constant'."
                )
        if self.constant_value == "uniform":
            value = tf.random.stateless_uniform([], _seed(seed), 0.0, 1.0)
        else:
            value = float(self.constant_value)
        w = self.width
        return tf.pad(
            images, [(0, 0), (w, w), (w, w), (0, 0)], mode=self.mode, constant_values=value
        )

    def shift(self, seed: TensorLike, height: int, width: int) -> tuple:
        """This call's padding as `_resample` takes it: ("pad", width, width, value); CONSTANT
        mode only."""
        import tensorflow as tf

        if self.constant_value == "uniform":
            value = tf.random.stateless_uniform([], _seed(seed), 0.0, 1.0)
        else:
            value = float(self.constant_value)
        return "pad", self.width, self.width, value

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height + 2 * self.width, width + 2 * self.width


@dataclasses.dataclass(frozen=True)
class Jitter:
    """Random crop reducing height and width by ``d`` (offsets uniform in [0, d]).

    ``seed``: None, or an int folded into the seed of every call (Lucid's op seed).
    """

    d: int
    seed: int | None = None

    def __post_init__(self) -> None:
        if not is_int(self.d) or self.d < 0:
            raise ValueError(f"jitter d must be an int >= 0, got {self.d!r}.")
        object.__setattr__(self, "d", int(self.d))
        object.__setattr__(self, "seed", _check_own_seed(self.seed))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = _as_images(images)
        b, h, w, c = _dims(images)
        self._check_size(h, w)
        return tf.image.stateless_random_crop(
            images, [b, h - self.d, w - self.d, c], _call_seed(seed, self.seed)
        )

    def _check_size(self, height: object, width: object) -> None:
        if isinstance(height, int) and isinstance(width, int) and min(height, width) <= self.d:
            raise ValueError(
                f"jitter({self.d}) needs images larger than {self.d} px, got {height}x{width}; "
                "pad first or use a smaller d."
            )

    def shift(self, seed: TensorLike, height: int, width: int) -> tuple:
        """This call's crop as `_resample` takes it: ("crop", rows, columns, output size), the
        corner drawn as `tf.image.stateless_random_crop` draws it in `__call__`."""
        import tensorflow as tf

        self._check_size(height, width)
        draws = tf.random.stateless_uniform(
            [4], _call_seed(seed, self.seed), maxval=tf.int32.max, dtype=tf.int32
        )
        corner = draws % tf.constant([1, self.d + 1, self.d + 1, 1])
        return "crop", corner[1], corner[2], self.output_size(height, width)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height - self.d, width - self.d


@dataclasses.dataclass(frozen=True)
class RandomScale:
    """Zoom the content about the centre by a factor drawn from ``scales``.

    The output keeps the input size (see the module docstring); a factor
    s > 1 enlarges the content, s < 1 shrinks it and fills the border.
    ``seed``: None, or an int folded into the seed of every call (Lucid's op seed).
    """

    scales: Sequence[float]
    fill_mode: str = "CONSTANT"
    fill_value: float = 0.5
    seed: int | None = None

    def __post_init__(self) -> None:
        scales = _numbers("scales", self.scales, "[0.9, 1.0, 1.1]")
        if min(scales) <= 0:
            raise ValueError(
                f"scales must be a non-empty list of positive numbers, got {self.scales!r}."
            )
        object.__setattr__(self, "scales", scales)
        object.__setattr__(self, "fill_mode", _check_fill(self.fill_mode, self.fill_value))
        object.__setattr__(self, "seed", _check_own_seed(self.seed))

    def stage(self, seed: TensorLike) -> tuple:
        """This call's resampling as `_resample` takes it: (A, fill_mode, fill_value)."""
        import tensorflow as tf

        inv = 1.0 / _choose(self.scales, _call_seed(seed, self.seed))
        zero = tf.zeros([], tf.float32)
        matrix = tf.stack([tf.stack([inv, zero]), tf.stack([zero, inv])])
        return matrix, self.fill_mode, float(self.fill_value)

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        return _resample(_as_images(images), [self.stage(seed)])

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
    (0.0, black, as Lucid's rotate). ``seed``: None, or an int folded into the
    seed of every call (Lucid's op seed).
    """

    angles: Sequence[float]
    units: str = "degrees"
    fill_mode: str = "CONSTANT"
    fill_value: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        angles = _numbers("angles", self.angles, "[-5, 0, 5]")
        _to_radians(0.0, self.units)
        object.__setattr__(self, "angles", angles)
        object.__setattr__(self, "fill_mode", _check_fill(self.fill_mode, self.fill_value))
        object.__setattr__(self, "seed", _check_own_seed(self.seed))

    def stage(self, seed: TensorLike) -> tuple:
        """This call's resampling as `_resample` takes it: (A, fill_mode, fill_value)."""
        import tensorflow as tf

        radians = tuple(_to_radians(a, self.units) for a in self.angles)
        theta = _choose(radians, _call_seed(seed, self.seed))
        cos, sin = tf.cos(theta), tf.sin(theta)
        # Image y points down, so this output->input map turns content counter-clockwise on screen.
        matrix = tf.stack([tf.stack([cos, -sin]), tf.stack([sin, cos])])
        return matrix, self.fill_mode, float(self.fill_value)

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        return _resample(_as_images(images), [self.stage(seed)])

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

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        return tf.image.resize_with_crop_or_pad(_as_images(images), self.height, self.width)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return self.height, self.width


def _flush(images, before: list, stages: list, after: list):
    """`images` through the pads and crops `before` (pairs of transform and seed), the zooms and
    rotations `stages` and the crops `after`, in one resampling when there are stages."""
    if not stages:
        for t, s in before:
            images = t(images, s)
        return images
    size = tuple(images.shape[1:3])
    shifts = []
    for t, s in before:
        shifts.append(t.shift(s, *size))
        size = t.output_size(*size)
    crops = []
    for t, s in after:
        crops.append(t.shift(s, *size))
        size = t.output_size(*size)
    return _resample(images, stages, shifts, crops)


@dataclasses.dataclass(frozen=True)
class Compose:
    """Apply ``transforms`` in order; each gets its own seed split from ``seed``.
    One-argument functions ``t(images)`` are wrapped by ``as_transform``."""

    transforms: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "transforms", as_transforms(tuple(self.transforms)))

    @property
    def takes_progress(self) -> bool:
        """Whether a transform in the chain follows the run's progress (see ``MacoCrops``)."""
        return any(getattr(t, "takes_progress", False) for t in self.transforms)

    def __call__(
        self, images: TensorLike, seed: TensorLike, progress: TensorLike | None = None
    ) -> TensorLike:
        images = _as_images(images)
        if not self.transforms:
            return images
        from samplevis.runtime.seeds import split

        seeds = split(seed, len(self.transforms))
        # Zooms and rotations in a row are resampled together, interpolating the images once,
        # and the constant pads and crops around them are folded into the same sparse product:
        # a resampling, a pad and a crop each have a fixed cost per step (with its gradient)
        # that a light network does not hide on a CPU (docs/benchmarks.md, "Where the step's
        # time goes"). The images are the same as applying the transforms one by one.
        before: list = []  # (transform, seed): pads and crops waiting for a zoom or rotation
        stages: list = []
        after: list = []  # (transform, seed): crops after the stages

        for t, s in zip(self.transforms, seeds):
            static = None not in images.shape[1:3]
            shift = static and (
                isinstance(t, Jitter) or isinstance(t, Pad) and t.mode == "CONSTANT"
            )
            if shift:
                if stages and not isinstance(t, Jitter):  # a pad after the stages starts anew
                    images = _flush(images, before, stages, after)
                    before, stages, after = [], [], []
                (after if stages else before).append((t, s))
            elif isinstance(t, (RandomScale, RandomRotate)):
                if after or (stages or before) and t.fill_mode != "CONSTANT":
                    images = _flush(images, before, stages, after)
                    before, stages, after = [], [], []
                stages.append(t.stage(s))
            else:
                images = _flush(images, before, stages, after)
                before, stages, after = [], [], []
                if progress is not None and getattr(t, "takes_progress", False):
                    images = t(images, s, progress=progress)
                else:
                    images = t(images, s)
        return _flush(images, before, stages, after)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return output_size(self.transforms, height, width)


Transform = Callable  # (images [B, H, W, C] float32, seed [2]) -> images


def _pair(name: str, value: object, lowest: float, highest: float, example: str) -> tuple:
    """`value`, a number or (start, end), as a pair of floats in [lowest, highest]."""
    items: Any = (value, value) if is_number(value) else value
    try:
        pair = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or not all(lowest <= v <= highest for v in pair):
        raise ValueError(
            f"{name} must be a number in [{lowest:g}, {highest:g}] or a pair (start, end) of "
            f"them, e.g. {example}; got {value!r}."
        )
    return pair


def _resampling(start: TensorLike, end: TensorLike, length: int, size: int) -> TensorLike:
    """[n, size, length]: rows that read `size` points from `start` to `end` (fractions of the
    axis, [n] each) of an axis of `length` pixels by linear interpolation, as
    tf.image.crop_and_resize places them; a point outside the axis reads 0."""
    import tensorflow as tf

    steps = tf.range(size, dtype=tf.float32) / max(size - 1, 1)
    where = (start[:, None] + (end - start)[:, None] * steps) * (length - 1)  # [n, size]
    low = tf.floor(where)
    frac = where - low
    inside = tf.cast((where >= 0) & (where <= length - 1), tf.float32)
    low = tf.cast(low, tf.int32)
    rows = (1 - frac)[..., None] * tf.one_hot(low, length) + frac[..., None] * tf.one_hot(
        low + 1, length
    )
    return rows * inside[..., None]


def _crops(images: TensorLike, boxes: TensorLike, size: int) -> TensorLike:
    """The crops [n * B, size, size, C] of images [B, H, W, C] in `boxes` [n, 4] (y1, x1, y2, x2
    as fractions), crop j of image b at j * B + b, bilinear as tf.image.crop_and_resize. Two
    matrix products per crop: their gradient sums in a fixed order, where crop_and_resize's
    gradient over many boxes adds them in whatever order its threads finish, so a seed would not
    fix the images."""
    import tensorflow as tf

    h, w = int(images.shape[1]), int(images.shape[2])
    rows = _resampling(boxes[:, 0], boxes[:, 2], h, size)  # [n, size, H]
    cols = _resampling(boxes[:, 1], boxes[:, 3], w, size)  # [n, size, W]
    crops = tf.einsum("nyh,bhwc,nxw->nbyxc", rows, images, cols)
    return tf.reshape(crops, [-1, size, size, images.shape[-1]])


@dataclasses.dataclass(frozen=True)
class MacoCrops:
    """MACO's views (Fel et al. 2023, Xplique's ``maco``): ``n`` random square crops of each image,
    resized to ``size`` x ``size``, with noise added.

    Images [B, H, W, C] give views [n * B, size, size, C], crop j of image b at j * B + b; the
    objective of an image is the mean over its crops (``evaluation.objective_of``). A crop's
    centre is N(0.5, center_sd^2) and its side N(box, box_sd^2) clipped to [0.05, 1], as
    fractions of the image's (boxes may reach past the border, which reads as 0). ``box`` and the
    noise's std follow the run: ``box_size`` is (start, end), interpolated linearly, ``noise``
    (start, end), interpolated geometrically, by the fraction of the run done that a renderer
    passes as ``progress``; without it, each call draws that fraction uniformly. The noise is
    Xplique's: N(0, s^2) plus U(-s/2, s/2), in image units ([0, 1]).
    """

    size: int
    n: int = 32
    box_size: Any = (0.5, 0.05)  # a number or (start, end); (start, end) once made
    noise: Any = (0.08, 0.08)  # likewise
    center_sd: float = 0.15
    box_sd: float = 0.05
    seed: int | None = None

    takes_progress = True  # a class constant, not a field: renderers pass the run's progress

    def __post_init__(self) -> None:
        for name in ("size", "n"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ValueError(f"maco_crops {name} must be an int >= 1, got {value!r}.")
            object.__setattr__(self, name, int(value))
        object.__setattr__(self, "box_size", _pair("box_size", self.box_size, 0.01, 1.0, "0.25"))
        object.__setattr__(self, "noise", _pair("noise", self.noise, 0.0, 10.0, "0.08"))
        if min(self.noise) == 0.0 and max(self.noise) > 0.0:
            raise ValueError(
                f"a noise schedule interpolates geometrically, so it cannot start or end at 0; "
                f"got {self.noise!r}. Use a small number such as 1e-4 instead of 0."
            )
        for name in ("center_sd", "box_sd"):
            if not is_number(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a number >= 0, got {getattr(self, name)!r}.")
        object.__setattr__(self, "seed", _check_own_seed(self.seed))

    def __call__(
        self, images: TensorLike, seed: TensorLike, progress: TensorLike | None = None
    ) -> TensorLike:
        import tensorflow as tf

        from samplevis.runtime.seeds import split

        images = _as_images(images)
        s = split(_call_seed(seed, self.seed), 6)
        if progress is None:
            progress = tf.random.stateless_uniform([], s[5])
        progress = tf.clip_by_value(tf.cast(progress, tf.float32), 0.0, 1.0)
        start, end = self.box_size
        box = start + (end - start) * progress
        centres = 0.5 + self.center_sd * tf.random.stateless_normal([2, self.n], s[0])
        # Xplique clips a crop's side to [0.05, 1]
        side = tf.clip_by_value(
            box + self.box_sd * tf.random.stateless_normal([self.n], s[1]), 0.05, 1.0
        )
        boxes = tf.stack(
            [
                centres[0] - side / 2,
                centres[1] - side / 2,
                centres[0] + side / 2,
                centres[1] + side / 2,
            ],
            axis=1,
        )
        crops = _crops(images, boxes, self.size)
        low, high = self.noise
        if high == 0.0:
            return crops
        sd = low * (high / low) ** progress
        shape = tf.shape(crops)
        noise = sd * tf.random.stateless_normal(shape, s[2])
        noise += sd * tf.random.stateless_uniform(shape, s[3], -0.5, 0.5)
        return crops + noise

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return self.size, self.size


@dataclasses.dataclass(frozen=True)
class CollapseAlpha:
    """RGBA images [B, H, W, 4] composited over random backgrounds: RGB [B, H, W, 3].

    Each image gets its own background each call, Lucid's ``image_sample``: a random spectrum of
    std ``sd`` with the 1/f scaling of ``param.image``, decorrelated colours, sigmoid. The network
    then sees what the alpha keeps against a background it cannot rely on; where alpha is 1 the
    output is exactly the image's colours.
    """

    sd: float = 0.5

    def __post_init__(self) -> None:
        if not is_number(self.sd) or self.sd < 0:
            raise ValueError(
                f"collapse_alpha_random's sd is the std of the random background's spectrum, "
                f"a number >= 0 (Lucid's default 0.5); got {self.sd!r}."
            )
        object.__setattr__(self, "sd", float(self.sd))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        from samplevis.optvis import param

        images = _as_images(images)
        b, h, w, c = images.shape.as_list()
        if c != 4:
            raise ValueError(
                f"collapse_alpha_random composites RGBA images [B, H, W, 4]; these have {c} "
                "channels. Render RGBA images with param.image(w, alpha=True), or drop this "
                "transform for RGB images."
            )
        if None in (b, h, w):
            raise ValueError(
                f"collapse_alpha_random needs images of a static shape, got {images.shape}."
            )
        background = param.rgb(param.fft_image([b, h, w, 3], sd=self.sd), decorrelate=True)
        backdrop = background.to_image(background.init(_seed(seed)))
        rgb, alpha = images[..., :3], images[..., 3:]
        return alpha * rgb + (1.0 - alpha) * backdrop

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


@dataclasses.dataclass(frozen=True)
class NormalizeGradient:
    """The images unchanged; on the way back, each image's gradient scaled to L2 norm 1, or to
    ``scales[i]`` for image i (Lucid's ``normalize_gradient``; a zero gradient stays zero where
    Lucid's turns NaN). Only the optimizer's steps change, not the objective's value. It acts on
    the gradient through the network: terms reading ``T("input")`` (``L1``, ``input_diff``) see
    the image before the transforms, as in Lucid."""

    scales: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if self.scales is None:
            return
        try:
            items = () if isinstance(self.scales, (str, bytes)) else tuple(self.scales)
        except TypeError:
            items = ()
        if not items or not all(is_number(v) for v in items):
            raise ValueError(
                f"normalize_gradient scales must be a list of numbers, one per "
                f"image, e.g. (1.0, 0.5); got {self.scales!r}."
            )
        object.__setattr__(self, "scales", tuple(float(v) for v in items))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = _as_images(images)
        batch = images.shape[0]
        if self.scales is not None and batch is not None and batch != len(self.scales):
            raise ValueError(
                f"normalize_gradient has {len(self.scales)} scales but the batch "
                f"holds {batch} images; give one scale per image."
            )

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


@dataclasses.dataclass(frozen=True)
class ImageOnly:
    """A Lucid-style transform ``fn(images) -> images`` taking ``(images, seed)``.

    The seed is not passed on: randomness inside ``fn`` (TensorFlow's stateful
    random ops) is not reproduced by a render's seed; this module's transforms are.
    """

    fn: Callable

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        return self.fn(_as_images(images))

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

    A callable taking ``(images, seed)`` (all of this module's transforms) is
    returned as it is; one taking only ``(images)``, as Lucid's do, is wrapped
    in ``ImageOnly``; one whose signature cannot be read is taken to take
    ``(images, seed)``.

    >>> import tensorflow as tf
    >>> double = as_transform(lambda images: 2.0 * images)
    >>> type(double).__name__, double(tf.ones([1, 2, 2, 3]), 0).shape
    ('ImageOnly', TensorShape([1, 2, 2, 3]))
    """
    if not callable(t):
        raise TypeError(
            f"a transform is a function t(images, seed) -> images, or Lucid's t(images); got "
            f"{t!r} ({type(t).__name__}). Build one with samplevis.optvis.transform, e.g. "
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


def default_transforms() -> tuple:
    """The library's default transforms: Lucid's ``standard_transforms`` as this module
    defines them, whatever edits the public list ``standard_transforms`` has had since."""
    return _STANDARD_TRANSFORMS


def as_transforms(transforms: object) -> tuple:
    """A tuple of transforms ``(images, seed) -> images`` from a list (or tuple) of
    transforms or Lucid-style ``t(images)`` functions, or from one of them.

    None gives the library's default, Lucid's standard transforms as defined
    here (edits of the list ``standard_transforms`` do not change it).
    """
    if transforms is None:
        return default_transforms()
    if callable(transforms):
        transforms = (transforms,)
    if not isinstance(transforms, (list, tuple)):
        raise TypeError(
            "transforms must be a list of transforms t(images, seed) -> images, e.g. "
            f"transform.standard_transforms or [transform.jitter(8)], or () for none; got "
            f"{transforms!r}."
        )
    return tuple(as_transform(t) for t in transforms)


def pad(w: int, mode: str = "REFLECT", constant_value: float | str = 0.5) -> Pad:
    """Pad ``w`` pixels on each side (Lucid's ``pad``)."""
    return Pad(w, mode, constant_value)


def jitter(d: int, seed: int | None = None) -> Jitter:
    """Random crop by ``d`` pixels in height and width (Lucid's ``jitter``); ``seed``, if an
    int, is folded into the seed of every call."""
    return Jitter(d, seed)


def random_scale(
    scales: Sequence[float],
    seed: int | None = None,
    *,
    fill_mode: str = "CONSTANT",
    fill_value: float = 0.5,
) -> RandomScale:
    """Zoom by a random factor from ``scales`` keeping the size (Lucid's ``random_scale``, but
    see the module docstring); ``seed``, if an int, is folded into the seed of every call."""
    return RandomScale(scales, fill_mode, fill_value, seed)


def random_rotate(
    angles: Sequence[float],
    units: str = "degrees",
    seed: int | None = None,
    *,
    fill_mode: str = "CONSTANT",
    fill_value: float = 0.0,
) -> RandomRotate:
    """Rotate by a random angle from ``angles`` (Lucid's ``random_rotate``); ``seed``, if an
    int, is folded into the seed of every call."""
    return RandomRotate(angles, units, fill_mode, fill_value, seed)


def crop_or_pad_to(height: int, width: int) -> CropOrPadTo:
    """Centre-crop or zero-pad to a fixed size (Lucid's ``crop_or_pad_to``)."""
    return CropOrPadTo(height, width)


def normalize_gradient(grad_scales: Sequence[float] | None = None) -> NormalizeGradient:
    """Unit-norm gradient per image, times ``grad_scales[i]`` if given (Lucid's
    ``normalize_gradient``)."""
    return NormalizeGradient(grad_scales)


def collapse_alpha_random(sd: float = 0.5) -> CollapseAlpha:
    """Composite RGBA images over a random image each call, so the network sees RGB (Lucid's
    ``collapse_alpha_random``); ``sd`` is the std of the background's random spectrum."""
    return CollapseAlpha(sd)


def maco_crops(
    size: int,
    n: int = 32,
    box_size: float | Sequence[float] = (0.5, 0.05),
    noise: float | Sequence[float] = 0.08,
    *,
    seed: int | None = None,
) -> MacoCrops:
    """MACO's random crops with noise (Xplique's ``maco`` defaults): ``n`` crops of each image
    resized to ``size`` px (the network's input size), their side shrinking from 50 % to 5 % of
    the image over a run, noise of std 0.08; ``box_size`` or ``noise`` as one number holds it
    fixed, as (start, end) sets a schedule. See ``MacoCrops``."""
    return MacoCrops(size, n, box_size, noise, seed=seed)


def compose(transforms: Sequence[Transform]) -> Compose:
    """One transform applying ``transforms`` in order with independent seeds (Lucid's
    ``compose``); one-argument functions ``t(images)`` are accepted."""
    return Compose(tuple(transforms))


def output_size(transforms: Sequence[Callable], height: int, width: int) -> tuple[int, int]:
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
_STANDARD_TRANSFORMS = (
    pad(12, mode="constant", constant_value=0.5),
    jitter(8),
    random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
    random_rotate(list(range(-10, 11)) + 5 * [0]),
    jitter(4),
)

# A list, as Lucid's, so that `standard_transforms + [crop_or_pad_to(h, w)]` works. The
# library's defaults read the tuple above: editing this list changes no default.
standard_transforms: list[Callable] = list(_STANDARD_TRANSFORMS)
