"""Facets from photos against Nguyen et al.'s multifaceted visualization (MFV) on its own photos.

MFV's repository (Evolving-AI-Lab/mfv on GitHub, MIT) ships, for two ImageNet classes, 10
k-means clusters of 15 photos each (`mean_images/WNID/K/*.JPEG`) and each cluster's mean image
(`mean_images/WNID/mean_K.jpg`). For each class this prints:

- **MFV on this model**: `render_vis` from each of the 10 mean images (128 px, 256 steps, seed 0),
  the logits of the optima: the baseline.
- **The photo route as a user meets it**: `samplevis sample --objective logits:CLASS --init
  PHOTOS --num-results 10` in a new process, PHOTOS a folder of the 150 photos (the command
  ranks them, clusters them and makes a facet of each cluster); its seconds, model loading
  included, and the logit of each facet's optimum (its PNG).

Targets: at least 5 facets at >= 0.8 of the best MFV optimum, their median logit >= that of the 10
MFV optima, and the command within 4 minutes; colour groups (optima whose mean CIELAB colours lie
>= 15 apart) for both. `--photos DIR --unit LAYER:CHANNEL` runs the route on a unit and folder of
your own, against 10 fresh `render_vis` seeds.

    python benchmarks/photo_facets.py --mfv ../mfv/mean_images --out out/photo_facets
    python benchmarks/photo_facets.py --photos photos/ --unit block6a_expand_activation:301
    python benchmarks/photo_facets.py --mfv ../mfv/mean_images --options --photo-start best
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

from common import command_line, format_table, machine

# MFV's two classes: WordNet id, ImageNet class index (of the 1000), name.
MFV_CLASSES = (("n07720875", 945, "bell pepper"), ("n03032252", 498, "movie theater"))
SIZE, STEPS = 128, 256  # the baseline's render_vis: Lucid's default size, MFV's number of steps
HEIGHT = 0.8  # a facet counts from this share of the best MFV optimum
COLOUR_GAP = 15.0  # CIELAB units between the mean colours of two colour groups
# --quick without --mfv or --photos: a unit of an early layer, the network run up to it only
QUICK_UNIT = "block3a_expand_activation:20"


def colour_groups(images: np.ndarray) -> int:
    """Groups of images [N, H, W, 3] in [0, 1] by mean CIELAB colour: each image, in turn, starts
    a new group unless its mean colour is within COLOUR_GAP of a group's first."""
    from skimage.color import rgb2lab

    firsts: list[np.ndarray] = []
    for image in images:
        mean = rgb2lab(image).reshape(-1, 3).mean(axis=0)
        if all(np.linalg.norm(mean - first) >= COLOUR_GAP for first in firsts):
            firsts.append(mean)
    return len(firsts)


def baseline(
    model, unit: str, starts: np.ndarray | None, seed: int, count: int = 10, steps: int = STEPS
) -> np.ndarray:
    """Optima [N, SIZE, SIZE, 3] of render_vis over `steps` from each start image (None:
    `count` fresh seeds)."""
    import samplevis
    from samplevis import param

    image = param.image(SIZE, batch=count) if starts is None else param.from_image(starts)
    return samplevis.render_vis(
        model, unit, param_f=image, thresholds=(steps,), seed=seed, progress=False
    )[0]


def values(model, unit: str, images: np.ndarray) -> np.ndarray:
    """The unit's value [N] at images [N, H, W, 3] in [0, 1] (no transforms)."""
    from samplevis import objectives

    objective = objectives.as_objective(unit)
    found = model.features(images.astype(np.float32), sorted(objective.layers))
    return np.asarray(objective(found.__getitem__)).reshape(-1)


def photo_route(
    unit: str, photos: Path, out: Path, extra: list[str], seed: int, quick: bool
) -> tuple[float, dict]:
    """Seconds of `samplevis sample --init PHOTOS` in a new process (into `out`, emptied
    first: the photos are ranked anew), and its diagnostics.json; `quick`: in this process,
    which has the network loaded (a smoke run, its seconds mean nothing)."""
    shutil.rmtree(out, ignore_errors=True)
    # the `samplevis` command, run by this Python
    command = [sys.executable, "-m", "samplevis.cli", "sample", "--objective", unit]
    command += ["--init", str(photos)]
    command += ["--num-results", "2" if quick else "10", "--seed", str(seed), "--quiet"]
    command += ["--out", str(out), *extra]
    start = time.perf_counter()
    if quick:
        from samplevis import cli

        status, stderr = cli.main(command[3:]), ""
    else:
        done = subprocess.run(command, capture_output=True, text=True)
        status, stderr = done.returncode, done.stderr
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed ({status}):\n{stderr[-3000:]}")
    return seconds, json.loads((out / "diagnostics.json").read_text())


def quick_photos(folder: Path) -> Path:
    """A folder of scikit-image's photos (no download), for --quick."""
    import skimage.data
    from PIL import Image

    folder.mkdir(parents=True)
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        Image.fromarray(getattr(skimage.data, name)()[..., :3]).save(folder / f"{name}.png")
    return folder


