"""Cost of one HMC leapfrog step against one render_vis step, on the built-in EfficientNet-Lite0.

    python benchmarks/sampling_speed.py            # about 2 minutes on 2 cores
    python benchmarks/sampling_speed.py --quick    # smoke run: 2 chains, fewer steps, K = 1, 64 px

A leapfrog step evaluates the target's gradient once: the objective of every chain's image under K
fixed transforms, so the network sees C·K images. A render_vis step sees its batch once. The table
compares a leapfrog step with a render_vis step at the same image size and the same number of
images through the network (C·K), and with render_vis at batch C (aim: at most 1.2x when K = 1).

The leapfrog cost is the slope of wall time in the number of kept samples (two runs that differ
only in `num_results`), so tracing, the starts and the set-up cancel out. `--quick` measures a
unit of an early layer instead, the network run up to it only.
"""

from __future__ import annotations

import argparse
import time

import samplevis
from samplevis import objectives, param, zoo

from common import QUICK_SIZE, command_line, format_table, machine

SIZE = 128  # Lucid's default image size
OBJECTIVE = objectives.channel("block6a_expand_activation", 301)
# --quick: a unit of an early layer, the network run up to it only
QUICK_OBJECTIVE = objectives.channel("block3a_expand_activation", 20)


def render_step_seconds(model, objective, batch: int, steps: int, size: int = SIZE) -> float:
    """Seconds per render_vis step at `batch` (after a warm-up call that compiles)."""

    def run() -> list:
        return samplevis.render_vis(
            model,
            objective,
            param_f=lambda: param.image(size, batch=batch),
            thresholds=(steps,),
            seed=0,
            progress=False,
            relu_gradient_override=False,
        )

    run()
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / steps


def sampling_seconds(
    model, objective, chains: int, transforms: int, leapfrog: int, results: int, size: int = SIZE
) -> float:
    """Wall seconds of one `samplevis.render` run from prior starts, fixed step size."""
    opts = dict(
        num_chains=chains,
        num_transforms=transforms,
        num_leapfrog_steps=leapfrog,
        num_results=results,
        num_burnin_steps=0,
        num_steps_between_results=0,
        adapt_step_size=False,
        init="prior",
        temperature=1e-3,
        step_size=1e-3,
        block_steps=results,
    )
    start = time.perf_counter()
    samplevis.render(
        model,
        objective,
        hmc_opts=opts,
        seed=0,
        progress=False,
        param_f=lambda: param.image(size, batch=chains),
    )
    return time.perf_counter() - start


def leapfrog_step_seconds(
    model, objective, chains: int, transforms: int, leapfrog: int, extra: int, size: int = SIZE
) -> float:
    """Seconds per leapfrog step: the slope of run time in the number of steps."""
    short = sampling_seconds(model, objective, chains, transforms, leapfrog, 2, size)
    long = sampling_seconds(model, objective, chains, transforms, leapfrog, 2 + extra, size)
    return (long - short) / (extra * leapfrog)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 2 chains, fewer steps, K = 1 only, 64 px, a unit of an early layer",
    )
    args = parser.parse_args()
    # render_vis steps; extra kept samples of the longer sampling run; chains; leapfrog steps
    steps, extra, chains, leapfrog = (4, 2, 2, 2) if args.quick else (48, 12, 4, 8)
    objective = QUICK_OBJECTIVE if args.quick else OBJECTIVE
    size = QUICK_SIZE if args.quick else SIZE
    model = zoo.efficientnet_lite0()
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    print(
        f"EfficientNet-Lite0, {size} px images, objective "
        f"{objective.name}, {chains} chains, {leapfrog} leapfrog steps per HMC step"
    )
    ks = (1,) if args.quick else (1, 2, 3)
    render = {
        b: render_step_seconds(model, objective, b, steps, size)
        for b in sorted({chains * k for k in ks})
    }
    rows = []
    for k in ks:
        leap = leapfrog_step_seconds(model, objective, chains, k, leapfrog, extra, size)
        same_images = render[chains * k]
        rows.append(
            [
                k,
                chains * k,
                f"{1000 * leap:.0f}",
                f"{1000 * same_images:.0f}",
                f"{leap / same_images:.2f}",
                f"{1000 * render[chains]:.0f}",
                f"{leap / render[chains]:.2f}",
            ]
        )
    print(
        format_table(
            [
                "K transforms",
                "images/eval",
                "leapfrog ms",
                "render_vis ms (same images)",
                "ratio",
                f"render_vis ms (batch {chains})",
                "ratio",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
