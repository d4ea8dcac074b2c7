"""Geirhos et al.'s sanity check on the built-in model: are visualizations processed like the
photos they stand for? The photo route's facets against `render_vis`'s and MACO's optima.

For each of MFV's two classes (bell pepper, movie theater: 150 photos each, `--mfv`), and for
the two-kind unit of benchmarks/photo_facets.py (`--mixed W`: max(l945 / 33.6, W * l498 / 37.9)),
the images below are compared at the check's default layers (`block_outputs`: the stem, the
nine residual sums from block2b, the top) with the mean channel means of their class's 150
photos and of the other class's (optvis.processing_check); an image passes a layer where it is
more like its class's photos. Per set of images it prints the share of its layers each passes
(median, lowest) and how many pass at >= 0.9 of them:

- **photos, half vs half**: each photo of the class's first half against its second half's mean
  (the control: what photos themselves score);
- **render_vis**: the class logit's optima from 3 noise seeds (Lucid's way: 128 px, FFT and
  decorrelated colour, the default transforms, 512 steps);
- **MACO**: the class logit's MACO images from 3 seeds (256 steps, at 224 px with 8 crops a
  step: MACO_SIZE, MACO_CROPS);
- **photo route** (`dataset_examples(top=150)` over the 300 photos of both classes, then
  `render(init=...)`): its facets' optima and, separately, their draws, each against its own
  class (the class most of its photos are of); and the run's own check (each facet against its
  kind's photos and the other photos ranked) in its words, and its seconds.

Targets: the photo route's facets pass at >= 0.9 of the layers; the run's check within 10 s.

    python benchmarks/processing_check.py --mfv ../mfv/mean_images --out out/processing_check
    python benchmarks/processing_check.py --mfv ../mfv/mean_images --mixed 0.6
    python benchmarks/processing_check.py --mfv ../mfv/mean_images --choices
    python benchmarks/processing_check.py --mfv ../mfv/mean_images --photo-route-only --mixed 0.6

`--choices` measures the check's choices instead (`choices`): which layers, how positions are
pooled, what is correlated, the photos' size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from photo_facets import (
    MFV_CLASSES,
    QUICK_UNIT,
    flat_folder,
    mixed_unit,
    quick_photos,
)

from common import QUICK_SIZE, command_line, format_table, machine

SEEDS = (0, 1, 2)
# MACO at 224 px with 8 crops a step (its defaults: 512 px, 32 crops), to fit 2 shared cores
MACO_SIZE, MACO_CROPS = (224, 224), 8
# --quick: MACO's image at QUICK_SIZE px, two crops a step
QUICK_MACO_CROPS = 2
PASS_SHARE = 0.9


def class_means(model, folders: dict[str, list[Path]], layers, size: int) -> dict[str, dict]:
    """Each class's photos' channel means ({class: {layer: [N, C]}}), photos fitted to `size`."""
    from samplevis.examples.images import load_fitted
    from samplevis.optvis.processing_check import channel_means

    out = {}
    for name, files in folders.items():
        pixels = np.stack([load_fitted(f, (size, size))[0] for f in files])
        out[name] = channel_means(model, pixels, layers)
    return out


def shares(model, images: np.ndarray, own: dict, other: dict, layers) -> np.ndarray:
    """The share of `layers` at which each image [N, H, W, 3] is more like `own` than `other`."""
    from samplevis.optvis.processing_check import channel_means, likeness

    return likeness(channel_means(model, images, layers), own, other, layers).shares


def row(case: str, what: str, found: np.ndarray, extra: str = "") -> list[str]:
    return [
        case,
        what,
        str(len(found)),
        f"{np.median(found):.2f}" if len(found) else "-",
        f"{np.min(found):.2f}" if len(found) else "-",
        f"{int(np.sum(found >= PASS_SHARE))} of {len(found)}",
        extra,
    ]


def parse_args() -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser (for its errors) and the flags."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mfv", type=Path, help="MFV's mean_images folder")
    parser.add_argument("--mixed", type=float, nargs="*", default=[], help="two-kind weights")
    parser.add_argument("--classes", nargs="*", default=None, help="of 'pepper', 'theater'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default out/processing_check (--quick: a new temporary folder)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    parser.add_argument(
        "--choices", action="store_true", help="the check's choices (layers, pooling, ...) only"
    )
    parser.add_argument(
        "--photo-route-only",
        action="store_true",
        help="leave out render_vis's and MACO's optima (they do not depend on the photo route)",
    )
    return parser, parser.parse_args()


@dataclass(frozen=True)
class Classes:
    """The two classes' photo files and units, and the settings they are checked at."""

    files: dict[str, list[Path]]
    units: dict[str, str]
    steps: int  # render_vis's
    maco_steps: int
    top: int  # photos ranked for the photo route
    size: int  # px of the photos' class means (--quick)


