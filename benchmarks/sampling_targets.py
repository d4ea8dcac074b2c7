"""The sampling targets, measured on the built-in EfficientNet-Lite0 at `render`'s defaults.

    python benchmarks/sampling_targets.py                       # three channels, ~40 min on 2 cores
    python benchmarks/sampling_targets.py --channels block6a_expand_activation:301 --long 10
    python benchmarks/sampling_targets.py --quick               # every code path in minutes
    python benchmarks/sampling_targets.py --hmc-opts '{"warp": false}' --no-settle  # a design
    python benchmarks/sampling_targets.py --hmc-opts '{"target_ratio": 0.6}'  # another share
    python benchmarks/sampling_targets.py --baselines           # with Lucid's diversity objective
    python benchmarks/sampling_targets.py --channels neuron:block5c_expand_activation:7

Per channel it runs, in one process: `render_vis` optimizing 4 images at its defaults (the
references: what multi-seed optimization gives), a default `render` (num_results=10, 4 chains),
the same run with num_results=40 (the settling figures need that many draws; `--no-settle` skips
it), with `--long K` a run whose burn-in and samples are K times the default's, and with
`--baselines` Lucid's diversity objective (`channel - w * diversity(layer)`, batch 4, w the
largest of a ladder that keeps the median activation >= 0.7 of plain `render_vis`'s). A channel
given as `neuron:layer:n` uses `objectives.neuron` (the centre position) instead of
`objectives.channel`. Every activation is on the network as it is (no transforms). It prints:

Settled (the run with 40 draws)
  rhat       per chain, the worst of five split R-hats: the activation, the image's mean of
             each colour channel and the structural distance of each sample from its chain's
             first, on ArviZ's (Vehtari et al.'s) scale, whose 1.2 forty independent draws exceed
             about one time in 300 (target <= 1.2)
  ess        per chain, the smallest of those effective sample sizes
  accept     per chain, the acceptance probability; divergences as a share of all steps
  share      the samples' share of the starts' gain over prior images (median A - a0) / (a* - a0),
             default run; "long" the long run's (target: within 0.1 of the default's)
  per chain  the same share for each chain of the run with 40 draws, from its own start's a*
             (target: within 0.05 of the target ratio asked)
Patterns, high, fast (the default run)
  structure  the structural share (`metrics.run_structural_share`): the median structural
             distance between samples of one chain over the median between the references
             (target >= 0.25, goal 0.5); then per chain
  ratio      median sample activation over the starts' mean (target >= 0.7)
  time x     the default `render` (starts included) over `render_vis` optimizing the 4
             references, in the same process (target <= 3)
  phases     the default run's seconds per phase
  patterns   distinct patterns (`metrics.distinct_patterns`: greedy, at 0.25 x the references'
             median structural distance) per minute: the samples', multi-seed render_vis's and,
             with --baselines, the diversity objective's (its activation ratio and w after it)
  by pixels  distinct by blurred pixels (`metrics.distinct_by_pixels`: recolourings count)
  bent copy  what the structural share gives copies: the share of each reference against
             itself bent by a smooth warp (`facet.warp_images`, 4 x 4 control points, each
             displaced by a normal of 1, 2 or 4 px a side); a chain whose share is below a
             2 px bend's draws what a person calls bent copies of one image
  registered the same share once bends are taken out (`registration.registered_share`: each
             pair's structure registered by the best smooth warp first), per chain, then what it
             gives the bent copies
The grids of the default runs' samples go to --grid PREFIX (a row per chain, the start first).
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
from samplevis.evaluation import objective_values
from samplevis.sampling import metrics, registration
from samplevis.sampling.mcmc.diagnostics import ess_per_chain, split_rhat_per_chain
from samplevis.sampling.target.facet import WARP_PIXELS, warp_images

from common import command_line, format_table, machine

CHANNELS = (  # early, middle and late layers of EfficientNet-Lite0
    "block3a_expand_activation:20",
    "block5a_expand_activation:100",
    "block6a_expand_activation:301",
)
SIZE = 128  # render's default image size
DEFAULT_RESULTS, SETTLED_RESULTS = 10, 40
QUICK_RESULTS = 4, 8  # --quick's: the registration's cost grows with the samples


def draws(quick: bool) -> tuple[int, int]:
    """(draws a chain of the default run, of the settled run)."""
    return QUICK_RESULTS if quick else (DEFAULT_RESULTS, SETTLED_RESULTS)


# --quick: every code path in a few minutes; its figures mean nothing
QUICK_OPTS = dict(
    optimize_steps=16, temperature_steps=4, num_burnin_steps=4, num_steps_between_results=0
)


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


def gain_share(activations: np.ndarray, a_star: float, floor: float) -> float:
    return float((np.median(activations) - floor) / (a_star - floor))


def chain_shares(model, obj, result) -> np.ndarray:
    """Per chain, [C]: (median A - a0) / (a*_c - a0) over its samples, a*_c its own start's."""
    a_star = real_activation(model, obj, result.init_images)
    activations = activations_of(model, obj, result.images)
    floor = result.prior_activation
    return (np.median(activations, axis=0) - floor) / (a_star - floor)


