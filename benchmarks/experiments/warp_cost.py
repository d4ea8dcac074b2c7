"""What the deformation facet's warp costs per MCMC step, against the facet without it.

On block6a_expand_activation:301 of the built-in model, 4 chains at 128 px, from the same
optimized starts, T and prior weight: a compiled block of 8 steps (4 leapfrog steps each) of
the default kernel on the coarse coefficients (`warp_every=0`), and of the alternating kernel
that also moves the warp every K-th step (`sampling.gibbs.AlternatingKernel`). It prints each
block's first call (tracing included) and its steady seconds, timed in alternating repeats, as
a ratio to warp_every=0; then the bilinear warp's own forward and backward pass.

    PYTHONPATH=benchmarks python benchmarks/experiments/warp_cost.py                 # K = 4 and 8, ~3 min
    PYTHONPATH=benchmarks python benchmarks/experiments/warp_cost.py --every 2 4 8
"""

from __future__ import annotations

import argparse

import tensorflow as tf
import tensorflow_probability as tfp

import samplevis
from samplevis import objectives, param, transform, zoo
from samplevis.sampling import facet, kernels
from samplevis.sampling.energy import make_energy
from samplevis.sampling.gibbs import AlternatingKernel

from common import command_line, format_table, interleaved_medians, machine, seconds

SIZE, CHAINS, STEPS, LEAPFROG = 128, 4, 8, 4
TEMPERATURE, PRIOR_WEIGHT = 0.0045, 2.0  # about what a default run sets on this channel


def block_of(model, obj, start, every: int):
    """A compiled block of STEPS steps and its first arguments."""
    image = param.image(SIZE, batch=CHAINS)
    chains = facet.chain_state(image, start, 1 / 16, warp=every > 0)
    energy = make_energy(
        model,
        obj,
        chains,
        TEMPERATURE,
        PRIOR_WEIGHT,
        transforms=transform.default_transforms(),
        num_transforms=1,
        seed=tf.constant([7, 0], tf.int32),
    )
    state = list(chains.init(None))
    if every:
        steps = [kernels.per_chain_step_size(1e-3, [s]) for s in state]

        def block(fn, part):
            return kernels.make_kernel(fn, "hmc", steps[part], num_leapfrog_steps=LEAPFROG)

        kernel = AlternatingKernel(energy, block, every)
    else:
        kernel = kernels.make_kernel(
            energy, "hmc", kernels.per_chain_step_size(1e-3, state), num_leapfrog_steps=LEAPFROG
        )
    results = kernel.bootstrap_results(state)

    @tf.function(autograph=False)
    def run(state, results, seed):
        return tfp.mcmc.sample_chain(
            1,
            state,
            results,
            kernel=kernel,
            num_burnin_steps=STEPS - 1,
            trace_fn=None,
            return_final_kernel_results=True,
            seed=seed,
        )

    seed = tf.constant([1, 2], tf.int32)
    return lambda: tf.nest.map_structure(
        lambda t: t.numpy() if hasattr(t, "numpy") else t, run(state, results, seed)
    )


def warp_pass() -> float:
    """Seconds of the warp's forward and backward pass on [CHAINS, SIZE, SIZE, 3]."""
    images = tf.random.stateless_uniform([CHAINS, SIZE, SIZE, 3], [1, 2])
    warp = 0.3 * tf.random.stateless_normal([CHAINS, facet.WARP_GRID, facet.WARP_GRID, 2], [3, 4])

    @tf.function
    def both(images, warp):
        with tf.GradientTape() as tape:
            tape.watch([images, warp])
            value = tf.reduce_sum(tf.square(facet.warp_images(images, warp)))
        return tape.gradient(value, [images, warp])

    both(images, warp)
    return interleaved_medians({"warp": lambda: [g.numpy() for g in both(images, warp)]}, 20)[
        "warp"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objective", default="block6a_expand_activation:301")
    parser.add_argument("--every", type=int, nargs="+", default=[4, 8], help="warp_every K")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(command_line())
    print(machine(), flush=True)
    model = zoo.efficientnet_lite0()
    obj = objectives.as_objective(args.objective)
    starts = samplevis.render_vis(
        model,
        obj,
        param_f=lambda: param.image(SIZE, batch=CHAINS),
        thresholds=(64,),
        seed=0,
        progress=False,
    )[-1]
    start = param.initialized(param.image(SIZE, batch=CHAINS), starts).init(None)[0].numpy()
    blocks, first = {}, {}
    for every in [0, *args.every]:
        blocks[every] = block_of(model, obj, start, every)
        first[every] = seconds(blocks[every])
    steady = interleaved_medians(blocks, args.repeats)
    rows = [
        [
            f"{every}" + (" (no warp)" if every == 0 else ""),
            f"{first[every]:.1f}",
            f"{steady[every]:.2f}",
            f"{steady[every] / steady[0]:.2f}",
        ]
        for every in blocks
    ]
    print(
        f"{args.objective}, {CHAINS} chains at {SIZE} px, blocks of {STEPS} steps, L = {LEAPFROG}"
    )
    print(format_table(["warp_every", "first call s", "steady s", "x no warp"], rows))
    print(f"the warp's forward and backward pass: {1000 * warp_pass():.1f} ms")
    print(machine())


if __name__ == "__main__":
    main()
