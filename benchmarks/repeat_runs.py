"""Whether a photo run repeats, bit for bit, after other runs in the same process, at a user's
scale: the check of tests/test_repeatable.py on the built-in model and a folder of photos.

    python benchmarks/repeat_runs.py --photos DIR --unit logits:498 --other logits:945 --top 150
    python benchmarks/repeat_runs.py --photos DIR --unit two-kind --other logits:945 --top 60
    python benchmarks/repeat_runs.py --quick      # a smoke run: a few photos and steps, the
                                                  # same photo run twice in one process

A fresh process ranks the folder's photos for `--unit` (`samplevis.dataset_examples(top=TOP)`)
and renders from them (`samplevis.render(hmc_opts=dict(init=examples, num_results=4,
num_burnin_steps=10), seed=SEED)`), as a notebook's first cell would. This process then makes
other runs on one model object (the photo run of `--other` into its own folder, and a `render`
without photos of `--search-unit`) before the same photo run of `--unit`. It prints a row per
run: its facets' kinds and heights, which facets have chains (are sampled) and photos beside
them, and whether the ranked values, the facets' pixels and the draws equal the fresh
process's bit for bit (else the largest difference); it exits with status 1 when they do not. `--unit two-kind` is the seed's case of
benchmarks/natural_facets.py: a unit answering to two kinds of photos, the weaker at 0.6.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from photo_facets import QUICK_UNIT

from common import QUICK_SIZE, command_line, format_table, machine

PHOTO_OPTS = dict(num_results=4, num_burnin_steps=10)
SEARCH_UNIT = "block5c_expand_activation:100"
SEARCH_OPTS = dict(num_results=2, num_burnin_steps=4)
# --quick: photo_facets.py's unit of an early layer and its images' side, a few photos and
# steps, no polish
QUICK_OPTS = dict(
    num_chains=2,
    num_results=1,
    num_burnin_steps=2,
    photo_clusters=2,
    photo_steps=4,
    polish_steps=0,
    search_rounds=0,
)


def unit_of(name: str):
    """A LAYER:CHANNEL string as it is, or the two-kind objective of natural_facets.py."""
    from natural_facets import two_kind_unit

    return two_kind_unit() if name == "two-kind" else name


def photo_run(
    model, unit: str, photos: Path, top: int, out: Path, opts: dict, seed: int, size: int | None
) -> dict:
    """dataset_examples of `unit` over `photos` into `out`, then render from them (images of
    `size` px; None: render's default): the arrays compared ("ranked", "facets", "draws") and,
    under "facets_seen", what each facet is."""
    import samplevis
    from samplevis import param

    objective = unit_of(unit)
    examples = samplevis.dataset_examples(
        model, objective, images=photos, top=top, out=out, progress=False
    )
    image = None if size is None else param.image(size, batch=opts["num_chains"])
    result = samplevis.render(
        model,
        objective,
        hmc_opts=dict(opts, init=examples),
        param_f=image,
        seed=seed,
        progress=False,
    )
    ranked = [value for _, value, _ in examples.ranked(0)]  # the one unit ranked
    seen = [
        dict(
            kind=f.kind_name or str(f.kind),
            height=float(f.height),
            sampled=bool(f.chains),
            photos=0 if f.examples is None else len(f.examples),
        )
        for f in result.facets
    ]
    arrays = {
        "ranked": np.asarray(ranked, np.float64),
        "facets": np.stack([np.asarray(f.image) for f in result.facets]),
        "draws": np.asarray(result.images),
    }
    return dict(arrays, facets_seen=seen)


def save(run: dict, folder: Path) -> None:
    np.savez(folder / "run.npz", **{k: v for k, v in run.items() if k != "facets_seen"})
    (folder / "facets.json").write_text(json.dumps(run["facets_seen"]))


def load(folder: Path) -> dict:
    with np.load(folder / "run.npz") as saved:
        run = dict(saved)
    run["facets_seen"] = json.loads((folder / "facets.json").read_text())
    return run


def difference(fresh: dict, again: dict) -> str:
    """'equal' where every array is the fresh process's bit for bit, else what differs."""
    differing = []
    for name in ("ranked", "facets", "draws"):
        a, b = fresh[name], again[name]
        if a.shape != b.shape:
            differing.append(f"{name} shape {a.shape} against {b.shape}")
        elif not np.array_equal(a, b):
            differing.append(f"{name} by up to {np.max(np.abs(a - b)):.3g}")
    return "equal" if not differing else "; ".join(differing)


def row(name: str, run: dict, compared: str, seconds: float) -> list[str]:
    """A photo run's row of the table."""
    seen = run["facets_seen"]
    kinds = sorted({f["kind"] for f in seen})

    def of(kind: str) -> list[dict]:
        return [f for f in seen if f["kind"] == kind]

    return [
        name,
        str(len(seen)),
        "; ".join(f"{k}: " + ", ".join(f"{f['height']:.2f}" for f in of(k)) for k in kinds),
        "; ".join(f"{k}: {sum(f['sampled'] for f in of(k))}" for k in kinds),
        str(sum(f["photos"] > 0 for f in seen)),
        compared,
        f"{seconds:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, help="a folder of photos (default: --quick's)")
    parser.add_argument("--unit", default="two-kind", help="LAYER:CHANNEL or 'two-kind'")
    parser.add_argument("--other", default="logits:945", help="the other photo run's unit")
    parser.add_argument("--search-unit", default=SEARCH_UNIT, help="the run without photos")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a few photos and steps")
    parser.add_argument("--fresh", type=Path, help=argparse.SUPPRESS)  # the fresh process's run
    args = parser.parse_args()
    opts = dict(PHOTO_OPTS, **(QUICK_OPTS if args.quick else {}))
    if args.quick:
        args.unit = QUICK_UNIT
    if args.photos is None and not args.quick:
        parser.error("--photos DIR is needed without --quick")

    import samplevis

    if args.fresh is not None:
        model = samplevis.zoo.efficientnet_lite0()
        size = QUICK_SIZE if args.quick else None
        run = photo_run(
            model, args.unit, args.photos, args.top, args.fresh / "ex", opts, args.seed, size
        )
        save(run, args.fresh)
        return

    with tempfile.TemporaryDirectory(prefix="repeat_runs_") as folder:
        compared = compare(args, opts, Path(folder))
    if compared != "equal":
        sys.exit(f"the run after the others differs from the fresh process's: {compared}")


def compare(args: argparse.Namespace, opts: dict, work: Path) -> str:
    """The fresh process's run, the other runs here, the same run again; print the table.
    Returns "equal" where the last run's arrays are the fresh process's bit for bit, else what
    differs."""
    import samplevis

    if args.photos is None:
        from natural_facets import quick_photos

        args.photos = quick_photos(work / "photos")
    fresh_folder = work / "fresh"
    fresh_folder.mkdir()
    size = QUICK_SIZE if args.quick else None
    start = time.perf_counter()
    model = samplevis.zoo.efficientnet_lite0()
    if args.quick:  # a smoke run: its "fresh" run first in this process, which ran others before
        first = photo_run(
            model, args.unit, args.photos, args.top, work / "ex", opts, args.seed, size
        )
        save(first, fresh_folder)
    else:
        fresh_run = ["--unit", args.unit, "--top", str(args.top), "--seed", str(args.seed)]
        fresh_run += ["--photos", str(args.photos), "--fresh", str(fresh_folder)]
        subprocess.run([sys.executable, os.path.abspath(__file__), *fresh_run], check=True)
    fresh = load(fresh_folder)
    first_name = f"{args.unit}, {'first in this process' if args.quick else 'fresh process'}"
    rows = [row(first_name, fresh, "-", time.perf_counter() - start)]
    print(" | ".join(rows[-1]), flush=True)

    if not args.quick:  # a smoke run: the same photo run twice, nothing between
        start = time.perf_counter()
        other = photo_run(
            model, args.other, args.photos, args.top, work / "ex_other", opts, args.seed, size
        )
        rows.append(row(f"{args.other}, first here", other, "-", time.perf_counter() - start))
        print(" | ".join(rows[-1]), flush=True)
        start = time.perf_counter()
        render = dict(hmc_opts=SEARCH_OPTS, seed=args.seed, progress=False)
        samplevis.render(model, args.search_unit, **render)
        took = f"{time.perf_counter() - start:.0f}"
        rows.append([f"{args.search_unit}, no photos", *["-"] * 5, took])
    start = time.perf_counter()
    again = photo_run(
        model, args.unit, args.photos, args.top, work / "ex_again", opts, args.seed, size
    )
    name = f"{args.unit}, {'again' if args.quick else 'after them'}"
    compared = difference(fresh, again)
    rows.append(row(name, again, compared, time.perf_counter() - start))
    headers = [
        "run",
        "facets",
        "heights by kind",
        "sampled by kind",
        "with photos",
        "against the fresh process",
        "s",
    ]
    print()
    print(f"photos {args.photos}, top {args.top}, seed {args.seed}")
    print(format_table(headers, rows))
    print(command_line())
    print(machine())
    return compared


if __name__ == "__main__":
    main()
