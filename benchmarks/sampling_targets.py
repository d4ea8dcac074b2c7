"""The sampling targets, measured on the built-in EfficientNet-Lite0 at `render`'s defaults.

    python benchmarks/sampling_targets.py                       # four rows, ~1 h on 2 cores
    python benchmarks/sampling_targets.py --channels block6a_expand_activation:301 --no-settle
    python benchmarks/sampling_targets.py --quick               # every code path in minutes
    python benchmarks/sampling_targets.py --hmc-opts '{"search_rounds": 2}' --no-settle  # a design
    python benchmarks/sampling_targets.py --baselines           # with Lucid's diversity objective
    python benchmarks/sampling_targets.py --facets block6a_expand_activation:301,50

Per row it runs, in one process: `render_vis` from two seeds of 4 images each, keeping the
images at thresholds 32 to 512 steps (the references, and what multi-seed optimization costs:
the first call's seconds include its tracing, the second's are the steady state), a default
`render` (num_results=10, 4 chains), and unless `--no-settle` the same with num_results=40.
A row given as `neuron:layer:n` uses `objectives.neuron` (the centre position). Activations are
on the network as it is (no transforms); patterns are judged by the registered share
(`registration`: structure blind to colour, lighting, shifts and bends) over the median between
the 8 references at 512 steps. It prints per row:

  new           samples that are new patterns, of all: registered share >= 0.5 against every
                earlier new pattern of the run, every chain's, in the order drawn (each sample
                is registered against the 3 earlier new patterns nearest by the unregistered
                structural distance, which registration only lowers)   target >= 20 of 40
  consecutive   median registered share between consecutive samples of a chain   >= 0.5
  high          median sample activation / render_vis's at 512 steps            >= 0.85
  steps eq.     render_vis steps to reach the samples' median activation (interpolated over
                its thresholds; ">512" when it never does)
  fast x        new patterns per second of `render` (the whole call, tracing included) over
                multi-seed render_vis's at equal activation: 40 images in batches of 4, each
                taken to "steps eq." (the first batch with tracing), every seed counted a new
                pattern                                                         >= 2, goal 4
  collapse 10   median registered share between the chains' current samples after 10 samples
                over the same between seeds                                     >= 0.8
  collapse 40   the same after 40 (the settle run)                              >= 0.8
  rhat          per chain, split R-hat of the activation over 40 samples       <= 1.1
  seconds       of the default run, and by phase
  diversity     with --baselines: Lucid's diversity objective (channel - w * diversity, batch 4,
                512 steps) new patterns per second and activation, w the largest on a doubling
                ladder keeping >= 0.85 of render_vis's activation

`--facets LAYER:A,B` adds the case sampling exists for: the unit max(channel A / a_A, channel B
/ a_B), a_X each channel's own optimum (render_vis, 512 steps), whose two facets are equally
high. It prints which facet 8 fresh seeds land in and, for a default run with 40 samples, each
facet's share of the samples and of each chain's. The grids go to --grid PREFIX (a row per
chain, the start first).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import tensorflow as tf

import samplevis
from samplevis import io, objectives, param, zoo
from samplevis.optvis.evaluation import objective_values
from samplevis.sampling import metrics, registration
from samplevis.sampling.mcmc.stationarity import split_rhat_per_chain

from common import QUICK_SIZE, command_line, format_table, machine

CHANNELS = (  # early, middle and late layers of EfficientNet-Lite0, and one position
    "block3a_expand_activation:20",
    "block5a_expand_activation:100",
    "block6a_expand_activation:301",
    "neuron:block5c_expand_activation:7",
)
SIZE = 128  # render's default image size
THRESHOLDS = (32, 48, 64, 96, 128, 192, 256, 384, 512)
QUICK_THRESHOLDS = (8, 16)
DEFAULT_RESULTS, SETTLED_RESULTS = 10, 40
# --quick: the fewest draws with a consecutive pair, and with two halves of 2 for split R-hat
QUICK_RESULTS = 2, 4
# --quick: half the images (of common.QUICK_SIZE px), every render_vis batch and render's
# chains alike: one compiled optimizer for the references and the starts, and fewer images to
# register
QUICK_CHAINS = 2
NEW = 0.5  # registered share above which a sample is a new pattern
NEAREST = 3  # earlier new patterns each sample is registered against

# --quick: every code path in a few minutes; its figures mean nothing
QUICK_OPTS = dict(
    optimize_steps=8,
    temperature_steps=4,
    num_burnin_steps=4,
    num_steps_between_results=0,
    num_leapfrog_steps=2,
    search_rounds=0,  # each chain at its own start (the search: benchmarks/facet_search.py)
    polish_steps=16,  # one compiled block of the polish (its default climbs up to 256 steps)
)


def draws(quick: bool) -> tuple[int, int]:
    """(draws a chain of the default run, of the settled run)."""
    return QUICK_RESULTS if quick else (DEFAULT_RESULTS, SETTLED_RESULTS)


def images_f(quick: bool, batch: int = 4):
    """render_vis's parameterization: `batch` images of SIZE px; --quick: QUICK_CHAINS images
    for every 4 of them, of QUICK_SIZE px."""
    if quick:
        return lambda: param.image(QUICK_SIZE, batch=batch * QUICK_CHAINS // 4)
    return lambda: param.image(SIZE, batch=batch)


def chains_f(quick: bool):
    """render's parameterization: its default (None); --quick: QUICK_CHAINS of QUICK_SIZE px."""
    return images_f(True) if quick else None


