"""HMC on the low frequencies of the image only: does a smaller state let the chains move?

An experiment for the sampling targets (docs/sampling_designs.md), not `render`'s code. Near an
optimum every direction of the state the objective holds gives up about T / 2 of activation
(equipartition), so with ~50,000 spectral coefficients the temperature that keeps most of the
activation is tiny and every direction moves by speckle. Here the chain state is only the
spectral coefficients below `--cutoffs` cycles per pixel; the higher ones stay at the optimized
start's values. With D coefficients left the temperature rule T = 2 (1 - rho) a* / D allows a
temperature larger by the factor the state shrank.

For each objective and cutoff (0: the whole state) it runs the same plain HMC on a channel of
the built-in model (default block6a_expand_activation:301): 4 chains from 4 optimized starts
(256 steps, seed 0), 128 px, no transforms, a prior N(0, I / lam) on the free coefficients
with lam matched to the starts' mean square (as `render`), 8 leapfrog steps, a per-chain step
size adapted to an acceptance of 0.75 over the first 80 % of the burn-in, then 10 samples 20
steps apart.
It prints, as `sampling_targets.py` counts them:

D          free coefficients (per chain)
T          the rule's temperature for --target-ratio
accept     the share of accepted proposals among the steps that gave the kept samples, per chain
ratio      median activation of the 40 samples over the optimized starts' (>= 0.5)
distinct   visibly distinct samples among the 40 (2 px blur, >= 0.25 x the mean RMS between
           images optimized from other seeds; target >= 12)
rhat       per-chain split R-hat of the kept samples' activation (target <= 1.1)

    python benchmarks/coarse_state.py                       # cutoffs 0, 1/8, 1/16: about 10 min
    python benchmarks/coarse_state.py --cutoffs 0.0625 --grid coarse.png
    python benchmarks/coarse_state.py --objectives block3a_expand_activation:20 --cutoffs 0 0.0625
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

from common import command_line, format_table, machine

OBJECTIVE, SIZE, CHAINS = "block6a_expand_activation:301", 128, 4
LEAPFROG_STEPS = 8


def run(
    objective_name: str,
    cutoff: float,
    target_ratio: float,
    burn_in: int,
    results: int,
    every: int,
    grid: str | None,
) -> list[object]:
    import tensorflow as tf
    import tensorflow_probability as tfp

    import samplevis
    from samplevis import io, objectives, param, zoo
    from samplevis.evaluation import objective_values
    from samplevis.param.fourier import rfft2d_freqs
    from samplevis.sampling import metrics
    from samplevis.sampling.diagnostics import split_rhat_per_chain

    model = zoo.efficientnet_lite0()
    objective = objectives.as_objective(objective_name)
    image = param.image(SIZE, batch=CHAINS)
    starts = samplevis.render_vis(
        model,
        objective,
        lambda: image,
        thresholds=(256,),
        seed=0,
        return_state=True,
        progress=False,
    )
    others = samplevis.render_vis(
        model, objective, lambda: image, thresholds=(256,), seed=1, progress=False
    )[-1]
    z0 = tf.constant(starts.state[0])  # [chains, 2, 3, H, W // 2 + 1]

    def activation(z):
        return objective_values(model, objective, image.to_image((z,)))

    a_star = activation(z0).numpy()
    freqs = rfft2d_freqs(SIZE, SIZE)
    free = freqs < cutoff if cutoff > 0 else np.ones_like(freqs, bool)
    index = np.argwhere(np.broadcast_to(free, z0.shape[1:]))  # [D, 4]
    dims = len(index)
    lam = float(np.prod(z0.shape[1:]) / np.mean(np.sum(z0.numpy() ** 2, axis=(1, 2, 3, 4))))
    temperature = 2 * (1 - target_ratio) * float(np.mean(a_star)) / dims
    where = tf.constant(index, tf.int32)

    def spectrum(u):  # [chains, D] -> each chain's start with its free coefficients replaced
        return tf.stack([tf.tensor_scatter_nd_update(z0[c], where, u[c]) for c in range(CHAINS)])

    def log_prob(u):
        return activation(spectrum(u)) / temperature - lam * tf.reduce_sum(u * u, axis=1) / 2

    kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
        tfp.mcmc.HamiltonianMonteCarlo(
            log_prob, step_size=tf.fill([CHAINS, 1], 1e-3), num_leapfrog_steps=LEAPFROG_STEPS
        ),
        num_adaptation_steps=int(0.8 * burn_in),
        target_accept_prob=0.75,
    )

    @tf.function(autograph=False)
    def chain(u, seed):
        return tfp.mcmc.sample_chain(
            results,
            u,
            kernel=kernel,
            num_burnin_steps=burn_in,
            num_steps_between_results=every - 1,
            seed=seed,
            trace_fn=lambda _, k: k.inner_results.is_accepted,
        )

    start = np.stack([z0.numpy()[c][tuple(index.T)] for c in range(CHAINS)])
    began = time.perf_counter()
    kept, accepted = chain(tf.constant(start), tf.constant([0, 7], tf.int32))
    seconds = time.perf_counter() - began
    spectra = [spectrum(kept[i]) for i in range(results)]
    activations = np.stack([activation(z).numpy() for z in spectra])  # [results, chains]
    images = np.stack([image.to_image((z,)).numpy() for z in spectra])  # [results, chains, ...]
    by_chain = images.transpose(1, 0, 2, 3, 4).reshape(-1, SIZE, SIZE, 3)
    distinct = len(metrics.distinct_by_pixels(by_chain, others))
    rhat = split_rhat_per_chain(activations)
    if grid:  # rows: every third sample; columns: the chains
        io.save_grid(
            grid.replace(".png", f"_{objective_name.replace(':', '_')}_{cutoff:g}.png"),
            images[::3].reshape(-1, SIZE, SIZE, 3),
            ncols=CHAINS,
        )
    accept = accepted.numpy().mean(axis=0)
    return [
        objective_name,
        f"{cutoff:g}",
        dims,
        f"{temperature:.2e}",
        f"{accept.min():.2f}-{accept.max():.2f}",
        f"{np.median(activations / a_star):.2f}",
        f"{distinct} of {by_chain.shape[0]}",
        " ".join(f"{r:.2f}" for r in rhat),
        f"{seconds:.0f}",
    ]


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--objectives", nargs="+", default=[OBJECTIVE], help="layer:channel of the built-in model"
    )
    parser.add_argument(
        "--cutoffs",
        type=float,
        nargs="+",
        default=[0.0, 0.125, 0.0625],
        help="cycles per pixel below which coefficients move; 0: all",
    )
    parser.add_argument("--target-ratio", type=float, default=0.8)
    parser.add_argument("--burn-in", type=int, default=150)
    parser.add_argument("--results", type=int, default=10)
    parser.add_argument("--every", type=int, default=20, help="HMC steps per kept sample")
    parser.add_argument("--grid", default=None, help="write each run's samples to GRID_CUTOFF.png")
    args = parser.parse_args(argv)
    print(f"command: {command_line()}")
    print(f"machine: {machine()}", flush=True)
    rows = []
    for name in args.objectives:
        for cutoff in args.cutoffs:
            rows.append(
                run(
                    name,
                    cutoff,
                    args.target_ratio,
                    args.burn_in,
                    args.results,
                    args.every,
                    args.grid,
                )
            )
            print(f"  ran {name} cutoff {cutoff:g}", flush=True)
    print(
        f"{SIZE} px, {CHAINS} chains, target ratio {args.target_ratio}, "
        f"{args.burn_in} burn-in steps, {args.results} samples {args.every} steps apart"
    )
    print(
        format_table(
            [
                "objective",
                "cutoff",
                "D",
                "T",
                "accept",
                "ratio",
                "distinct",
                "rhat per chain",
                "seconds",
            ],
            rows,
        )
    )
    print(f"machine at end: {machine()}")


if __name__ == "__main__":
    main(sys.argv[1:])
