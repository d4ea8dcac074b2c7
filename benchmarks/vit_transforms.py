"""The transforms for a vision transformer's token layers, measured against each other on the
hand-built ViT of tests/vit_models.py, whose units are known filters on 8 px patches.

    python benchmarks/vit_transforms.py                 # every design, 5 seeds, 256 steps
    python benchmarks/vit_transforms.py --quick         # a smoke run: 1 seed, 8 steps

Per design and unit it prints the mean over seeds of:
- corr: how closely the optimum shows the planted filter. A channel (the mean over patches) of a
  position-blind unit: for each patch-sized cell of the optimum, the best correlation with the
  filter of a window shifted by less than a patch, averaged over the cells (the filter, at some
  alignment, everywhere). A neuron at patch (2, 5): the correlation of that patch's own box with
  the filter.
- border: the optimum's energy on the patch borders (squared differences across a border's
  pixel pair) over its energy elsewhere; 1 when edges fall anywhere, > 1 when they sit on the
  grid.
- s/render: seconds per render (medians).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import warnings
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import numpy as np
import tensorflow as tf

from common import command_line, format_table, machine


@dataclasses.dataclass(frozen=True)
class Views:
    """`n` views of each image through `transform` (its own draws each), averaged by the
    objective: Ghiasi et al.'s batch of augmented copies per step."""

    n: int
    transform: Callable

    def __call__(self, images, seed):
        from samplevis.runtime.seeds import split

        return tf.concat([self.transform(images, s) for s in split(seed, self.n)], axis=0)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


def designs(patch: int) -> dict:
    """{name: (transforms, total-variation weight)}; `patch` in px of the images."""
    from samplevis import transform

    roll_half, roll_full = transform.Roll(patch // 2), transform.Roll(patch)
    colour = transform.ColorShift()
    std = transform.default_transforms()
    return {
        "none": ([], 0.0),
        "lucid standard": (list(std), 0.0),
        "pad + jitter 1 patch": (
            [transform.pad(patch, mode="constant"), transform.jitter(patch)],
            0.0,
        ),
        "roll 1/2 patch": ([roll_half], 0.0),
        "roll 1 patch": ([roll_full], 0.0),
        "roll 1/2 + colour (default)": ([roll_half, colour], 0.0),
        "roll 1/2 + colour + TV 1e-3": ([roll_half, colour], 1e-3),
        "roll 1/2 + scale/rotate": ([roll_half, std[2], std[3]], 0.0),
        "4 views of roll 1/2 + colour": ([Views(4, transform.compose([roll_half, colour]))], 0.0),
    }


def grey(image: np.ndarray, size: int) -> np.ndarray:
    """The grey image [size, size] the network sees (area-averaged to its input)."""
    g = image.mean(-1)[None, :, :, None]
    return tf.image.resize(g, (size, size), method="area").numpy()[0, :, :, 0]


def correlation(window: np.ndarray, f: np.ndarray) -> float:
    w = window - window.mean()
    return float((w * f).sum() / (np.linalg.norm(w) * np.linalg.norm(f) + 1e-9))


def cell_best(g: np.ndarray, f: np.ndarray, patch: int) -> float:
    """Each patch-sized cell's best correlation with `f` over shifts below a patch (wrapping
    around: the images are periodic), averaged over the cells."""
    size = g.shape[0]
    wrapped = np.pad(g, ((0, patch), (0, patch)), mode="wrap")
    cells = []
    for cy in range(0, size, patch):
        for cx in range(0, size, patch):
            cells.append(
                max(
                    correlation(wrapped[cy + dy : cy + dy + patch, cx + dx : cx + dx + patch], f)
                    for dy in range(patch)
                    for dx in range(patch)
                )
            )
    return float(np.mean(cells))


def border_ratio(g: np.ndarray, patch: int) -> float:
    dx, dy = (g[:, 1:] - g[:, :-1]) ** 2, (g[1:] - g[:-1]) ** 2
    on = np.arange(dx.shape[1]) % patch == patch - 1
    return float((dx[:, on].mean() + dy[on].mean()) / (dx[:, ~on].mean() + dy[~on].mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 8 steps: a smoke run")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--size", type=int, default=128, help="the images' side, px")
    args = parser.parse_args()
    seeds, steps = (1, 8) if args.quick else (args.seeds, args.steps)
    print(command_line())
    print(machine())

    import vit_models as vm  # type: ignore[import-not-found]  # tests/, put on sys.path above

    import samplevis
    from samplevis import objectives, param

    warnings.simplefilter("ignore")  # the toy's 64 px input shrinks the 128 px images
    model = vm.build()
    patch = vm.PATCH * args.size // vm.SIZE
    units = {
        "edge channel": ("mlp_fc1:6", vm.FILTERS[3], None),
        "grating channel": ("mlp_fc1:0", vm.FILTERS[0], None),
        "energy channel": ("mlp_fc2:0", vm.FILTERS[0], None),
        "edge neuron (2, 5)": (objectives.neuron("mlp_fc1", 6, x=2, y=5), vm.FILTERS[3], (2, 5)),
    }
    rows = []
    for name, (transforms, tv) in designs(patch).items():
        for unit, (objective, f, at) in units.items():
            goal = objectives.as_objective(objective)
            if tv:
                goal = goal - tv * objectives.total_variation()
            corrs, borders, times = [], [], []
            for seed in range(seeds):
                start = time.perf_counter()
                image = samplevis.render_vis(
                    model,
                    goal,
                    param.image(args.size),
                    transforms=transforms,
                    thresholds=(steps,),
                    seed=seed,
                    progress=False,
                )[-1][0]
                times.append(time.perf_counter() - start)
                g = grey(image, vm.SIZE)
                if at is None:
                    corrs.append(cell_best(g, f, vm.PATCH))
                else:
                    x, y = at
                    box = g[y * vm.PATCH : (y + 1) * vm.PATCH, x * vm.PATCH : (x + 1) * vm.PATCH]
                    corrs.append(correlation(box, f))
                borders.append(border_ratio(g, vm.PATCH))
            rows.append(
                [
                    name,
                    unit,
                    f"{np.mean(corrs):.2f} ({min(corrs):.2f})",
                    f"{np.mean(borders):.2f} ({max(borders):.2f})",
                    f"{np.median(times[1:] or times):.2f}",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    print()
    print(
        format_table(
            ["design", "unit", "corr (min)", "border (max)", "s/render"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
