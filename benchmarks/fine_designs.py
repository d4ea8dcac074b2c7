"""What the fine coefficients do while the coarse ones move: seven designs side by side.

The default chain state moves the spectral coefficients below 1/16 cycle per pixel and keeps the
finer ones at the start's values. From the same four optimized starts, at the default run's T
and prior weight, this script compares:

  (a)  fine fixed at the start's values: `render` with warp_every=0 (`sampling.facet.FacetImage`);
  (b)  a Gibbs sweep: a coarse HMC step, then a fine HMC step at the same T, each block with
       its own adapted step size, under the density's own prior on every coefficient;
  (c1) a facet prior: fine = start + s * delta, delta under the coarse coefficients' prior, both
       moved by one HMC (s = 0 is design (a));
  (c2) the fine coefficients re-optimized after every coarse HMC step: K Adam steps up the
       activation (with --reopt-prior, up log pi) over the fine block, warm-started (Adam's
       moments carried from sweep to sweep), so the motifs can follow the coarse layout;
  (d)  a deformation facet: the fine coefficients fixed as in (a), and the image warped by a
       smooth displacement field (a G x G grid of offsets, bilinearly upsampled), so the start's
       motifs can move, bend and stretch: a coarse HMC step, then a warp HMC step, each block
       with its own adapted step size;
  (d1) (d) in one HMC over both parts, each part's step size scaled by its curvature at the
       start (Hutchinson's estimate of the Hessian's diagonal, averaged over the part);
  (d2) (d) with the warp step only every K-th sweep (--warp-every), its step size adapted over
       as many of its own steps as fall in the first 80 % of burn-in: a fixed scan of two
       kernels that each keep the target, at about (a)'s cost plus 1/K of the warp's. `render`
       has it as `hmc_opts["warp_every"]` (`sampling.facet.WarpedFacet`,
       `sampling.gibbs.AlternatingKernel`); here each sweep is a call of its own, so its seconds
       include a call's overhead per sweep.

Every design runs 160 burn-in sweeps (the step sizes adapted over the first 80 %) and 40
samples 5 sweeps apart, 4 leapfrog steps a HMC step, one fixed transform. It prints, as
`sampling_targets.py` counts them: the activation ratio, visibly distinct of the first 10
samples a chain, the pattern share (pooled features at block2b_add, within chain over between
multi-seed `render_vis` images), the detail share (the same on the images with their coarse
layout removed: what moves besides colour and brightness), the worst per-chain split R-hat
(ArviZ's scale) of the activation and mean colours over 40 samples, and the seconds.

    python benchmarks/fine_designs.py                          # block6a:301, ~30 min
    python benchmarks/fine_designs.py --designs d --grid fine    # (a) and (d), with grids
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from sampling_targets import (
    SIZE,
    activations_of,
    arviz_scale,
    detail_share,
    pattern_share,
    real_activation,
)

import samplevis
from samplevis import io, objectives, param, zoo
from samplevis.checks import TensorLike
from samplevis.param.base import State, WrappedImage
from samplevis.sampling import kernels, log_mass, metrics
from samplevis.sampling.diagnostics import split_rhat_per_chain
from samplevis.sampling.energy import Energy, make_energy
from samplevis.sampling.facet import moving_mask, warp_images

from common import command_line, format_table, machine

BURNIN, RESULTS, EVERY, LEAPFROG = 160, 40, 5, 4
DESIGNS = ("a", "b", "c1", "c2", "d", "d1", "d2")


@dataclasses.dataclass(frozen=True, eq=False)
class SplitImage(WrappedImage):
    """State (coarse [C, D], second [C, F]): the coarse coefficients as they are, the fine ones
    start + scale * second, where `init`'s second part is zero (scale 1: the fine values less the
    start's)."""

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


@dataclasses.dataclass(frozen=True)
class TruePrior:
    """log pi with the prior on the fine values themselves, not on their offset from the start:
    `energy`'s prior term sees (coarse, offset), so the start's part is added back."""

    energy: Energy
    fine_start: tf.Tensor  # [C, F]

    def __call__(self, coarse: tf.Tensor, offset: tf.Tensor) -> tf.Tensor:
        e = self.energy
        return e.activation(coarse, offset) / e.temperature - 0.5 * e.prior_weight * (
            tf.reduce_sum(tf.square(coarse), 1)
            + tf.reduce_sum(tf.square(self.fine_start + offset), 1)
        )


