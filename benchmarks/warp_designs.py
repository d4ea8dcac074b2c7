"""The facet's warp (`sampling.density.chain_param.warp_images`) forward and backward, five ways
of reading the four bilinear neighbours, at the chains' batch and size.

    python benchmarks/warp_designs.py             # about a minute on 2 cores
    python benchmarks/warp_designs.py --quick     # a smoke run: 32 px, fewer repeats

Every leapfrog step and every step of the chains' polish runs the warp and its gradient (to the
images and to the warp). Each design is compiled once and timed in alternating repeats (the
median over the repeats of a run of calls, per call); "largest difference" is to the library's
warp, in each gradient. The library's warp is the kept design; the others are what it was
measured against (docs/benchmarks.md, "The chains' block").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from samplevis.runtime.tracing import expected_retracing
from samplevis.sampling.density.chain_param import (
    WARP_GRID,
    WARP_PIXELS,
    warp_images,
    warp_read_points,
)

from common import command_line, format_table, interleaved_medians, machine


def _coordinates(images: tf.Tensor, warp: tf.Tensor, pixels: float):
    """The library's read points (`warp_read_points`) for `images` [C, H, W, channels]."""
    return warp_read_points(int(images.shape[1]), int(images.shape[2]), warp, pixels)


def _mix(v00, v01, v10, v11, wy, wx):
    return (1 - wy) * ((1 - wx) * v00 + wx * v01) + wy * ((1 - wx) * v10 + wx * v11)


def gather_nd(images, warp, pixels=WARP_PIXELS):
    """Each neighbour by `tf.gather_nd` on (row, column), batch_dims 1 (its gradient a scatter)."""
    y0, x0, y1, x1, wy, wx = _coordinates(images, warp, pixels)

    def at(yi, xi):
        return tf.gather_nd(images, tf.stack([yi, xi], -1), batch_dims=1)

    return _mix(at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1), wy, wx)


def _rows(images):
    c, h, w, channels = (int(n) for n in images.shape)
    return tf.reshape(images, [c * h * w, channels]), (tf.range(c) * h * w)[:, None, None], w


def gather_rows(images, warp, pixels=WARP_PIXELS):
    """Each neighbour by `tf.gather` of the flattened images' rows (its gradient a segment sum)."""
    y0, x0, y1, x1, wy, wx = _coordinates(images, warp, pixels)
    flat, first, w = _rows(images)

    def at(yi, xi):
        return tf.gather(flat, first + yi * w + xi)

    return _mix(at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1), wy, wx)


def gather_once(images, warp, pixels=WARP_PIXELS):
    """The four neighbours' rows in one `tf.gather`."""
    y0, x0, y1, x1, wy, wx = _coordinates(images, warp, pixels)
    flat, first, w = _rows(images)
    corners = [first + yi * w + xi for yi, xi in ((y0, x0), (y0, x1), (y1, x0), (y1, x1))]
    v = tf.gather(flat, tf.stack(corners, -1))  # [C, H, W, 4, channels]
    return _mix(v[..., 0, :], v[..., 1, :], v[..., 2, :], v[..., 3, :], wy, wx)


def patches(images, warp, pixels=WARP_PIXELS):
    """Each pixel's 2 x 2 neighbourhood stacked by rolls, then one `tf.gather` of the corner's."""
    y0, x0, _, _, wy, wx = _coordinates(images, warp, pixels)
    right = tf.roll(images, -1, axis=2)
    stacked = tf.concat(
        [images, right, tf.roll(images, -1, axis=1), tf.roll(right, -1, axis=1)], -1
    )
    flat, first, w = _rows(stacked)
    v00, v01, v10, v11 = tf.split(tf.gather(flat, first + y0 * w + x0), 4, axis=-1)
    return _mix(v00, v01, v10, v11, wy, wx)


def sparse_product(images, warp, pixels=WARP_PIXELS):
    """A sparse matrix of the bilinear weights times the flattened images (as the transforms'
    resampling)."""
    y0, x0, y1, x1, wy, wx = _coordinates(images, warp, pixels)
    c, h, w, channels = (int(n) for n in images.shape)
    n = c * h * w
    first = (tf.range(c) * h * w)[:, None, None]
    columns = tf.stack(
        [first + yi * w + xi for yi, xi in ((y0, x0), (y0, x1), (y1, x0), (y1, x1))], -1
    )
    wy, wx = wy[..., 0], wx[..., 0]
    weights = tf.stack([(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx], -1)
    rows = tf.broadcast_to(tf.reshape(tf.range(n), [c, h, w, 1]), [c, h, w, 4])
    indices = tf.cast(tf.stack([tf.reshape(rows, [-1]), tf.reshape(columns, [-1])], 1), tf.int64)
    matrix = tf.sparse.SparseTensor(indices, tf.reshape(weights, [-1]), [n, n])
    out = tf.sparse.sparse_dense_matmul(matrix, tf.reshape(images, [n, channels]))
    return tf.reshape(out, [c, h, w, channels])


DESIGNS: dict[str, Callable] = {
    "the library's warp_images": warp_images,
    "gather_nd per neighbour": gather_nd,
    "gather of rows per neighbour": gather_rows,
    "one gather of the four": gather_once,
    "2 x 2 patches, one gather": patches,
    "sparse matrix product": sparse_product,
}


def step_function(warp_fn: Callable, upstream: tf.Tensor) -> Callable:
    """A compiled (images, warp) -> (output, its gradients to the images and to the warp) for a
    loss <output, upstream>."""

    @tf.function(autograph=False)
    def step(images, warp):
        with tf.GradientTape() as tape:
            tape.watch([images, warp])
            loss = tf.reduce_sum(warp_fn(images, warp) * upstream)
        return (tf.reduce_sum(loss), *tape.gradient(loss, [images, warp]))

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 32 px, fewer repeats")
    parser.add_argument("--chains", type=int, default=4, help="images warped together")
    parser.add_argument("--size", type=int, default=128, help="image side, px")
    args = parser.parse_args()
    size, calls, repeats = (32, 2, 1) if args.quick else (args.size, 20, 5)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((args.chains, size, size, 3)), tf.float32)
    warp = tf.constant(0.3 * rng.normal(size=(args.chains, WARP_GRID, WARP_GRID, 2)), tf.float32)
    upstream = tf.constant(rng.normal(size=images.shape), tf.float32)
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    steps = {name: step_function(fn, upstream) for name, fn in DESIGNS.items()}
    # one code object traced once per design
    with expected_retracing("step_function.<locals>.step"):
        results = {name: [t.numpy() for t in step(images, warp)] for name, step in steps.items()}

    def timed(step: Callable) -> Callable[[], object]:
        def run() -> object:
            for _ in range(calls):
                out = step(images, warp)
            return out[1].numpy()

        return run

    medians = interleaved_medians({name: timed(step) for name, step in steps.items()}, repeats)
    reference = results["the library's warp_images"]
    rows = [
        [
            name,
            f"{1000 * medians[name] / calls:.2f}",
            " / ".join(
                f"{float(np.max(np.abs(a - b))):.1e}"
                for a, b in zip(results[name][1:], reference[1:])
            ),
        ]
        for name in DESIGNS
    ]
    print(
        f"{args.chains} images of {size} px, a {WARP_GRID} x {WARP_GRID} warp of {WARP_PIXELS:g} px a unit"
    )
    print(format_table(["design", "ms fwd+bwd", "largest difference (images / warp grad)"], rows))


if __name__ == "__main__":
    main()
