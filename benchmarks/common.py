"""Helpers shared by the benchmark scripts: the machine, fair timing, FLOP counts, a table.

Benchmarks here run on shared machines, so two things being compared are timed in alternating
repeats and summarised by their medians: a burst of load from elsewhere then slows both alike
instead of biasing the ratio.
"""

from __future__ import annotations

import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np

# --quick's image side (px) for the smoke runs' renders: a quarter of the pixels of render's and
# render_vis's 128 in every network pass (a smoke run's figures mean nothing)
QUICK_SIZE = 64

Key = TypeVar("Key", bound=Hashable)  # what names a contender: a string, a tuple


def command_line() -> str:
    """The command that started this process, as one could type it again."""
    return " ".join(shlex.quote(a) for a in [os.path.basename(sys.executable), *sys.argv])


def machine() -> str:
    """Cores, CPU model, load and TensorFlow/Keras versions: what the figures depend on."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{cpu}; nproc {usable} (os.cpu_count {os.cpu_count()}); load average {load}; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"Python {platform.python_version()}"
    )


def seconds(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call of `fn` (which must block until its work is done)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved_medians(
    contenders: Mapping[Key, Callable[[], object]], repeats: int
) -> dict[Key, float]:
    """Median wall-clock seconds of each contender, timed in turn `repeats` times.

    Alternating (a b a b …) rather than (a a … b b …) spreads load from other processes over
    all contenders, so their ratio stays meaningful on a busy machine.
    """
    times: dict[Key, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(seconds(fn))
    return {name: float(np.median(t)) for name, t in times.items()}


def conv_flops(layer, output_shape: Sequence[int]) -> int:
    """Multiply-add FLOPs (2 per MAC) of one image through a Conv2D, DepthwiseConv2D or Dense
    layer with the given output shape (batch axis excluded); 0 for other layers."""
    import keras

    kernel = getattr(layer, "kernel", None)
    if kernel is None:
        return 0
    k = tuple(kernel.shape)
    positions = math.prod(output_shape[:-1])
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kh, kw, c_in, multiplier = k
        return 2 * positions * kh * kw * c_in * multiplier
    if isinstance(layer, keras.layers.Conv2D):  # kernel holds C_in / groups input channels
        kh, kw, c_in_per_group, c_out = k
        return 2 * positions * kh * kw * c_in_per_group * c_out
    if isinstance(layer, keras.layers.Dense):
        c_in, c_out = k
        return 2 * positions * c_in * c_out
    return 0


def forward_flops(keras_model, input_shape: Sequence[int]) -> int:
    """Forward FLOPs of one image of `input_shape` (H, W, C) through `keras_model`.

    Counts convolutions and dense layers only (2 · positions · kernel size · C_in/groups · C_out);
    element-wise layers are a small fraction and depend on the implementation. Output sizes are
    found by running one zero image, so models with free spatial dimensions work.
    """
    import keras
    import tensorflow as tf

    counted = [layer for layer in keras_model.layers if conv_flops(layer, (1, 1)) > 0]
    if not counted:
        return 0
    probe = keras.Model(keras_model.inputs, [layer.output for layer in counted])
    outputs = probe(tf.zeros([1, *input_shape]), training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return sum(conv_flops(layer, tuple(out.shape[1:])) for layer, out in zip(counted, outputs))


def matmul_peak(n: int = 2048, multiplies: int = 8) -> tuple[Callable[[], object], float]:
    """A compiled call of `multiplies` chained n×n float32 matmuls, and its FLOPs.

    Time it beside the work being measured (in `interleaved_medians`) so that the peak is taken
    under the same load. Each product feeds the next so none can be skipped or hoisted; the
    matrix is scaled to keep values bounded.
    """
    import tensorflow as tf

    rng = np.random.default_rng(0)
    b = tf.constant((rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32))
    a0 = tf.constant(rng.standard_normal((n, n)).astype(np.float32))
    count = tf.constant(multiplies)

    @tf.function
    def chain(a: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
        for _ in tf.range(count):
            a = tf.matmul(a, b)
        return tf.reduce_sum(a)

    chain(a0, count).numpy()  # compile
    return (lambda: chain(a0, count).numpy()), 2.0 * n**3 * multiplies


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, columns right-aligned except the first."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        return "  ".join([first] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])