def classes_of(args, work: Path) -> Classes:
    """MFV's two classes, or --quick's four photos split in two with an early unit."""
    if args.quick:
        photos = sorted(quick_photos(work / "quick").glob("*.png"))
        files = {"a": photos[:2], "b": photos[2:]}
        return Classes(files, {"a": QUICK_UNIT, "b": QUICK_UNIT}, 8, 4, 2, 64)
    files = {
        name.split()[-1]: sorted((args.mfv / wnid).glob("*/*.JPEG"))
        for wnid, _, name in MFV_CLASSES
    }
    units = {name.split()[-1]: f"logits:{index}" for _, index, name in MFV_CLASSES}
    return Classes(files, units, 512, 256, 150, 128)


def optima_rows(args, model, name: str, unit, own, rest, layers, given: Classes) -> list:
    """render_vis's and MACO's optima of `unit` (3 seeds each) against the class's photos, each
    row printed as it comes; their grid saved."""
    import samplevis
    from samplevis import io, param

    rows = []
    image = param.image(QUICK_SIZE) if args.quick else None
    optima = np.concatenate(
        [
            samplevis.render_vis(
                model, unit, param_f=image, thresholds=(given.steps,), seed=s, progress=False
            )[0]
            for s in SEEDS
        ]
    )
    rows.append(row(name, "render_vis, 3 seeds", shares(model, optima, own, rest, layers)))
    print(" | ".join(rows[-1]), flush=True)
    maco = np.stack(
        [
            samplevis.maco(
                model,
                unit,
                nb_steps=given.maco_steps,
                nb_crops=QUICK_MACO_CROPS if args.quick else MACO_CROPS,
                custom_shape=(QUICK_SIZE, QUICK_SIZE) if args.quick else MACO_SIZE,
                seed=s,
            )[0]
            for s in SEEDS
        ]
    )
    rows.append(row(name, "MACO, 3 seeds", shares(model, maco, own, rest, layers)))
    print(" | ".join(rows[-1]), flush=True)
    io.save_grid(
        args.out / f"{name}_optima.png", np.concatenate([optima, _fitted(maco, optima.shape[1])])
    )
    return rows


def main() -> None:
    parser, args = parse_args()
    if args.mfv is None and not args.quick:
        parser.error("give --mfv MEAN_IMAGES (MFV's photos), or --quick")

    import samplevis
    from samplevis.optvis.processing_check import block_outputs, likeness

    print(f"# {command_line()}\n# {machine()}")
    work = Path(tempfile.mkdtemp(prefix="processing_check_"))
    if args.out is None:  # a smoke run leaves nothing a later one would read
        args.out = work / "out" if args.quick else Path("out/processing_check")
    model = samplevis.zoo.efficientnet_lite0()
    layers = block_outputs(model)
    given = classes_of(args, work)
    files = given.files
    if args.quick:
        layers = layers[:2]
    if args.choices:
        choices(args, model, files, given.units, given.steps)
        return
    names = list(files)
    other = {names[0]: names[1], names[1]: names[0]}
    means = class_means(model, files, layers, 224 if not args.quick else given.size)
    everything = flat_folder([f for name in names for f in files[name]], work / "all")
    rows = []
    # --quick: one class runs every code path; the suite runs it
    default = names[:1] if args.quick else names
    for name in default if args.classes is None else args.classes:
        own, rest = means[name], means[other[name]]
        half = len(files[name]) // 2
        firsts = {k: v[:half] for k, v in own.items()}
        seconds_half = {k: v[half:] for k, v in own.items()}
        control = likeness(firsts, seconds_half, rest, layers).shares
        rows.append(row(name, "photos, half vs half", control))
        print(" | ".join(rows[-1]), flush=True)
        unit = given.units[name]
        rows += photo_route(args, model, unit, name, everything, means, other, layers, given.top)
        if not args.photo_route_only:
            rows += optima_rows(args, model, name, unit, own, rest, layers, given)
    for weight in args.mixed:
        unit = mixed_unit(weight)
        rows += photo_route(
            args, model, unit, f"mixed {weight:g}", everything, means, other, layers, given.top
        )
    print()
    headers = ["case", "images", "n", "median share", "lowest", f"pass at >= {PASS_SHARE}", "note"]
    print(format_table(headers, rows))


