"""Starts optimized together with Lucid's diversity term against independent starts.

`render`'s facets are its starts, so how different the starts are decides how different the
chains' patterns are. For each weight w of `hmc_opts["start_diversity"]` (0: independent seeds,
render's default) it optimizes 4 starts as `render` does (256 steps, seed 0) for
objective - w * diversity(the objective's layer) and prints the starts' mean activation on the
objective alone (as a share of w = 0's), the mean pairwise cosine distance of their pooled
features at `block2b_add` (the pattern share's layer) and at the objective's layer, and how many
of the 4 are visibly distinct from each other.

    PYTHONPATH=benchmarks python benchmarks/experiments/start_diversity.py                        # block6a:301, ~3 min
    PYTHONPATH=benchmarks python benchmarks/experiments/start_diversity.py --objective block3a_expand_activation:20
"""

from __future__ import annotations

import argparse

import numpy as np
from sampling_targets import PATTERN_LAYER, SIZE, pooled, real_activation

import samplevis
from samplevis import objectives, param, zoo
from samplevis.sampling import metrics

from common import command_line, format_table, machine

STEPS = 256  # render's optimize_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objective", default="block6a_expand_activation:301")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 10.0, 100.0, 1000.0])
    args = parser.parse_args()
    print(command_line())
    print(machine(), flush=True)
    model = zoo.efficientnet_lite0()
    obj = objectives.as_objective(args.objective)
    layer = sorted(obj.layers)[0]
    rows, base = [], None
    for weight in args.weights:
        target = obj - weight * objectives.diversity(layer) if weight else obj
        starts = samplevis.render_vis(
            model, target, param.image(SIZE, batch=4), thresholds=(STEPS,), seed=0, progress=False
        )[-1]
        activation = float(np.mean(real_activation(model, obj, starts)))
        base = activation if base is None else base
        own = metrics.pool(model.activations(starts, [layer])[layer])
        rows.append(
            [
                f"{weight:g}",
                f"{activation:.3g} ({activation / base:.2f})",
                f"{metrics.mean_pairwise_cosine_distance(pooled(model, starts)):.3f}",
                f"{metrics.mean_pairwise_cosine_distance(own):.3f}",
                f"{len(metrics.distinct_by_pixels(starts, starts))} of 4",
            ]
        )
        print(f"  weight {weight:g} done", flush=True)
    print(f"{args.objective}, 4 starts, {STEPS} steps, diversity on {layer}")
    print(
        format_table(
            [
                "weight",
                "activation (share of w=0)",
                f"distance at {PATTERN_LAYER}",
                f"distance at {layer}",
                "distinct",
            ],
            rows,
        )
    )
    print(machine())


if __name__ == "__main__":
    main()
