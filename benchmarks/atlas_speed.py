"""How fast `samplevis.atlas` renders many channels of the built-in model, by three designs side
by side, and how long every channel of it would take.

For one layer of the built-in EfficientNet-Lite0 (default `block3a_expand_activation`) it times
channels per minute of:

- **A. batch axis**, the atlas's own design: `LayerRenderers.render_batch`, a batch of channels
  along the batch axis of one compiled program (each channel with its own seed and transform
  draws; no files), in this process with TensorFlow on every core; at each of `--batches`.
- **B. Ray workers**: a local Ray cluster of 2 CPUs with 2 actors of 1 CPU each (the atlas's
  `AtlasWorker`, which gives TensorFlow one thread per CPU it was assigned), each rendering its
  own batch of `--worker-batches` channels through its own program at the same time.
- **C. threads**: 2 Python threads in this process, each with its own `LayerRenderers` (its own
  program), rendering different channels at the same time. TensorFlow releases the GIL while a
  program runs, so this shows whether one small program leaves the cores idle.
- **the bare loop**: forward pass + input gradient + an update, compiled, on a variable of the
  size the network receives (the images' `--size`: the built-in network takes any size), at the
  first and last of `--batches`: the floor of A.

Every program is compiled by a warm-up call; then all designs are timed in the same alternating
repeats (the Ray actors and the threads sit idle while the others run). A channel's 256 steps are
16 with ReLU gradient redirection (slower) and 240 without, so each design times one round of 16
and one of 16 + N steps, a round ending when every channel in flight is done, and takes 256 steps
as the first plus 240/N times the difference. It prints channels per minute, the ratio to A at
batch 1, and whether the best design with more than one channel in flight meets the target.

It then times the last layer, `top_activation`, with design A at its fastest batch, and projects
the time for every channel of every activation layer (what `layers="all"` renders) on this
machine and on N Ray workers: a layer's time per image-step is interpolated linearly in the
forward FLOPs up to it between the two timed layers, times 256 steps, times its channels.

    python benchmarks/atlas_speed.py              # about 20 minutes on 2 quiet cores
    python benchmarks/atlas_speed.py --quick      # smoke run: two early layers
    python benchmarks/atlas_speed.py --no-ray     # designs A and C only: no Ray cluster

Without Ray installed (`pip install 'samplevis[ray]'`), design B is skipped with a note.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from samplevis.atlas import LayerRenderers, Settings
from samplevis.atlas.cluster import AtlasWorker

from common import command_line, conv_flops, format_table, interleaved_medians, machine

ATLAS_STEPS = 256  # samplevis.atlas's default steps per channel
REDIRECT_STEPS = 16  # render_vis's first steps, with ReLU gradient redirection
TARGET = 4.0  # a batched design should render a channel this many times faster than A, batch 1
LAYER, LAST_LAYER = "block3a_expand_activation", "top_activation"
# --quick: two early layers instead, so that every program runs the network up to one of them
QUICK_LAYER, QUICK_LAST_LAYER = "block2a_expand_activation", "block3a_expand_activation"
PARALLEL = 2  # Ray actors (of 1 CPU each) in design B, threads in design C

Key = TypeVar("Key")
Round = Callable[[int], object]  # renders every channel in flight for that many steps


class Batches:
    """Batches of channels rendered for a chosen number of steps, through one `LayerRenderers`
    per batch size (a layer's program is compiled on its first batch of that size)."""

    def __init__(self, model, size: int):
        self.model, self.size = model, size
        self.by_batch: dict[int, LayerRenderers] = {}

    def __call__(self, layer: str, channels: list[int], steps: int) -> list:
        settings = Settings(steps=steps, size=self.size, batch=len(channels), seed=0)
        if len(channels) not in self.by_batch:
            self.by_batch[len(channels)] = LayerRenderers(self.model, settings)
        renderers = self.by_batch[len(channels)]
        renderers.settings = settings  # the steps are an input of the program: no new compile
        return renderers.render_batch(layer, channels)


class Worker(AtlasWorker):
    """The atlas's Ray actor (the model loaded once, one TensorFlow thread per assigned CPU),
    rendering batches of any size for a chosen number of steps."""

    def __init__(self, size: int):
        from samplevis import zoo

        # AtlasWorker's own renderers (for fixed settings) go unused: only its model is kept
        super().__init__(zoo.efficientnet_lite0, Settings(steps=1, size=size, batch=1, seed=0))
        self.batches = Batches(self.renderers.model, size)

    def run(self, layer: str, channels: list[int], steps: int) -> list:
        return self.batches(layer, channels, steps)


def channels_of(batch: int, part: int = 0) -> list[int]:
    """The channels of the `part`-th batch in flight: distinct channels for each."""
    return list(range(part * batch, (part + 1) * batch))


def bare_loop(model, layer: str, batch: int, received: tuple[int, int]) -> Round:
    """A compiled loop of forward passes + input gradients + updates through `layer` on inputs
    of the size the network receives (`received`, height and width in px): the least work one
    optimization step can do."""
    import tensorflow as tf

    height, width = received
    extractor = model.extractor((layer,), False)  # the extractor render_vis itself uses
    x = tf.Variable(tf.random.stateless_uniform([batch, height, width, 3], [0, 1]))

    @tf.function
    def loop(n):
        for _ in tf.range(n):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.reduce_mean(extractor(x), axis=[1, 2]))
            x.assign_add(1e-3 * tape.gradient(loss, x))
        return loss

    return lambda steps: loop(tf.constant(steps)).numpy()


