"""The Fourier phase as the chain state: a screen against `render`'s default facet.

Each chain's state is the phase offset of its start's spectrum (the FFT and decorrelated colour
space of `param.image`), the magnitude fixed at the start's own, as MACO fixes a magnitude and
moves only the phase: the offset 0 is the start, and every state has the start's power spectrum
(up to the rfft's self-conjugate columns, which irfft2d reads as their symmetric part). The
density is `render`'s, A / T minus lam |u|^2 / 2 on the state u, with the phase offset
delta = u * sd * sqrt(lam): a Gaussian pull of `--phase-sd` radians toward the start's phase
(10 rad is uniform on the circle to within e^-50). Everything else is `render`'s default: T
adapted to target_ratio during burn-in, dual-averaging step size, burn-in, thinning, leapfrog
steps, one fixed transform.

One process per channel: a default `render` (seed 0, 10 draws a chain) optimizes the starts,
then each design samples from those starts' images (`init`), so every row shares them. Printed
per row: the structural share (pooled, then per chain), the registered share per chain, the
activation kept (median real activation of the samples over the mean of the starts'), the
render's seconds (all, and burn-in + sampling), acceptance and the chains' T. Designs:

  default    render as it is (the 4 x 4 warp over the coarse coefficients)
  all        every frequency's phase moves
  coarse     only the phases below render's cutoff move (fine texture rides along)
  all+warp   every phase, and render's 4 x 4 warp
  coarse+warp

    PYTHONPATH=benchmarks python benchmarks/experiments/phase_state.py --refs refs.npy --out grids/
    PYTHONPATH=benchmarks python benchmarks/experiments/phase_state.py --designs all coarse \
        --objective block3a_expand_activation:20

`--refs` is a .npy of reference images [M, H, W, 3] (`sampling_targets.py`'s multi-seed
`render_vis`); without it they are optimized here (seed 1000, 512 steps). Each row's samples are
saved as a grid (rows: chains; columns: the start, then the draws) in `--out`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from sampling_targets import activations_of, objective_of_spec, optimized, real_activation

import samplevis
from samplevis import io, zoo
from samplevis.param.base import ImageParam, State, WrappedImage
from samplevis.sampling import api, metrics, registration
from samplevis.sampling.target import facet
from samplevis.sampling.target.log_density import matched_prior_weight

DESIGNS = ("default", "all", "coarse", "all+warp", "coarse+warp")


@dataclasses.dataclass(frozen=True, eq=False)
class PhaseImage(WrappedImage):
    """Images of `base` (param.image) whose state is the phase offset of some coefficients.

    State: float32 [C, D], D = moving.sum() complex coefficients; the phase offset is the state
    times `unit` (radians), added to the start's phase at the moving coefficients; the
    magnitude is always the start's. Zero state: the start.
    """

    base: ImageParam
    start: np.ndarray  # float32 [C, 2, 3, H, Wf], each chain's spectral state
    moving: np.ndarray  # bool [3, H, Wf]
    unit: float  # radians per unit of state

    @property
    def state_shapes(self) -> tuple:
        return ((self.batch, int(self.moving.sum())),)

    def init(self, seed: object = None) -> State:
        return (tf.zeros(self.state_shapes[0], tf.float32),)

    def to_image(self, state: State) -> tf.Tensor:
        start = tf.constant(self.start)
        real, imag = start[:, 0], start[:, 1]
        magnitude, phase = tf.abs(tf.complex(real, imag)), tf.math.atan2(imag, real)
        index = np.flatnonzero(self.moving.reshape(-1))[:, None]
        size = int(self.moving.size)
        # scatter the moving offsets into a zero offset for every coefficient, per chain
        offset = tf.transpose(
            tf.scatter_nd(index, tf.transpose(state[0]) * self.unit, [size, self.batch])
        )
        phase = phase + tf.reshape(offset, phase.shape)
        spectrum = tf.stack([magnitude * tf.cos(phase), magnitude * tf.sin(phase)], axis=1)
        return self.base.to_image((spectrum,))


def phase_parameterization(moving_all: bool, with_warp: bool, phase_sd: float):
    """A stand-in for `facet.chain_parameterization` that returns the phase state (render's own
    warp option is ignored: `with_warp` decides)."""

    def make(image_param, start, cutoff, warp=False, warp_grid=facet.WARP_GRID):
        parts = (start,) if isinstance(start, np.ndarray) else tuple(start)
        spectra = np.asarray(parts[0], np.float32)
        lam = matched_prior_weight([tf.constant(spectra)])  # what render's prior will be
        moving = facet.moving_mask(image_param, np.inf if moving_all else cutoff)[0]
        phases = PhaseImage(image_param, spectra, moving, phase_sd * float(np.sqrt(lam)))
        if not with_warp:
            return phases
        zeros = np.zeros([phases.batch, warp_grid, warp_grid, 2], np.float32)
        return facet.WarpedFacet(phases, zeros)  # type: ignore[arg-type]

    return make


def fmt(values) -> str:
    return " ".join(f"{x:.2f}" for x in values)


def row(model, obj, refs, result, label: str, seconds: float, out: Path, spec: str) -> None:
    a_star = real_activation(model, obj, result.init_images)
    acts = activations_of(model, obj, result.images)
    plain = metrics.run_structural_share(result.images, refs)
    per_chain = metrics.structural_share(result.images, refs)
    registered = registration.registered_share(result.images, refs)
    sampling = result.seconds.get("burn-in", 0.0) + result.seconds.get("sampling", 0.0)
    accept = result.diagnostics.accept_prob
    print(
        f"{spec} {label}: D {result.num_moving} | plain {plain:.2f} ({fmt(per_chain)}) | "
        f"registered {fmt(registered)} | kept {np.median(acts) / np.mean(a_star):.2f} "
        f"(per chain {fmt(np.median(acts, 0) / a_star)}) | {seconds:.0f} s "
        f"(burn-in + sampling {sampling:.0f} s) | accept {fmt(accept)} | "
        f"T {' '.join(f'{t:.3g}' for t in result.chain_temperatures)}",
        flush=True,
    )
    shares = result.temperature_shares
    steps = result.burnin_trace["step_size"]
    print(
        f"  T adaptation: first T {fmt(result.temperatures[0] * 1e3)} e-3, share kept in the "
        f"first / last adapted block {fmt(shares[0])} / {fmt(shares[-1])}; step size at the "
        f"end of burn-in {' '.join(f'{x:.3g}' for x in steps[-1])}",
        flush=True,
    )
    out.mkdir(parents=True, exist_ok=True)
    name = f"{label.replace('+', '_')}_{spec.replace(':', '_')}"
    io.save_png(out / f"phase_{name}.png", result.grid())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objective", default="block6a_expand_activation:301")
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=DESIGNS)
    parser.add_argument("--phase-sd", type=float, default=10.0, help="radians; 10: uniform")
    parser.add_argument("--refs", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("phase_state"))
    parser.add_argument("--hmc-opts", default="{}", help="JSON, added to every design's")
    parser.add_argument("--tag", default="", help="added to the phase designs' labels")
    parser.add_argument("--phase-hmc-opts", default="{}", help="JSON, added to the phase designs'")
    parser.add_argument(
        "--maco-starts",
        action="store_true",
        help="start every design from 4 `samplevis.maco` images (seeds 0..3, 128 px) instead",
    )
    args = parser.parse_args()
    extra = json.loads(args.hmc_opts)
    model = zoo.efficientnet_lite0()
    obj = objective_of_spec(args.objective)
    refs = np.load(args.refs) if args.refs else optimized(model, obj, 1000, False)
    if args.maco_starts:  # MACO's phase as the chain state: the starts' magnitude is MACO's
        maco = [samplevis.maco(model, obj, custom_shape=(128, 128), seed=s)[0] for s in range(4)]
        extra = dict(extra, init=np.stack(maco))
    start = time.perf_counter()
    default = samplevis.render(
        model, obj, hmc_opts=dict(num_results=10, **extra), seed=0, progress=False
    )
    seconds = time.perf_counter() - start
    if "default" in args.designs:
        row(model, obj, refs, default, "default", seconds, args.out, args.objective)
    print(f"starts optimized in {default.seconds['starts']:.0f} s", flush=True)
    original = facet.chain_parameterization
    # a facet's Laplace mass needs FacetImage's groups; the screen does not use it
    api._log_masses = lambda *a, **k: np.full([default.images.shape[1]], np.nan)
    for design in [d for d in args.designs if d != "default"]:
        facet.chain_parameterization = phase_parameterization(
            design.startswith("all"), design.endswith("warp"), args.phase_sd
        )
        try:
            start = time.perf_counter()
            result = samplevis.render(
                model,
                obj,
                hmc_opts=dict(
                    num_results=10,
                    **dict(extra, init=default.init_images),
                    **json.loads(args.phase_hmc_opts),
                ),
                seed=0,
                progress=False,
            )
            seconds = time.perf_counter() - start
        finally:
            facet.chain_parameterization = original
        row(model, obj, refs, result, design + args.tag, seconds, args.out, args.objective)


if __name__ == "__main__":
    main()
