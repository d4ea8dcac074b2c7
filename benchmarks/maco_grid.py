"""MACO beside the classic parameterization: one grid PNG to look at.

For an early, a middle and a late layer of the built-in EfficientNet-Lite0, the same channels
are rendered by `render_vis` at its defaults (`param.image`, the standard transforms, Adam 0.05)
(the layer's channels in one batch of 128 px images) and by `samplevis.maco` (phase only,
random crops, Nadam 1.0, one call per channel). Each layer gives two rows of the
grid: classic above, MACO below, one column per channel; the MACO transparency maps go to a
second grid. It prints the paths and each image's objective (the channel's mean activation on
the image itself).

    python benchmarks/maco_grid.py --out docs/maco_grid.png           # about 30 minutes on 2 busy cores
    python benchmarks/maco_grid.py --quick --out /tmp/maco_grid.png   # about 10 minutes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from common import command_line, machine

LAYERS = ("block2b_add", "block4c_add", "block6d_add")  # early, middle, late
CHANNELS = (0, 1, 2, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="maco_grid.png", help="the grid PNG")
    parser.add_argument("--quick", action="store_true", help="fewer steps and crops")
    parser.add_argument("--size", type=int, default=224, help="image side in pixels")
    args = parser.parse_args(argv)
    classic_steps, maco_steps, crops = (128, 32, 4) if args.quick else (256, 64, 8)

    import samplevis
    from samplevis import io, objectives, param, zoo
    from samplevis.optvis.evaluation import objective_values
    from samplevis.optvis.maco import transparency_image

    model = zoo.efficientnet_lite0()
    rows, maps = [], []
    print(command_line())
    print(machine())
    for layer in LAYERS:
        # classic: the layer's channels in one batch, image i for channel i
        together = sum(objectives.channel(layer, c, batch=i) for i, c in enumerate(CHANNELS))
        classic = samplevis.render_vis(
            model,
            together,
            param.image(128, batch=len(CHANNELS)),
            thresholds=(classic_steps,),
            seed=0,
            progress=False,
        )[-1]
        maco, alpha = [], []
        for channel in CHANNELS:
            m, transparency = samplevis.maco(
                model,
                objectives.channel(layer, channel),
                nb_steps=maco_steps,
                nb_crops=crops,
                custom_shape=(args.size, args.size),
                seed=channel,
            )
            maco.append(m)
            alpha.append(transparency_image(transparency))
        for i, channel in enumerate(CHANNELS):
            objective = objectives.channel(layer, channel)
            values = [
                float(objective_values(model, objective, x[None])[0]) for x in (classic[i], maco[i])
            ]
            print(f"{layer}:{channel} classic {values[0]:.3f}  maco {values[1]:.3f}")
        rows += [[_resized(x, args.size) for x in classic], maco]
        maps.append(alpha)
    out = Path(args.out)
    io.save_png(out, io.grid(np.stack([x for row in rows for x in row]), ncols=len(CHANNELS)))
    alpha_out = out.with_name(out.stem + "_transparency.png")
    io.save_png(alpha_out, io.grid(np.stack([x for row in maps for x in row]), ncols=len(CHANNELS)))
    print(
        f"classic: render_vis defaults, {classic_steps} steps, 128 px; MACO: {maco_steps} steps, "
        f"{crops} crops, {args.size} px. Rows: {', '.join(f'{x} classic, {x} MACO' for x in LAYERS)}"
    )
    print(f"wrote {out} and {alpha_out}")
    return 0


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    import tensorflow as tf

    return tf.image.resize(image[None], (size, size)).numpy()[0].clip(0.0, 1.0)


if __name__ == "__main__":
    sys.exit(main())
