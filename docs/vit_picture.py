"""Draw docs/vit.png: the hand-built ViT's planted filters (tests/vit_models.py) and what
render_vis makes of three of its units: a column per unit (a vertical grating, a horizontal
grating, a diagonal edge); rows: the filter, the channel's optimum without transforms, with the
default transforms for token layers, and the optimum of a neuron at patch (2, 5).

    python docs/vit_picture.py                  # 256 steps of Lucid's 128 px image
    python docs/vit_picture.py --steps 64 --out /tmp/vit.png
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

SIDE = 128  # px of each tile
UNITS = ((0, 0), (4, 2), (6, 3))  # (mlp_fc1 unit, the filter it applies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--out", default=str(Path(__file__).with_name("vit.png")))
    args = parser.parse_args()

    from PIL import Image

    import samplevis
    from samplevis import objectives

    import vit_models  # type: ignore[import-not-found]  # tests/, put on sys.path above

    warnings.simplefilter("ignore")  # the toy's 64 px input shrinks the 128 px images
    model = vit_models.build()
    columns = []
    for unit, k in UNITS:
        f = vit_models.FILTERS[k]
        tiles = [np.repeat((0.5 + 0.45 * f / np.abs(f).max())[:, :, None], 3, axis=-1)]
        for objective, transforms in (
            (f"mlp_fc1:{unit}", []),
            (f"mlp_fc1:{unit}", None),
            (objectives.neuron("mlp_fc1", unit, x=2, y=5), None),
        ):
            images = samplevis.render_vis(
                model,
                objective,
                transforms=transforms,
                thresholds=(args.steps,),
                seed=0,
                progress=False,
            )
            tiles.append(images[-1][0])
        columns.append(np.concatenate([_tile(t) for t in tiles], axis=0))
    grid = np.concatenate(columns, axis=1)
    Image.fromarray(np.round(grid * 255).astype(np.uint8)).save(args.out)
    print(args.out)


def _tile(image: np.ndarray) -> np.ndarray:
    """`image` [h, w, 3] as a SIDE px tile with a white 2 px frame (nearest neighbour)."""
    from PIL import Image

    big = Image.fromarray(np.round(image * 255).astype(np.uint8)).resize(
        (SIDE - 4, SIDE - 4), Image.NEAREST
    )
    return np.pad(np.asarray(big) / 255.0, ((2, 2), (2, 2), (0, 0)), constant_values=1.0)


if __name__ == "__main__":
    main()