def arviz_scale(rhat: np.ndarray, num_draws: int) -> np.ndarray:
    """TFP's split R-hat of one chain of `num_draws` as ArviZ's: TFP's is Brooks and Gelman's
    corrected ratio (M + 1) / M * R^2 - (N - 1) / (M N) of R for M = 2 halves of N draws."""
    m, n = 2, num_draws // 2
    return np.sqrt((np.asarray(rhat) + (n - 1) / (m * n)) * m / (m + 1))


def objective_of_spec(spec: str) -> objectives.Objective:
    """ "layer:n" -> objectives.channel; "neuron:layer:n" -> objectives.neuron (the centre)."""
    if spec.startswith("neuron:"):
        layer, n = spec[len("neuron:") :].rsplit(":", 1)
        return objectives.neuron(layer, int(n))
    return objectives.as_objective(spec)


def settled(model, obj, result) -> list[str]:
    """Per chain: worst split R-hat and smallest ESS over the activation, the mean colours and
    the structural distance from the chain's first sample; the acceptance probability; and the
    divergent share of all steps."""
    images = result.images
    quantities = [activations_of(model, obj, images)]
    quantities += [images[..., c].mean(axis=(2, 3)) for c in range(3)]  # [N, C] each
    quantities.append(
        np.stack(
            [
                metrics.structural_distances(images[:, c], images[:1, c])[:, 0]
                for c in range(images.shape[1])
            ],
            axis=1,
        )
    )
    rhat = np.nanmax([arviz_scale(split_rhat_per_chain(q), len(q)) for q in quantities], axis=0)
    ess = np.nanmin([ess_per_chain(q) for q in quantities], axis=0)
    d = result.diagnostics
    divergent = sum(d.divergences) / max(1, d.num_steps * len(d.divergences))
    return [
        " ".join(f"{r:.2f}" for r in rhat),
        " ".join(f"{e:.0f}" for e in ess),
        " ".join(f"{a:.2f}" for a in d.accept_prob),
        f"{100 * divergent:.1f} %",
    ]


def optimized(model, obj, seed: int, quick: bool) -> np.ndarray:
    """`render_vis` at its defaults on 4 images of SIZE px, [4, H, W, 3]."""
    return samplevis.render_vis(
        model,
        obj,
        param_f=lambda: param.image(SIZE, batch=4),
        thresholds=(16,) if quick else (512,),
        seed=seed,
        progress=False,
    )[-1]


def diversity_baseline(
    model, spec: str, seed: int, quick: bool, plain: float
) -> tuple[np.ndarray, float, float]:
    """Lucid's diversity objective on a batch of 4: the images of the largest w on a doubling
    ladder whose median activation stays >= 0.7 of `plain` (plain render_vis's), their seconds
    and w. w is in units of `plain`, so the penalty weighs like the objective."""
    layer = spec.split(":")[-2]
    obj = objective_of_spec(spec)
    kept = None
    for k in range(-2, 5):
        w = plain * 2.0**k
        start = time.perf_counter()
        images = optimized(model, obj - w * objectives.diversity(layer), seed, quick)
        elapsed = time.perf_counter() - start
        if np.median(real_activation(model, obj, images)) < 0.7 * plain:
            break
        kept = (images, elapsed, w)
    if kept is None:
        return np.zeros([0, SIZE, SIZE, 3]), math.nan, math.nan
    return kept


BENDS = (1.0, 2.0, 4.0)  # px, the bent copies' displacement a side


def bent_copy_shares(references: np.ndarray, seed: int) -> tuple[list[float], list[float]]:
    """The structural share, plain and registered, of `references` [M, H, W, 3] against
    themselves bent by a smooth random warp of each of `BENDS` px: what the shares say of copies
    a person calls copies."""
    rng = np.random.default_rng(seed)
    between = metrics.between_distance(references)
    registered_between = registration.between_distance(references)
    plain, registered = [], []
    for pixels in BENDS:
        warp = rng.normal(size=[len(references), 4, 4, 2]) * pixels / WARP_PIXELS
        bent = warp_images(tf.constant(references, tf.float32), tf.constant(warp, tf.float32))
        bent = bent.numpy()
        distances = np.diag(metrics.structural_distances(references, bent))
        plain.append(float(np.median(distances) / between))
        distances = registration.registered_distances(references, bent)
        registered.append(float(np.median(distances) / registered_between))
    return plain, registered