def batch_axis(batches: Batches, layer: str, batch: int) -> Round:
    return lambda steps: batches(layer, channels_of(batch), steps)


def threads(pool, all_batches: list[Batches], layer: str, batch: int) -> Round:
    def round_(steps: int) -> None:
        futures = [
            pool.submit(batches, layer, channels_of(batch, i), steps)
            for i, batches in enumerate(all_batches)
        ]
        for future in futures:
            future.result()

    for i, batches in enumerate(all_batches):  # compile one program after the other
        batches(layer, channels_of(batch, i), REDIRECT_STEPS + 1)
    return round_


def ray_actors(ray, actors: list, layer: str, batch: int) -> Round:
    return lambda steps: ray.get(
        [actor.run.remote(layer, channels_of(batch, i), steps) for i, actor in enumerate(actors)]
    )


def start_ray(size: int, wanted: bool = True):
    """(ray, PARALLEL actors of 1 CPU on a local cluster of PARALLEL CPUs), or None without Ray
    or when not `wanted`."""
    if not wanted:
        print("design B skipped: --no-ray.")
        return None
    try:
        import ray
    except ImportError:
        print("design B skipped: Ray is not installed (pip install 'samplevis[ray]').")
        return None
    ray.init(
        num_cpus=PARALLEL,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
    actor = ray.remote(Worker).options(num_cpus=1)
    return ray, [actor.remote(size) for _ in range(PARALLEL)]


def channel_seconds(first: float, longer: float, steps: int, in_flight: int) -> float:
    """Seconds per channel for ATLAS_STEPS steps, from the seconds of a round's REDIRECT_STEPS
    steps (`first`) and of REDIRECT_STEPS + `steps` (`longer`)."""
    plain = (longer - first) / steps
    return (first + (ATLAS_STEPS - REDIRECT_STEPS) * plain) / in_flight


def timed(designs: Mapping[Key, Round], steps: int, repeats: int) -> dict[Key, tuple[float, float]]:
    """{(design, channels in flight): (s for REDIRECT_STEPS, s for REDIRECT_STEPS + `steps`)},
    medians of alternating repeats, every round compiled by a warm-up call first."""
    longer = REDIRECT_STEPS + steps
    contenders: dict[tuple[Key, int], Callable[[], object]] = {}
    for key, round_ in designs.items():
        round_(REDIRECT_STEPS + 1)  # compile both phases (with and without redirection)
        for count in (REDIRECT_STEPS, longer):
            contenders[key, count] = functools.partial(round_, count)
    medians = interleaved_medians(contenders, repeats)
    return {key: (medians[key, REDIRECT_STEPS], medians[key, longer]) for key in designs}


def truncated_flops(model, received: tuple[int, int]) -> Callable[[str], int]:
    """A function of a layer's name: the forward FLOPs of one image of `received` px through the
    network truncated there, as `common.forward_flops` counts them. Every counted layer's output
    shape comes from one pass of the whole network (a layer's shape does not depend on where the
    network is cut), each truncation adds up its own counted layers."""
    import keras
    import tensorflow as tf

    network = model.keras_model
    counted = [layer for layer in network.layers if conv_flops(layer, (1, 1)) > 0]
    probe = keras.Model(network.inputs, [layer.output for layer in counted])
    outputs = probe(tf.zeros([1, *received, 3]), training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    shapes = {layer.name: tuple(out.shape[1:]) for layer, out in zip(counted, outputs)}

    def flops(layer: str) -> int:
        truncated = keras.Model(network.inputs, network.get_layer(layer).output)
        return sum(conv_flops(k, shapes[k.name]) for k in truncated.layers if k.name in shapes)

    return functools.cache(flops)


def projection(
    model, timed: dict[str, float], workers: list[int], received: tuple[int, int]
) -> list:
    """Rows of the projection table for every activation layer, from seconds per image-step of
    the layers in `timed` (inputs of `received` px), linear in forward FLOPs."""
    from samplevis.atlas import activation_layers

    flops_to = truncated_flops(model, received)
    (low, t_low), (high, t_high) = sorted(timed.items(), key=lambda item: flops_to(item[0]))
    f_low, f_high = flops_to(low), flops_to(high)
    counts = {info.name: info.channels for info in model.layers_info()}
    total_seconds, channels = 0.0, 0
    for layer in activation_layers(model):
        share = (flops_to(layer) - f_low) / max(f_high - f_low, 1)
        per_image_step = t_low + share * (t_high - t_low)
        total_seconds += per_image_step * ATLAS_STEPS * counts[layer]
        channels += counts[layer]
    hours = total_seconds / 3600
    return [
        (
            f"{n} worker{'s' if n > 1 else ''}",
            channels,
            f"{hours / n:.1f} h",
            f"{hours / n / 24:.2f} days",
        )
        for n in workers
    ]


def parse_args() -> argparse.Namespace:
    """The flags, with --quick's settings and the default layer filled in."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layer", help=f"default {LAYER} (--quick: {QUICK_LAYER})")
    parser.add_argument(
        "--batches",
        type=int,
        nargs="+",
        default=[1, 8, 16],
        help="design A's batch sizes; the bare loop runs at the first and last",
    )
    parser.add_argument(
        "--worker-batches",
        type=int,
        nargs="+",
        default=[1, 8],
        help=f"batch of each of the {PARALLEL} Ray actors and threads",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=32,
        help=f"steps after the first {REDIRECT_STEPS} in the longer timed round (default 32)",
    )
    parser.add_argument("--size", type=int, default=128, help="image size (default 128)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 8, 32, 128],
        help="worker counts to project for (each as fast as this machine)",
    )
    parser.add_argument(
        "--no-ray",
        action="store_true",
        help="leave out design B: no Ray cluster, no actors loading the model",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 8 steps, 64 px, batch 1, worker batch 1, one repeat, two early layers",
    )
    args = parser.parse_args()
    args.layer = args.layer or (QUICK_LAYER if args.quick else LAYER)
    args.last_layer = QUICK_LAST_LAYER if args.quick else LAST_LAYER
    if args.quick:
        args.steps, args.size, args.repeats = 8, 64, 1
        # batch 1 alone: Ray and the threads hold 2 channels in flight, so the target is checked
        args.batches, args.worker_batches = [1], [1]
    return args


def designs_timed(
    model, in_process: Batches, args: argparse.Namespace, received: tuple[int, int]
) -> dict[tuple[str, int], tuple[float, float]]:
    """The seconds of each design's two rounds (`timed`) on `args.layer`: A at each batch, B
    (unless --no-ray or without Ray), C, and the bare loop at the first and last batch."""
    layer, first = args.layer, args.batches[0]
    designs = {
        (f"A batch axis, batch {b}", b): batch_axis(in_process, layer, b) for b in args.batches
    }
    started = start_ray(args.size, wanted=not args.no_ray)
    if started:
        ray, actors = started
        designs.update(
            {
                (f"B Ray, {PARALLEL} actors x batch {b}", PARALLEL * b): ray_actors(
                    ray, actors, layer, b
                )
                for b in args.worker_batches
            }
        )
    pool = concurrent.futures.ThreadPoolExecutor(PARALLEL)
    own = [Batches(model, args.size) for _ in range(PARALLEL)]
    if args.quick:
        # the first thread on design A's renderers (the same layer, batch and size: the same
        # program, never run by both at once): one compile fewer, both threads still at once
        own[0] = in_process
    designs.update(
        {
            (f"C threads, {PARALLEL} x batch {b}", PARALLEL * b): threads(pool, own, layer, b)
            for b in args.worker_batches
        }
    )
    designs.update(
        {
            (f"bare loop, batch {b} (floor of A)", b): bare_loop(model, layer, b, received)
            for b in dict.fromkeys([first, args.batches[-1]])
        }
    )
    try:
        return timed(designs, args.steps, args.repeats)
    finally:
        pool.shutdown()
        if started:
            ray.shutdown()


def print_rates(
    seconds: dict[tuple[str, int], tuple[float, float]],
    args: argparse.Namespace,
    received: tuple[int, int],
) -> dict[tuple[str, int], float]:
    """Print the table of channels per minute by design and whether the target is met; return
    the channels per minute by (design, channels in flight)."""
    first = args.batches[0]
    rate = {key: 60.0 / channel_seconds(*pair, args.steps, key[1]) for key, pair in seconds.items()}
    reference = rate[f"A batch axis, batch {first}", first]
    longer = REDIRECT_STEPS + args.steps
    rows = [
        (
            name,
            n,
            f"{seconds[name, n][0]:.2f}",
            f"{seconds[name, n][1]:.2f}",
            f"{rate[name, n]:.2f}",
            f"{rate[name, n] / reference:.2f}",
        )
        for name, n in rate
    ]
    print(
        f"\nchannels per minute at {ATLAS_STEPS} steps, {args.size} px images (the network "
        f"receives {received[0]} px), median of "
        f"{args.repeats} alternating repeats "
        f"of all designs (Ray and threads included):"
    )
    print(
        format_table(
            (
                "design",
                "in flight",
                f"s for {REDIRECT_STEPS} steps",
                f"s for {longer} steps",
                "channels/min",
                f"x A batch {first}",
            ),
            rows,
        )
    )
    batched = {key: r for key, r in rate.items() if key[1] > 1 and not key[0].startswith("bare")}
    if first == 1 and batched:
        (name, n), best = max(batched.items(), key=lambda item: item[1])
        verdict = "met" if best / reference >= TARGET else "not met"
        print(
            f"target: a batched design >= {TARGET:g}x A batch 1 per channel: best is {name} "
            f"({n} in flight) at {best / reference:.2f}x, {verdict}"
        )
    return rate


def print_projection(
    model,
    in_process: Batches,
    rate: dict[tuple[str, int], float],
    args: argparse.Namespace,
    received: tuple[int, int],
) -> None:
    """Time the last layer with design A at its fastest batch, then print the projected time for
    every channel of every activation layer."""
    last_layer = args.last_layer
    a_rates = {n: r for (name, n), r in rate.items() if name.startswith("A ")}
    best_batch = max(a_rates, key=lambda n: a_rates[n])
    last = timed({last_layer: batch_axis(in_process, last_layer, best_batch)}, args.steps, 1)
    last_seconds = channel_seconds(*last[last_layer], args.steps, best_batch)
    per_image_step = {
        args.layer: 60.0 / a_rates[best_batch] / ATLAS_STEPS,
        last_layer: last_seconds / ATLAS_STEPS,
    }
    print(f"\n{last_layer} with A at batch {best_batch}: {60.0 / last_seconds:.2f} channels/min")
    print(
        f"\nevery channel of every activation layer of {model.name} (layers='all') at "
        f"{ATLAS_STEPS} steps, A at batch {best_batch}, projected from the two timed layers:"
    )
    print(
        format_table(
            ("on", "channels", "time", "days"),
            projection(model, per_image_step, args.workers, received),
        )
    )


def main() -> int:
    args = parse_args()
    from samplevis import zoo

    print(command_line())
    print(machine())
    start = time.perf_counter()
    model = zoo.efficientnet_lite0()
    in_process = Batches(model, args.size)
    # the size the network receives: its own, or the images' for a network that takes any size
    received = model.input_size or (args.size, args.size)
    seconds = designs_timed(model, in_process, args, received)
    rate = print_rates(seconds, args, received)
    print_projection(model, in_process, rate, args, received)
    print(f"\n(the run took {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
