"""MACO against Xplique's `maco`: images per second per call and the objective reached.

Both optimize one channel at a time of the built-in EfficientNet-Lite0 Keras model
(`samplevis.zoo.efficientnet_lite0().keras_model`), with the same steps, crops, image size and
input mapping: images in [0, 1] reach the network as [LO, HI], the ImageNet normalization's range
averaged over colours (Xplique's `values_range`, samplevis's `value_range`), and Xplique's noise
(in those units) is samplevis's times HI - LO. Each library uses its own magnitude spectrum.

For each of 16 channels (`--channels`), in alternating order after one warm-up call each, it
times a whole call (`samplevis.maco(...)`, `xplique...maco(...)`: a user calling it in a loop
meets that) and measures the channel's mean activation on the returned image itself, with no
crop or noise. It prints images per second (calls per second) of each and their ratio, the
median and the mean over the channels of the objective reached, and on how many channels each
library reaches more. One call's objective swings by more than the libraries differ, between
seeds and, for Xplique, whose crops and noise follow TensorFlow's unseeded global generator,
between runs (docs/benchmarks.md has figures): 16 channels by default, so that one odd channel
moves the median less.

Xplique pins an older TensorFlow: install it beside this one and put it on the path,
    pip install --no-deps --target DIR xplique einops deprecated opencv-python-headless \\
        scikit-learn narwhals joblib threadpoolctl
    PYTHONPATH=DIR python benchmarks/maco_speed.py --quick   # about 2 minutes on 2 cores
    PYTHONPATH=DIR python benchmarks/maco_speed.py           # about 20 minutes
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from common import command_line, format_table, machine

# the built-in model's normalization (samplevis.zoo.efficientnet_lite0), averaged over colours:
# (x - mean) / std maps [0, 1] to about [LO, HI]
_MEAN, _STD = float(np.mean((0.485, 0.456, 0.406))), float(np.mean((0.229, 0.224, 0.225)))
LO, HI = -_MEAN / _STD, (1.0 - _MEAN) / _STD
XPLIQUE_NOISE = 0.08  # Xplique's default noise_intensity, in values_range units
LAYER = "block6d_add"
# --quick: a layer of an early block, the network run up to it only
QUICK_LAYER = "block3b_add"


def samplevis_call(model, layer: str, steps: int, crops: int, size: int):
    import samplevis
    from samplevis import objectives

    def call(channel: int, seed: int) -> np.ndarray:
        image, _ = samplevis.maco(
            model,
            objectives.channel(layer, channel),
            nb_steps=steps,
            nb_crops=crops,
            noise_intensity=XPLIQUE_NOISE / (HI - LO),
            custom_shape=(size, size),
            seed=seed,
        )
        return image

    return call


def xplique_call(keras_model, layer: str, steps: int, crops: int, size: int):
    """A whole Xplique `maco` call, or None when Xplique does not import."""
    try:
        from xplique.features_visualizations import Objective, maco
    except ImportError:
        return None

    def call(channel: int, seed: int) -> np.ndarray:
        # Xplique draws its initial phase from NumPy's global generator (its crops and noise
        # from TensorFlow's: tf.random.set_seed is left alone, since a new global seed makes
        # every tf.function trace again, samplevis's included)
        np.random.seed(seed)  # noqa: NPY002 (the generator Xplique reads)
        image, _ = maco(
            Objective.channel(keras_model, layer, channel),
            nb_steps=steps,
            nb_crops=crops,
            noise_intensity=XPLIQUE_NOISE,
            values_range=(LO, HI),
            custom_shape=(size, size),
        )
        return (np.asarray(image) - LO) / (HI - LO)  # back to [0, 1]

    return call


def objective_reached(model, layer: str, channel: int, image: np.ndarray) -> float:
    """The channel's mean activation on the image itself, float."""
    features = model.features(image[None].astype(np.float32), [layer])[layer]
    return float(np.mean(features.numpy()[..., channel]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"8 steps, 8 crops, 128 px, 8 channels, {QUICK_LAYER}"
    )
    parser.add_argument("--channels", type=int, default=None, help="channels 0..N-1 (16)")
    parser.add_argument("--layer", help=f"default {LAYER} (--quick: {QUICK_LAYER})")
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--crops", type=int, default=16)
    parser.add_argument("--size", type=int, default=256, help="image side in pixels")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.crops, args.size = 8, 8, 128
    args.layer = args.layer or (QUICK_LAYER if args.quick else LAYER)
    if args.channels is None:
        args.channels = 8 if args.quick else 16
    if args.channels < 1:
        parser.error(f"--channels is a number of channels >= 1, got {args.channels}")
    channels = tuple(range(args.channels))

    import samplevis
    from samplevis import zoo

    keras_model = zoo.efficientnet_lite0().keras_model
    model = samplevis.Model(keras_model, value_range=(LO, HI), name="efficientnet_lite0")
    contenders = {"samplevis": samplevis_call(model, args.layer, args.steps, args.crops, args.size)}
    xplique = xplique_call(keras_model, args.layer, args.steps, args.crops, args.size)
    if xplique is None:
        print("Xplique does not import: timing samplevis alone (see the docstring to install it).")
    else:
        contenders["Xplique"] = xplique
    warm = len(channels)  # one call each on another channel first, as a user's first call
    for call in contenders.values():
        call(warm, 0)
    seconds = {name: 0.0 for name in contenders}
    reached: dict[str, list[float]] = {name: [] for name in contenders}
    for channel in channels:
        for name, call in contenders.items():
            start = time.perf_counter()
            image = call(channel, channel + 1)
            seconds[name] += time.perf_counter() - start
            reached[name].append(objective_reached(model, args.layer, channel, image))
    rows = [
        [
            name,
            f"{len(channels) / seconds[name]:.3f}",
            f"{np.median(reached[name]):.3f}",
            f"{np.mean(reached[name]):.3f}",
            " ".join(f"{v:.2f}" for v in reached[name]),
        ]
        for name in contenders
    ]
    print(command_line())
    print(machine())
    print(
        f"layer {args.layer}, channels 0..{channels[-1]}, {args.steps} steps, "
        f"{args.crops} crops of 224 px, {args.size} px image, one call per channel"
    )
    print(format_table(["", "images/s per call", "median objective", "mean", "per channel"], rows))
    if xplique is not None:
        ratio = seconds["Xplique"] / seconds["samplevis"]
        print(f"samplevis / Xplique images per second: {ratio:.2f} (target >= 1.2)")
        gap = np.median(reached["samplevis"]) - np.median(reached["Xplique"])
        print(f"median objective, samplevis - Xplique: {gap:+.3f} (target >= 0)")
        higher = sum(s > x for s, x in zip(reached["samplevis"], reached["Xplique"]))
        print(f"samplevis reaches more on {higher} of {len(channels)} channels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