def real_activation(model, obj, images: np.ndarray) -> np.ndarray:
    """The objective of each image [N, H, W, 3] on the network as it is, [N]."""
    return np.concatenate(
        [
            objective_values(model, obj, tf.constant(images[i : i + 16], tf.float32)).numpy()
            for i in range(0, len(images), 16)
        ]
    )


def activations_of(model, obj, images: np.ndarray) -> np.ndarray:
    """[N, C, H, W, 3] -> [N, C]."""
    return real_activation(model, obj, images.reshape(-1, *images.shape[2:])).reshape(
        images.shape[:2]
    )


def objective_of_spec(spec: str) -> objectives.Objective:
    """ "layer:n" -> objectives.channel; "neuron:layer:n" -> objectives.neuron (the centre)."""
    if spec.startswith("neuron:"):
        layer, n = spec[len("neuron:") :].rsplit(":", 1)
        return objectives.neuron(layer, int(n))
    return objectives.as_objective(spec)


def optimized(model, obj, seed: int, quick: bool) -> np.ndarray:
    """`render_vis` at its defaults on 4 images of SIZE px, [4, H, W, 3] (see `images_f`)."""
    return samplevis.render_vis(
        model,
        obj,
        param_f=images_f(quick),
        thresholds=(16,) if quick else (512,),
        seed=seed,
        progress=False,
    )[-1]


def chain_shares(model, obj, result) -> np.ndarray:
    """Per chain, [C]: (median A - a0) / (a*_c - a0) over its samples, a*_c its own start's."""
    a_star = real_activation(model, obj, result.init_images)
    activations = activations_of(model, obj, result.images)
    floor = result.prior_activation
    return (np.median(activations, axis=0) - floor) / (a_star - floor)


def seeds(model, obj, seed: int, quick: bool) -> dict:
    """Two `render_vis` calls of 4 images (see `images_f`): the images at the last threshold
    [8, H, W, 3], the median activation at each threshold, and the seconds of the first call
    (tracing included) and of the second (steady state)."""
    thresholds = QUICK_THRESHOLDS if quick else THRESHOLDS
    images, levels, seconds = [], [], []
    for k in range(2):
        start = time.perf_counter()
        out = samplevis.render_vis(
            model,
            obj,
            param_f=images_f(quick),
            thresholds=thresholds,
            seed=seed + k,
            progress=False,
        )
        seconds.append(time.perf_counter() - start)
        images.append(out[-1])
        levels.append([real_activation(model, obj, x) for x in out])
    per_threshold = np.median(np.concatenate(levels, axis=1), axis=1)
    return dict(
        images=np.concatenate(images),
        levels=per_threshold,
        first=seconds[0],
        steady=seconds[1],
        thresholds=thresholds,
    )


