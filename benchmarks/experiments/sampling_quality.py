"""Sampling quality on the built-in EfficientNet-Lite0: do HMC samples stay high, look like images,
and differ from each other? Also runs the original project's configuration as a baseline.

    PYTHONPATH=benchmarks:tests python benchmarks/experiments/sampling_quality.py            # the README table (about 30 min on 2 cores)
    PYTHONPATH=benchmarks:tests python benchmarks/experiments/sampling_quality.py --quick    # one channel, short chains
    PYTHONPATH=benchmarks:tests python benchmarks/experiments/sampling_quality.py --images images/   # also write GIFs and std maps
    PYTHONPATH=benchmarks:tests python benchmarks/experiments/sampling_quality.py --seeds 0 1 2      # a row per seed: the spread

Per channel it prints:
ratio     median sample activation / mean activation of the optimized starts (target >= 0.5)
prior     mean activation of images drawn from the prior / that of the starts: the floor a0/a*
gain      (median sample activation - a0) / (a* - a0), the share target_ratio aims at
robust    activation under fresh random transforms / under the K fixed ones (target >= 0.7)
slope     radially averaged power-spectrum slope (photos about -2 to -3, white noise 0)
hf        high-frequency energy share, f > 0.25 cycles/px (target <= 1.5x the starts')
div x     mean cosine distance between samples of different chains, in the pooled features of
          a different layer (target >= that of the optimized starts, `div 0`)
div opt   the same between 16 images optimized from different seeds (the 4 starts and 12 more):
          the optimizer's diversity, steadier than `div 0`, which rests on 6 pairs
div prior the same between 16 images drawn from the sampler's prior N(0, I / lam): how alike
          the network sees the noise every sample carries
div w     the same within a chain (0 means the chain does not move)
acc       Metropolis acceptance probability per chain, min-max (target 0.6-0.9)
divg      divergent steps, % (target < 1)
rhat      worst per-chain split R-hat of the activation after burn-in (target < 1.05)
ess       smallest per-chain effective sample size of the activation
T / rule  the temperature tuned to target_ratio over the rule's first estimate
lam       the prior's precision (by default matched to the starts' mean square)
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import samplevis
from samplevis import evaluation, io, objectives, param, transform, zoo
from samplevis.param.base import normal_state
from samplevis.sampling import metrics, options
from samplevis.sampling.mcmc.diagnostics import ess_per_chain, split_rhat_per_chain
from samplevis.seeds import as_seed, fold_in

from common import command_line, machine
from spectra import high_frequency_share, spectrum_slope

CHANNELS = (  # early, middle and late layers of EfficientNet-Lite0
    "block3a_expand_activation:20",
    "block5a_expand_activation:100",
    "block6a_expand_activation:301",
)
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "camera")
DIVERSITY_LAYERS = ("top_activation", "block5c_add")  # the first that is not the objective's
FRESH_TRANSFORM_DRAWS = 8
OPTIMIZED_FOR_DIVERSITY = 16  # images behind `div opt`: the chains' starts and more
GIF_EVERY = 3  # every third sample is a GIF frame: 20 frames, about 1.7 MB per GIF


@dataclass(frozen=True)
class Row:
    name: str
    ratio: float
    robust: float
    slope: float
    hf: float
    hf_start: float
    div_starts: float
    div_between: float
    div_within: float
    acc: tuple
    divergent: float
    rhat: float
    ess: float
    seconds: float
    tuned: float = float("nan")  # tuned T over the rule's first T
    prior_weight: float = float("nan")
    div_optimized: float = float("nan")
    div_prior: float = float("nan")
    prior: float = float("nan")  # a0 / a*
    gain: float = float("nan")  # (median A - a0) / (a* - a0)


def photos(size: int) -> np.ndarray:
    """scikit-image's bundled photos, [N, size, size, 3] in [0, 1]."""
    import skimage.data
    from skimage.transform import resize

    out = []
    for name in PHOTOS:
        image = getattr(skimage.data, name)()
        image = np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]
        out.append(resize(image, (size, size), anti_aliasing=True))
    return np.asarray(out, np.float32)


def diversity_layer(objective_layer: str) -> str:
    return next(layer for layer in DIVERSITY_LAYERS if layer != objective_layer)


def pooled_features(model, images: np.ndarray, layer: str) -> np.ndarray:
    """Spatially pooled features [N, c] of images [N, H, W, 3], in batches of 16."""
    parts = [
        model.activations(images[i : i + 16], [layer])[layer] for i in range(0, len(images), 16)
    ]
    return metrics.pool(np.concatenate(parts))


