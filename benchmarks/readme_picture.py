"""The README's pictures, from default `render` runs on the built-in model.

images/readme.png: for each channel in CHANNELS, two chains (rows): the optimized start, then
four of its samples. images/trace.png: `samplevis.plot_trace` of the run on the first channel
(the README's first command's channel).

    python benchmarks/readme_picture.py      # about 10 minutes on 2 cores
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import samplevis
from samplevis import io, zoo

IMAGES = Path(__file__).resolve().parent.parent / "images"
CHANNELS = ("block6a_expand_activation:301", "block3a_expand_activation:20")
CHAINS = (0, 1)  # the rows shown of each channel
SAMPLES = (0, 3, 6, 9)  # of the default run's 10
DPI = 80  # the trace plot: an 8 x 3.5 inch figure, 640 x 280 px


def main() -> None:
    model = zoo.efficientnet_lite0()
    rows = []
    for index, channel in enumerate(CHANNELS):
        result = samplevis.render(model, channel, hmc_opts=dict(num_results=10), seed=0)
        print(channel, result)
        print("  " + result.mass_sentence)
        print("  " + result.diagnostics.summary())
        for chain in CHAINS:
            rows.append(
                np.concatenate(
                    [result.init_images[chain][None], result.images[list(SAMPLES), chain]]
                )
            )
        if index == 0:
            print(io.save_figure(IMAGES / "trace.png", samplevis.plot_trace(result), dpi=DPI))
    print(io.save_grid(IMAGES / "readme.png", np.concatenate(rows), ncols=1 + len(SAMPLES)))


if __name__ == "__main__":
    main()
