"""The facet search's targets as a user meets them: a default `render` of a two-facet unit.

A two-facet unit (facet_search.py) is max(a_A / m_A, a_B / m_B) over two facets of one layer,
B the facet fresh seeds miss. For each seed this runs `samplevis.render(model, unit,
hmc_opts=dict(num_results=N), seed=seed)` with every other option at its default and prints
the facets it kept (which of A and B each optimum excites more, its height), whether one of
them is B at >= 0.85, and the share of the samples in B (target: B found at >= 0.85 in each of
three seeds; goal: 25-75 % of the samples there), with the run's seconds.

    python benchmarks/facet_targets.py                               # block6a 50 / 301, seeds 0 1 2
    python benchmarks/facet_targets.py --pairs block6a block4c --seeds 0 --grid out/facets
    python benchmarks/facet_targets.py --pairs block4c block5c block6a --seeds 0 --weights B0.7

`--weights B0.7` weighs B down (the unit answers to it "albeit not as much"), `A0.7` the facet
seeds land in: the seed's case, where the target is the weaker facet kept, with its height, in
at least 2 of 3 pairs at 0.7 (B at >= HEIGHT of its own weight).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

from common import command_line, format_table, machine
from facet_search import PAIRS, medians, unit_objective, values_of, weights_of

if TYPE_CHECKING:
    from samplevis.sampling.report.result import SampleResult

HEIGHT = 0.85  # the missed facet counts as found from this height
PAIR = "block6a"
# --quick without --pairs: the pair of the earliest layer, the network run up to it only
QUICK_PAIR = "block3b"
# --quick: its images' side, the smallest tried at which the search round still keeps B beside A
# (at common.QUICK_SIZE, 64 px, the run keeps one facet)
QUICK_SIDE = 96


def parse_args() -> argparse.Namespace:
    """The flags, the default pair filled in."""
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
    parser.add_argument(
        "--weights",
        nargs="+",
        default=["B1"],
        help="the facets' weights, each run in turn: B0.7 weighs B 0.7, A0.7 weighs A (default B1)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    args = parser.parse_args()
    args.pairs = args.pairs or [QUICK_PAIR if args.quick else PAIR]
    return args


def run_row(
    model, pair, w, m, weights, unit, hmc_opts: dict, seed: int, param_f=None
) -> tuple[list, SampleResult]:
    """One `render` of the pair's unit (its images `param_f`'s; None: render's default): its
    row (but the label) of the facets kept, whether the weaker facet was found, the samples in
    it, their median height and the seconds; and the result."""
    import samplevis

    weaker = "AB"[int(np.argmin(weights))] if weights.min() < 1 else "B"
    start = time.perf_counter()
    result = samplevis.render(
        model, unit, hmc_opts=hmc_opts, param_f=param_f, seed=seed, progress=False
    )
    seconds = time.perf_counter() - start
    facets, heights = [], []
    for f in result.facets:
        v = values_of(model, pair, w, m, f.image[None].astype(np.float32))[0]
        facets.append(f"{'AB'[int(np.argmax(v))]} {f.height:.2f} ({f.found})")
        heights.append(("AB"[int(np.argmax(v))], v.max() / weights[int(np.argmax(v))]))
    # the weaker facet found: at >= HEIGHT of what its weight lets it reach
    found = any(f == weaker and h >= HEIGHT for f, h in heights)
    n, c = result.images.shape[:2]
    values = values_of(model, pair, w, m, result.images.reshape(n * c, *result.images.shape[2:]))
    in_weaker = values[:, 1] > values[:, 0] if weaker == "B" else values[:, 0] >= values[:, 1]
    row = [
        seed,
        "; ".join(facets),
        "yes" if found else "no",
        f"{float(np.mean(in_weaker)):.2f}",
        f"{np.median(values.max(axis=1)):.2f}",
        f"{seconds:.0f}",
    ]
    return row, result


def pair_rows(model, name: str, args: argparse.Namespace) -> list[list]:
    """The rows of pair `name`: a run per weighing and seed, each printed as it comes (its
    kinds' line too) and its grid saved with --grid."""
    from samplevis import io, param

    pair = PAIRS[name]
    channels = model.keras_model.get_layer(pair.layer).output.shape[-1]
    w = np.stack([weights_of(pair.facet_a, channels), weights_of(pair.facet_b, channels)])
    if args.quick:
        medians_ = np.ones(2, np.float32)
        # one round of the search: its deflation round reaches B at the quick pair
        hmc_opts = dict(
            num_results=2, num_burnin_steps=4, optimize_steps=8, num_chains=2, search_rounds=1
        )
        hmc_opts.update(polish_steps=16)  # one block: 8-step climbs leave it 256 to rise
        # images of QUICK_SIDE px, not render's default 128: the same programs on fewer pixels
        param_f = functools.partial(param.image, QUICK_SIDE, batch=hmc_opts["num_chains"])
    else:
        medians_ = medians(model, pair, args.out / "medians.json")
        hmc_opts = dict(num_results=args.num_results)
        param_f = None
    rows = []
    for weighed in args.weights:
        weights = np.ones(2, np.float32)
        weights["AB".index(weighed[0])] = float(weighed[1:])
        m = (medians_ / weights).astype(np.float32)  # s_f a_f / m_f: the weight divides m_f
        unit = unit_objective(pair.layer, w, m)
        label = name if weighed == "B1" else f"{name} {weighed}"
        for seed in args.seeds:
            row, result = run_row(model, pair, w, m, weights, unit, hmc_opts, seed, param_f)
            rows.append([label, *row])
            print(" | ".join(str(x) for x in rows[-1]), flush=True)
            print(f"#   {result.kinds_line() or 'one facet'}", flush=True)
            if args.grid is not None:
                grid = args.grid / f"{label}_seed{seed}.png".replace(" ", "_")
                io.save_png(grid, result.facet_grid(samples=8))
    return rows


def main() -> None:
    args = parse_args()

    import samplevis

    model = samplevis.zoo.efficientnet_lite0()
    print(f"# {command_line()}\n# {machine()}")
    rows = [row for name in args.pairs for row in pair_rows(model, name, args)]
    print()
    headers = [
        "pair",
        "seed",
        "facets kept (A/B, height, found)",
        f"weaker (or B) at >= {HEIGHT} of its weight",
        "samples in it",
        "median sample height",
        "seconds",
    ]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