def optimized_images(model, obj, opts: dict, size: int, count: int, seed: int) -> np.ndarray:
    """`count` images [count, size, size, 3] optimized as `render` optimizes its starts, from
    seeds other than the chains'."""
    chains = opts["num_chains"]
    batches = [
        samplevis.render_vis(
            model,
            obj,
            param_f=param.image(size, batch=chains),
            thresholds=(opts["optimize_steps"],),
            seed=fold_in(as_seed(seed), 1000 + k),
            progress=False,
        )[-1]
        for k in range(-(-count // chains))
    ]
    return np.concatenate(batches)[:count]


def prior_images(size: int, prior_weight: float, count: int, seed: int) -> np.ndarray:
    """`count` images [count, size, size, 3] drawn from the prior N(0, I / lam) on the state."""
    image_param = param.image(size, batch=count)
    state = normal_state(
        image_param.state_shapes, fold_in(as_seed(seed), 2000), 1.0 / np.sqrt(prior_weight)
    )
    return image_param.to_image(state).numpy()


def fresh_transform_activation(model, obj, images: np.ndarray) -> float:
    """Mean objective of images [N, H, W, 3] under fresh draws of the standard transforms."""
    compose = transform.compose(transform.standard_transforms)
    # In batches of 16: the network's activations take about 75 MB per 128 px image.
    values = [
        evaluation.objective_values(
            model,
            obj,
            tf.constant(images[i : i + 16]),
            compose,
            tf.constant([10_000 + k, 7], tf.int64),
        ).numpy()
        for k in range(FRESH_TRANSFORM_DRAWS)
        for i in range(0, len(images), 16)
    ]
    return float(np.mean(np.concatenate(values)))


def evaluate(
    model,
    obj,
    layer: str,
    images: np.ndarray,
    activations: np.ndarray,
    starts: np.ndarray,
    start_activations: np.ndarray,
    diagnostics: dict,
    seconds: float,
    name: str,
) -> Row:
    """The figures of one run: samples [N, C, H, W, 3] with their activations [N, C], from starts
    [C, H, W, 3] with theirs [C], both measured the way the sampler measured them."""
    n, c = images.shape[:2]
    flat = images.reshape(n * c, *images.shape[2:])
    start_mean = float(np.mean(start_activations))
    between, within = metrics.chain_diversity(pooled_features(model, flat, layer).reshape(n, c, -1))
    fixed = float(np.mean(activations))
    return Row(
        name=name,
        ratio=float(np.median(activations)) / start_mean,
        robust=fresh_transform_activation(model, obj, flat) / fixed if fixed > 0 else float("nan"),
        slope=float(np.median(spectrum_slope(flat))),
        hf=float(np.median(high_frequency_share(flat))),
        hf_start=float(np.median(high_frequency_share(starts))),
        div_starts=metrics.mean_pairwise_cosine_distance(pooled_features(model, starts, layer)),
        div_between=between,
        div_within=within,
        acc=(min(diagnostics["accept"]), max(diagnostics["accept"])),
        divergent=100.0 * diagnostics["divergent"],
        rhat=max(diagnostics["rhat"]),
        ess=min(diagnostics["ess"]),
        seconds=seconds,
    )


def sample_channel(
    model, spec: str, opts: dict, image_dir: Path | None, seed: int = 0
) -> tuple[Row, object]:
    obj = objectives.as_objective(spec)
    layer = spec.rpartition(":")[0]
    t0 = time.perf_counter()
    result = samplevis.render(model, obj, hmc_opts=opts, seed=seed, progress=False)
    seconds = time.perf_counter() - t0
    d = result.diagnostics
    diag = dict(accept=d.accept_prob, divergent=d.divergence_rate, rhat=d.rhat, ess=d.ess)
    row = evaluate(
        model,
        obj,
        diversity_layer(layer),
        result.images,
        result.activations,
        result.init_images,
        result.init_activations,
        diag,
        seconds,
        spec if seed == 0 else f"{spec} seed {seed}",
    )
    if len(result.temperatures):
        row = replace(row, tuned=result.temperature / result.temperatures[0])
    starts = result.init_images
    optimized = np.concatenate(
        [
            starts,
            optimized_images(
                model, obj, opts, starts.shape[1], OPTIMIZED_FOR_DIVERSITY - len(starts), seed
            ),
        ]
    )
    div_optimized = metrics.mean_pairwise_cosine_distance(
        pooled_features(model, optimized, diversity_layer(layer))
    )
    div_prior = float("nan")  # no prior to draw from at lam = 0
    if result.prior_weight > 0:
        div_prior = metrics.mean_pairwise_cosine_distance(
            pooled_features(
                model,
                prior_images(starts.shape[1], result.prior_weight, OPTIMIZED_FOR_DIVERSITY, seed),
                diversity_layer(layer),
            )
        )
    row = replace(
        row,
        prior_weight=result.prior_weight,
        div_optimized=div_optimized,
        div_prior=div_prior,
        prior=result.prior_activation / float(np.mean(result.init_activations)),
        gain=result.gain_ratio,
    )
    if image_dir is not None:
        slug = spec.replace(":", "_")
        result.save_gif(image_dir / f"{slug}_samples.gif", every=GIF_EVERY)
        io.save_png(image_dir / f"{slug}_opt.png", result.init_images[0])
        std = result.std_maps()[0]  # chain 0, whose start is the one shown
        io.save_png(image_dir / f"{slug}_std.png", np.repeat((std / std.max())[..., None], 3, -1))
    return row, result


def original_configuration(
    model, obj, starts: np.ndarray, num_results: int, burnin: int, leapfrog: int
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The earlier project's sampler: pixel logits x, image sigmoid(x), T = 1, identity mass,
    log p(x) = log(activation) + sum log sigmoid'(x); chains start at the optimized images."""
    x0 = tf.constant(
        np.log(np.clip(starts, 1e-3, 1 - 1e-3) / (1 - np.clip(starts, 1e-3, 1 - 1e-3)))
    )

    def target(x):
        activation = evaluation.objective_values(model, obj, tf.sigmoid(x))
        jacobian = tf.reduce_sum(tf.math.log_sigmoid(x) + tf.math.log_sigmoid(-x), axis=[1, 2, 3])
        return tf.math.log(tf.nn.relu(activation) + 1e-6) + jacobian

    kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
        tfp.mcmc.HamiltonianMonteCarlo(
            target, step_size=tf.fill([len(starts), 1, 1, 1], 0.01), num_leapfrog_steps=leapfrog
        ),
        num_adaptation_steps=int(0.8 * burnin),
        target_accept_prob=0.75,
    )

    @tf.function
    def run():
        return tfp.mcmc.sample_chain(
            num_results,
            x0,
            kernel=kernel,
            num_burnin_steps=burnin,
            num_steps_between_results=1,
            trace_fn=lambda _, r: r.inner_results.log_accept_ratio,
            seed=tf.constant([0, 1]),
        )

    xs, log_accept = run()
    images = tf.sigmoid(xs).numpy()
    activations = np.stack(
        [evaluation.objective_values(model, obj, tf.constant(im)).numpy() for im in images]
    )
    accept = np.exp(np.minimum(0.0, log_accept.numpy())).mean(axis=0)
    diag = dict(
        accept=tuple(accept),
        divergent=float(np.mean(~np.isfinite(log_accept.numpy()))),
        rhat=tuple(split_rhat_per_chain(activations)),
        ess=tuple(ess_per_chain(activations)),
    )
    return images, activations, diag


def print_table(rows: list[Row]) -> None:
    header = (
        "objective",
        "ratio",
        "prior",
        "gain",
        "robust",
        "slope",
        "hf",
        "hf start",
        "div 0",
        "div opt",
        "div prior",
        "div x",
        "div w",
        "acc",
        "divg %",
        "rhat",
        "ess",
        "T / rule",
        "lam",
        "s",
    )
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in rows:
        print(
            " | ".join(
                [
                    r.name,
                    f"{r.ratio:.2f}",
                    f"{r.prior:.2f}",
                    f"{r.gain:.2f}",
                    f"{r.robust:.3f}",
                    f"{r.slope:.2f}",
                    f"{r.hf:.3f}",
                    f"{r.hf_start:.3f}",
                    f"{r.div_starts:.4f}",
                    f"{r.div_optimized:.4f}",
                    f"{r.div_prior:.4f}",
                    f"{r.div_between:.4f}",
                    f"{r.div_within:.4f}",
                    f"{r.acc[0]:.2f}-{r.acc[1]:.2f}",
                    f"{r.divergent:.1f}",
                    f"{r.rhat:.3f}",
                    f"{r.ess:.0f}",
                    f"{r.tuned:.2f}",
                    f"{r.prior_weight:.2f}",
                    f"{r.seconds:.0f}",
                ]
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one channel, short chains")
    parser.add_argument("--channels", nargs="*", help="layer:channel objectives to sample")
    parser.add_argument("--images", type=Path, help="write sample GIFs, starts and std maps here")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="run every channel once per seed (other starts, other chains), to "
        "see how much the figures vary (default: 0; images for the first)",
    )
    parser.add_argument(
        "--temperature-steps",
        type=int,
        default=options.TEMPERATURE_STEPS,
        help=f"steps checking T to rho = {options.DEFAULT_TARGET_RATIO} before "
        f"burn-in (default {options.TEMPERATURE_STEPS}; 0: none)",
    )
    parser.add_argument(
        "--num-results",
        type=int,
        help="draws kept per chain, 3 steps apart (default 60; 20 with --quick)",
    )
    parser.add_argument(
        "--num-burnin-steps",
        type=int,
        help="burn-in steps after the tuning (default 200; 100 with --quick)",
    )
    parser.add_argument(
        "--target-ratio",
        type=float,
        help=f"rho, the share of the starts' gain over prior images the samples "
        f"keep (default {options.DEFAULT_TARGET_RATIO})",
    )
    parser.add_argument(
        "--num-transforms",
        type=int,
        default=options.DEFAULTS["num_transforms"],
        help=f"K fixed transforms the target averages over (default "
        f"{options.DEFAULTS['num_transforms']})",
    )
    parser.add_argument(
        "--prior-weight",
        type=float,
        help="lam, precision of the Gaussian prior on z (default: matched to "
        "the starts' mean square)",
    )
    parser.add_argument(
        "--mass",
        choices=("fisher", "identity"),
        default="fisher",
        help="HMC mass: per-band precision estimate (default) or identity",
    )
    args = parser.parse_args()

    model = zoo.efficientnet_lite0()
    channels = args.channels or (CHANNELS[-2:-1] if args.quick else CHANNELS)
    # Long enough for a per-chain R-hat to mean something: 60 kept draws after 200 burn-in steps.
    opts = dict(
        num_chains=4,
        num_results=args.num_results or (20 if args.quick else 60),
        num_burnin_steps=args.num_burnin_steps or (100 if args.quick else 200),
        optimize_steps=128 if args.quick else 256,
        mass=args.mass,
        num_transforms=args.num_transforms,
        temperature_steps=args.temperature_steps,
        prior_weight=args.prior_weight,
        target_ratio=args.target_ratio,
    )
    reference = photos(128)
    noise = np.random.default_rng(0).uniform(0, 1, (8, 128, 128, 3))
    print(command_line())
    print(machine())
    print(f"EfficientNet-Lite0, 128 px images, seeds {args.seeds}, hmc_opts {opts}")
    print(
        f"photos: slope {np.median(spectrum_slope(reference)):.2f}, "
        f"hf {np.median(high_frequency_share(reference)):.3f}; white noise: slope "
        f"{np.median(spectrum_slope(noise)):.2f}, hf "
        f"{np.median(high_frequency_share(noise)):.3f}"
    )
    rows, last, last_row = [], None, None
    for spec in channels:
        for k, seed in enumerate(args.seeds):
            row, result = sample_channel(model, spec, opts, None if k else args.images, seed)
            if not k:  # the baseline starts from the first seed's starts
                last, last_row = result, row
            rows.append(row)
            print_table(rows[-1:])  # as it comes: a long run shows progress
    if not args.no_baseline and last is not None:
        spec = channels[-1]
        obj = objectives.as_objective(spec)
        t0 = time.perf_counter()
        images, activations, diag = original_configuration(
            model,
            obj,
            last.init_images,
            num_results=opts["num_results"],
            burnin=opts["num_burnin_steps"],
            leapfrog=8,
        )
        starts = last.init_images
        row = evaluate(
            model,
            obj,
            diversity_layer(spec.rpartition(":")[0]),
            images,
            activations,
            starts,
            evaluation.objective_values(model, obj, tf.constant(starts)).numpy(),
            diag,
            time.perf_counter() - t0,
            f"{spec} original (pixel logits, T=1)",
        )
        rows.append(replace(row, div_optimized=last_row.div_optimized))
        if args.images is not None:
            io.save_gif(
                args.images / "original_configuration.gif",
                np.stack([io.grid(f, ncols=len(f)) for f in images[::GIF_EVERY]]),
            )
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
