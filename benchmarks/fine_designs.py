"""What the fine coefficients do while the coarse ones move: fixed, or under a facet prior.

The default chain state moves the spectral coefficients below 1/16 cycle per pixel and keeps the
finer ones at the start's values (design (a), `sampling.facet.FacetImage`). Design (c1) lets the
fine ones move too, under a prior centred on the start's: fine = start + s * delta with delta
under the same N(0, I / lam) as the coarse coefficients, so the fine coefficients' prior is
N(start, (s^2 / lam) I): s = 0 is design (a), and s = 1 gives them the prior's own spread.

For one channel of the built-in model it runs a default `render` (num_results=40) for the
starts, the temperature and design (a)'s figures, then the same HMC (4 leapfrog steps, step
size adapted over 80 % of 160 burn-in steps, 40 samples 5 steps apart) from the same starts at
the same T for each --scales value, and prints, as `sampling_targets.py` counts them: the
activation ratio, visibly distinct of the first 10 samples a chain, the pattern share and the
worst per-chain split R-hat (ArviZ's scale) of the activation and mean colours over 40 samples.

    python benchmarks/fine_designs.py                     # block6a:301, s = 0.02 and 0.1
    python benchmarks/fine_designs.py --grid fine         # also fine_S.png, a row per chain
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import tensorflow as tf
from sampling_targets import (
    SIZE,
    activations_of,
    arviz_scale,
    pattern_share,
    real_activation,
)

import samplevis
from samplevis import io, objectives, param, zoo
from samplevis.checks import TensorLike
from samplevis.param.base import State, WrappedImage
from samplevis.sampling import chain, kernels, metrics
from samplevis.sampling.diagnostics import split_rhat_per_chain
from samplevis.sampling.energy import make_energy
from samplevis.sampling.facet import moving_mask
from samplevis.seeds import as_seed

from common import command_line, format_table, machine

BURNIN, RESULTS, EVERY, LEAPFROG = 160, 40, 5, 4


@dataclasses.dataclass(frozen=True, eq=False)
class FinePriorImage(WrappedImage):
    """State (coarse [C, D], delta [C, F]): the coarse coefficients as they are, the fine ones
    start + scale * delta."""

    base: param.RGBImage
    start: np.ndarray  # [C, 2, 3, H, Wf]
    moving: np.ndarray  # bool [2, 3, H, Wf]
    scale: float

    @property
    def state_shapes(self) -> tuple:
        d = int(self.moving.sum())
        return ((self.batch, d), (self.batch, self.moving.size - d))

    def init(self, seed: object = None) -> State:
        flat = self.start.reshape(self.batch, -1)
        coarse = flat[:, self.moving.reshape(-1)]
        return (
            tf.constant(coarse, tf.float32),
            tf.zeros([self.batch, self.moving.size - coarse.shape[1]]),
        )

    def to_image(self, state: State) -> TensorLike:
        mask = self.moving.reshape(-1)
        fine = tf.constant(self.start.reshape(self.batch, -1)[:, ~mask], tf.float32)
        order = np.argsort(np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)]))
        flat = tf.gather(tf.concat([state[0], fine + self.scale * state[1]], 1), order, axis=1)
        return self.base.to_image((tf.reshape(flat, [self.batch, *self.moving.shape]),))


def row(
    model,
    obj,
    name: str,
    images: np.ndarray,
    starts_activation: float,
    references: np.ndarray,
    seconds: float,
) -> list[str]:
    """The table row of samples [N, C, H, W, 3]."""
    acts = activations_of(model, obj, images)
    quantities = [acts] + [images[..., c].mean(axis=(2, 3)) for c in range(3)]
    rhat = np.nanmax([arviz_scale(split_rhat_per_chain(q), len(q)) for q in quantities], axis=0)
    first = images[:10].transpose(1, 0, 2, 3, 4).reshape(-1, SIZE, SIZE, 3)
    return [
        name,
        f"{np.median(acts) / starts_activation:.2f}",
        f"{len(metrics.distinct_images(first, references))} of {len(first)}",
        f"{pattern_share(model, images[:10], references):.2f}",
        " ".join(f"{r:.2f}" for r in rhat),
        f"{seconds:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objective", default="block6a_expand_activation:301")
    parser.add_argument("--scales", type=float, nargs="+", default=[0.02, 0.1])
    parser.add_argument("--grid", default=None)
    args = parser.parse_args()
    print(command_line())
    print(machine(), flush=True)
    model = zoo.efficientnet_lite0()
    obj = objectives.as_objective(args.objective)
    references = samplevis.render_vis(
        model,
        obj,
        param_f=lambda: param.image(SIZE, batch=4),
        thresholds=(512,),
        seed=1000,
        progress=False,
    )[-1]
    began = time.perf_counter()
    default = samplevis.render(
        model, obj, hmc_opts=dict(num_results=RESULTS), seed=0, progress=False
    )
    seconds = time.perf_counter() - began
    a_star = float(np.mean(real_activation(model, obj, default.init_images)))
    rows = [
        row(
            model,
            obj,
            "(a) fine fixed (render's default)",
            default.images,
            a_star,
            references,
            seconds,
        )
    ]
    image = param.image(SIZE, batch=4)
    start = param.initialized(image, default.init_images).init(None)[0].numpy()
    for scale in args.scales:
        chains = FinePriorImage(image, start, moving_mask(image, default.cutoff), scale)
        energy = make_energy(
            model,
            obj,
            chains,
            default.temperature,
            default.prior_weight,
            transforms=samplevis.transform.default_transforms(),
            num_transforms=1,
            seed=as_seed(7),
        )
        state = list(chains.init())
        kernel = kernels.make_kernel(
            energy,
            "hmc",
            kernels.per_chain_step_size(1e-3, state),
            num_leapfrog_steps=LEAPFROG,
            num_adaptation_steps=int(0.8 * BURNIN),
        )
        began = time.perf_counter()
        run = chain.run_chains(
            kernel, state, chain.ChainPlan(RESULTS, BURNIN, EVERY - 1, 10), seed=3, progress=False
        )
        images = np.stack(
            [
                chains.to_image(tuple(tf.constant(s[i]) for s in run.samples)).numpy()
                for i in range(RESULTS)
            ]
        )
        rows.append(
            row(
                model,
                obj,
                f"(c1) facet prior on fine, s = {scale:g}",
                images,
                a_star,
                references,
                time.perf_counter() - began,
            )
        )
        if args.grid:
            frames = np.concatenate([default.init_images[None], images[::8]])
            io.save_grid(
                f"{args.grid}_{scale:g}.png",
                frames.transpose(1, 0, 2, 3, 4).reshape(-1, SIZE, SIZE, 3),
                ncols=len(frames),
            )
    print(
        f"{args.objective}, T = {default.temperature:.3g}, lam = {default.prior_weight:.3g}, "
        f"{default.num_moving} coarse coefficients"
    )
    print(
        format_table(
            [
                "design",
                "ratio",
                "distinct (10 a chain)",
                "pattern share",
                "rhat per chain (40)",
                "seconds",
            ],
            rows,
        )
    )
    print(machine())


if __name__ == "__main__":
    main()
