"""Do the same seed's images depend on the CPU's instruction set?

TensorFlow's CPU matrix and convolution kernels come from oneDNN, which picks its code for the
instruction set it detects (SSE4.1, AVX, AVX2, AVX-512, ...) when the process starts, and
different code adds in a different order. `ONEDNN_MAX_CPU_ISA` caps what it may pick. This
script runs one short `render_vis` and one short `render` of the same seed in fresh processes
under each cap, and prints how far each result lies from the uncapped run's.

    PYTHONPATH=benchmarks python benchmarks/experiments/cpu_kernels.py                       # about 6 minutes on 2 cores
    PYTHONPATH=benchmarks python benchmarks/experiments/cpu_kernels.py --caps AVX2 SSE41     # only these caps

A cap above what the CPU has changes nothing. "repeat" is a second uncapped run: it shows that
one machine repeats itself exactly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import command_line, format_table, machine

OBJECTIVE = ("block6a_expand_activation", 301)
OPTIMIZE_STEPS = 32
HMC_OPTS = dict(
    num_chains=2,
    num_results=2,
    num_burnin_steps=4,
    num_leapfrog_steps=4,
    optimize_steps=16,
    temperature_steps=0,
)


def run_child(out: Path) -> None:
    """One render_vis and one render of seed 0, saved to `out` (.npz)."""
    import samplevis
    from samplevis import objectives, zoo

    model = zoo.efficientnet_lite0()
    obj = objectives.channel(*OBJECTIVE)
    optimized = samplevis.render_vis(
        model, obj, thresholds=(OPTIMIZE_STEPS,), seed=0, progress=False
    )[-1]
    result = samplevis.render(model, obj, hmc_opts=HMC_OPTS, seed=0, progress=False)
    np.savez(out, optimized=optimized, samples=result.images, activations=result.activations)


def run_capped(cap: str | None, out: Path) -> dict[str, np.ndarray]:
    """Run `run_child` in a fresh process with ONEDNN_MAX_CPU_ISA = cap (None: uncapped)."""
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if cap is not None:
        env["ONEDNN_MAX_CPU_ISA"] = cap
    subprocess.run([sys.executable, __file__, "--child", str(out)], env=env, check=True)
    with np.load(out) as saved:
        return dict(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--caps",
        nargs="+",
        default=["AVX2", "AVX", "SSE41"],
        help="ONEDNN_MAX_CPU_ISA values to compare with the uncapped run",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child)
        return

    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    print(
        f"objective channel{OBJECTIVE}: render_vis {OPTIMIZE_STEPS} steps; render {HMC_OPTS}; "
        "seed 0; pixel values in [0, 1]"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        reference = run_capped(None, Path(tmp) / "uncapped.npz")
        for name, cap in [("repeat", None)] + [(cap, cap) for cap in args.caps]:
            got = run_capped(cap, Path(tmp) / f"{name}.npz")
            same = all(np.array_equal(got[k], reference[k]) for k in reference)
            rows.append(
                [
                    name,
                    "yes" if same else "no",
                    f"{np.abs(got['optimized'] - reference['optimized']).max():.3g}",
                    f"{np.abs(got['samples'] - reference['samples']).max():.3g}",
                    f"{got['activations'].mean():.4f}",
                ]
            )
    rows.insert(0, ["uncapped", "-", "0", "0", f"{reference['activations'].mean():.4f}"])
    print(
        format_table(
            [
                "ONEDNN_MAX_CPU_ISA",
                "identical",
                "max |d| optimized",
                "max |d| samples",
                "mean sample activation",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
