"""The network's forward and backward pass, as samplevis runs it and as Keras runs it.

Every samplevis step (render_vis, MACO, each leapfrog step of sampling) is mostly one pass of a
batch of images through the network up to a layer and back to the images. samplevis reads the
layer through `Model.features`, whose network has each BatchNormalization after a convolution
folded into it (`samplevis.models.folded_batch_norm`). This script times that compiled pass (the
gradient of a channel's mean with respect to the images) against the same pass through the
Keras sub-network as it is, alternating, and prints milliseconds per pass, their ratio and the
largest difference of the two gradients relative to the gradient's largest value.

Networks: the built-in EfficientNet-Lite0 at an early, a middle and a late layer, and
`keras.applications` MobileNetV2 and ResNet50 with `weights=None` (timing does not depend on the
weights; no download).

    python benchmarks/network_speed.py            # about 2 minutes on 2 cores
    python benchmarks/network_speed.py --quick    # the earliest layer, a few passes
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from common import command_line, format_table, interleaved_medians, machine

LAYERS = {
    "EfficientNet-Lite0": (
        "block2a_expand_activation",
        "block4a_expand_activation",
        "block6d_add",
    ),
    "MobileNetV2": ("block_13_expand_relu",),
    "ResNet50": ("conv4_block6_out",),
}


def networks(quick: bool) -> dict[str, Any]:
    """{name: samplevis.Model} of the networks timed."""
    import keras

    import samplevis

    found: dict[str, Any] = {"EfficientNet-Lite0": samplevis.zoo.efficientnet_lite0()}
    if not quick:
        found["MobileNetV2"] = samplevis.Model(keras.applications.MobileNetV2(weights=None))
        found["ResNet50"] = samplevis.Model(keras.applications.ResNet50(weights=None))
    return found


def measure(model, layer: str, images, repeats: int) -> dict[str, float]:
    """{"samplevis", "Keras": median seconds of one pass; "diff": the largest difference of the
    two gradients over the largest gradient}. A pass is the gradient of channel 0's mean at
    `layer` with respect to `images` [B, H, W, 3] in [0, 1], compiled (traced before timing)."""
    import keras
    import tensorflow as tf

    plain = keras.Model(model.keras_model.inputs, model.keras_model.get_layer(layer).output)

    def gradient(read):
        @tf.function
        def pass_(images):
            with tf.GradientTape() as tape:
                tape.watch(images)
                score = tf.reduce_mean(read(images)[..., 0])
            return tape.gradient(score, images)

        return lambda: pass_(images).numpy()

    ours = gradient(lambda x: model.features(x, layer)[layer])
    theirs = gradient(lambda x: plain(model.to_input(x), training=False))
    a, b = ours(), theirs()
    times = interleaved_medians({"samplevis": ours, "Keras": theirs}, repeats)
    return dict(times, diff=float(np.abs(a - b).max() / np.abs(b).max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the earliest layer, a few passes")
    parser.add_argument("--batch", type=int, default=8, help="images per pass")
    parser.add_argument("--repeats", type=int, default=10, help="timed passes of each")
    args = parser.parse_args()
    import tensorflow as tf

    repeats = 2 if args.quick else args.repeats
    rows = []
    for name, model in networks(args.quick).items():
        layers = LAYERS[name][:1] if args.quick else LAYERS[name]
        size = model.input_size[0] if model.input_size else 224
        images = tf.random.stateless_uniform((args.batch, size, size, 3), (0, 1))
        for layer in layers:
            found = measure(model, layer, images, repeats)
            rows.append(
                [
                    f"{name} {layer}",
                    f"{1000 * found['samplevis']:.0f}",
                    f"{1000 * found['Keras']:.0f}",
                    f"{found['Keras'] / found['samplevis']:.2f}",
                    f"{found['diff']:.1e}",
                ]
            )
    print(command_line())
    print(machine())
    print(f"batch {args.batch}, median of {repeats} alternating passes each")
    headers = ["network, layer", "samplevis ms", "Keras ms", "Keras / samplevis", "gradient diff"]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
