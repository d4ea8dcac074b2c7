"""What a TensorBoard log costs render_vis: Renderer.run with and without log_dir, on a tiny model.

    cd benchmarks && PYTHONPATH=. python experiments/log_overhead.py          # about 1 minute on 2 cores

A two-convolution network small enough that a step costs little, so the log's cost shows: the
objective of every step written (summed and per image) and the images at two thresholds. One
Renderer runs both ways (compiled once), timed in alternation, a new log folder per run.
"""

from __future__ import annotations

import argparse
import tempfile

import keras

import samplevis
from samplevis import objectives, param
from samplevis.optimize import Renderer

from common import command_line, format_table, interleaved_medians, machine


def tiny_model() -> samplevis.Model:
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", name="conv2")(x)
    outputs = keras.layers.ReLU(name="conv2_relu")(x)
    return samplevis.Model(keras.Model(inputs, outputs), value_range=(-1.0, 1.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    renderer = Renderer(
        tiny_model(),
        objectives.channel("conv2_relu", 1),
        param.image(32, batch=args.batch),
        transforms=[],
    )
    thresholds = (args.steps // 2, args.steps)
    logs = tempfile.mkdtemp(prefix="log_overhead-")
    runs = iter(range(10**9))

    def run(logged: bool):
        log_dir = f"{logs}/{next(runs)}" if logged else None
        return renderer.run(thresholds, seed=0, progress=False, log_dir=log_dir)

    run(False)  # traces the step loop
    medians = interleaved_medians(
        {"no log": lambda: run(False), "log_dir": lambda: run(True)}, args.repeats
    )
    print(
        f"Renderer.run, {args.steps} steps, batch {args.batch}, 32 px, no transforms, "
        f"{args.repeats} alternating repeats (logs in {logs})"
    )
    print(
        format_table(
            ["run", "median s", "ms per step", "x no log"],
            [
                [name, f"{s:.3f}", f"{1000 * s / args.steps:.2f}", f"{s / medians['no log']:.2f}"]
                for name, s in medians.items()
            ],
        )
    )


if __name__ == "__main__":
    main()