@dataclasses.dataclass(frozen=True, eq=False)
class WarpedImage(WrappedImage):
    """State (coarse [C, D], warp [C, G, G, 2]): design (a)'s image, then displaced by `pixels`
    times the warp (`sampling.facet.warp_images`, which `render`'s warp uses too)."""

    base: param.RGBImage
    start: np.ndarray  # [C, 2, 3, H, Wf]
    moving: np.ndarray  # bool [2, 3, H, Wf]
    grid: int
    pixels: float

    @property
    def state_shapes(self) -> tuple:
        return ((self.batch, int(self.moving.sum())), (self.batch, self.grid, self.grid, 2))

    def init(self, seed: object = None) -> State:
        flat = self.start.reshape(self.batch, -1)
        return (
            tf.constant(flat[:, self.moving.reshape(-1)], tf.float32),
            tf.zeros([self.batch, self.grid, self.grid, 2]),
        )

    def to_image(self, state: State) -> TensorLike:
        facet = SplitImage(self.base, self.start, self.moving, 0.0)
        fine = tf.zeros([self.batch, self.moving.size - int(self.moving.sum())])
        return warp_images(facet.to_image((state[0], fine)), state[1], self.pixels)


def activation_only(log_prob: TruePrior) -> Callable:
    """A(image) / T of the state (coarse, offset): log pi without the prior."""
    e = log_prob.energy
    return lambda coarse, offset: e.activation(coarse, offset) / e.temperature


FineMove = Callable[[tf.Tensor, tf.Tensor, tuple, tf.Tensor], tuple[tf.Tensor, tuple]]


def coarse_kernel(log_prob: Callable, offset: tf.Tensor, step: list) -> tfp.mcmc.TransitionKernel:
    return kernels.make_kernel(
        lambda c: log_prob(c, offset),
        "hmc",
        step,
        num_leapfrog_steps=LEAPFROG,
        num_adaptation_steps=int(0.8 * BURNIN),
    )


def gibbs_move(log_prob: Callable, step: list, every: int = 1) -> tuple[FineMove, Callable]:
    """The second block of (b), (d) and (d2): one HMC step on the state's second part (the fine
    offsets, the warp) with the coarse coefficients fixed; made every `every` sweeps, so its
    step size adapts over that share of burn-in's first 80 %."""

    def kernel(coarse: tf.Tensor) -> tfp.mcmc.TransitionKernel:
        return kernels.make_kernel(
            lambda f: log_prob(coarse, f),
            "hmc",
            step,
            num_leapfrog_steps=LEAPFROG,
            num_adaptation_steps=int(0.8 * BURNIN) // every,
        )

    def move(coarse, offset, results, seed):
        k = kernel(coarse)
        results = kernels.refreshed_results(k, [offset], results)
        [offset], results = k.one_step([offset], results, seed=seed)
        return offset, results

    def init(coarse, offset):
        return kernel(coarse).bootstrap_results([offset])

    return move, init


def reoptimize_move(log_prob: Callable, steps: int, rate: float) -> tuple[FineMove, Callable]:
    """Design (c2)'s fine block: `steps` Adam steps up log pi over the fine offsets."""
    b1, b2, eps = 0.9, 0.999, 1e-8

    def move(coarse, offset, adam, seed):
        m, v, t = adam
        for _ in range(steps):
            with tf.GradientTape() as tape:
                tape.watch(offset)
                value = tf.reduce_sum(log_prob(coarse, offset))
            g = tape.gradient(value, offset)
            t = t + 1.0
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * tf.square(g)
            offset = offset + rate * (m / (1 - b1**t)) / (tf.sqrt(v / (1 - b2**t)) + eps)
        return offset, (m, v, t)

    def init(coarse, offset):
        return (tf.zeros_like(offset), tf.zeros_like(offset), tf.constant(0.0))

    return move, init


def sweeps(
    log_prob: Callable,
    chains: SplitImage | WarpedImage,
    move: FineMove,
    move_init: Callable,
    seed: int,
    every: int = 1,
) -> np.ndarray:
    """Coarse HMC step then, every `every` sweeps, the second block's move; BURNIN sweeps and
    RESULTS samples EVERY apart; images [RESULTS, C, H, W, 3]."""
    coarse, offset = chains.init()
    step = kernels.per_chain_step_size(1e-3, [coarse])

    def coarse_step(coarse, offset, coarse_results, seed):
        k = coarse_kernel(log_prob, offset, step)
        coarse_results = kernels.refreshed_results(k, [coarse], coarse_results)
        [coarse], coarse_results = k.one_step([coarse], coarse_results, seed=seed)
        return coarse, coarse_results

    @tf.function
    def sweep(coarse, offset, coarse_results, fine_state, seed):
        s1, s2 = tf.unstack(tfp.random.split_seed(seed, 2))
        coarse, coarse_results = coarse_step(coarse, offset, coarse_results, s1)
        # The fine block sees the new coarse state as a constant: differentiating through the
        # coarse leapfrog loop is neither wanted nor supported by TensorFlow's nested loops.
        offset, fine_state = move(tf.stop_gradient(coarse), offset, fine_state, s2)
        return coarse, offset, coarse_results, fine_state

    @tf.function
    def coarse_only(coarse, offset, coarse_results, fine_state, seed):
        coarse, coarse_results = coarse_step(coarse, offset, coarse_results, seed)
        return coarse, offset, coarse_results, fine_state

    coarse_results = coarse_kernel(log_prob, offset, step).bootstrap_results([coarse])
    fine_state = move_init(coarse, offset)
    seeds = tfp.random.split_seed(seed, BURNIN + RESULTS * EVERY)
    images = []
    for i in range(BURNIN + RESULTS * EVERY):
        step_fn = sweep if i % every == 0 else coarse_only
        coarse, offset, coarse_results, fine_state = step_fn(
            coarse, offset, coarse_results, fine_state, seeds[i]
        )
        if i >= BURNIN and (i - BURNIN + 1) % EVERY == 0:
            images.append(chains.to_image((coarse, offset)).numpy())
    return np.stack(images)


