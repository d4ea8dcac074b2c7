"""How fast `samplevis.atlas` renders channels of the built-in model, by batch, and how long every
channel of it would take.

For one layer of the built-in EfficientNet-Lite0 (default `block3a_expand_activation`) it times
the atlas's unit of work, `atlas.render_batch` (a batch of channels, each with its own seed and
transform draws, through the layer's compiled program; no files), at each batch size, in
alternating repeats after a warm-up call that compiles the program. A channel's 256 steps are 16
with ReLU gradient redirection (slower) and 240 without, so it times calls of 16 and of 16 + N
steps and takes 256 steps as the first plus 240/N times the difference. Beside each batch it
times the bare loop (forward pass + input gradient + an update, compiled, on a variable of the
224 px input the network receives), the floor for that batch. It prints channels per minute and
the speed-up over batch 1 per channel.

It then times the last layer, `top_activation`, at the fastest batch, and projects the time for
every channel of every activation layer (what `layers="all"` renders) on this machine and on N
Ray workers: a layer's time per image-step is interpolated linearly in the forward FLOPs up to
it between the two timed layers, times 256 steps, times its channels.

    python benchmarks/atlas_speed.py              # about 15 minutes on 2 quiet cores
    python benchmarks/atlas_speed.py --quick      # smoke run, a few minutes
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time

from common import command_line, format_table, forward_flops, interleaved_medians, machine

ATLAS_STEPS = 256  # samplevis.atlas's default steps per channel
REDIRECT_STEPS = 16  # render_vis's first steps, with ReLU gradient redirection
TARGET = 4.0  # batch 16 should render a channel at least this many times faster than batch 1
LAST_LAYER = "top_activation"


def bare_loop(model, layer: str, batch: int, steps: int):
    """A compiled loop of `steps` forward passes + input gradients + updates through `layer` at
    the network's own input size: the least work one optimization step can do."""
    import tensorflow as tf

    height, width = model.input_size
    extractor = model._extractor((layer,), False)  # the extractor render_vis itself uses
    x = tf.Variable(tf.random.stateless_uniform([batch, height, width, 3], [0, 1]))

    @tf.function
    def loop(n):
        for _ in tf.range(n):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.reduce_mean(extractor(x, training=False), axis=[1, 2]))
            x.assign_add(1e-3 * tape.gradient(loss, x))
        return loss

    loop(tf.constant(1)).numpy()  # compile
    return lambda: loop(tf.constant(steps)).numpy()


def atlas_calls(atlas, model, layer: str, batch: int, steps: int, size: int) -> dict:
    """{steps: one `render_batch` of `batch` channels of `layer` for that many steps} for
    REDIRECT_STEPS and REDIRECT_STEPS + `steps`, already compiled by a warm-up call."""
    channels = list(range(batch))
    calls = {}
    for count in (REDIRECT_STEPS, REDIRECT_STEPS + steps):
        settings = atlas.Settings(steps=count, size=size, batch=batch, seed=0)
        calls[count] = lambda settings=settings: atlas.render_batch(model, layer, channels,
                                                                    settings)
    calls[REDIRECT_STEPS + steps]()  # compile (both phases)
    return calls


def channel_seconds(first: float, longer: float, steps: int, batch: int) -> float:
    """Seconds per channel for ATLAS_STEPS steps, from the seconds of a batch's REDIRECT_STEPS
    steps (`first`) and of REDIRECT_STEPS + `steps` (`longer`)."""
    plain = (longer - first) / steps
    return (first + (ATLAS_STEPS - REDIRECT_STEPS) * plain) / batch


def truncated_flops(model, layer: str) -> int:
    import keras

    network = model.keras_model
    return forward_flops(keras.Model(network.inputs, network.get_layer(layer).output),
                         (*model.input_size, 3))