def steps_to(level: float, reference: dict) -> float:
    """render_vis steps to reach `level` (linear between its thresholds; inf past the last)."""
    levels, steps = reference["levels"], np.asarray(reference["thresholds"], np.float64)
    if level <= levels[0]:
        return float(steps[0] * max(level, 0.0) / max(levels[0], 1e-12))
    for i in range(1, len(steps)):
        if level <= levels[i]:
            share = (level - levels[i - 1]) / max(levels[i] - levels[i - 1], 1e-12)
            return float(steps[i - 1] + share * (steps[i] - steps[i - 1]))
    return math.inf


def seed_seconds(steps: float, count: int, reference: dict) -> float:
    """Seconds multi-seed render_vis takes for `count` images of `steps` steps, in batches of
    4, the first batch paying the tracing the first call did."""
    per_step = reference["steady"] / reference["thresholds"][-1]
    tracing = max(0.0, reference["first"] - reference["steady"])
    return tracing + math.ceil(count / 4) * steps * per_step


def in_order(images: np.ndarray) -> np.ndarray:
    """[N, C, H, W, 3] -> [N * C, H, W, 3], sample 0 of every chain first (the order drawn)."""
    return images.reshape(-1, *images.shape[2:])


def new_patterns(images: np.ndarray, between: float) -> list[int]:
    """Indices of the new patterns among `images` [M, H, W, 3] in the order drawn: registered
    share >= NEW against every earlier new pattern, checked against the NEAREST earlier ones
    by the unregistered structural distance."""
    kept: list[int] = []
    plain = metrics.structural_distances(images)
    for i in range(len(images)):
        if not kept:
            kept.append(i)
            continue
        nearest = sorted(kept, key=lambda j: plain[i, j])[:NEAREST]
        distances = registration.registered_distances(
            np.repeat(images[i : i + 1], len(nearest), 0), images[nearest]
        )
        if np.min(distances) / between >= NEW:
            kept.append(i)
    return kept


def consecutive_share(samples: np.ndarray, between: float) -> float:
    """Median registered share between consecutive samples of each chain, [N, C, ...]."""
    a = samples[:-1].reshape(-1, *samples.shape[2:])
    b = samples[1:].reshape(-1, *samples.shape[2:])
    return float(np.median(registered_distances(a, b)) / between)


def registered_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`registration.registered_distances` in batches of 32 pairs (its memory)."""
    return np.concatenate(
        [
            registration.registered_distances(a[i : i + 32], b[i : i + 32])
            for i in range(0, len(a), 32)
        ]
    )


def spread(current: np.ndarray, between: float) -> float:
    """Median registered share between the chains' current samples [C, H, W, 3]."""
    i, j = np.triu_indices(len(current), k=1)
    return float(np.median(registered_distances(current[i], current[j])) / between)


def rhat_per_chain(activations: np.ndarray) -> np.ndarray:
    """Split R-hat of each chain's activation [N, C] (TFP's, as `render` reports)."""
    return np.asarray(split_rhat_per_chain(activations))


def diversity_baseline(model, spec: str, seed: int, quick: bool, plain: float, between: float):
    """Lucid's diversity objective on a batch of 4: (new patterns per second, activation over
    `plain`, w) for the largest w on a doubling ladder keeping >= 0.85 of `plain`."""
    layer = spec.split(":")[-2]
    obj = objective_of_spec(spec)
    kept = None
    for k in range(-2, 5):
        w = plain * 2.0**k
        start = time.perf_counter()
        images = optimized(model, obj - w * objectives.diversity(layer), seed, quick)
        elapsed = time.perf_counter() - start
        level = float(np.median(real_activation(model, obj, images)))
        if level < 0.85 * plain:
            break
        kept = (len(new_patterns(images, between)) / elapsed, level / plain, w)
    return kept


def references(model, spec: str, args: argparse.Namespace) -> tuple[dict, float]:
    """Multi-seed render_vis for `spec` (see `seeds`) and the registered share's unit."""
    obj = objective_of_spec(spec)
    reference = seeds(model, obj, args.seed + 1000, args.quick)
    # --quick: 3 pairs of references instead of 28 (registering a pair is the slow part)
    unit = reference["images"][:3] if args.quick else reference["images"]
    return reference, registration.between_distance(unit)


