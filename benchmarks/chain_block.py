"""The chains' compiled block in the README's first command: its first call (tracing, graph
optimisation and the block's steps) and its later calls.

    python benchmarks/chain_block.py              # the README's command, seed 0; about 1.5 min
    python benchmarks/chain_block.py --quick      # smoke run: tiny settings, early layer, 3 blocks

It runs the command's `samplevis.render` call (as `phase_floors.py` does) up to the chains'
run, then, with the kernel, starts and traced scalars that run would use, calls the block
program (`mcmc.chain.block_function`) for burn-in blocks of `block_steps` steps and sampling
blocks (a step discarded between kept draws) in turn, each continuing from the last, and
prints their wall seconds. The render call stops there: the phases after it do not run.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
from phase_floors import QUICK, README, command, patched

from common import command_line, format_table, machine

BURN_IN_BLOCKS, SAMPLE_BLOCKS = 6, 2
# --quick: the first call and a later call of each kind
QUICK_BURN_IN_BLOCKS, QUICK_SAMPLE_BLOCKS = 2, 1


class Measured(Exception):
    """Ends the render call once the blocks are timed, carrying their rows."""

    def __init__(self, rows: list[list[str]]) -> None:
        super().__init__("blocks timed")
        self.rows = rows


def time_blocks(
    kernel,
    initial_state,
    plan,
    seed=None,
    *,
    trace_fns=None,
    burn_in_blocks: int = BURN_IN_BLOCKS,
    sample_blocks: int = SAMPLE_BLOCKS,
    **_,
) -> None:
    """In place of `run_chains`: the block program's calls timed (`burn_in_blocks` of burn-in,
    then `sample_blocks` of sampling), then `Measured` raised."""
    import tensorflow as tf

    from samplevis.runtime.seeds import as_seed, fold_in
    from samplevis.sampling.mcmc import chain

    state = [tf.convert_to_tensor(s, tf.float32) for s in initial_state]
    tally = chain.Tally(kernel)
    results = tally.bootstrap_results(state)
    run = chain.block_function(tally, dict(trace_fns or {}), False)
    seed, steps = as_seed(seed), plan.block_steps
    blocks = [("burn-in", steps, 0)] * burn_in_blocks
    blocks += [("sampling", max(1, steps // 2), 1)] * sample_blocks
    rows = []
    for index, (phase, kept, skip) in enumerate(blocks):
        start = time.perf_counter()
        states, trace, results = run(
            state, results, fold_in(seed, index), tf.constant(kept), tf.constant(skip)
        )
        state = [s[-1] for s in states]
        accepted = float(np.mean(trace["is_accepted"].numpy()))
        seconds = time.perf_counter() - start
        what = "first call" if index == 0 else phase
        rows.append([index, what, kept * (skip + 1), f"{seconds:.2f}", f"{accepted:.2f}"])
    raise Measured(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="the command's --seed")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: tiny settings, an early layer"
    )
    args = parser.parse_args()
    import samplevis
    from samplevis.cli.shell import load_model, objective
    from samplevis.optvis import param
    from samplevis.sampling.phases import chain_run

    argv = [*(QUICK if args.quick else README), "--seed", str(args.seed)]
    burn_in, sampling = (
        (QUICK_BURN_IN_BLOCKS, QUICK_SAMPLE_BLOCKS)
        if args.quick
        else (BURN_IN_BLOCKS, SAMPLE_BLOCKS)
    )
    parsed, given = command(argv)
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    print("samplevis sample " + " ".join(argv))
    try:
        timed = functools.partial(time_blocks, burn_in_blocks=burn_in, sample_blocks=sampling)
        with patched(chain_run.chain_lib, "run_chains", lambda _: timed):
            samplevis.render(
                load_model(parsed.spec),
                objective(parsed.objective),
                hmc_opts=given,
                seed=parsed.seed,
                progress=False,
                param_f=lambda: param.image(parsed.size, batch=given["num_chains"]),
            )
    except Measured as measured:
        print(format_table(["block", "kind", "steps", "seconds", "accepted"], measured.rows))


if __name__ == "__main__":
    main()
