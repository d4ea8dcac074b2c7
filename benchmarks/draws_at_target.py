"""Whether `render`'s draws come from the density it states: each chain at its target share and
stationary, and a log-mass wherever a chain starts at a mode.

    python benchmarks/draws_at_target.py                          # the README's unit, 40 draws
    python benchmarks/draws_at_target.py --photos PEPPERS --unit logits:945   # the photo route
    python benchmarks/draws_at_target.py --hmc-opts '{"num_burnin_steps": 80}' --seeds 0 1 2
    python benchmarks/draws_at_target.py --quick                  # every code path in a minute

Each run is one `render` call as a user makes it (default options but `num_results`, the facet
search or, with --photos, the folder's top photos ranked by `dataset_examples` and clustered),
in this process. Per chain it prints:

  asked, kept   the share of the start's gain over prior images asked (target_ratio) and kept
                by the draws                                          target: within 0.05
  rhat          split R-hat of the activation over the draws (TFP's), and its limit for a
                settled chain as autocorrelated (`Diagnostics.rhat_limits`)
  trend z       the draws' activation regressed on the draw's index: slope over its standard
                error (`Diagnostics.trend`), and its limit (`trend_limits`)
  named         whether the run's own tests name the chain as not from its density (R-hat or
                trend over its limit, divergences, low E-BFMI)            target: none
  ess           effective sample size of the activation (ArviZ's bulk where it computed it)
  log-mass      the chain's facet's log-mass and its error, or "refused" where no mode was
                reached                       target: every sampled facet's, or none printed

and per seed the pooled test (the chains' trends summed over their settled spread, and its
limit; target: within it) and the steady drift each chain's tests catch 4 times in 5
(`Diagnostics.caught`, `mcmc/power.py`),

and the seconds of each phase. `--grid PREFIX` saves PREFIX_seedS.png: a row per chain, its
start then every 4th draw, to look at. `--reuse-starts DIR` keeps each seed's optimized starts
(or photo facets), facet search and polish in DIR (pickles, made by the first run) and reads
them in later runs, so that runs of the same unit, photos and seed differ only in their warmup
(designs of T and the mass side by side: docs/sampling_designs.md, "T"); a folder per unit and
folder of photos.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

from samplevis.sampling.mcmc import power
from samplevis.sampling.report.result import SampleResult
from samplevis.sampling.report.run import TARGET_TOLERANCE as RATIO_TOLERANCE

from common import QUICK_SIZE, command_line, format_table, machine

README_UNIT = "block6a_expand_activation:301"  # the README's first command's unit
QUICK_UNIT = "block3a_expand_activation:20"  # --quick: an early layer, the network run up to it
DRAWS = 40  # the fewest draws on which split R-hat tells a drifting chain (docs/sampling.md)
QUICK_OPTS = dict(
    num_chains=2,  # two chains, two log-masses to compare, at half the work of the default 4
    num_results=4,
    num_burnin_steps=10,
    optimize_steps=16,
    polish_steps=16,
    search_rounds=1,
    block_steps=5,
    photo_steps=16,
    photo_clusters=2,
)


def reuse_starts(folder: str, unit: str, seed_of: dict) -> None:
    """Make render's starts, facet search and polish read their results from `folder` when a
    run of the same unit and seed (`seed_of["seed"]`, set per run) made them, else make and
    keep them there."""
    import pickle

    from samplevis.sampling.phases import facet_starts
    from samplevis.sampling.starts import polish

    os.makedirs(folder, exist_ok=True)

    def kept(module: object, name: str) -> None:
        made = getattr(module, name)

        def read_or_make(*args, **kwargs):
            path = os.path.join(folder, f"{unit.replace(':', '_')}_{name}_{seed_of['seed']}.pkl")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    return pickle.load(f)
            out = made(*args, **kwargs)
            with open(path, "wb") as f:
                pickle.dump(out, f)
            return out

        setattr(module, name, read_or_make)

    kept(facet_starts, "optimized_starts")
    kept(facet_starts, "photo_facet_search")
    kept(facet_starts, "facet_search")
    kept(polish, "polish")


def one_run(
    model, unit: str, options: dict, seed: int, init: object, size: int | None = None
) -> tuple[SampleResult, float]:
    """One `render` and its seconds; its images `size` px (or render's default) where no `init`
    gives them."""
    import samplevis
    from samplevis import param

    opts = dict(options)
    param_f = None
    if init is not None:
        opts["init"] = init
    elif size is not None:
        param_f = param.image(size, batch=opts.get("num_chains"))
    start = time.perf_counter()
    result = samplevis.render(
        model, unit, hmc_opts=opts, seed=seed, progress=False, param_f=param_f
    )
    return result, time.perf_counter() - start


def parse_args() -> argparse.Namespace:
    """The flags."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unit", default=None, help=f"LAYER:CHANNEL (default {README_UNIT})")
    parser.add_argument("--photos", default=None, help="a folder of photos: the photo route")
    parser.add_argument("--top", type=int, default=150, help="photos ranked for the unit")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--draws", type=int, default=DRAWS)
    parser.add_argument("--hmc-opts", default="{}", help="JSON of further hmc_opts")
    parser.add_argument("--grid", default=None, help="save PREFIX_seedS.png grids")
    parser.add_argument(
        "--reuse-starts", default=None, help="a folder keeping each seed's starts (see above)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run; figures mean nothing")
    return parser.parse_args()


