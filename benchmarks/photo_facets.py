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
    python benchmarks/photo_facets.py --mfv ../mfv/mean_images --mixed 1 0.7 0.5

`--mixed W ...`: the seed's case, a unit that answers to two kinds unequally: max(l945 / 33.6,
W * l498 / 37.9) on the logits (bell pepper, and movie theater at weight W; 33.6 and 37.9 the
classes' median noise-seed optima at 128 px), from the 300 photos of both classes in one folder,
as a user of Python meets it (`dataset_examples(top=150)` then `render(init=...)`, timed in this
process). Targets: a facet of each kind, every theater facet's photos theaters, a chain in a
theater facet, the summary naming both kinds with their heights. Beside it, ways to tell the
kinds apart (`KIND_WAYS`) on the same clusters, each judged against the photos' classes.
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

from common import QUICK_SIZE, command_line, format_table, machine

# MFV's two classes: WordNet id, ImageNet class index (of the 1000), name.
MFV_CLASSES = (("n07720875", 945, "bell pepper"), ("n03032252", 498, "movie theater"))
SIZE, STEPS = 128, 256  # the baseline's render_vis: Lucid's default size, MFV's number of steps
HEIGHT = 0.8  # a facet counts from this share of the best MFV optimum
COLOUR_GAP = 15.0  # CIELAB units between the mean colours of two colour groups
# --quick without --mfv or --photos: a unit of an early layer, the network run up to it only
# (the quick unit of processing_check.py, natural_facets.py and repeat_runs.py too)
QUICK_UNIT = "block2a_expand_activation:20"


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
    model,
    unit: str,
    starts: np.ndarray | None,
    seed: int,
    count: int = 10,
    steps: int = STEPS,
    size: int = SIZE,
) -> np.ndarray:
    """Optima [N, size, size, 3] of render_vis over `steps` from each start image (None:
    `count` fresh seeds of `size` px)."""
    import samplevis
    from samplevis import param

    image = param.image(size, batch=count) if starts is None else param.from_image(starts)
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


PEPPER, THEATER = MFV_CLASSES[0][0], MFV_CLASSES[1][0]
# The ways to tell kinds of photo apart measured side by side (`--mixed`): (name, what is
# compared, the layer or None, how clusters are joined).
KIND_WAYS = (
    ("photos, nearest neighbours, clustering layer (the library's)", "photos", None, "neighbours"),
    ("photos, nearest neighbours, the unit's layer (logits)", "photos", "logits", "neighbours"),
    ("photos' centres, cosine >= 0.5, clustering layer", "photos", None, "centres"),
    ("optima's features, cosine >= 0.5, clustering layer", "optima", None, "centres"),
    ("clusters' photo values, a gap > 0.1 between levels", "values", None, "levels"),
)


def logit_pair(first: tuple[int, float], second: tuple[int, float], weight: float):
    """max(l_a / m_a, weight * l_b / m_b) on the logits, one value per image: `first` and
    `second` are (class a, its scale m_a) and (b, m_b), each scale a mean logit of its class's
    photos, so that both kinds reach about 1 and the second is weighed down by `weight`."""
    import tensorflow as tf

    from samplevis.optvis.objectives import Objective

    (a, m_a), (b, m_b) = first, second

    def fn(T, p):
        logits = T("logits")
        return tf.maximum(logits[:, a] / m_a, p[0] * logits[:, b] / m_b)

    # the classes and scales are in fn, not in its params: its structure names them
    pair = f"l{a}/{m_a:g}, l{b}/{m_b:g}"
    name = f"max(l{a}/{m_a:g}, {weight:g}*l{b}/{m_b:g})"
    return Objective(fn, frozenset({"logits"}), name, (np.float32(weight),), (pair, "logits"))


def mixed_unit(weight: float):
    """max(l945 / 33.6, weight * l498 / 37.9): bell pepper, and movie theater weighed down."""
    return logit_pair((945, 33.6), (498, 37.9), weight)


def _joined_centres(rows: np.ndarray, least: float) -> list[int]:
    """Groups of unit rows [K, D] whose average-linkage cosine is at least `least`."""
    groups = [[k] for k in range(len(rows))]
    near = rows @ rows.T
    while len(groups) > 1:
        pairs = [
            (np.mean(near[np.ix_(a, b)]), i, j)
            for i, a in enumerate(groups)
            for j, b in enumerate(groups)
            if i < j
        ]
        best, i, j = max(pairs)
        if best < least:
            break
        groups[i] += groups.pop(j)
    return _labelled(groups, len(rows))


