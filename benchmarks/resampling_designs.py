"""Where render_vis's time goes at batch 1: Lucid's random zoom and rotation, resampled four ways.

At batch 1 on a light network the standard transforms cost `render_vis` much of its speed
(`render_speed.py --breakdown`): each resampling has a fixed cost per step. This script times, in
alternating repeats, a compiled `Renderer` on the same network and channel whose transforms are
Lucid's standard ones with the random zoom and rotation resampled by:

* one sparse matmul: the library's (`transform.compose` resamples the zoom and the rotation
  together, with their maps composed), whose gradient is the exact adjoint;
* two sparse matmuls: the same code, one resampling after the other;
* XLA gathers: the four bilinear neighbours gathered in an XLA-compiled function, twice
  (exact gradient);
* projective kernel: TensorFlow's fused ImageProjectiveTransformV3 kernel, twice, whose
  registered gradient warps the gradient back (not the exact adjoint: timed for speed only);

beside the ceilings no resampling design can pass: the standard transforms without zoom and
rotation, no transforms at all (the FFT image at the network's input size), and the bare loop.

    python benchmarks/resampling_designs.py              # batch 1, about 4 minutes on 2 cores
    python benchmarks/resampling_designs.py --batch 1 8  # both batches
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence

from render_speed import (
    IMAGE_SIZE,
    bare_call,
    build_model,
    model_input_size,
    render_call,
)

from common import command_line, format_table, interleaved_medians, machine

NETWORK, LAYER = "MobileNetV2", "block_13_expand_relu"  # render_speed.py's light network
STEPS = {1: 160, 8: 32}  # render_speed.py's step counts per batch
FILL = 0.5  # grey fill of the uncovered border, as random_scale's default


def _about_center(matrix, height: int, width: int):
    """ImageProjectiveTransformV3's 8 numbers for "output pixel p reads c + A (p - c)"."""
    import tensorflow as tf

    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    a = matrix
    return tf.stack(
        [
            a[0, 0],
            a[0, 1],
            cx - a[0, 0] * cx - a[0, 1] * cy,
            a[1, 0],
            a[1, 1],
            cy - a[1, 0] * cx - a[1, 1] * cy,
            0.0,
            0.0,
        ]
    )[None]


def projective_kernel(images, matrix, fill: float):
    import tensorflow as tf

    _, h, w, _ = images.shape
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=_about_center(matrix, h, w),
        output_shape=[h, w],
        fill_value=fill,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def _gathered(images, matrix, fill):
    """The library's bilinear neighbours and weights, read with four gathers."""
    import tensorflow as tf

    from samplevis.transform import _neighbours

    b, h, w, c = images.shape
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    ys, xs = tf.meshgrid(
        tf.range(h, dtype=tf.float32) - cy, tf.range(w, dtype=tf.float32) - cx, indexing="ij"
    )
    xs, ys = tf.reshape(xs, [-1, 1]), tf.reshape(ys, [-1, 1])
    xi, yi, weights, inside = _neighbours(
        cx + matrix[0, 0] * xs + matrix[0, 1] * ys, cy + matrix[1, 0] * xs + matrix[1, 1] * ys, h, w
    )
    weights *= tf.cast(inside, tf.float32)  # [hw, 4]
    index = tf.clip_by_value(yi, 0, h - 1) * w + tf.clip_by_value(xi, 0, w - 1)
    flat = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [h * w, b * c])
    out = tf.reduce_sum(weights[..., None] * tf.gather(flat, index), axis=1)  # [hw, bc]
    out += fill * (1.0 - tf.reduce_sum(weights, axis=1, keepdims=True))
    return tf.transpose(tf.reshape(out, [h, w, b, c]), [2, 0, 1, 3])


_XLA_GATHERS: list = []


def xla_gathers(images, matrix, fill: float):
    import tensorflow as tf

    if not _XLA_GATHERS:
        _XLA_GATHERS.append(tf.function(_gathered, jit_compile=True, autograph=False))
    return _XLA_GATHERS[0](images, matrix, tf.constant(fill))


def sparse_matmul(images, matrix, fill: float):
    from samplevis.transform import _resample

    return _resample(images, [(matrix, "CONSTANT", fill)])


@dataclasses.dataclass(frozen=True)
class ZoomRotate:
    """Lucid's random zoom then random rotation (the library's ranges, fills and seeds), each
    resampled in turn by `resample(images, inverse_matrix, fill)`."""

    resample: Callable

    def __call__(self, images, seed):
        from samplevis import transform
        from samplevis.seeds import split

        zoom, turn = transform.standard_transforms[2:4]
        seeds = split(seed, 2)
        for t, s in zip((zoom, turn), seeds):
            matrix, _, fill = t.stage(s)
            images = self.resample(images, matrix, fill)
        return images

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


def designs() -> dict[str, tuple[object, str]]:
    """{name: (transforms, gradient)}: the standard transforms with their zoom and rotation
    resampled each way; None stands for no transforms at all."""
    from samplevis import transform

    pad, jitter, _, _, last = transform.standard_transforms
    return {
        "one sparse matmul (library)": (list(transform.standard_transforms), "exact"),
        "two sparse matmuls": ([pad, jitter, ZoomRotate(sparse_matmul), last], "exact"),
        "XLA gathers": ([pad, jitter, ZoomRotate(xla_gathers), last], "exact"),
        "projective kernel": ([pad, jitter, ZoomRotate(projective_kernel), last], "inverse warp"),
        "no zoom or rotation": ([pad, jitter, last], "-"),
        "no transforms": (None, "-"),
    }


def measure(batch: int, repeats: int) -> list[list[object]]:
    from samplevis import param

    model, size = build_model(NETWORK, LAYER), model_input_size()
    steps = STEPS[batch]
    calls, gradients = {}, {}
    for name, (transforms, gradient) in designs().items():
        if transforms is None:
            calls[name] = render_call(
                model, LAYER, batch, steps, lambda: param.image(size[1], size[0], batch=batch), ()
            )
        else:
            calls[name] = render_call(
                model, LAYER, batch, steps, lambda: param.image(IMAGE_SIZE, batch=batch), transforms
            )
        gradients[name] = gradient
    calls["bare loop"] = bare_call(model.keras_model, batch, size, steps)
    gradients["bare loop"] = "-"
    medians = interleaved_medians(calls, repeats)
    bare_ms = 1000 * medians["bare loop"] / steps
    return [
        [
            batch,
            name,
            gradients[name],
            f"{batch * steps / seconds:.2f}",
            f"{1000 * seconds / steps:.1f}",
            f"{1000 * seconds / steps - bare_ms:+.1f}",
            f"{100 * medians['bare loop'] / seconds:.0f}",
        ]
        for name, seconds in medians.items()
    ]


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1], choices=sorted(STEPS))
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats (medians)")
    args = parser.parse_args(argv)
    print(f"command: {command_line()}")
    print(f"machine: {machine()}", flush=True)
    rows = [row for batch in args.batch for row in measure(batch, args.repeats)]
    print(
        f"{NETWORK} ({LAYER}), random weights, {IMAGE_SIZE} px FFT image, channel objective, "
        f"Adam, no ReLU redirection; medians of {args.repeats} alternating repeats"
    )
    print(
        format_table(
            ["batch", "design", "gradient", "img-steps/s", "ms/step", "ms over bare", "% of bare"],
            rows,
        )
    )
    print(f"machine at end: {machine()}")


if __name__ == "__main__":
    main(sys.argv[1:])
