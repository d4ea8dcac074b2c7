"""The gallery's section for a folder that `samplevis examples` wrote: a strip per unit of the
crops of its top images, best first, and beside it the unit's visualization when the gallery's
folder holds one (`samplevis optimize`'s PNGs, or an atlas's LAYER/CHANNEL.png)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from samplevis.cli.shell import slug

if TYPE_CHECKING:
    from samplevis.pages import GallerySection


def examples_section(
    index: Path, page: Path, pngs: Sequence[Path]
) -> tuple[GallerySection, set[Path]] | None:
    """(a gallery section, the images it shows) for an examples.json under the gallery's
    folder `page` (`examples.gallery_section`); `pngs` are the folder's PNGs, searched for the
    units' visualizations. None for a file that is not one `samplevis examples` wrote."""
    from samplevis.examples import gallery_section

    return gallery_section.examples_section(index, page, lambda unit: _visualization(unit, pngs))


def _visualization(unit: dict, pngs: Sequence[Path]) -> Path | None:
    """A channel unit's optimized image among `pngs`: the last step of `samplevis optimize`'s
    first image, else an atlas's LAYER/CHANNEL.png; None for other units or when none is
    there."""
    from samplevis.atlas.files import folder_name

    layer, channel = unit.get("layer"), unit.get("channel")
    if unit.get("kind") != "channel" or not isinstance(layer, str) or not isinstance(channel, int):
        return None
    # the prefix `samplevis optimize` gives objectives.channel(layer, channel)'s images
    rendered = re.compile(re.escape(slug(f"channel({layer!r}, {channel})")) + r"_(\d+)_0\.png")
    steps = [(int(m.group(1)), p) for p in pngs if (m := rendered.fullmatch(p.name))]
    if steps:
        return max(steps)[1]
    atlas = [p for p in pngs if p.name == f"{channel}.png" and p.parent.name == folder_name(layer)]
    return atlas[0] if atlas else None