def measure(
    model, spec: str, seed: int, args: argparse.Namespace, opts: dict
) -> tuple[list[str], list[str]]:
    obj = objective_of_spec(spec)
    results, settled_results = draws(args.quick)
    start = time.perf_counter()
    references = optimized(model, obj, seed + 1000, args.quick)
    optimize_seconds = time.perf_counter() - start

    start = time.perf_counter()
    default = samplevis.render(
        model, obj, hmc_opts=dict(num_results=results, **opts), seed=seed, progress=False
    )
    render_seconds = time.perf_counter() - start
    samples = default.images.transpose(1, 0, 2, 3, 4).reshape(-1, SIZE, SIZE, 3)
    if args.grid:
        io.save_png(f"{args.grid}_{spec.replace(':', '_')}.png", default.grid())
    a_star = float(np.mean(real_activation(model, obj, default.init_images)))
    floor = default.prior_activation
    activations = activations_of(model, obj, default.images)
    by_pixels = metrics.distinct_by_pixels(samples, references)
    patterns = metrics.distinct_patterns(samples, references)
    reference_patterns = metrics.distinct_patterns(references, references)
    structure = metrics.run_structural_share(default.images, references)
    per_chain = metrics.structural_share(default.images, references)
    registered = registration.registered_share(default.images, references)
    bent_plain, bent_registered = bent_copy_shares(references, seed)
    baseline = "-"
    if args.baselines:
        plain = float(np.median(real_activation(model, obj, references)))
        images, elapsed, w = diversity_baseline(model, spec, seed + 2000, args.quick, plain)
        if len(images):
            ratio = np.median(real_activation(model, obj, images)) / plain
            found = len(metrics.distinct_patterns(images, references))
            baseline = f"{60 * found / elapsed:.1f} ({ratio:.2f}, w {w:.3g})"

    quality = [spec, "-", "-", "-", "-"]
    kept = "-"
    if not args.no_settle:
        forty = samplevis.render(
            model,
            obj,
            hmc_opts=dict(num_results=settled_results, **opts),
            seed=seed,
            progress=False,
        )
        quality = [spec, *settled(model, obj, forty)]
        kept = " ".join(f"{s:.2f}" for s in chain_shares(model, obj, forty))
    long_share = math.nan
    if args.long:
        burnin = opts.get(
            "num_burnin_steps", samplevis.sampling.options.DEFAULTS["num_burnin_steps"]
        )
        longer = samplevis.render(
            model,
            obj,
            hmc_opts=dict(
                opts, num_results=results * args.long, num_burnin_steps=burnin * args.long
            ),
            seed=seed,
            progress=False,
        )
        long_share = gain_share(activations_of(model, obj, longer.images), a_star, floor)
    share = gain_share(activations, a_star, floor)
    quality += [f"{share:.2f}", "-" if math.isnan(long_share) else f"{long_share:.2f}", kept]
    phases = ", ".join(f"{k} {v:.0f}" for k, v in default.seconds.items())
    speed = [
        spec,
        f"{structure:.2f} ({' '.join(f'{x:.2f}' for x in per_chain)})",
        f"{np.median(activations) / a_star:.2f}",
        f"{render_seconds / optimize_seconds:.2f}",
        f"{render_seconds:.0f} ({phases})",
        f"{60 * len(patterns) / render_seconds:.1f} / "
        f"{60 * len(reference_patterns) / optimize_seconds:.1f} / {baseline}",
        f"{len(by_pixels)} of {len(samples)}",
        " / ".join(f"{x:.2f}" for x in bent_plain),
        " ".join(f"{x:.2f}" for x in registered),
        " / ".join(f"{x:.2f}" for x in bent_registered),
    ]
    return quality, speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", nargs="+", default=CHANNELS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="tiny settings that run every code path in minutes"
    )
    parser.add_argument(
        "--long",
        type=int,
        default=0,
        help="also a run with K times the default's burn-in and samples",
    )
    parser.add_argument("--grid", default=None, help="write the default runs' grids to PREFIX_*")
    parser.add_argument(
        "--hmc-opts", default="{}", help="render's hmc_opts as JSON, beside the defaults"
    )
    parser.add_argument(
        "--no-settle", action="store_true", help="skip the run with 40 draws (no R-hat, ESS)"
    )
    parser.add_argument("--baselines", action="store_true", help="also Lucid's diversity objective")
    args = parser.parse_args()
    print(command_line())
    print(machine(), flush=True)
    opts = dict(QUICK_OPTS if args.quick else {}, **json.loads(args.hmc_opts))
    model = zoo.efficientnet_lite0()
    quality, speed = [], []
    for spec in args.channels:
        q, s = measure(model, spec, args.seed, args, opts)
        quality.append(q)
        speed.append(s)
        print(f"  measured {spec}", flush=True)
    results, settled_results = draws(args.quick)
    print(f"Settled ({settled_results} draws a chain) and the share of the gain kept")
    print(
        format_table(
            [
                "objective",
                "rhat per chain",
                "ess per chain",
                "accept per chain",
                "divergent",
                "share",
                "long",
                "share per chain",
            ],
            quality,
        )
    )
    print(f"Patterns, high, fast (the default run, {results} draws a chain)")
    print(
        format_table(
            [
                "objective",
                "structure (per chain)",
                "ratio",
                "time x",
                "seconds (phases)",
                "patterns/min: samples / render_vis / diversity",
                "by pixels",
                "bent copy 1 / 2 / 4 px",
                "registered per chain",
                "its bent copy 1 / 2 / 4 px",
            ],
            speed,
        )
    )
    print(machine())


if __name__ == "__main__":
    main()
