"""Each facet's examples, the top images that name what it shows (`facet_examples`): a facet from
photos keeps its cluster's best photos; the others take the examples of an examples.json that
lie nearest their optimum (`nearest_examples`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example
    from samplevis.models import Model
    from samplevis.optvis.objectives import Objective
    from samplevis.runtime.checks import KerasModel
    from samplevis.sampling.report.run import Run

EXAMPLES_PER_FACET = 4


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


def facet_examples(
    result: Run,
    nearest: Sequence[Sequence[Example]] | None = None,
    per_facet: int = EXAMPLES_PER_FACET,
) -> list[list[Example]] | None:
    """Each facet's examples, best first: a facet from photos (`hmc_opts['init']` an
    examples.json) its cluster's best `per_facet`, the others those `nearest` gives them
    (`nearest_examples`); None when no facet has any."""
    photos = [list(f.examples[:per_facet]) for f in result.facets]
    if nearest is not None:
        photos = [mine or list(theirs) for mine, theirs in zip(photos, nearest)]
    return photos if any(photos) else None
