"""The README's pictures, from a default `render` run on the built-in model.

images/readme.png: a row per facet of PAIR's unit (facet_search.py: the larger of two channels
of one layer, each over its own optimum; fresh seeds land in one of them), best first: the
facet's optimum, then SHOWN of its chains' samples, evenly spaced along them (a facet no chain
sampled shows its optimum alone). images/trace.png: `samplevis.plot_trace` of the same run.

    python benchmarks/readme_picture.py      # a few minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

import samplevis
from samplevis import io, zoo
from samplevis.sampling.report.result import SampleResult
from samplevis.sampling.report.run import Facet

from facet_search import PAIRS, medians, unit_objective, weights_of

IMAGES = Path(__file__).resolve().parent.parent / "images"
# a unit whose second facet fresh seeds miss and the default search finds (docs/sampling_designs.md,
# "The facet search": block6a's B found on seeds 0-2 by facet_targets.py)
PAIR = PAIRS["block6a"]
MEDIANS = Path("out/facet_search/medians.json")  # the channels' optima, cached as facet_search.py
SHOWN = 4  # samples per facet, of the default run's 10 per chain
DPI = 80  # the trace plot: an 8 x 3.5 inch figure, 640 x 280 px


def facet_row(result: SampleResult, facet: Facet) -> np.ndarray:
    """float [1 + SHOWN, H, W, 3]: the facet's optimum, then SHOWN of its chains' samples evenly
    spaced (chain by chain, each in the order drawn); white where it has fewer."""
    drawn = np.concatenate([result.images[:, c] for c in facet.chains] or [result.images[:0, 0]])
    picked = drawn[np.linspace(0, len(drawn) - 1, SHOWN).round().astype(int)] if len(drawn) else []
    row = np.ones([1 + SHOWN, *facet.image.shape], np.float32)
    row[0] = facet.image
    row[1 : 1 + len(picked)] = picked
    return row


def main() -> None:
    # no flags: the parser answers --help with the docstring
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    model = zoo.efficientnet_lite0()
    channels = model.keras_model.get_layer(PAIR.layer).output.shape[-1]
    weights = np.stack([weights_of(PAIR.facet_a, channels), weights_of(PAIR.facet_b, channels)])
    unit = unit_objective(PAIR.layer, weights, medians(model, PAIR, MEDIANS))
    result = samplevis.render(model, unit, hmc_opts=dict(num_results=10), seed=0)
    print(PAIR, result)
    print("  " + str(result.facets_line()))
    for k, facet in enumerate(result.facets):
        print(
            f"  facet {k}: height {facet.height:.2f}, {facet.found}, chains {list(facet.chains)}, "
            f"log-mass {facet.log_mass:.1f} ± {facet.log_mass_error:.2g}"
        )
    print("  " + result.mass_sentence)
    print("  " + (result.diagnostics_line() or "no diagnostics"))
    rows = np.concatenate([facet_row(result, facet) for facet in result.facets])
    print(io.save_figure(IMAGES / "trace.png", samplevis.plot_trace(result), dpi=DPI))
    print(io.save_grid(IMAGES / "readme.png", rows, ncols=1 + SHOWN))


if __name__ == "__main__":
    main()