def _labelled(groups: list[list[int]], count: int) -> list[int]:
    label = [0] * count
    for g, members in enumerate(sorted(groups, key=min)):
        for k in members:
            label[k] = g
    return label


def kind_ways(model, facets, optima: np.ndarray, layer: str) -> dict[str, list[int]]:
    """Each of KIND_WAYS' kinds of `facets` (the run's record's facets from photos, their
    optima [F, H, W, 3]), a label per facet."""
    from samplevis.examples.clusters import kinds, pooled
    from samplevis.examples.images import load_fitted
    from samplevis.sampling.starts import search_layer

    photos = [Path(e["file"]) for f in facets for e in f["all_photos"]]
    labels = np.concatenate([[k] * len(f["all_photos"]) for k, f in enumerate(facets)])
    pixels = np.stack([load_fitted(p, (224, 224))[0] for p in photos])
    out = {}
    for name, what, given, how in KIND_WAYS:
        if what == "values":
            levels = [np.median([e["value"] for e in f["all_photos"]]) for f in facets]
            order = np.argsort(levels)
            label, group = [0] * len(facets), 0
            for a, b in zip(order[:-1], order[1:]):
                label[b] = group = group + int(levels[b] - levels[a] > 0.1 * max(levels))
            label[order[0]] = 0
            out[name] = label
            continue
        if what == "optima":
            rows = search_layer.features(model, optima, given or layer)
            out[name] = _joined_centres(rows, 0.5)
            continue
        x = pooled(model, pixels, given or layer)
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        if how == "neighbours":
            out[name] = kinds(x, labels).tolist()
        else:
            centres = np.stack([x[labels == k].mean(0) for k in range(len(facets))])
            out[name] = _joined_centres(
                centres / np.linalg.norm(centres, axis=1, keepdims=True), 0.5
            )
    return out


def _same_grouping(a: list[int], b: list[int]) -> bool:
    """Whether two labellings group the same facets together."""
    return all((a[i] == a[j]) == (b[i] == b[j]) for i in range(len(a)) for j in range(len(a)))


def mixed_render(args, model, unit, out: Path, photos: Path):
    """The photos' top images for `unit` ranked, then `render` from them: (the examples found,
    the result, seconds to rank, seconds in all)."""
    import samplevis

    hmc_opts = dict(num_results=2 if args.quick else 10)
    if args.quick:
        hmc_opts.update(photo_steps=8, num_burnin_steps=4, num_chains=2, photo_clusters=2)
        hmc_opts.update(polish_steps=16)
    start = time.perf_counter()
    found = samplevis.dataset_examples(
        model,
        unit,
        images=photos,
        top=15 * (2 if args.quick else 10),
        out=out / "examples",
        progress=False,
    )
    ranked = time.perf_counter() - start
    result = samplevis.render(
        model, unit, hmc_opts=dict(hmc_opts, init=found), seed=args.seed, progress=False
    )
    return found, result, ranked, time.perf_counter() - start


def mixed_row(weight: float, result, kind: list[str], ranked: float, seconds: float) -> list:
    """The targets' row of one weight: the facets' classes and heights, whether each facet's
    photos are of one class, the kinds sampled and named, the seconds."""
    theater = [np.mean([THEATER in e.file.name for e in f.examples]) for f in result.facets]
    pure = all(t in (0.0, 1.0) for t in theater)
    sampled = sorted({kind[k] for k, f in enumerate(result.facets) if f.chains})
    said = result.kinds_line() or ""
    named = {kind[k] for k, f in enumerate(result.facets) if f"kind {f.kind} " in said}
    return [
        f"{weight:g}",
        ", ".join(f"{k[0].upper()} {f.height:.2f}" for k, f in zip(kind, result.facets)),
        f"{kind.count('pepper')} / {kind.count('theater')}",
        "yes" if pure else "no",
        " ".join(sampled),
        "both" if named == {"pepper", "theater"} else ", ".join(sorted(named)) or "none",
        f"{ranked:.0f} + {seconds - ranked:.0f}",
    ]


