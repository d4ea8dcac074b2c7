"""Where the seconds of compiling `render_vis`'s step go.

Each part of a step is compiled alone, as `Renderer` compiles it (`tf.function`, AutoGraph off,
forward pass and gradient), in a fresh process of its own so that no part finds another's
trace cached:

  param       `param.image(size)`'s FFT spectrum, colour decorrelation and sigmoid
  transforms  the standard transforms (jitter, scale, rotate, jitter) on an image
  network     the model's forward pass to the objective's layer, input gradient
  redirected  the same with the ReLU redirection switch given as a run-time tensor
  renderer    a whole `Renderer` of 4 steps: the real step

For each it prints the seconds to trace the Python function into a graph, the first call's
seconds beyond a later call's (graph optimization and kernel set-up) and their sum, the cost
of compiling that part; then the renderer's cost beside the sum of the parts a step holds
(param, transforms, redirected network; the rest is Adam and the loop), for the built-in model
at 128 px and MobileNetV2 (random weights, truncated at block_13_expand_relu) at 224 px.

    PYTHONPATH=benchmarks python benchmarks/experiments/trace_cost.py                   # both models, about 3 minutes
    PYTHONPATH=benchmarks python benchmarks/experiments/trace_cost.py --models builtin
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import command_line, format_table, machine

PARTS = ("param", "transforms", "network", "redirected", "renderer")
STEP_PARTS = ("param", "transforms", "redirected")  # what one Renderer step compiles
MODELS = {
    "builtin": ("efficientnet_lite0", "block5c_add", 128),
    "mobilenet": ("MobileNetV2", "block_13_expand_relu", 224),
}


def load(name: str):
    """The samplevis.Model and its layer for `name` in MODELS."""
    network, layer, _ = MODELS[name]
    if name == "builtin":
        from samplevis import zoo

        return zoo.efficientnet_lite0(), layer
    from render_speed import build_model

    return build_model(network, layer), layer


def measure_part(name: str, part: str) -> dict[str, float]:
    """Seconds to trace `part`, its first call beyond a later one: run in a process of its own."""
    import tensorflow as tf

    import samplevis
    from samplevis import objectives, param, transform
    from samplevis.evaluation import objective_values

    model, layer = load(name)
    size = MODELS[name][2]
    image_param = param.image(size)
    objective = objectives.as_objective(f"{layer}:0")
    state = tuple(tf.Variable(s) for s in image_param.init(tf.constant([0, 0], tf.int64)))
    image = tf.Variable(image_param.to_image(state))
    composed = transform.compose(transform.standard_transforms)
    seed = tf.constant([1, 2], tf.int32)
    if part == "renderer":
        renderer = samplevis.Renderer(model, objective, image_param)
        began = time.perf_counter()
        renderer.run((4,), seed=0, progress=False)
        first = time.perf_counter() - began
        began = time.perf_counter()
        renderer.run((4,), seed=1, progress=False)
        return {"trace": float("nan"), "first": first - (time.perf_counter() - began)}

    def param_step():
        with tf.GradientTape() as tape:
            value = tf.reduce_sum(image_param.to_image(state))
        return tape.gradient(value, state)

    def transforms_step():
        with tf.GradientTape() as tape:
            value = tf.reduce_sum(composed(image, seed))
        return tape.gradient(value, image)

    def network_step(redirect):
        with tf.GradientTape() as tape:
            value = tf.reduce_sum(objective_values(model, objective, image, None, seed, redirect))
        return tape.gradient(value, image)

    steps = {
        "param": (param_step, ()),
        "transforms": (transforms_step, ()),
        "network": (network_step, (False,)),
        "redirected": (network_step, (tf.constant(True),)),
    }
    fn, args = steps[part]
    compiled = tf.function(fn, autograph=False)
    began = time.perf_counter()
    concrete = compiled.get_concrete_function(*args)
    traced = time.perf_counter() - began
    began = time.perf_counter()
    tf.nest.map_structure(lambda t: t.numpy(), concrete(*args))
    first = time.perf_counter() - began
    began = time.perf_counter()
    tf.nest.map_structure(lambda t: t.numpy(), concrete(*args))
    return {"trace": traced, "first": first - (time.perf_counter() - began)}


def in_subprocess(name: str, part: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--part", name, part],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=tuple(MODELS), default=tuple(MODELS))
    parser.add_argument("--part", nargs=2, help=argparse.SUPPRESS)  # the child process's work
    args = parser.parse_args()
    if args.part:
        print(json.dumps(measure_part(*args.part)))
        return
    print(command_line())
    print(machine(), flush=True)
    rows = []
    for name in args.models:
        network, layer, size = MODELS[name]
        costs = {part: in_subprocess(name, part) for part in PARTS}
        # the step's parts: "redirected" holds the network, so "network" is not added again
        total = sum(costs[p]["trace"] + costs[p]["first"] for p in STEP_PARTS)
        for part in PARTS[:-1]:
            c = costs[part]
            rows.append(
                [
                    f"{network} {size} px",
                    part,
                    f"{c['trace']:.2f}",
                    f"{c['first']:.2f}",
                    f"{c['trace'] + c['first']:.2f}",
                ]
            )
        rows.append(
            [f"{network} {size} px", "renderer (first run less a later one)", "", "", ""]
            + [f"{costs['renderer']['first']:.2f} (param + transforms + redirected {total:.2f})"]
        )
        print(f"  measured {network}", flush=True)
    print(
        format_table(
            ["model", "part", "trace s", "first call beyond a later s", "cost s", "renderer s"],
            [r + [""] * (6 - len(r)) for r in rows],
        )
    )
    print(machine())


if __name__ == "__main__":
    main()