def measure(
    model,
    spec: str,
    args: argparse.Namespace,
    opts: dict,
    reference: dict,
    between: float,
    name: str = "",
) -> list[str]:
    obj = objective_of_spec(spec)
    results, settled_results = draws(args.quick)
    top = float(reference["levels"][-1])

    start = time.perf_counter()
    default = samplevis.render(
        model,
        obj,
        hmc_opts=dict(num_results=results, **opts),
        param_f=chains_f(args.quick),
        seed=args.seed,
        progress=False,
    )
    render_seconds = time.perf_counter() - start
    if args.grid:
        io.save_png(f"{args.grid}_{spec.replace(':', '_')}{name}.png", default.grid())
    activations = activations_of(model, obj, default.images)
    level = float(np.median(activations))
    new = new_patterns(in_order(default.images), between)
    steps = steps_to(level, reference)
    count = default.images.shape[0] * default.images.shape[1]
    seed_rate = count / seed_seconds(steps, count, reference) if math.isfinite(steps) else 0.0
    rate = len(new) / render_seconds
    collapse_40, rhat = "-", "-"
    if not args.no_settle:
        forty = samplevis.render(
            model,
            obj,
            hmc_opts=dict(num_results=settled_results, **opts),
            param_f=chains_f(args.quick),
            seed=args.seed,
            progress=False,
        )
        collapse_40 = f"{spread(forty.images[-1], between):.2f}"
        rhat = " ".join(
            f"{r:.2f}" for r in rhat_per_chain(activations_of(model, obj, forty.images))
        )
    baseline = "-"
    if args.baselines:
        kept = diversity_baseline(model, spec, args.seed + 2000, args.quick, top, between)
        if kept is not None:
            baseline = f"{kept[0]:.3f}/s at {kept[1]:.2f} (w {kept[2]:.3g})"
    phases = ", ".join(f"{k} {v:.0f}" for k, v in default.seconds.items())
    if args.csv:
        with open(args.csv, "a") as f:
            f.write(
                f"{spec},{name or 'default'},{level / top:.4f},{rate:.5f},{rate / seed_rate if seed_rate else math.inf:.4f},{len(new)}\n"
            )
    return [
        spec + (f" {name}" if name else ""),
        f"{len(new)} of {count}",
        f"{consecutive_share(default.images, between):.2f}",
        f"{level / top:.2f}",
        ">512" if not math.isfinite(steps) else f"{steps:.0f}",
        f"{rate / seed_rate:.2f}" if seed_rate else "inf",
        f"{spread(default.images[-1], between):.2f}",
        collapse_40,
        rhat,
        f"{render_seconds:.0f} ({phases})",
        baseline,
    ]


def facet_row(model, spec: str, args: argparse.Namespace, opts: dict) -> list[str]:
    """The two-facet unit of `spec` ("layer:a,b"): where seeds land and where the samples go."""
    layer, pair = spec.rsplit(":", 1)
    a, b = (int(x) for x in pair.split(","))
    steps = (16,) if args.quick else (512,)
    tops = []
    for channel in (a, b):
        images = samplevis.render_vis(
            model,
            objectives.channel(layer, channel),
            param_f=images_f(args.quick),
            thresholds=steps,
            seed=args.seed + 3000,
            progress=False,
        )[-1]
        tops.append(
            float(np.max(real_activation(model, objectives.channel(layer, channel), images)))
        )
    unit = two_facets(layer, a, b, tops[0], tops[1])
    seeded = samplevis.render_vis(
        model,
        unit,
        param_f=images_f(args.quick, 8),
        thresholds=steps,
        seed=args.seed + 4000,
        progress=False,
    )[-1]
    seed_facets = facet_of(model, layer, a, b, tops, seeded)
    results = draws(args.quick)[1]
    run = samplevis.render(
        model,
        unit,
        hmc_opts=dict(num_results=results, **opts),
        param_f=chains_f(args.quick),
        seed=args.seed,
        progress=False,
    )
    if args.grid:
        io.save_png(f"{args.grid}_facets_{layer}_{a}_{b}.png", run.grid())
    facets = facet_of(model, layer, a, b, tops, in_order(run.images)).reshape(run.images.shape[:2])
    per_chain = " ".join(f"{np.mean(facets[:, c] == 0):.2f}" for c in range(facets.shape[1]))
    return [
        spec,
        f"{int(np.sum(seed_facets == 0))} / {int(np.sum(seed_facets == 1))}",
        f"{np.mean(facets == 0):.2f} / {np.mean(facets == 1):.2f}",
        per_chain,
        f"{int(np.sum(facets.max(axis=0) != facets.min(axis=0)))} of {facets.shape[1]}",
    ]


