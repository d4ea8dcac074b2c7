"""The facet search's targets as a user meets them: a default `render` of a two-facet unit.

A two-facet unit (facet_search.py) is max(a_A / m_A, a_B / m_B) over two facets of one layer,
B the facet fresh seeds miss. For each seed this runs `samplevis.render(model, unit,
hmc_opts=dict(num_results=N), seed=seed)` with every other option at its default and prints
the facets it kept (which of A and B each optimum excites more, its height), whether one of
them is B at >= 0.85, and the share of the samples in B (target: B found at >= 0.85 in each of
three seeds; goal: 25-75 % of the samples there), with the run's seconds.

    python benchmarks/facet_targets.py                               # block6a 50 / 301, seeds 0 1 2
    python benchmarks/facet_targets.py --pairs block6a block4c --seeds 0 --grid out/facets
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

from common import command_line, format_table, machine
from facet_search import PAIRS, _values, _weights, medians, unit_objective

HEIGHT = 0.85  # the missed facet counts as found from this height
PAIR = "block6a"
# --quick without --pairs: the pair of the earliest layer, the network run up to it only
QUICK_PAIR = "block3b"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pairs",
        nargs="+",
        choices=list(PAIRS),
        help=f"default {PAIR} (--quick: {QUICK_PAIR})",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--num-results", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("out/facet_search"))
    parser.add_argument("--grid", type=Path, help="save each run's facets and samples here")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    args = parser.parse_args()
    args.pairs = args.pairs or [QUICK_PAIR if args.quick else PAIR]

    import samplevis
    from samplevis import io

    model = samplevis.zoo.efficientnet_lite0()
    print(f"# {command_line()}\n# {machine()}")
    rows = []
    for name in args.pairs:
        pair = PAIRS[name]
        channels = model.keras_model.get_layer(pair.layer).output.shape[-1]
        w = np.stack([_weights(pair.facet_a, channels), _weights(pair.facet_b, channels)])
        if args.quick:
            m = np.ones(2, np.float32)
            hmc_opts = dict(num_results=2, num_burnin_steps=4, optimize_steps=8, num_chains=2)
        else:
            m = medians(model, pair, args.out / "medians.json")
            hmc_opts = dict(num_results=args.num_results)
        unit = unit_objective(pair.layer, w, m)
        for seed in args.seeds:
            start = time.perf_counter()
            result = samplevis.render(model, unit, hmc_opts=hmc_opts, seed=seed, progress=False)
            seconds = time.perf_counter() - start
            facets = []
            for f in result.facets:
                v = _values(model, pair, w, m, f.image[None].astype(np.float32))[0]
                facets.append(f"{'AB'[int(np.argmax(v))]} {v.max():.2f} ({f.found})")
            found_b = any(f.startswith("B") and float(f.split()[1]) >= HEIGHT for f in facets)
            n, c = result.images.shape[:2]
            values = _values(
                model, pair, w, m, result.images.reshape(n * c, *result.images.shape[2:])
            )
            share_b = float(np.mean(values[:, 1] > values[:, 0]))
            rows.append(
                [
                    name,
                    seed,
                    "; ".join(facets),
                    "yes" if found_b else "no",
                    f"{share_b:.2f}",
                    f"{np.median(values.max(axis=1)):.2f}",
                    f"{seconds:.0f}",
                ]
            )
            print(" | ".join(str(x) for x in rows[-1]), flush=True)
            if args.grid is not None:
                io.save_png(args.grid / f"{name}_seed{seed}.png", result.facet_grid(samples=8))
    print()
    headers = [
        "pair",
        "seed",
        "facets kept (A/B, height, found)",
        f"B at >= {HEIGHT}",
        "samples in B",
        "median sample height",
        "seconds",
    ]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
