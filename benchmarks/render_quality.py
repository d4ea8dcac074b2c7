"""What a `render_vis` call reaches and how soon: activation at 512 steps and time to 0.9 of it.

For each channel (the sampling rows by default) the script renders `batch` images at `size` px
with `render_vis` at its defaults (the built-in model, `param.image(size, batch=batch)`, the
standard transforms, Adam(0.05), ReLU redirection), seed 0, and reads the channel's mean
activation of the images (no transforms) every 16 steps. It prints:

* the activation at the last step (mean over the batch) and the first step at which the images
  reach 0.9 of it;
* the seconds of a `render_vis` call of that many steps on a model built afresh (untimed), so
  tracing and compiling are in it: the time to quality a user meets;
* the seconds of the whole curve's call (all the steps, images read every 16 steps).

Run it with one checkout's code, then another's, to compare two versions (the figures are
absolute seconds: run both in one shell session, alternating, and compare ratios):

    PYTHONPATH=OLD python benchmarks/render_quality.py --grid old.png
    PYTHONPATH=NEW python benchmarks/render_quality.py --grid new.png
    python benchmarks/render_quality.py --quick   # smoke run: one channel, 32 steps, 64 px
    python benchmarks/render_quality.py --channels block6a_expand_activation:301 --reach 176
        # only the seconds of a call of 176 steps on a fresh model (known steps to 0.9)
    python benchmarks/render_quality.py --design "beta_1 0.5" --every 8 --seed 1
        # another optimizer or start (DESIGNS), read every 8 steps
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from common import command_line, format_table, machine

ROWS = (
    "block3a_expand_activation:20",
    "block5a_expand_activation:100",
    "block6a_expand_activation:301",
)
EVERY = 16  # steps between readings of the activation
QUALITY = 0.9  # the share of the last step's activation that counts as reached


def activation(model, layer: str, channel: int, images: np.ndarray) -> float:
    """The channel's activation averaged over positions and the batch."""
    features = model.activations(images, [layer])[layer]
    return float(np.mean(features[..., channel]))


def _cosine(start: float, end: float, steps: int) -> object:
    """A learning rate falling from `start` to `end` over `steps` steps, constant after."""
    import keras

    return keras.optimizers.schedules.CosineDecay(start, steps, alpha=end / start)


def _adam(learning_rate: object = 0.05, beta_1: float = 0.9) -> Callable[[], object]:
    import keras

    return lambda: keras.optimizers.Adam(learning_rate, beta_1=beta_1)


# Other schedules and starts, tried against the default (docs/benchmarks.md,
# "render_quality.py"): name -> (a function making the optimizer, or None for render_vis's Adam(0.05);
# param.image's keyword arguments)
DESIGNS: dict[str, tuple[Callable[[], object] | None, dict]] = {
    "default": (None, {}),
    "adam 0.1": (_adam(0.1), {}),
    "adam 0.2": (_adam(0.2), {}),
    "cosine 0.2 to 0.05 by 128": (lambda: _adam(_cosine(0.2, 0.05, 128))(), {}),
    "cosine 0.4 to 0.05 by 128": (lambda: _adam(_cosine(0.4, 0.05, 128))(), {}),
    "cosine 0.05 to 0.01 by 128": (lambda: _adam(_cosine(0.05, 0.01, 128))(), {}),
    "sd 0.1": (None, {"sd": 0.1}),
    "sd 1": (None, {"sd": 1.0}),
    "beta_1 0.5": (_adam(beta_1=0.5), {}),
    "beta_1 0": (_adam(beta_1=0.0), {}),
    "beta_1 0.5, sd 0.1": (_adam(beta_1=0.5), {"sd": 0.1}),
}


def render(
    model,
    objective: str,
    size: int,
    batch: int,
    steps: Sequence[int],
    design: str = "default",
    seed: int = 0,
) -> list:
    import samplevis
    from samplevis import param

    optimizer, image = DESIGNS[design]
    return samplevis.render_vis(
        model,
        objective,
        param.image(size, batch=batch, **image),
        optimizer=None if optimizer is None else optimizer(),
        thresholds=tuple(steps),
        seed=seed,
        progress=False,
    )


