"""Where HMC chains mix slowly: how far the spectral state moves, per frequency band, for one or
more trajectory lengths, on the built-in EfficientNet-Lite0.

    PYTHONPATH=benchmarks python benchmarks/experiments/sampling_mixing.py                        # L = 8 and 32, about 20 min
    PYTHONPATH=benchmarks python benchmarks/experiments/sampling_mixing.py --leapfrog-steps 8 --steps 40 --burnin 20   # smoke run

For each number of leapfrog steps L it runs `samplevis.render` with T kept at the rule's first
estimate and the N(0, I) prior (`temperature_steps=0, prior_weight=1`; default options otherwise)
and keeps every step after the burn-in. The kept images are mapped back to the spectral state z of
`param.image` and it prints:

step      adapted leapfrog step size, median over chains
acc       Metropolis acceptance, median over chains
ess/1k    ESS of the activation per 1,000 gradient evaluations after burn-in, min-max over chains
rhat      per-chain split R-hat of the activation, max over chains (target < 1.05)
move b0..b7  root-mean-square change of z's coordinates per HMC step (rejections count as
          no move), per frequency band (b0 lowest); mean over the band's coordinates, median
          over chains and colour channels. The prior's standard deviation is 1.
steps/sd  1 / (move b7)^2: HMC steps a random walk at that pace needs to cross one prior
          standard deviation in the highest band, which the prior, not the unit, holds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import samplevis
from samplevis import param, zoo
from samplevis.sampling.target import momentum

from common import command_line, format_table, machine

OBJECTIVE = "block6a_expand_activation:301"
NUM_CHAINS = 4
IMAGE_SIZE = 128
# rfft columns an image determines: in the first and last, half of the coefficients are the
# Hermitian-redundant twins of the other half and leave the image unchanged.
DETERMINED = np.s_[..., 1:-1]


def spectral_states(image_param, images: np.ndarray) -> np.ndarray:
    """The DETERMINED part of z of `image_param` for images [N, C, H, W, 3]:
    [N, C, 2, channels, H, Wf - 2], recovered to float round-off."""
    return np.stack([np.asarray(image_param.state_for(frames)[0])[DETERMINED] for frames in images])


def step_rms(z: np.ndarray) -> np.ndarray:
    """Root-mean-square change per step of every coordinate of z [N, C, ...]: [C, ...]."""
    return np.sqrt((np.diff(z, axis=0) ** 2).mean(axis=0))


def band_medians(values: np.ndarray, bands: np.ndarray, num_bands: int) -> list[float]:
    """values [C, 2, channels, H, W'] -> per band, the median over chains and channels of the
    mean over the band's coordinates (real and imaginary parts together)."""
    out = []
    for band in range(num_bands):
        picked = values[..., bands == band]  # [C, 2, channels, n]
        out.append(float(np.median(picked.mean(axis=(1, 3)))))
    return out


def run(model, leapfrog_steps: int, burnin: int, steps: int) -> list[str]:
    image_param = param.image(IMAGE_SIZE, batch=NUM_CHAINS)
    t0 = time.perf_counter()
    result = samplevis.render(
        model,
        OBJECTIVE,
        param_f=image_param,
        seed=0,
        progress=False,
        # T stays at the rule's first estimate and the prior at N(0, I) (prior sd 1 in every
        # band), as when the README's figures were taken.
        hmc_opts=dict(
            num_leapfrog_steps=leapfrog_steps,
            num_burnin_steps=burnin,
            num_results=steps,
            num_steps_between_results=0,
            temperature_steps=0,
            prior_weight=1.0,
        ),
    )
    seconds = time.perf_counter() - t0
    d = result.diagnostics
    z = spectral_states(image_param, result.images)
    bands = momentum.frequency_bands(IMAGE_SIZE, IMAGE_SIZE, momentum.DEFAULT_NUM_BANDS)[DETERMINED]
    move = band_medians(step_rms(z), bands, momentum.DEFAULT_NUM_BANDS)
    ess_per_k = 1000.0 * np.asarray(d.ess) / (steps * leapfrog_steps)
    return [
        str(leapfrog_steps),
        f"{np.median(d.step_size):.4f}",
        f"{np.median(d.accept_prob):.2f}",
        f"{ess_per_k.min():.1f}-{ess_per_k.max():.1f}",
        f"{max(d.rhat):.2f}",
        *(f"{v:.3f}" for v in move),
        f"{1.0 / move[-1] ** 2:.0f}",
        f"{result.activation_ratio:.2f}",
        f"{seconds:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leapfrog-steps", type=int, nargs="+", default=[8, 32])
    parser.add_argument(
        "--burnin", type=int, default=100, help="burn-in steps (step-size adaptation)"
    )
    parser.add_argument("--steps", type=int, default=160, help="steps kept after the burn-in")
    args = parser.parse_args()
    if args.steps < 2:
        parser.error(
            f"--steps must be at least 2 (moves are differences of kept steps); got {args.steps}."
        )

    print(command_line())
    print(machine())
    print(
        f"EfficientNet-Lite0, {OBJECTIVE}, {IMAGE_SIZE} px, {NUM_CHAINS} chains, seed 0, "
        f"{args.burnin} burn-in steps, {args.steps} kept steps"
    )
    model = zoo.efficientnet_lite0()
    headers = [
        "L",
        "step",
        "acc",
        "ess/1k",
        "rhat",
        *(f"move b{b}" for b in range(momentum.DEFAULT_NUM_BANDS)),
        "steps/sd",
        "ratio",
        "s",
    ]
    rows = []
    for leapfrog_steps in args.leapfrog_steps:
        rows.append(run(model, leapfrog_steps, args.burnin, args.steps))
        print(format_table(headers, rows[-1:]), flush=True)  # as it comes
    print()
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
