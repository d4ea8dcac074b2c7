"""The examples of an examples.json nearest each facet's optimum (`nearest_examples`), for a run
whose facets have no photos of their own (`samplevis sample --examples`): the examples' crops
and the optima compared through the model's features."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from samplevis.sampling.report.facet_examples import EXAMPLES_PER_FACET

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example
    from samplevis.models import Model
    from samplevis.optvis.objectives import Objective
    from samplevis.runtime.checks import KerasModel
    from samplevis.sampling.report.run import Run


def nearest_examples(
    examples: str | os.PathLike,
    model: Model | KerasModel,
    objective: Objective,
    result: Run,
    per_facet: int = EXAMPLES_PER_FACET,
) -> list[list[Example]] | None:
    """Each facet's `per_facet` examples from the examples.json at `examples` (of `objective`,
    ranked with `model`) whose crops lie nearest its optimum (`examples.clusters.by_facet`), best
    first; None for a run without facets. Raises ValueError where the file gives none."""
    from samplevis.examples import clusters  # a model's features: TensorFlow, when asked

    if not result.facets:
        return None
    images = np.stack([f.image for f in result.facets])
    return clusters.by_facet(examples, model, objective, images, per_facet=per_facet)