def curvature_steps(log_prob: Callable, state: list, prior_weight: float) -> list:
    """Per chain and state part, 1e-3 times sqrt(the first part's curvature over this part's):
    a mass per part from the mean of the Hessian's diagonal over the part (Hutchinson's
    estimator, as `log_mass` reads it), so one adapted step size serves both parts."""
    curvature = [
        np.maximum(c.reshape(c.shape[0], -1).mean(axis=1), prior_weight)
        for c in log_mass.hessian_diagonal(log_prob, state, prior_weight, seed=5)
    ]
    return [
        tf.constant(
            (1e-3 * np.sqrt(curvature[0] / c)).reshape([-1] + [1] * (len(s.shape) - 1)),
            tf.float32,
        )
        for c, s in zip(curvature, state)
    ]


def joint_run(
    log_prob: Callable, chains: SplitImage | WarpedImage, seed: int, step: list | None = None
) -> np.ndarray:
    """Designs (c1) and (d1): one HMC over both parts, at one step size or at `step` (per chain
    and part); images [RESULTS, C, H, W, 3]."""
    state = list(chains.init())
    kernel = kernels.make_kernel(
        log_prob,
        "hmc",
        kernels.per_chain_step_size(1e-3, state) if step is None else step,
        num_leapfrog_steps=LEAPFROG,
        num_adaptation_steps=int(0.8 * BURNIN),
    )
    samples = tf.function(
        lambda s: tfp.mcmc.sample_chain(
            RESULTS,
            s,
            kernel=kernel,
            num_burnin_steps=BURNIN,
            num_steps_between_results=EVERY - 1,
            trace_fn=None,
            seed=seed,
        )
    )(state)
    return np.stack([chains.to_image(tuple(p[i] for p in samples)).numpy() for i in range(RESULTS)])


