"""Each facet's examples, the top images that name what it shows (`facet_examples`): a facet from
photos keeps its cluster's best photos; the others take the examples of an examples.json that
lie nearest their optimum (`phases.nearest_examples`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example
    from samplevis.sampling.report.run import Run

EXAMPLES_PER_FACET = 4


def facet_examples(
    result: Run,
    nearest: Sequence[Sequence[Example]] | None = None,
    per_facet: int = EXAMPLES_PER_FACET,
) -> list[list[Example]] | None:
    """Each facet's examples, best first: a facet from photos (`hmc_opts['init']` an
    examples.json) its cluster's best `per_facet`, the others those `nearest` gives them
    (`phases.nearest_examples`); None when no facet has any."""
    photos = [list(f.examples[:per_facet]) for f in result.facets]
    if nearest is not None:
        photos = [mine or list(theirs) for mine, theirs in zip(photos, nearest)]
    return photos if any(photos) else None
