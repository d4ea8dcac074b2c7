"""The README's trace plot: one short `render` on the built-in model, each chain's activation
from its optimized start through tuning T, burn-in and sampling.

    python benchmarks/readme_trace.py      # writes images/trace.png; a few minutes on 2 cores
"""
from __future__ import annotations

from pathlib import Path

import samplevis
from samplevis import io, zoo

IMAGES = Path(__file__).resolve().parent.parent / "images"
OBJECTIVE = "block6a_expand_activation:301"  # the channel the README's first command samples
# Every phase of a default run, each shorter (the defaults: 4 chains, 256 optimization steps,
# 120 steps tuning T, 100 burn-in steps, 8 leapfrog steps, 3 transforms), so that it runs in
# minutes; like the defaults, it is too short for the chains to settle.
HMC_OPTS = dict(num_chains=3, num_results=10, optimize_steps=128, temperature_steps=30,
                num_burnin_steps=20, num_steps_between_results=0, num_leapfrog_steps=4,
                num_transforms=1)
DPI = 80  # an 8 x 3.5 inch figure: 640 x 280 px


def main() -> None:
    model = zoo.efficientnet_lite0()
    result = samplevis.render(model, OBJECTIVE, hmc_opts=HMC_OPTS, seed=0)
    print(result.diagnostics.summary())
    print(io.save_figure(IMAGES / "trace.png", samplevis.plot_trace(result), dpi=DPI))


if __name__ == "__main__":
    main()