def projection(model, timed: dict[str, float], workers: list[int]) -> tuple[list, float]:
    """(rows of the projection table, hours on this machine) for every activation layer, from
    seconds per image-step of the layers in `timed`, linear in forward FLOPs."""
    from samplevis.atlas import activation_layers

    (low, t_low), (high, t_high) = sorted(timed.items(),
                                          key=lambda item: truncated_flops(model, item[0]))
    f_low, f_high = truncated_flops(model, low), truncated_flops(model, high)
    counts = {info.name: info.channels for info in model.layers_info()}
    total_seconds, channels = 0.0, 0
    for layer in activation_layers(model):
        share = (truncated_flops(model, layer) - f_low) / max(f_high - f_low, 1)
        per_image_step = t_low + share * (t_high - t_low)
        total_seconds += per_image_step * ATLAS_STEPS * counts[layer]
        channels += counts[layer]
    hours = total_seconds / 3600
    rows = [(f"{n} worker{'s' if n > 1 else ''}", channels, f"{hours / n:.1f} h",
             f"{hours / n / 24:.2f} days") for n in workers]
    return rows, hours


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layer", default="block3a_expand_activation")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--steps", type=int, default=32,
                        help=f"steps after the first {REDIRECT_STEPS} in the longer timed call "
                             "(default 32)")
    parser.add_argument("--size", type=int, default=128, help="image size (default 128)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8, 32, 128],
                        help="worker counts to project for (each as fast as this machine)")
    parser.add_argument("--quick", action="store_true", help="8 steps, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats = 8, 1

    from samplevis import zoo

    atlas = importlib.import_module("samplevis.atlas")  # samplevis.atlas is the function
    print(command_line())
    print(machine())
    model = zoo.efficientnet_lite0()
    start = time.perf_counter()
    contenders = {}
    for batch in args.batches:
        calls = atlas_calls(atlas, model, args.layer, batch, args.steps, args.size)
        for count, call in calls.items():
            contenders[f"atlas {batch} {count}"] = call
        contenders[f"bare {batch}"] = bare_loop(model, args.layer, batch, args.steps)
    medians = interleaved_medians(contenders, args.repeats)
    longer = REDIRECT_STEPS + args.steps
    seconds = {b: channel_seconds(medians[f"atlas {b} {REDIRECT_STEPS}"],
                                  medians[f"atlas {b} {longer}"], args.steps, b)
               for b in args.batches}
    rate = {b: 60.0 / seconds[b] for b in args.batches}
    floor = {b: 60.0 * b / (medians[f"bare {b}"] * ATLAS_STEPS / args.steps)
             for b in args.batches}
    first = args.batches[0]
    rows = [(args.layer, b, f"{medians[f'atlas {b} {REDIRECT_STEPS}']:.2f}",
             f"{medians[f'atlas {b} {longer}']:.2f}", f"{rate[b]:.2f}",
             f"{rate[b] / rate[first]:.2f}", f"{floor[b]:.2f}", f"{floor[b] / floor[first]:.2f}")
            for b in args.batches]
    print(f"\nchannels per minute at {ATLAS_STEPS} steps, {args.size} px images (resized to the "
          f"network's {model.input_size[0]} px), median of {args.repeats}:")
    print(format_table(("layer", "batch", f"s for {REDIRECT_STEPS} steps",
                        f"s for {longer} steps", "channels/min", f"x batch {first}",
                        "bare channels/min", f"bare x batch {first}"), rows))
    best = max(rate, key=rate.get)
    if 1 in rate and 16 in rate:
        ratio = rate[16] / rate[1]
        verdict = "met" if ratio >= TARGET else "not met"
        print(f"target batch 16 >= {TARGET:g}x batch 1 per channel: {ratio:.2f}x, {verdict}")

    calls = atlas_calls(atlas, model, LAST_LAYER, best, args.steps, args.size)
    last = interleaved_medians(calls, 1)
    last_seconds = channel_seconds(last[REDIRECT_STEPS], last[longer], args.steps, best)
    timed = {args.layer: seconds[best] / ATLAS_STEPS, LAST_LAYER: last_seconds / ATLAS_STEPS}
    print(f"\n{LAST_LAYER} at batch {best}: {60.0 / last_seconds:.2f} channels/min")
    rows, hours = projection(model, timed, args.workers)
    print(f"\nevery channel of every activation layer of {model.name} (layers='all') at "
          f"{ATLAS_STEPS} steps, batch {best}, projected from the two timed layers:")
    print(format_table(("on", "channels", "time", "days"), rows))
    print(f"\n(the run took {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