def flat_folder(sources: list[Path], folder: Path) -> Path:
    """`folder` holding links to `sources` (the photos of a class, without its mean images)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        link = folder / f"{source.parent.name}_{source.name}"
        if not link.exists():
            link.symlink_to(source.resolve())
    return folder


def rows_grid(optima: np.ndarray, facets: list[dict], out: Path, baseline_optima: np.ndarray):
    """A picture: the baseline's optima in the first row, then a row per facet: its optimum and
    up to four of its photos (the part its unit saw)."""
    from PIL import Image

    from samplevis import io

    width = max(len(baseline_optima), 5)
    blank = np.ones_like(optima[0])
    tiles = list(baseline_optima) + [blank] * (width - len(baseline_optima))
    for optimum, facet in zip(optima, facets):
        photos = [
            np.asarray(Image.open(out / e["png"]).convert("RGB").resize(optimum.shape[:2][::-1]))
            / 255.0
            for e in (facet["examples"] or [])[:4]
        ]
        row = [optimum, *photos]
        tiles += row + [blank] * (width - len(row))
    return io.grid(np.stack(tiles).astype(np.float32), ncols=width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mfv", type=Path, help="MFV's mean_images folder")
    parser.add_argument("--photos", type=Path, help="a folder of your own photos (with --unit)")
    parser.add_argument("--unit", help="the unit of --photos, e.g. block6a_expand_activation:301")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/photo_facets"))
    parser.add_argument(
        "--options",
        nargs=argparse.REMAINDER,
        default=[],
        help="flags passed on to `samplevis sample` (last), e.g. --photo-start best",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="photo_facets_"))
    if args.quick and args.mfv is None and args.photos is None:
        args.photos, args.unit = quick_photos(work / "quick"), QUICK_UNIT
    if (args.mfv is None) == (args.photos is None) or (args.photos is not None) != bool(args.unit):
        parser.error("give --mfv MEAN_IMAGES, or --photos DIR with --unit LAYER:CHANNEL")

    import samplevis
    from samplevis import io
    from samplevis.examples.images import load_fitted

    print(f"# {command_line()}\n# {machine()}")
    model = samplevis.zoo.efficientnet_lite0()
    extra = list(args.options)
    if args.quick:
        extra += ["--photo-steps", "8", "--num-burnin-steps", "4", "--photo-clusters", "2"]
        extra += ["--search-rounds", "0", "--num-chains", "2"]
    # (name, unit, photos folder, baseline start images or None)
    cases: list[tuple[str, str, Path, np.ndarray | None]] = []
    if args.mfv is not None:
        for wnid, index, name in MFV_CLASSES:
            root = args.mfv / wnid
            means = sorted(root.glob("mean_*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
            photos = flat_folder(sorted(root.glob("*/*.JPEG")), work / wnid)
            means_01 = np.stack([load_fitted(m, (SIZE, SIZE))[0] for m in means]) / 255.0
            cases.append((name, f"logits:{index}", photos, means_01.astype(np.float32)))
    else:
        cases.append((args.unit, args.unit, args.photos, None))
    rows = []
    for name, unit, photos, starts in cases:
        if args.quick:
            starts = None if starts is None else starts[:2]
            mfv = baseline(model, unit, starts, args.seed, count=2, steps=8)
        else:
            mfv = baseline(model, unit, starts, args.seed)
        mfv_values = values(model, unit, mfv)
        out = args.out / name.replace(" ", "_").replace(":", "_")
        seconds, report = photo_route(unit, photos, out, extra, args.seed, args.quick)
        facets = report["facets"]
        optima = np.stack(
            [np.asarray(io.load_images([out / f["optimum"]], SIZE)[0]) for f in facets]
        )
        facet_values = values(model, unit, optima)
        best = float(mfv_values.max())
        high = facet_values[facet_values >= HEIGHT * best]
        found = [f["found"].replace("photos, ", "") for f in facets]
        rows.append(
            [
                name,
                "MFV: render_vis from each mean" if starts is not None else "fresh seeds",
                len(mfv),
                f"{np.median(mfv_values):.1f}",
                f"{best:.1f}",
                colour_groups(mfv),
                "",
            ]
        )
        rows.append(
            [
                name,
                "samplevis sample --init PHOTOS",
                f"{len(high)} of {len(facets)}",
                f"{np.median(high):.1f}" if len(high) else "-",
                f"{facet_values.max():.1f}",
                colour_groups(optima[facet_values >= HEIGHT * best]) if len(high) else 0,
                f"{seconds:.0f}",
            ]
        )
        print(" | ".join(str(x) for x in rows[-2]), flush=True)
        print(" | ".join(str(x) for x in rows[-1]), flush=True)
        detail = ", ".join(f"{v:.1f} ({how})" for v, how in zip(facet_values, found))
        below = report["clusters_below_floor"]
        print(f"#   facets: {detail}; clusters under the floor: {below}", flush=True)
        io.save_png(out.parent / f"{out.name}_facets.png", rows_grid(optima, facets, out, mfv))
    print()
    headers = [
        "unit",
        "images",
        f"facets >= {HEIGHT} of best MFV",
        "their median",
        "best",
        "colour groups",
        "seconds",
    ]
    print(format_table(headers, rows))
    print(f"\n# pictures: {args.out}/*_facets.png (first row the baseline, then a row per facet)")


if __name__ == "__main__":
    main()
