"""How fast `samplevis.dataset_examples` goes through a folder of JPEGs, against the network alone,
and whether its memory stays flat as the folder grows.

It writes `--images` JPEGs of mixed sizes (160 to 800 px a side, crops of scikit-image's bundled
photos with noise) to a temporary folder, then, for every channel of one layer of the built-in
EfficientNet-Lite0 (default `block4c_add`):

- **examples pass**: `dataset_examples(model, layer=LAYER, images=FOLDER, top=16, batch=32)`,
  files decoded in threads while the network runs, the running top-k, the receptive-field boxes,
  no output folder;
- **bare loop, same network**: the compiled feature extractor the pass uses, called on batches of
  32 of the same images already decoded and fitted to 224 px in memory: what the pass would reach
  if reading the files and keeping the top images cost nothing;
- **Keras predict**: `keras.Model(input, layer).predict(x, batch_size=32)` on the same in-memory
  images (normalized as the model expects), for reference.

The examples pass and the bare loop are timed alternately (`--repeats`, one each by default) and
the ratio of their images per second is printed with the target (>= 0.8). Then the peak resident
memory of the pass in a fresh process over `--images` files and over four times as many (the
first folder is part of the second), with the target (within 10 %).

    python benchmarks/examples_speed.py            # 2000 and 8000 images, about 10 minutes
    python benchmarks/examples_speed.py --quick    # 8 and 32 images (one process): a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import command_line, format_table, interleaved_medians, machine

TARGET_RATIO = 0.8  # the examples pass's images/s over the bare loop's, at least
TARGET_MEMORY = 0.10  # peak RSS at 4x the images within this fraction of that at 1x
BATCH = 32
TOP = 16
LAYER = "block4c_add"
# --quick: 8 and 32 images in batches of 8 up to an early layer's residual sum (the network run
# up to it only): every code path of the full run, at a quarter of its images and fewer layers
QUICK_IMAGES, QUICK_BATCH, QUICK_LAYER = 8, 8, "block2b_add"


def write_jpegs(folder: Path, count: int, start: int = 0, seed: int = 0) -> None:
    """`count` JPEGs of mixed sizes named start..start+count-1, in subfolders of 500."""
    import skimage.data
    from PIL import Image

    rng = np.random.default_rng(seed + start)
    photos = [
        skimage.data.chelsea(),
        skimage.data.coffee(),
        skimage.data.astronaut(),
        skimage.data.rocket(),
    ]
    for i in range(start, start + count):
        photo = photos[i % len(photos)]
        height, width = (int(v) for v in rng.integers(160, 801, 2))
        top = int(rng.integers(0, photo.shape[0] // 3))
        left = int(rng.integers(0, photo.shape[1] // 3))
        crop = Image.fromarray(photo[top:, left:]).resize(
            (width, height), Image.Resampling.BILINEAR
        )
        pixels = np.asarray(crop, np.int16) + rng.integers(-12, 13, (height, width, 3))
        sub = folder / f"{i // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            sub / f"{i:05d}.jpg", quality=90
        )


def peak_rss_mb(folders: list[Path], layer: str, batch: int = BATCH) -> list[float]:
    """Peak resident memory (MB) of a fresh process running the examples pass over each of
    `folders` in turn: the peak so far after each pass (one folder: that pass's own peak)."""
    passes = "".join(
        f"samplevis.dataset_examples(model, layer={layer!r}, images={str(folder)!r}, "
        f"top={TOP}, batch={batch}, progress=False)\n"
        # VmHWM, the peak since this program started: getrusage's ru_maxrss would keep the
        # parent's peak, which survives the fork and exec
        "status = open('/proc/self/status').read()\n"
        "print(json.dumps(int(re.search(r'VmHWM:\\s*(\\d+) kB', status).group(1))))\n"
        for folder in folders
    )
    code = (
        "import json, re\n"
        "import samplevis\n"
        "from samplevis import zoo\n"
        "model = zoo.efficientnet_lite0()\n"
    ) + passes
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    kilobytes = [json.loads(line) for line in done.stdout.strip().splitlines()[-len(folders) :]]
    return [k / 1024 for k in kilobytes]


def speed(model, folder: Path, layer: str, repeats: int, size: int = BATCH) -> None:
    """Time the examples pass over `folder` against the bare loop and Keras's predict over the
    same images in memory, in batches of `size`, alternately; print the table and the ratio."""
    import keras
    import tensorflow as tf

    import samplevis
    from samplevis.examples import images as image_files

    names = image_files.image_files(folder)
    from samplevis.examples.collect import DEFAULT_SIZE

    # the size the pass fits files to: a network that takes any size gets DEFAULT_SIZE px
    target = model.input_size or (DEFAULT_SIZE, DEFAULT_SIZE)
    pixels = np.stack([image_files.load_fitted(folder / n, target)[0] for n in names])

    # the network up to the layer, compiled as the pass compiles it
    features = tf.function(lambda x: model.features(tf.cast(x, tf.float32) / 255.0, layer))

    def bare() -> None:
        for start in range(0, len(pixels), size):
            batch = pixels[start : start + size]
            if len(batch) < size:  # one compiled shape, as the pass pads its last batch
                batch = np.concatenate([batch, np.zeros_like(pixels[: size - len(batch)])])
            np.asarray(features(batch)[layer])

    truncated = keras.Model(model.keras_model.inputs, model.keras_model.get_layer(layer).output)
    inputs = np.asarray(model.to_input(tf.cast(pixels, tf.float32) / 255.0))

    def keras_predict() -> None:
        truncated.predict(inputs, batch_size=size, verbose=0)

    def examples() -> None:
        samplevis.dataset_examples(
            model, layer=layer, images=folder, top=TOP, batch=size, progress=False
        )

    # compile every program first: the pass's own is kept with the model for equal units
    samplevis.dataset_examples(
        model, layer=layer, images=pixels[:size] / 255.0, top=TOP, batch=size, progress=False
    )
    np.asarray(features(pixels[:size])[layer])
    truncated.predict(inputs[:size], batch_size=size, verbose=0)
    times = interleaved_medians(
        {
            "examples pass": examples,
            "bare loop, same network": bare,
            "Keras predict": keras_predict,
        },
        repeats,
    )
    units = model.keras_model.get_layer(layer).output.shape[-1]
    rows = []
    for name, seconds in times.items():
        ratio = times["bare loop, same network"] / seconds
        rows.append([name, len(names), f"{len(names) / seconds:.1f}", f"{ratio:.2f}"])
    print(f"\n{layer}: {units} channels, top {TOP}, batch {size}, {len(names)} JPEGs")
    print(format_table(["design", "images", "examples img/s", "/ bare loop"], rows))
    ratio = times["bare loop, same network"] / times["examples pass"]
    print(
        f"examples pass / bare loop: {ratio:.2f} (target >= {TARGET_RATIO}): "
        f"{'met' if ratio >= TARGET_RATIO else 'missed'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_IMAGES} and {4 * QUICK_IMAGES} images in batches of {QUICK_BATCH} "
        f"(layer {QUICK_LAYER} unless --layer)",
    )
    parser.add_argument("--images", type=int, default=2000, help="JPEGs timed (default 2000)")
    parser.add_argument("--layer", default=None, help=f"every channel is a unit (default {LAYER})")
    parser.add_argument("--repeats", type=int, default=1, help="alternating timed runs")
    parser.add_argument("--no-memory", action="store_true", help="time only")
    args = parser.parse_args()
    count = QUICK_IMAGES if args.quick else args.images
    batch = QUICK_BATCH if args.quick else BATCH
    layer = args.layer or (QUICK_LAYER if args.quick else LAYER)

    from samplevis import zoo

    print(command_line())
    print(machine())
    with tempfile.TemporaryDirectory(prefix="examples-speed-") as tmp:
        small, large = Path(tmp) / "all" / "first", Path(tmp) / "all"
        write_jpegs(small, count)
        speed(zoo.efficientnet_lite0(), small, layer, args.repeats, batch)
        if args.no_memory:
            return
        write_jpegs(large / "rest", 3 * count, start=count)
        if args.quick:
            # both folders in one fresh process (TensorFlow imported once): the second figure
            # is the peak over both passes, but every step of the measure runs
            measured = peak_rss_mb([small, large], layer, batch)
        else:
            measured = [peak_rss_mb([f], layer, batch)[0] for f in (small, large)]
        memory = [(count, measured[0]), (4 * count, measured[1])]
        grown = memory[1][1] / memory[0][1] - 1
        print()
        print(format_table(["images", "peak RSS MB"], [[n, f"{mb:.0f}"] for n, mb in memory]))
        print(
            f"growth at 4x the images: {100 * grown:+.1f} % (target within "
            f"{100 * TARGET_MEMORY:.0f} %): {'met' if abs(grown) <= TARGET_MEMORY else 'missed'}"
        )


if __name__ == "__main__":
    main()
