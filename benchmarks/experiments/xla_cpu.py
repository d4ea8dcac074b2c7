"""XLA against TensorFlow's default graph for the sampler's gradient, on the built-in model.

    cd benchmarks && PYTHONPATH=. python experiments/xla_cpu.py          # about 1 minute on 2 cores

A leapfrog step is one evaluation of log pi and its gradient. This times that evaluation compiled
as a plain `tf.function` (what `render` runs) and with `jit_compile=True` (XLA), for 12 images of
128 px (4 chains x 3 views; --chains) with no transforms, and checks that both give the same
values. It also tries XLA with the standard transforms, which `render` applies, and prints why
that fails.
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import tensorflow as tf

from samplevis import objectives, param, transform, zoo
from samplevis.sampling.target.log_density import make_log_density

from common import command_line, format_table, interleaved_medians, machine

SIZE = 128  # Lucid's default image size
OBJECTIVE = objectives.channel("block6a_expand_activation", 301)
TEMPERATURE = 1e-3  # the order of the tuned T on this channel; it only scales the values


def value_and_gradient(log_density):
    """state parts -> (log pi [C], gradient parts): one leapfrog step's network work."""

    def run(*state):
        with tf.GradientTape() as tape:
            tape.watch(state)
            log_prob = log_density(*state)
        return log_prob, tape.gradient(log_prob, state)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--chains",
        type=int,
        default=12,
        help="images per evaluation (12 = 4 chains x 3 views; default 12)",
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    model = zoo.efficientnet_lite0()
    image_param = param.image(SIZE, batch=args.chains)
    state = tuple(tf.constant(s) for s in image_param.init(tf.constant([0, 0], tf.int64)))

    with_views = value_and_gradient(
        make_log_density(
            model,
            OBJECTIVE,
            image_param,
            TEMPERATURE,
            transforms=transform.standard_transforms,
            num_transforms=1,
            seed=tf.constant([1, 2], tf.int32),
        )
    )
    try:
        tf.function(with_views, jit_compile=True)(*state)
        print("XLA with the standard transforms: compiled")
    except tf.errors.InvalidArgumentError as err:
        ops = sorted(set(re.findall(r"No registered '(\w+)' OpKernel", str(err))))
        print(f"XLA with the standard transforms: fails, no XLA kernel for {', '.join(ops)}")

    plain = value_and_gradient(make_log_density(model, OBJECTIVE, image_param, TEMPERATURE))
    compiled = {"graph": tf.function(plain), "xla": tf.function(plain, jit_compile=True)}
    first = {name: fn(*state) for name, fn in compiled.items()}  # traces and compiles
    value_gap = float(np.max(np.abs(first["graph"][0] - first["xla"][0])))
    gradient_gap = max(
        float(tf.norm(a - b) / tf.norm(a)) for a, b in zip(first["graph"][1], first["xla"][1])
    )
    medians = interleaved_medians(
        {name: (lambda fn=fn: fn(*state)[0].numpy()) for name, fn in compiled.items()}, args.repeats
    )
    print(
        f"EfficientNet-Lite0, {SIZE} px, {OBJECTIVE.name}, {args.chains} images, no transforms; "
        f"largest log pi gap {value_gap:.2g}, gradient gap {gradient_gap:.2g} (relative)"
    )
    print(
        format_table(
            ["compiled as", "ms per evaluation", "x graph"],
            [
                [name, f"{1000 * s:.0f}", f"{s / medians['graph']:.2f}"]
                for name, s in medians.items()
            ],
        )
    )


if __name__ == "__main__":
    main()