def chain_rows(result: SampleResult, seed: int, met: dict[str, int]) -> list[list]:
    """A row per chain of one run: the share asked and kept, R-hat and the trend with their
    limits, whether the run named it, its ESS and log-mass; `met` counts the targets met."""
    d = result.diagnostics
    asked = result.options.target_ratio
    kept = np.asarray(result.gain_ratios)
    nan = np.full(len(kept), np.nan)
    rhat = np.asarray(d.rhat) if d is not None else nan
    rhat_limits = np.asarray(d.rhat_limits) if d is not None else nan
    trend = np.asarray(d.trend) if d is not None and len(d.trend) else nan
    trend_limits = np.asarray(d.trend_limits) if d is not None and len(d.trend) else nan
    bulk = np.asarray(d.ess_bulk) if d is not None else nan
    ess = np.where(np.isfinite(bulk), bulk, np.asarray(d.ess)) if d is not None else nan
    named = set(result.chains_off_target)
    masses, errors = np.asarray(result.log_masses), np.asarray(result.log_mass_errors)
    sampled = sorted({c for f in result.facets for c in f.chains[:1]}) or range(len(kept))
    measured = [c for c in sampled if np.isfinite(masses[c])]
    met["masses"] += len(measured) in (0, len(sampled))
    met["runs"] += 1
    rows = []
    for c in range(len(kept)):
        ok_share = asked is not None and abs(kept[c] - asked) <= RATIO_TOLERANCE
        met["share"] += ok_share
        met["passed"] += c not in named
        met["chains"] += 1
        mass = f"{masses[c]:.1f} ± {errors[c]:.1f}" if np.isfinite(masses[c]) else "refused"
        rows.append(
            [
                seed,
                c,
                f"{asked:.2f}" if asked is not None else "-",
                f"{kept[c]:.3f}",
                f"{rhat[c]:.3f} ({rhat_limits[c]:.2f})",
                f"{trend[c]:+.2f} ({trend_limits[c]:.1f})",
                "named" if c in named else "-",
                f"{ess[c]:.1f}",
                mass,
            ]
        )
    return rows


def print_run(result: SampleResult, seed: int, seconds: float, grid: str | None) -> None:
    """One run's seconds by phase, its facets, its pooled trend and power, and its grid saved."""
    from samplevis import io

    d = result.diagnostics
    phases = ", ".join(f"{k} {v:.0f}" for k, v in result.seconds.items())
    print(f"seed {seed}: {seconds:.0f} s ({phases}); {result.facets_line()}")
    if d is not None:
        caught = ", ".join(f"{k:.1f}" for k in d.caught)
        print(
            f"seed {seed}: trends summed {d.pooled_trend:+.2f} over their settled spread "
            f"(limit {d.pooled_limit:.2f}{', named' if d.pooled_drift else ''}); a steady "
            f"drift each chain's tests catch {power.POWER:.0%} of the time: {caught} sd"
        )
    if grid:
        images = np.asarray(result.images)
        rows_of = [
            np.concatenate([result.init_images[c : c + 1], images[::4, c]])
            for c in range(images.shape[1])
        ]
        path = f"{grid}_seed{seed}.png"
        io.save_grid(path, np.concatenate(rows_of), ncols=len(rows_of[0]))
        print(f"saved {path}: a row per chain, its start then every 4th draw")


def main() -> None:
    args = parse_args()

    from samplevis import dataset_examples, zoo

    print(command_line())
    print(machine())
    unit = args.unit or (QUICK_UNIT if args.quick else README_UNIT)
    options = {"num_results": args.draws, **(QUICK_OPTS if args.quick else {})}
    options.update(json.loads(args.hmc_opts))
    model = zoo.efficientnet_lite0()
    init = None
    if args.photos:
        out = tempfile.mkdtemp(prefix="draws_at_target_")
        top = 4 if args.quick else args.top
        start = time.perf_counter()
        init = dataset_examples(model, unit, images=args.photos, top=top, out=out)
        print(f"ranked the photos for {unit} in {time.perf_counter() - start:.0f} s")
    rows = []
    met = {"share": 0, "passed": 0, "chains": 0, "masses": 0, "runs": 0}
    seed_of = {"seed": None}
    if args.reuse_starts:
        reuse_starts(args.reuse_starts, unit, seed_of)
    for seed in args.seeds:
        seed_of["seed"] = seed
        size = QUICK_SIZE if args.quick else None
        result, seconds = one_run(model, unit, options, seed, init, size)
        rows += chain_rows(result, seed, met)
        print_run(result, seed, seconds, args.grid)
    print(
        format_table(
            [
                "seed",
                "chain",
                "asked",
                "kept",
                "rhat (limit)",
                "trend z (limit)",
                "named",
                "ess",
                "log-mass",
            ],
            rows,
        )
    )
    chains = met["chains"]
    print(
        f"targets: kept within {RATIO_TOLERANCE} of asked {met['share']} of {chains} chains; "
        f"from their density by the run's tests {met['passed']} of {chains}; log-masses for "
        f"every sampled facet or none in {met['masses']} of {met['runs']} runs"
    )


if __name__ == "__main__":
    main()
