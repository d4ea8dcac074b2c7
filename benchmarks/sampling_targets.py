"""The sampling targets, measured on the built-in EfficientNet-Lite0 at `render`'s defaults.

    python benchmarks/sampling_targets.py                       # three channels, ~40 min on 2 cores
    python benchmarks/sampling_targets.py --channels block6a_expand_activation:301 --long 10
    python benchmarks/sampling_targets.py --quick               # every code path in minutes
    python benchmarks/sampling_targets.py --warp-every 4        # with the deformation facet
    python benchmarks/sampling_targets.py --target-ratio 0.6    # another share of the gain to keep

Per channel it runs, in one process: `render_vis` optimizing 4 images at its defaults (the
references: what multi-seed optimization gives), a default `render` (num_results=10, 4 chains),
the same run with num_results=40 (the settling figures need that many draws), and with
`--long K` a run whose burn-in and samples are K times the default's. Every activation is on the
network as it is (no transforms). It prints:

Settled (the run with 40 draws)
  rhat       per chain, the worst of four split R-hats: the activation and the image's mean of
             each colour channel, on ArviZ's (Vehtari et al.'s) scale, whose 1.2 forty
             independent draws exceed about one time in 300 (target <= 1.2)
  ess        per chain, the smallest of the four effective sample sizes
  accept     per chain, the acceptance probability; divergences as a share of all steps
  share      the samples' share of the starts' gain over prior images (median A - a0) / (a* - a0),
             default run; "long" the long run's (target: within 0.1 of the default's)
  per chain  the same share for each chain of the run with 40 draws, from its own start's a*
             (target: within 0.05 of the target ratio asked)
Diverse (the default run)
  distinct   visibly distinct samples of 40 (`metrics.distinct_images`, target >= 30)
  pattern    within-chain cosine distance of the samples' spatially pooled features at an earlier
             layer (PATTERN_LAYER) as a share of that between the references (goal >= 0.25)
  detail     the pattern share of the images without their frequencies below DETAIL_CUTOFF:
             how far the patterns move besides colour, brightness and coarse layout
High
  ratio      median sample activation over the starts' mean (target >= 0.7)
Fast
  time x     the default `render` (starts included) over `render_vis` optimizing the 4
             references, in the same process (target <= 3)
  phases     the default run's seconds per phase
  per min    distinct images per minute: the samples', then multi-seed render_vis's
The grids of the default runs' samples go to --grid PREFIX (a row per chain, the start first).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import tensorflow as tf

import samplevis
from samplevis import io, objectives, param, zoo
from samplevis.evaluation import objective_values
from samplevis.sampling import metrics
from samplevis.sampling.diagnostics import ess_per_chain, split_rhat_per_chain

from common import command_line, format_table, machine

CHANNELS = (  # early, middle and late layers of EfficientNet-Lite0
    "block3a_expand_activation:20",
    "block5a_expand_activation:100",
    "block6a_expand_activation:301",
)
SIZE = 128  # render's default image size
# Patterns are read at a layer before all three objectives' (stage 2 of 7): features there are
# textures and motifs, which the objective does not pin down by itself.
PATTERN_LAYER = "block2b_add"
# The detail share reads the images with every spatial frequency below this many cycles per
# pixel removed, render's default cutoff: what the facet's coarse coefficients make (colour,
# brightness, layout at 16 px and up) goes, the motifs stay.
DETAIL_CUTOFF = 1 / 16
DEFAULT_RESULTS, SETTLED_RESULTS = 10, 40
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


def pooled(model, images: np.ndarray) -> np.ndarray:
    """Spatially pooled features at PATTERN_LAYER of images [N, H, W, 3], [N, channels]."""
    return np.concatenate(
        [
            metrics.pool(model.activations(images[i : i + 16], [PATTERN_LAYER])[PATTERN_LAYER])
            for i in range(0, len(images), 16)
        ]
    )


def pattern_share(model, samples: np.ndarray, references: np.ndarray) -> float:
    """How far the samples' patterns move: the mean cosine distance between pooled features of
    samples of one chain, over that between the references (multi-seed optimized images)."""
    n, c = samples.shape[:2]
    features = pooled(model, samples.reshape(-1, *samples.shape[2:])).reshape(n, c, -1)
    _, within = metrics.chain_diversity(features)
    return within / metrics.mean_pairwise_cosine_distance(pooled(model, references))


def detail(images: np.ndarray) -> np.ndarray:
    """Images [..., H, W, 3] without their spatial frequencies below DETAIL_CUTOFF, on mid grey."""
    h, w = images.shape[-3:-1]
    spectrum = np.fft.rfft2(images.reshape(-1, h, w, 3), axes=(1, 2))
    spectrum[:, np.fft.fftfreq(h)[:, None] ** 2 + np.fft.rfftfreq(w) ** 2 < DETAIL_CUTOFF**2] = 0
    return (np.fft.irfft2(spectrum, s=(h, w), axes=(1, 2)) + 0.5).reshape(images.shape)


def detail_share(model, samples: np.ndarray, references: np.ndarray) -> float:
    """`pattern_share` of the images' detail: how far the patterns move besides colour and
    brightness, which live in the coarse layout that `detail` removes."""
    return pattern_share(model, detail(samples), detail(references))


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


def settled(model, obj, result) -> list[str]:
    """Per chain: worst split R-hat and smallest ESS over the activation and the mean colours,
    the acceptance probability; and the divergent share of all steps."""
    quantities = [activations_of(model, obj, result.images)]
    quantities += [result.images[..., c].mean(axis=(2, 3)) for c in range(3)]  # [N, C] each
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


def measure(
    model,
    spec: str,
    seed: int,
    long: int,
    quick: bool,
    grid: str | None,
    warp_every: int | None,
    target_ratio: float | None,
) -> tuple[list[str], list[str]]:
    obj = objectives.as_objective(spec)
    opts: dict = dict(QUICK_OPTS if quick else {})
    if warp_every is not None:
        opts["warp_every"] = warp_every
    if target_ratio is not None:
        opts["target_ratio"] = target_ratio
    start = time.perf_counter()
    references = samplevis.render_vis(
        model,
        obj,
        param_f=lambda: param.image(SIZE, batch=4),
        thresholds=(16,) if quick else (512,),
        seed=seed + 1000,
        progress=False,
    )[-1]
    optimize_seconds = time.perf_counter() - start

    start = time.perf_counter()
    default = samplevis.render(
        model, obj, hmc_opts=dict(num_results=DEFAULT_RESULTS, **opts), seed=seed, progress=False
    )
    render_seconds = time.perf_counter() - start
    samples = default.images.transpose(1, 0, 2, 3, 4).reshape(-1, SIZE, SIZE, 3)
    if grid:
        io.save_png(f"{grid}_{spec.replace(':', '_')}.png", default.grid())
    a_star = float(np.mean(real_activation(model, obj, default.init_images)))
    floor = default.prior_activation
    activations = activations_of(model, obj, default.images)
    distinct = metrics.distinct_images(samples, references)
    distinct_references = metrics.distinct_images(references, references)
    pattern = pattern_share(model, default.images, references)
    detail_moved = detail_share(model, default.images, references)

    forty = samplevis.render(
        model, obj, hmc_opts=dict(num_results=SETTLED_RESULTS, **opts), seed=seed, progress=False
    )
    long_share = math.nan
    if long:
        burnin = opts.get(
            "num_burnin_steps", samplevis.sampling.options.DEFAULTS["num_burnin_steps"]
        )
        longer = samplevis.render(
            model,
            obj,
            hmc_opts=dict(opts, num_results=DEFAULT_RESULTS * long, num_burnin_steps=burnin * long),
            seed=seed,
            progress=False,
        )
        long_share = gain_share(activations_of(model, obj, longer.images), a_star, floor)
    share = gain_share(activations, a_star, floor)
    phases = ", ".join(f"{k} {v:.0f}" for k, v in default.seconds.items())
    quality = [
        spec,
        *settled(model, obj, forty),
        f"{share:.2f}",
        "-" if math.isnan(long_share) else f"{long_share:.2f}",
        " ".join(f"{s:.2f}" for s in chain_shares(model, obj, forty)),
    ]
    speed = [
        spec,
        f"{len(distinct)} of {len(samples)}",
        f"{pattern:.2f}",
        f"{detail_moved:.2f}",
        f"{np.median(activations) / a_star:.2f}",
        f"{render_seconds / optimize_seconds:.2f}",
        f"{render_seconds:.0f} ({phases})",
        f"{60 * len(distinct) / render_seconds:.1f} / "
        f"{60 * len(distinct_references) / optimize_seconds:.1f}",
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
        "--warp-every", type=int, default=None, help="hmc_opts['warp_every'] (default: render's)"
    )
    parser.add_argument(
        "--target-ratio",
        type=float,
        default=None,
        help="hmc_opts['target_ratio'] (default: render's)",
    )
    args = parser.parse_args()
    print(command_line())
    print(machine(), flush=True)
    model = zoo.efficientnet_lite0()
    quality, speed = [], []
    for spec in args.channels:
        q, s = measure(
            model,
            spec,
            args.seed,
            args.long,
            args.quick,
            args.grid,
            args.warp_every,
            args.target_ratio,
        )
        quality.append(q)
        speed.append(s)
        print(f"  measured {spec}", flush=True)
    print("Settled (40 draws a chain) and the share of the gain kept")
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
    print("Diverse, high, fast (the default run, 10 draws a chain)")
    print(
        format_table(
            [
                "objective",
                "distinct",
                "pattern",
                "detail",
                "ratio",
                "time x",
                "seconds (phases)",
                "per min",
            ],
            speed,
        )
    )
    print(machine())


if __name__ == "__main__":
    main()
