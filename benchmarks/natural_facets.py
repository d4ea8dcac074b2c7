"""Natural facets: photo climbs whose gain survives a blur, side by side.

On the built-in model the photo route's facets (`render` from `dataset_examples`' result) look
like their best photo overlaid with fine coloured noise, and most of their height comes from it:
natural photos keep about 0.7 of their value under a 1 px Gaussian blur, the facets about 0.47
(the blur measure, docs/trust.md). For a folder of photos and a unit, this ranks the photos once
(`samplevis.dataset_examples(top=TOP)`), then for each design renders the photo route
(`samplevis.render(hmc_opts=dict(init=examples, photo_clusters=K, num_results=4,
num_burnin_steps=10, ...))`) and prints one row: its facets, their median activation and
height (the share of the best facet's), how many pass Geirhos et al.'s processing check (>= 0.9
of the layers, `Facet.processing`) and the blur measure (>= 0.9 of their photos' median share,
`Facet.blur`), the facets' median share kept under the blur against their photos', the same
counts for the draws the run checked, the measures no climb applies (`Facet.natural`: how many
facets pass the half-resolution low-pass and the colour measure, how many are copies of a
photo, their median coarse correlation with their nearest photo against the photos' own with
each other, how many draws pass all three), and the render's wall seconds. Each facet's optimum
is written to OUT/UNIT/DESIGN/seed_S/facet_K.png. Under each row: every facet's kind,
activation and checks in words, and the run's line on the processing check's bar: per kind,
its facets passing and its own photos passing, each checked as a facet is
(`Facet.photos_processing`).

Designs (`DESIGNS`; hmc_opts beside `init`):

- mfv: the default, the cluster's mean image climbed in the pixels' parameterization through
  `photo_transforms="blur"` (the transforms at twice their reach and a random blur of 0, 0.5 or
  1 px) with Nguyen et al.'s regularizers between steps and the colourfulness held at the
  kind's photos' (`photo_climb="mfv"`);
- phase: the default before it, the best photo's phase climbed through Lucid's standard
  transforms;
- blur: the same phase climb through `photo_transforms="blur"`;
- mean: the mean image's pixel climb through `photo_transforms="blur"` without the
  regularizers (`photo_climb="pixels"`).

A design of the phase of what a 1 px blur removes held at the photo's was measured beside
them and removed (docs/sampling_designs.md, "Natural facets: what the blur takes"); the four
above on MFV's photos: "Facets that show their cluster".

    python benchmarks/natural_facets.py --photos PHOTOS --out out/natural_facets
    python benchmarks/natural_facets.py --photos BOTH --unit logits:498 --top 150 --clusters 10 --designs mfv phase mean blur
    python benchmarks/natural_facets.py --photos DIR --unit logits:285 --designs phase blur --seeds 0 1
    python benchmarks/natural_facets.py --quick
    python benchmarks/natural_facets.py --photos DIR --designs blur --hmc-opts '{"num_burnin_steps": 50}'

`--hmc-opts` takes further hmc_opts as JSON, applied after the design's (e.g. the chains' burn-in
and draws as `render`'s defaults make them, where the rows above use 10 and 4).

`--unit two-kind` is max(l285 / 8.6, 0.6 * l967 / 6.3) (Egyptian cat, and espresso at weight
0.6; 8.6 and 6.3 the mean logits of the 23 crops each of scikit-image's chelsea and coffee at
128 px on the built-in model), as benchmarks/photo_facets.py's `mixed_unit`; `--unit
mfv-two-kind` is that `mixed_unit(0.6)` itself, max(l945 / 33.6, 0.6 * l498 / 37.9) (bell pepper,
and movie theater at 0.6), for a folder of MFV's photos of both classes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from photo_facets import QUICK_UNIT, logit_pair, mixed_unit

from common import QUICK_SIZE, command_line, format_table, machine

DESIGNS = {
    "mfv": {},  # the default: dict(photo_start="mean", photo_climb="mfv", photo_transforms="blur")
    "phase": dict(photo_start="best", photo_climb="phase", photo_transforms="standard"),
    "blur": dict(photo_start="best", photo_climb="phase", photo_transforms="blur"),
    "mean": dict(photo_start="mean", photo_climb="pixels", photo_transforms="blur"),
}
# --quick: photo_facets.py's unit of an early layer and its images' side, a few photos and steps
QUICK_OPTS = dict(photo_steps=8, num_results=2, num_burnin_steps=2, num_chains=2, polish_steps=8)


def two_kind_unit(weight: float = 0.6):
    """max(l285 / 8.6, weight * l967 / 6.3): Egyptian cat, and espresso weighed down."""
    return logit_pair((285, 8.6), (967, 6.3), weight)


def counted(flags: list[bool]) -> str:
    return f"{sum(flags)} of {len(flags)}" if flags else "-"


def median(values: list[float]) -> str:
    finite = [v for v in values if np.isfinite(v)]
    return f"{np.median(finite):.2f}" if finite else "-"


def design_row(name: str, seed: int, result, seconds: float) -> list[str]:
    """One design's row from a run's facets (`Facet.processing`, `Facet.blur`,
    `Facet.natural`: image 0 the optimum, the rest its draws)."""
    facets = result.facets
    checked = [f.processing for f in facets if f.processing is not None]
    blurred = [f.blur for f in facets if f.blur is not None]
    natural = [f.natural for f in facets if f.natural is not None]
    return [
        name,
        str(seed),
        str(len(facets)),
        median([f.activation for f in facets]),
        median([f.height for f in facets]),
        counted([bool(c.passed[0]) for c in checked]),
        counted([bool(b.passed[0]) for b in blurred]),
        f"{median([float(b.kept[0]) for b in blurred])} / {median([b.photos_kept for b in blurred])}",
        counted([bool(p) for c in checked for p in c.passed[1:]]),
        counted([bool(p) for b in blurred for p in b.passed[1:]]),
        median([float(k) for b in blurred for k in b.kept[1:]]),
        counted([bool(n.low_pass_passed[0]) for n in natural]),
        counted([bool(n.colour_passed[0]) for n in natural]),
        counted([bool(n.copies[0]) for n in natural]),
        f"{median([float(n.nearest[0]) for n in natural])} / "
        f"{median([n.photos_nearest for n in natural])}",
        counted([bool(p) for n in natural for p in n.passed[1:]]),
        f"{seconds:.0f}",
    ]


def facet_lines(result) -> list[str]:
    """Each facet's kind, activation and where the checks pass it, in words."""
    lines = []
    for k, f in enumerate(result.facets):
        said = [f"facet {k} (kind {f.kind}, {f.kind_name or 'unnamed'}): {f.activation:.3g}"]
        if f.processing is not None:
            draws = f.processing.passed[1:]
            said.append(
                f"processed like its photos {f.processing.words(0)}, "
                f"draws {int(draws.sum())} of {len(draws)}"
            )
        if f.blur is not None:
            said.append(f.blur.words(0))
        if f.natural is not None:
            said.append(f.natural.words(0))
        lines.append("; ".join(said))
    if result.clusters_below_floor:  # failed climbs: under the floor, or into another kind
        dropped = ", ".join(f"cluster {c} at {h:.2f}" for c, h in result.clusters_below_floor)
        lines.append(f"climbs dropped (height as a share of the best): {dropped}")
    return lines


