"""The resampling engine behind zooms, rotations and the pads and crops ``compose`` folds in.

Rotation and zoom resample bilinearly with ImageProjectiveTransformV3's pixel convention, but as a
sparse matrix product, so their gradient is its exact adjoint (see ``resample``). ``compose``
resamples zooms and rotations that follow each other once, with their maps composed: the images
are interpolated once rather than blurred by each, and the border each one uncovers keeps its own
fill. Fill modes: CONSTANT, REFLECT (d c b a | a b c d), WRAP (a b c d | a b c d) and NEAREST.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from samplevis.optvis.transform.contract import dims
from samplevis.runtime.checks import TensorLike

# Output pixels from which a resampling's map is compiled with XLA (see `resample`).
XLA_MAP_PIXELS = 200 * 200
"""Output pixels from which a resampling's map is compiled with XLA, read here when a
resampling is traced (this module's value set higher keeps every map plain)."""


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


def resample(
    images: TensorLike,
    stages: Sequence[tuple],
    before: Sequence[tuple] = (),
    after: Sequence[tuple] = (),
) -> TensorLike:
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

    ``images`` float32 [B, H, W, C] give [B, H', W', C], (H', W') the last crop's size in
    ``after``, else the canvas the pads and crops ``before`` make.

    The resampling is a sparse matrix product, so automatic differentiation gives the exact
    adjoint: the gradient registered for ImageProjectiveTransformV3 warps the gradient back
    instead, which is far from the true gradient for a zoom (a sampler needs the true one).
    """
    import tensorflow as tf

    b, h, w, c = dims(images)
    oh, ow = _output_size(h, w, before, after)
    # The map's index arithmetic is dozens of elementwise passes over every output pixel's
    # four neighbours, a fixed cost per step that a light network does not hide at batch 1.
    # XLA fuses them, but compiling costs a fraction of a second once per process and size,
    # which a default render_vis call earns back only on large images (docs/benchmarks.md,
    # "Where the step's time goes"). XLA needs static sizes.
    static = all(isinstance(n, int) for n in (h, w, oh, ow))
    build = _compiled_sampling_map() if static and oh * ow >= XLA_MAP_PIXELS else sampling_map
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
    """(height, width) of `resample`'s output: the last crop's after the stages, else the
    stages' canvas."""
    return after[-1][3] if after else _canvases(h, w, before)[-1]


@functools.cache
def _compiled_sampling_map() -> Callable:
    """`sampling_map` compiled with XLA (one program per sizes and fills, made when first
    called)."""
    import tensorflow as tf

    return tf.function(sampling_map, jit_compile=True)


def sampling_map(h: int, w: int, before: Sequence, stages: Sequence, after: Sequence) -> tuple:
    """The sparse matrix of `resample` (its args: the images' height and width and its
    pads and crops before, its stages and its crops after) as (indices [4N, 2] int64, values [4N],
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