def pooled_both(model, images: np.ndarray, layers) -> tuple[dict, dict]:
    """({layer: [N, C]} means over positions, the same of maxima), images in batches of 32."""
    means: dict = {k: [] for k in layers}
    maxima: dict = {k: [] for k in layers}
    for start in range(0, len(images), 32):
        batch = images[start : start + 32].astype(np.float32)
        batch = batch / 255.0 if images.dtype == np.uint8 else batch
        for k, acts in model.activations(batch, list(layers)).items():
            flat = np.asarray(acts, np.float64).reshape(len(batch), -1, acts.shape[-1])
            means[k].append(flat.mean(axis=1))
            maxima[k].append(flat.max(axis=1))
    return (
        {k: np.concatenate(v) for k, v in means.items()},
        {k: np.concatenate(v) for k, v in maxima.items()},
    )


def _pass_shares(images: dict, own: dict, other: dict, layers, how: str) -> np.ndarray:
    """Each image's share of `layers` where it is nearer `own`'s mean than `other`'s, by
    Spearman ("spearman") or Pearson ("pearson") correlation."""
    from samplevis.optvis.processing_check import spearman

    def alike(rows, target):
        if how == "spearman":
            return spearman(rows, target)
        x = rows - rows.mean(axis=1, keepdims=True)
        t = target - target.mean()
        return x @ t / (np.linalg.norm(x, axis=1) * np.linalg.norm(t) + 1e-12)

    wins = [alike(images[k], own[k].mean(0)) > alike(images[k], other[k].mean(0)) for k in layers]
    return np.mean(wins, axis=0)


def choices(args, model, files: dict, units: dict, steps: int) -> None:
    """The check's choices against others, on both classes: which layers (the block outputs,
    or 11 activation layers evenly spaced), how positions are pooled (mean, max), what is
    correlated (Spearman, Pearson), and the photos' size (128 px as the facets, or 224 px,
    the network's own). For each, the median share of layers passed by the photos (half
    against half) and by render_vis's optima (3 seeds): a choice tells them apart by the gap."""
    import samplevis
    from samplevis.atlas.plan import activation_layers
    from samplevis.examples.images import load_fitted
    from samplevis.optvis.processing_check import block_outputs

    acting = activation_layers(model)
    spaced = [acting[int(i)] for i in np.linspace(0, len(acting) - 1, 11).round()]
    layer_sets = {"block outputs": block_outputs(model), "11 activation layers": spaced}
    every = sorted(set(layer_sets["block outputs"]) | set(spaced))
    names = list(files)
    optima = {}
    for name in names:  # the main run's optima (its NAME_optima.png: render_vis's first row)
        saved = args.out / f"{name}_optima.png"
        if saved.is_file() and not args.quick:
            from PIL import Image

            tiles = np.asarray(Image.open(saved).convert("RGB"), np.float32) / 255.0
            optima[name] = np.stack([tiles[2:130, 2 + 130 * i : 130 + 130 * i] for i in SEEDS])
            continue
        optima[name] = np.concatenate(
            [
                samplevis.render_vis(
                    model, units[name], thresholds=(steps,), seed=s, progress=False
                )[0]
                for s in SEEDS
            ]
        )
    seen = {name: pooled_both(model, optima[name], every) for name in names}
    rows = []
    for side in (128, 224):
        photos = {
            name: pooled_both(
                model, np.stack([load_fitted(f, (side, side))[0] for f in files[name]]), every
            )
            for name in names
        }
        for set_name, layers in layer_sets.items():
            for pool, at in (("mean", 0), ("max", 1)):
                for how in ("spearman", "pearson"):
                    control, visual = [], []
                    for name in names:
                        other = names[1 - names.index(name)]
                        own, rest = photos[name][at], photos[other][at]
                        half = len(files[name]) // 2
                        firsts = {k: v[:half] for k, v in own.items()}
                        seconds_half = {k: v[half:] for k, v in own.items()}
                        control.append(_pass_shares(firsts, seconds_half, rest, layers, how))
                        visual.append(_pass_shares(seen[name][at], own, rest, layers, how))
                    c, v = np.median(np.concatenate(control)), np.median(np.concatenate(visual))
                    rows.append(
                        [f"{side} px", set_name, pool, how, f"{c:.2f}", f"{v:.2f}", f"{c - v:+.2f}"]
                    )
                    print(" | ".join(rows[-1]), flush=True)
    headers = ["photos", "layers", "pooled", "correlation", "photos pass", "render_vis pass", "gap"]
    print()
    print(format_table(headers, rows))


