"""Running an atlas's batches in this process."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.models import Model


from collections.abc import Iterable, Iterator

from samplevis.atlas.batches import LayerRenderers
from samplevis.atlas.results import ChannelResult, Settings


class InProcess:
    """Batches rendered one after the other in this process."""

    def __init__(self, model: Model, settings: Settings):
        self.renderers = LayerRenderers(model, settings)

    def run(self, jobs: Iterable[tuple[str, list[int]]]) -> Iterator[list[ChannelResult]]:
        for layer, channels in jobs:
            yield self.renderers.render_batch(layer, channels)

    def close(self) -> None:
        pass
