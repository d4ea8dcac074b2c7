"""Why the adapted HMC step stays small on the built-in EfficientNet-Lite0: the energy error of a
leapfrog trajectory of fixed length against its step size.

    PYTHONPATH=benchmarks python benchmarks/experiments/energy_error.py                        # 42 min on a shared machine
    PYTHONPATH=benchmarks python benchmarks/experiments/energy_error.py --surrogate-sharpness  # relu6 and smooth only: 13 min

For a smooth target the energy error of a trajectory of fixed length falls as the step size
squared (slope 2 on log-log axes). Where the gradient jumps, as it does at every ReLU6 kink the
trajectory crosses, each crossing adds an error proportional to the step (slope 1), so a smaller
step buys little acceptance. The script measures both on the objective's optimized starts, at the
temperature rule's first estimate, the prior matched to the starts and the band mass (the
sampler's defaults before temperature tuning):

relu6     the network as it is
smooth    the same weights with every ReLU6 replaced by softplus(b x) / b - softplus(b (x - 6)) / b,
          which has no kinks (b = --sharpness)
surr b    the network as it is, but the leapfrog steers by the gradient of the smooth network of
          sharpness b (--surrogate-sharpness); the energy error is the real network's. Leapfrog
          with any conservative force field is reversible and volume-preserving, so such a
          kernel samples the real target exactly; it pays only if it accepts more.

Per step size it prints the median |energy error| over the chains and momentum draws, and the
mean Metropolis acceptance min(1, exp(-error)) it implies; then the fitted log-log slope. Energies
are summed in float64, so float32 round-off in the sums does not set a floor.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from samplevis import Model, objectives, param, transform, zoo
from samplevis.optimize import render_vis
from samplevis.sampling import options
from samplevis.sampling.target import momentum, temperature
from samplevis.sampling.target.log_density import make_log_density, matched_prior_weight

from common import command_line, format_table, machine

OBJECTIVE = "block6a_expand_activation:301"
NUM_CHAINS = 4
IMAGE_SIZE = 128
STEP_SIZES = (0.002, 0.004, 0.008, 0.016, 0.032)  # the adapted step is about 0.01-0.016
TRAJECTORY_LENGTH = 0.128  # the default L = 8 steps at 0.016, the top of the adapted range


def smooth_relu6(sharpness: float):
    """ReLU6 without kinks: softplus(b x) / b - softplus(b (x - 6)) / b."""

    def fn(x):
        return (tf.nn.softplus(sharpness * x) - tf.nn.softplus(sharpness * (x - 6.0))) / sharpness

    return fn


def smoothed(model: Model, sharpness: float) -> Model:
    """`model` with its ReLU6 layers made smooth; weights and input mapping shared."""

    def clone(layer):
        if isinstance(layer, keras.layers.ReLU):
            return keras.layers.Activation(smooth_relu6(sharpness), name=layer.name)
        return layer

    keras_model = keras.models.clone_model(model.keras_model, clone_function=clone)
    return Model(
        keras_model,
        value_range=model.value_range,
        preprocess=model.preprocess,
        name=f"{model.name}-smooth",
    )


def energy_errors(
    energy, start: tf.Tensor, momentum_mass: tf.Tensor, draws: int, seed: int, guide=None
) -> dict[float, np.ndarray]:
    """|H(end) - H(start)| per step size, [draws * C], for leapfrog trajectories of
    TRAJECTORY_LENGTH from `start` [C, ...] with momenta p ~ N(0, diag(mass)).

    guide: an energy with `energy`'s temperature and prior whose gradient steers the leapfrog in
    place of `energy`'s own; H is always `energy`'s.
    """
    guide = energy if guide is None else guide
    activation = tf.function(energy.activation)

    @tf.function
    def score(z):
        """d log pi / dz [C, ...] of the guide."""
        with tf.GradientTape() as tape:
            tape.watch(z)
            guide_activation = guide.activation(z)
        return tape.gradient(guide_activation, z) / guide.temperature - guide.prior_weight * z

    def flat64(x) -> np.ndarray:
        return np.asarray(x, np.float64).reshape(start.shape[0], -1)

    def hamiltonian(z, p) -> np.ndarray:
        """-log pi(z) + p' M^-1 p / 2 per chain, summed in float64."""
        a = np.asarray(activation(z), np.float64)
        z, p, m = flat64(z), flat64(p), flat64(momentum_mass)
        potential = -a / energy.temperature + 0.5 * energy.prior_weight * (z * z).sum(1)
        return potential + 0.5 * (p * p / m).sum(1)

    # Leapfrog written out, not TFP's kernel, so that the energies are summed in float64.
    out = {eps: [] for eps in STEP_SIZES}
    for draw in range(draws):
        noise = tf.random.stateless_normal(start.shape, [seed, draw])
        p0 = noise * tf.sqrt(momentum_mass)
        h0 = hamiltonian(start, p0)
        g0 = score(start)
        for eps in STEP_SIZES:
            z, p, g = start, p0, g0
            for _ in range(int(round(TRAJECTORY_LENGTH / eps))):
                p = p + 0.5 * eps * g
                z = z + eps * p / momentum_mass
                g = score(z)
                p = p + 0.5 * eps * g
            out[eps].append(np.abs(hamiltonian(z, p) - h0))
    return {eps: np.concatenate(v) for eps, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--objective",
        default=OBJECTIVE,
        help=f"layer:channel of the built-in model (default {OBJECTIVE})",
    )
    parser.add_argument("--draws", type=int, default=3, help="momentum draws per step size")
    parser.add_argument(
        "--sharpness",
        type=float,
        default=4.0,
        help="b of the smooth ReLU6 (larger is closer to ReLU6)",
    )
    parser.add_argument(
        "--surrogate-sharpness",
        type=float,
        nargs="*",
        default=[4.0, 64.0],
        help="b of each smooth network whose gradient steers the real "
        "network's leapfrog (default 4 64; the flag with no values skips them)",
    )
    args = parser.parse_args()
    print(command_line())
    print(machine())

    model = zoo.efficientnet_lite0()
    obj = objectives.as_objective(args.objective)
    image_param = param.image(IMAGE_SIZE, batch=NUM_CHAINS)
    t0 = time.perf_counter()
    start = tf.constant(
        render_vis(
            model,
            obj,
            param_f=image_param,
            thresholds=(256,),
            seed=0,
            progress=False,
            return_state=True,
        ).state[0]
    )

    def tuned(network: Model, a_star: float | None = None):
        """The network's energy at the rule's temperature for a* (default: its own a*) with
        the prior matched to the starts, and that a*."""
        energy = make_log_density(
            network,
            obj,
            image_param,
            temperature=1.0,
            transforms=transform.standard_transforms,
            num_transforms=options.DEFAULTS["num_transforms"],
            seed=tf.constant([0, 1]),
        )
        if a_star is None:
            a_star = float(tf.reduce_mean(energy.activation(start)))
        return dataclasses.replace(
            energy,
            temperature=temperature.temperature_for(
                a_star, options.DEFAULT_TARGET_RATIO, image_param.state_size
            ),
            prior_weight=matched_prior_weight([start]),
        ), a_star

    def band_mass(energy) -> tf.Tensor:
        """The sampler's Fisher band mass at the starts, [C, ...]."""
        return momentum.fisher_mass(energy, [start], momentum.state_groups(image_param))[0]

    relu6, a_star = tuned(model)
    relu6_mass = band_mass(relu6)
    smooth, _ = tuned(smoothed(model, args.sharpness))
    columns = {
        "relu6": energy_errors(relu6, start, relu6_mass, args.draws, seed=7),
        "smooth": energy_errors(smooth, start, band_mass(smooth), args.draws, seed=7),
    }
    print(f"a* {a_star:.3f}, T {relu6.temperature:.3g}, lam {relu6.prior_weight:.2f}", flush=True)
    for b in args.surrogate_sharpness:
        # The real network's temperature, prior and mass; only the force is the smooth one's.
        guide, _ = tuned(smoothed(model, b), a_star)
        columns[f"surr {b:g}"] = energy_errors(
            relu6, start, relu6_mass, args.draws, seed=7, guide=guide
        )

    rows = []
    for eps in STEP_SIZES:
        row = [f"{eps:.3f}", str(int(round(TRAJECTORY_LENGTH / eps)))]
        for errors in columns.values():
            e = errors[eps]
            row += [f"{np.median(e):.4f}", f"{np.mean(np.minimum(1, np.exp(-e))):.2f}"]
        rows.append(row)
    header = ["step", "L"]
    for name in columns:
        header += [f"|dH| {name}", f"acc {name}"]
    print(
        f"\n{args.objective}, {NUM_CHAINS} chains x {args.draws} momentum draws, trajectory "
        f"length {TRAJECTORY_LENGTH}; {time.perf_counter() - t0:.0f} s"
    )
    print(format_table(header, rows))
    for name, errors in columns.items():
        x = np.log(STEP_SIZES)
        y = np.log([np.median(errors[eps]) for eps in STEP_SIZES])
        print(f"log-log slope, {name}: {np.polyfit(x, y, 1)[0]:.2f}")


if __name__ == "__main__":
    main()