def print_cluster_heights(model, unit, found, result, layer: str) -> None:
    """Each cluster's optimum against what its photos promise (photos.failed's rule)."""
    from samplevis.examples.clusters import clusters
    from samplevis.sampling.starts.photos import photo_levels

    found_clusters = clusters(
        found.index,
        model,
        unit,
        len(result.facets) + len(result.clusters_below_floor),
        layer=layer,
    )
    levels = photo_levels(found_clusters)
    heights = {int(f.found.split()[-1]): f.height for f in result.facets}
    heights.update(dict(result.clusters_below_floor))
    print(
        "#   optimum's height / its photos' level, per cluster: "
        + ", ".join(
            f"{c} {'T' if THEATER in found_clusters[c].best.file.name else 'P'} "
            f"{heights[c]:.2f}/{levels[c]:.2f}={heights[c] / levels[c]:.2f}"
            for c in sorted(heights)
        )
    )


def ways_rows(model, unit, weight: float, result, kind: list[str], layer: str) -> list[list]:
    """A row per way to tell kinds apart: the kind it gives each facet, and whether that groups
    the facets as their photos' classes do."""
    from samplevis.sampling.report.run_json import record_of

    record = record_of(result, unit.name)
    # every photo of each facet's cluster, for the ways to tell kinds apart
    for entry, facet in zip(record["facets"], result.facets):
        entry["all_photos"] = [{"file": str(e.file), "value": e.value} for e in facet.examples]
    optima = np.stack([f.image for f in result.facets]).astype(np.float32)
    truth = [0 if k == kind[0] else 1 for k in kind]
    return [
        [
            f"{weight:g}",
            name,
            " ".join(map(str, label)),
            "yes" if _same_grouping(label, truth) else "no",
        ]
        for name, label in kind_ways(model, record["facets"], optima, layer).items()
    ]


def run_mixed(args, model, weights: list[float], photos: Path) -> None:
    """The seed's case (`--mixed`), one weight after the other: the targets' figures, the
    facets' rows saved as a PNG, and the ways to tell kinds apart."""
    from samplevis import io
    from samplevis.sampling.phases.facet_starts import cluster_layer
    from samplevis.sampling.report.summary import summary

    rows, ways = [], []
    for weight in weights:
        unit = mixed_unit(weight)
        out = args.out / f"mixed_{weight:g}"
        shutil.rmtree(out, ignore_errors=True)
        found, result, ranked, seconds = mixed_render(args, model, unit, out, photos)
        theater = [np.mean([THEATER in e.file.name for e in f.examples]) for f in result.facets]
        kind = ["theater" if t > 0.5 else "pepper" for t in theater]
        lines = summary(result, result.structural_shares)
        rows.append(mixed_row(weight, result, kind, ranked, seconds))
        print(" | ".join(rows[-1]), flush=True)
        for line in lines:
            print(f"#   {line}")
        io.save_png(args.out / f"mixed_{weight:g}_facets.png", result.facet_grid())
        layer = cluster_layer(model, unit)
        assert layer is not None  # the logits read one layer
        print_cluster_heights(model, unit, found, result, layer)
        ways += ways_rows(model, unit, weight, result, kind, layer)
    print()
    headers = [
        "w",
        "facets (P pepper / T theater, height), in order",
        "pepper / theater",
        "each facet's photos of one class",
        "kinds sampled",
        "summary names",
        "seconds (rank + render)",
    ]
    print(format_table(headers, rows))
    print()
    print(format_table(["w", "way", "kinds per facet", "as the photos' classes"], ways))
    print(
        f"\n# pictures: {args.out}/mixed_*_facets.png (a row per facet: optimum, photos, samples)"
    )