def _fitted(images: np.ndarray, side: int = 128) -> np.ndarray:
    """Images [N, H, W, 3] resized to side x side, for one grid with the others."""
    import tensorflow as tf

    return tf.image.resize(images, (side, side)).numpy()


def photo_route(args, model, unit, name, folder, means, other, layers, top) -> list[list[str]]:
    """The photo route's facets (optima, then draws), each against its own class's photos."""
    import samplevis
    from samplevis import io, param
    from samplevis.sampling.report.facet_processing import processing_line

    start = time.perf_counter()
    found = samplevis.dataset_examples(
        model, unit, images=folder, top=top, out=args.out / f"{name}_examples", progress=False
    )
    hmc = dict(num_results=10)
    if args.quick:
        hmc = dict(num_results=2, photo_steps=8, num_burnin_steps=4, num_chains=2, photo_clusters=2)
        hmc.update(polish_steps=16)  # one block: 8-step climbs leave it 256 steps to rise
    image = param.image(QUICK_SIZE, batch=hmc["num_chains"]) if args.quick else None
    result = samplevis.render(
        model, unit, hmc_opts=dict(hmc, init=found), param_f=image, seed=args.seed, progress=False
    )
    spent = time.perf_counter() - start
    rows = []
    classes = list(means)
    by_class: dict[str, tuple[list, list]] = {c: ([], []) for c in classes}
    for facet in result.facets:
        votes = [sum(c_file(e.file, classes, args) == c for e in facet.examples) for c in classes]
        mine = classes[int(np.argmax(votes))]
        drawn = result.images[:, list(facet.chains)].reshape(-1, *result.images.shape[2:])
        by_class[mine][0].append(facet.image)
        by_class[mine][1].extend(drawn)
    checked = result.seconds.get("processing check", float("nan"))
    note = f"check {checked:.1f} s of {spent:.0f} s"
    for c, (optima, drawn) in by_class.items():
        own, rest = means[c], means[other[c]]
        if optima:
            found_shares = shares(model, np.stack(optima), own, rest, layers)
            rows.append(row(name, f"photo route facets ({c})", found_shares, note))
            print(" | ".join(rows[-1]), flush=True)
        if drawn:
            drawn_shares = shares(model, np.stack(drawn), own, rest, layers)
            rows.append(row(name, f"photo route draws ({c})", drawn_shares))
            print(" | ".join(rows[-1]), flush=True)
    print(f"#   {processing_line(result.facets)}", flush=True)
    io.save_png(args.out / f"{name.replace(' ', '_')}_facets.png", result.facet_grid())
    return rows


def c_file(path: Path, classes: list[str], args) -> str:
    """The class of a photo, by its file's name (MFV's WordNet id, or the quick split)."""
    if args.quick:
        return (
            classes[0]
            if path.name.split("_")[-1] in ("astronaut.png", "chelsea.png")
            else classes[1]
        )
    return "pepper" if MFV_CLASSES[0][0] in path.name else "theater"


if __name__ == "__main__":
    main()