def row(model, obj, name: str, images, a_star: float, references, seconds: float) -> list[str]:
    """The table row of samples [N, C, H, W, 3]."""
    acts = activations_of(model, obj, images)
    quantities = [acts] + [images[..., c].mean(axis=(2, 3)) for c in range(3)]
    rhat = np.nanmax([arviz_scale(split_rhat_per_chain(q), len(q)) for q in quantities], axis=0)
    first = images[:10].transpose(1, 0, 2, 3, 4).reshape(-1, SIZE, SIZE, 3)
    return [
        name,
        f"{np.median(acts) / a_star:.2f}",
        f"{len(metrics.distinct_by_pixels(first, references))} of {len(first)}",
        f"{pattern_share(model, images[:10], references):.2f}",
        f"{detail_share(model, images[:10], references):.2f}",
        " ".join(f"{r:.2f}" for r in rhat),
        f"{seconds:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objective", default="block6a_expand_activation:301")
    parser.add_argument(
        "--designs", nargs="+", choices=DESIGNS[1:], default=DESIGNS[1:], help="besides (a)"
    )
    parser.add_argument("--scale", type=float, default=0.1, help="(c1)'s s")
    parser.add_argument("--adam-steps", type=int, default=2, help="(c2)'s K")
    parser.add_argument("--adam-rate", type=float, default=0.01, help="(c2)'s learning rate")
    parser.add_argument(
        "--reopt-prior", action="store_true", help="(c2) ascends log pi, prior included"
    )
    parser.add_argument("--warp-grid", type=int, default=8, help="(d)'s G")
    parser.add_argument(
        "--warp-pixels", type=float, default=16.0, help="(d)'s px of displacement per warp unit"
    )
    parser.add_argument("--warp-every", type=int, default=4, help="(d2)'s K")
    parser.add_argument(
        "--grid",
        default=None,
        help="write PREFIX_<design>.png (a row a chain) and its samples .npy",
    )
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
        model,
        obj,
        hmc_opts=dict(num_results=RESULTS, num_burnin_steps=BURNIN, warp_every=0),
        seed=0,
        progress=False,
    )
    results = {"a": (default.images, time.perf_counter() - began)}
    a_star = float(np.mean(real_activation(model, obj, default.init_images)))
    image = param.image(SIZE, batch=4)
    start = param.initialized(image, default.init_images).init(None)[0].numpy()
    mask = moving_mask(image, default.cutoff)

    def energy_of(chains: SplitImage) -> Energy:
        return make_energy(
            model,
            obj,
            chains,
            default.temperature,
            default.prior_weight,
            transforms=samplevis.transform.default_transforms(),
            num_transforms=1,
            seed=tf.constant([7, 0], tf.int32),
        )

    split = SplitImage(image, start, mask, 1.0)
    fine_start = tf.constant(start.reshape(4, -1)[:, ~mask.reshape(-1)], tf.float32)
    true_prior = TruePrior(energy_of(split), fine_start)
    for design in args.designs:
        began = time.perf_counter()
        if design == "b":
            offset_step = kernels.per_chain_step_size(1e-3, [fine_start])
            images = sweeps(true_prior, split, *gibbs_move(true_prior, offset_step), seed=3)
        elif design == "c1":
            chains = SplitImage(image, start, mask, args.scale)
            images = joint_run(energy_of(chains), chains, seed=3)
        elif design == "d":
            chains = WarpedImage(image, start, mask, args.warp_grid, args.warp_pixels)
            energy = energy_of(chains)
            warp = chains.init()[1]
            move = gibbs_move(energy, kernels.per_chain_step_size(1e-3, [warp]))
            images = sweeps(energy, chains, *move, seed=3)
        elif design == "d2":
            chains = WarpedImage(image, start, mask, args.warp_grid, args.warp_pixels)
            energy = energy_of(chains)
            warp = chains.init()[1]
            move = gibbs_move(energy, kernels.per_chain_step_size(1e-3, [warp]), args.warp_every)
            images = sweeps(energy, chains, *move, seed=3, every=args.warp_every)
        elif design == "d1":
            chains = WarpedImage(image, start, mask, args.warp_grid, args.warp_pixels)
            energy = energy_of(chains)
            state = list(chains.init())
            step = curvature_steps(energy, state, default.prior_weight)
            images = joint_run(energy, chains, seed=3, step=step)
        elif design == "c2":
            # Up the activation alone, as render_vis optimizes: up log pi, the prior's pull on
            # ~50,000 fine coefficients outweighs the activation's and shrinks the motifs.
            target = true_prior if args.reopt_prior else activation_only(true_prior)
            move = reoptimize_move(target, args.adam_steps, args.adam_rate)
            images = sweeps(true_prior, split, *move, seed=3)
        else:
            continue
        results[design] = (images, time.perf_counter() - began)
        # a row as soon as it is measured, so a design that fails later loses nothing
        figures = row(model, obj, design, images, a_star, references, results[design][1])
        print("  " + " | ".join(figures), flush=True)
    report(args, model, obj, default, results, a_star, references)


def report(args, model, obj, default, results, a_star: float, references) -> None:
    """Print the table and write the grids."""
    names = {
        "a": "(a) fine fixed (render, warp_every=0; seconds include starts and T)",
        "b": "(b) Gibbs: coarse HMC step, fine HMC step",
        "c1": f"(c1) facet prior on fine, s = {args.scale:g}",
        "c2": f"(c2) fine re-optimized, {args.adam_steps} Adam steps at {args.adam_rate:g}"
        + (" up log pi" if args.reopt_prior else " up A"),
        "d": f"(d) deformation facet, {args.warp_grid}^2 grid, {args.warp_pixels:g} px a unit",
        "d1": "(d1) the same in one HMC, step sizes from each part's curvature",
        "d2": f"(d2) (d) with the warp step every {args.warp_every} sweeps",
    }
    rows = []
    for design in DESIGNS:
        if design not in results:
            continue
        images, seconds = results[design]
        rows.append(row(model, obj, names[design], images, a_star, references, seconds))
        if args.grid:
            # the samples as well, so a new figure can be read off them without a new run
            np.save(f"{args.grid}_{design}.npy", images)
            frames = np.concatenate([default.init_images[None], images[::8]])
            io.save_grid(
                f"{args.grid}_{design}.png",
                frames.transpose(1, 0, 2, 3, 4).reshape(-1, SIZE, SIZE, 3),
                ncols=len(frames),
            )
    print(
        f"{args.objective}, T = {default.temperature:.3g}, lam = {default.prior_weight:.3g}, "
        f"{default.num_moving} coarse coefficients"
    )
    print(
        format_table(
            ["design", "ratio", "distinct (10 a chain)", "pattern", "detail", "rhat (40)", "s"],
            rows,
        )
    )
    print(machine())


if __name__ == "__main__":
    main()