def save_facets(result, folder: Path) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for k, facet in enumerate(result.facets):
        pixels = np.clip(np.asarray(facet.image) * 255 + 0.5, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"facet_{k}.png")


def parse_args() -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser (for its errors) and the flags, the designs checked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, help="a folder of photos (default: --quick's)")
    parser.add_argument(
        "--unit", default="logits:285", help="LAYER:CHANNEL, 'two-kind' or 'mfv-two-kind'"
    )
    parser.add_argument("--designs", nargs="+", default=["mfv", "phase"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--clusters", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("out/natural_facets"))
    parser.add_argument("--quick", action="store_true", help="a few photos and steps")
    parser.add_argument("--hmc-opts", default="{}", help="JSON of further hmc_opts")
    args = parser.parse_args()
    unknown = sorted(set(args.designs) - set(DESIGNS))
    if unknown:
        parser.error(f"unknown designs {unknown}; choose from {sorted(DESIGNS)}")
    return parser, args


def design_rows(model, unit, examples, args: argparse.Namespace, out: Path) -> list[list[str]]:
    """A row per seed and design: its run from the ranked photos `examples`, printed as it comes
    with its facets' lines and the processing bar, its facets saved under `out`."""
    import samplevis
    from samplevis import param
    from samplevis.sampling.report.processing_bar import bar_line

    rows = []
    for seed in args.seeds:
        for name in args.designs:
            opts = dict(init=examples, photo_clusters=args.clusters, num_results=4)
            opts.update(num_burnin_steps=10, **DESIGNS[name])
            opts.update(QUICK_OPTS if args.quick else {})
            opts.update(json.loads(args.hmc_opts))
            image = param.image(QUICK_SIZE, batch=opts["num_chains"]) if args.quick else None
            start = time.perf_counter()
            result = samplevis.render(
                model, unit, hmc_opts=opts, param_f=image, seed=seed, progress=False
            )
            seconds = time.perf_counter() - start
            save_facets(result, out / name / f"seed_{seed}")
            rows.append(design_row(name, seed, result, seconds))
            print(" | ".join(rows[-1]), flush=True)
            for line in facet_lines(result):
                print(f"#   {line}", flush=True)
            print(f"#   {bar_line(result.facets)}", flush=True)
    return rows


def main() -> None:
    parser, args = parse_args()

    import samplevis

    model = samplevis.zoo.efficientnet_lite0()
    units = {"two-kind": two_kind_unit, "mfv-two-kind": lambda: mixed_unit(0.6)}
    unit = units[args.unit]() if args.unit in units else args.unit
    photos = args.photos
    if args.quick:
        unit = QUICK_UNIT if args.unit == "logits:285" else unit
        photos = photos or quick_photos(args.out / "quick_photos")
        args.top, args.clusters = min(args.top, 8), min(args.clusters, 2)
    if photos is None:
        parser.error("--photos DIR is needed without --quick")
    out = args.out / str(args.unit).replace(":", "_")
    shutil.rmtree(out / "examples", ignore_errors=True)
    start = time.perf_counter()
    examples = samplevis.dataset_examples(
        model, unit, images=photos, top=args.top, out=out / "examples", progress=False
    )
    ranked = time.perf_counter() - start
    rows = design_rows(model, unit, examples, args, out)
    headers = [
        "design",
        "seed",
        "facets",
        "median act",
        "median height",
        "facets pass processing",
        "facets pass blur",
        "blur kept: facets / photos",
        "draws pass processing",
        "draws pass blur",
        "draws kept",
        "facets pass half-res",
        "facets pass colour",
        "facets copies",
        "nearest photo: facets / photos",
        "draws pass all three",
        "render s",
    ]
    print()
    print(
        f"unit {getattr(unit, 'name', unit)}, photos {photos}, top {args.top}, "
        f"{args.clusters} clusters, ranked in {ranked:.0f} s"
    )
    print(format_table(headers, rows))
    print(command_line())
    print(machine())


def quick_photos(folder: Path) -> Path:
    """12 crops of scikit-image's chelsea and coffee, 96 px, written to `folder`."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("chelsea", "coffee"):
        image = getattr(data, name)()
        for i in range(6):
            y, x = 20 * i, 30 * i
            Image.fromarray(image[y : y + 200, x : x + 200]).resize((96, 96)).save(
                folder / f"{name}_{i}.png"
            )
    return folder


if __name__ == "__main__":
    main()