def two_facets(layer: str, a: int, b: int, top_a: float, top_b: float) -> objectives.Objective:
    """max(channel a / top_a, channel b / top_b): two facets of equal height."""

    def fn(T):
        features = T(layer)
        first = tf.reduce_mean(features[..., a], axis=[1, 2]) / top_a
        second = tf.reduce_mean(features[..., b], axis=[1, 2]) / top_b
        return tf.maximum(first, second)

    return objectives.Objective(fn, frozenset({layer}), f"max({layer}:{a}, {layer}:{b})")


def facet_of(model, layer, a, b, tops, images: np.ndarray) -> np.ndarray:
    """int [N]: 0 where `images` excite channel a more (each over its optimum), else 1."""
    first = real_activation(model, objectives.channel(layer, a), images) / tops[0]
    second = real_activation(model, objectives.channel(layer, b), images) / tops[1]
    return (second > first).astype(np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", nargs="*", default=CHANNELS)
    parser.add_argument("--facets", nargs="*", default=[], help="two-facet units, LAYER:A,B")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="tiny settings that run every code path in minutes"
    )
    parser.add_argument("--grid", default=None, help="write the default runs' grids to PREFIX_*")
    parser.add_argument(
        "--hmc-opts", default="{}", help="render's hmc_opts as JSON, beside the defaults"
    )
    parser.add_argument(
        "--no-settle",
        action="store_true",
        help="skip the run with 40 draws (no R-hat, collapse 40)",
    )
    parser.add_argument("--baselines", action="store_true", help="also Lucid's diversity objective")
    parser.add_argument(
        "--designs",
        default=None,
        help="a JSON file of {name: hmc_opts}: each design measured against the same references",
    )
    parser.add_argument(
        "--csv", default=None, help="append objective,design,high,new/s,fast x,new to this file"
    )
    args = parser.parse_args()
    print(command_line())
    print(machine(), flush=True)
    opts = dict(QUICK_OPTS if args.quick else {}, **json.loads(args.hmc_opts))
    model = zoo.efficientnet_lite0()
    designs: dict[str, dict] = {"": {}}
    if args.designs:
        with open(args.designs) as f:
            designs = json.load(f)
    rows = []
    for spec in args.channels:
        reference, between = references(model, spec, args)
        for name, design in designs.items():
            rows.append(measure(model, spec, args, dict(opts, **design), reference, between, name))
            print(f"  measured {spec} {name}", flush=True)
    results, settled_results = draws(args.quick)
    if rows:
        print(f"Patterns, high, fast ({results} draws a chain; settled: {settled_results})")
        print(
            format_table(
                [
                    "objective",
                    "new",
                    "consecutive",
                    "high",
                    "steps eq.",
                    "fast x",
                    f"collapse {results}",
                    f"collapse {settled_results}",
                    "rhat per chain",
                    "seconds (phases)",
                    "diversity",
                ],
                rows,
            )
        )
    facet_rows = [facet_row(model, spec, args, opts) for spec in args.facets]
    if facet_rows:
        print(f"Two facets of equal height ({settled_results} draws a chain)")
        print(
            format_table(
                ["unit", "seeds a / b", "samples a / b", "share a per chain", "chains in both"],
                facet_rows,
            )
        )
    print(machine())


if __name__ == "__main__":
    main()