def parse_args() -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser (for its errors) and the flags."""
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
    parser.add_argument(
        "--mixed",
        nargs="+",
        type=float,
        help="with --mfv: the seed's case at these weights of movie theater (e.g. 1 0.7 0.5)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    return parser, parser.parse_args()


def photo_cases(args, work: Path) -> list[tuple[str, str, Path, np.ndarray | None]]:
    """(name, unit, photos folder, baseline start images or None) per case: MFV's two classes,
    or the unit of --photos."""
    from samplevis.examples.images import load_fitted

    cases: list[tuple[str, str, Path, np.ndarray | None]] = []
    if args.mfv is None:
        return [(args.unit, args.unit, args.photos, None)]
    for wnid, index, name in MFV_CLASSES:
        root = args.mfv / wnid
        means = sorted(root.glob("mean_*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
        photos = flat_folder(sorted(root.glob("*/*.JPEG")), work / wnid)
        means_01 = np.stack([load_fitted(m, (SIZE, SIZE))[0] for m in means]) / 255.0
        cases.append((name, f"logits:{index}", photos, means_01.astype(np.float32)))
    return cases


def case_rows(args, model, case, extra: list[str]) -> list[list]:
    """The baseline's row and the photo route's of one case (both printed as they come), and
    the case's facets saved as a PNG."""
    from samplevis import io

    name, unit, photos, starts = case
    if args.quick:
        starts = None if starts is None else starts[:2]
        mfv = baseline(model, unit, starts, args.seed, count=2, steps=8, size=QUICK_SIZE)
    else:
        mfv = baseline(model, unit, starts, args.seed)
    mfv_values = values(model, unit, mfv)
    out = args.out / name.replace(" ", "_").replace(":", "_")
    seconds, report = photo_route(unit, photos, out, extra, args.seed, args.quick)
    facets = report["facets"]
    side = mfv.shape[1]  # the facets at the baseline's size, for one grid
    optima = np.stack([np.asarray(io.load_images([out / f["optimum"]], side)[0]) for f in facets])
    facet_values = values(model, unit, optima)
    best = float(mfv_values.max())
    high = facet_values[facet_values >= HEIGHT * best]
    found = [f["found"].replace("photos, ", "") for f in facets]
    rows = [
        [
            name,
            "MFV: render_vis from each mean" if starts is not None else "fresh seeds",
            len(mfv),
            f"{np.median(mfv_values):.1f}",
            f"{best:.1f}",
            colour_groups(mfv),
            "",
        ],
        [
            name,
            "samplevis sample --init PHOTOS",
            f"{len(high)} of {len(facets)}",
            f"{np.median(high):.1f}" if len(high) else "-",
            f"{facet_values.max():.1f}",
            colour_groups(optima[facet_values >= HEIGHT * best]) if len(high) else 0,
            f"{seconds:.0f}",
        ],
    ]
    print(" | ".join(str(x) for x in rows[0]), flush=True)
    print(" | ".join(str(x) for x in rows[1]), flush=True)
    detail = ", ".join(f"{v:.1f} ({how})" for v, how in zip(facet_values, found))
    below = report["clusters_below_floor"]
    print(f"#   facets: {detail}; clusters under the floor: {below}", flush=True)
    io.save_png(out.parent / f"{out.name}_facets.png", rows_grid(optima, facets, out, mfv))
    return rows


def main() -> None:
    parser, args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="photo_facets_"))
    if args.quick and args.mfv is None and args.photos is None:
        args.photos, args.unit = quick_photos(work / "quick"), QUICK_UNIT
    if (args.mfv is None) == (args.photos is None) or (args.photos is not None) != bool(args.unit):
        parser.error("give --mfv MEAN_IMAGES, or --photos DIR with --unit LAYER:CHANNEL")

    import samplevis

    print(f"# {command_line()}\n# {machine()}")
    model = samplevis.zoo.efficientnet_lite0()
    if args.mixed:
        if args.mfv is None:
            parser.error("--mixed needs --mfv MEAN_IMAGES (the photos of both classes)")
        both = [p for wnid, _, _ in MFV_CLASSES for p in sorted((args.mfv / wnid).glob("*/*.JPEG"))]
        run_mixed(args, model, args.mixed, flat_folder(both, work / "both"))
        return
    extra = list(args.options)
    if args.quick:
        extra += ["--photo-steps", "8", "--num-burnin-steps", "4", "--photo-clusters", "2"]
        extra += ["--search-rounds", "0", "--num-chains", "2", "--size", str(QUICK_SIZE)]
        # one block of the polish: short climbs leave it up to 256 steps to rise through
        extra += ["--polish-steps", "16"]
    rows = [row for case in photo_cases(args, work) for row in case_rows(args, model, case, extra)]
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