def measure(
    objective: str, size: int, batch: int, steps: int, design: str, seed: int, every: int
) -> tuple[list, dict]:
    from samplevis import zoo

    layer, channel = objective.rsplit(":", 1)
    model = zoo.efficientnet_lite0()
    readings = list(range(every, steps + 1, every))
    start = time.perf_counter()
    images = render(model, objective, size, batch, readings, design, seed)
    curve_seconds = time.perf_counter() - start
    curve = [activation(model, layer, int(channel), im) for im in images]
    final = curve[-1]
    reached = next(n for n, a in zip(readings, curve) if a >= QUALITY * final)
    model = zoo.efficientnet_lite0()  # a fresh model: its first call traces and compiles
    start = time.perf_counter()
    render(model, objective, size, batch, (reached,), design, seed)
    quality_seconds = time.perf_counter() - start
    return images, {
        "final": final,
        "reached": reached,
        "quality_seconds": quality_seconds,
        "curve_seconds": curve_seconds,
        "curve": curve,
    }


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one channel, 32 steps, 64 px")
    parser.add_argument("--channels", nargs="+", default=None, help="layer:channel, ...")
    parser.add_argument("--steps", type=int, default=None, help="default 512 (32 if --quick)")
    parser.add_argument("--size", type=int, default=None, help="px, default 128 (64 if --quick)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--grid", default=None, help="a PNG for the last step's images")
    parser.add_argument(
        "--reach", type=int, default=None, help="only time a call of this many steps"
    )
    parser.add_argument(
        "--design",
        choices=sorted(DESIGNS),
        default="default",
        help="another learning rate, schedule or start than render_vis's defaults",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=EVERY, help="steps between readings")
    return parser.parse_args(argv)


def main(argv: Sequence[str] = ()) -> None:
    args = parse(argv)
    channels = args.channels or (ROWS[:1] if args.quick else ROWS)
    steps = args.steps or (32 if args.quick else 512)
    size = args.size or (64 if args.quick else 128)
    import samplevis

    print(f"command: {command_line()}")
    print(f"samplevis: {samplevis.__file__}")
    print(f"machine: {machine()}", flush=True)
    rows, grids = [], []
    if args.reach:
        from samplevis import zoo

        for objective in channels:
            model = zoo.efficientnet_lite0()
            start = time.perf_counter()
            render(model, objective, size, args.batch, (args.reach,), args.design, args.seed)
            rows.append([objective, args.reach, f"{time.perf_counter() - start:.2f}"])
        print(format_table(["channel", "steps", "s (call, fresh model)"], rows))
        print(f"machine at end: {machine()}")
        return
    for objective in channels:
        images, m = measure(objective, size, args.batch, steps, args.design, args.seed, args.every)
        grids.append(images[-1])
        rows.append(
            [
                objective,
                f"{m['final']:.4g}",
                m["reached"],
                f"{m['quality_seconds']:.1f}",
                f"{m['curve_seconds']:.1f}",
            ]
        )
        print(f"  {objective} curve: " + " ".join(f"{a:.3g}" for a in m["curve"]), flush=True)
    print()
    print(
        f"efficientnet_lite0, render_vis, design {args.design!r}, {size} px, batch {args.batch}, "
        f"seed {args.seed}; activation: the channel's mean over positions and images"
    )
    headers = [
        "channel",
        f"activation at {steps}",
        f"steps to {QUALITY:g} of it",
        "s to reach (call, fresh model)",
        f"s for {steps} steps (call)",
    ]
    print(format_table(headers, rows))
    if args.grid:
        from samplevis import io

        io.save_grid(args.grid, np.concatenate(grids), ncols=args.batch)
        print(f"images: {args.grid} (a row per channel)")
    print(f"machine at end: {machine()}")


if __name__ == "__main__":
    main(sys.argv[1:])
