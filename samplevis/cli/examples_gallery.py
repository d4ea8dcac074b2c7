"""The gallery's section for a folder that `samplevis examples` wrote: a strip per unit of the
crops of its top images, best first, and beside it the unit's visualization when the gallery's
folder holds one (`samplevis optimize`'s PNGs, or an atlas's LAYER/CHANNEL.png)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from samplevis.cli.shell import slug

if TYPE_CHECKING:
    from samplevis.pages import GallerySection, Tile

INDEX = "examples.json"


def examples_section(
    index: Path, page: Path, pngs: Sequence[Path]
) -> tuple[GallerySection, set[Path]] | None:
    """(a gallery section, the images it shows) for an examples.json under the gallery's
    folder `page`; `pngs` are the folder's PNGs, searched for the units' visualizations. None
    for a file that is not one `samplevis examples` wrote."""
    from samplevis import pages

    try:
        data = json.loads(index.read_text())
        units, run = data["units"], data["run"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folder = index.parent
    strips, shown = [], set()
    for unit in units:
        tiles = []
        for rank, entry in enumerate(unit.get("examples", [])):
            crop = folder / str(entry.get("crop", ""))
            if not entry.get("crop") or not crop.is_file():
                continue
            value = entry.get("value")
            said = "n/a" if value is None else f"{value:.3g}"
            tiles.append(
                pages.Tile(
                    crop.relative_to(page).as_posix(),
                    said,
                    title=f"#{rank + 1}: {entry.get('file')}, value {said}",
                )
            )
            shown |= {crop, folder / str(entry.get("image", ""))}
        visual = _visualization(unit, pngs)
        aside: tuple[Tile, ...] = ()
        if visual is not None:
            aside = (
                pages.Tile(visual.relative_to(page).as_posix(), "optimized", title=visual.name),
            )
        if tiles:
            strips.append(pages.Strip(str(unit.get("unit")), tuple(tiles), aside))
    if not strips:
        return None
    where = folder.relative_to(page).as_posix()
    lines = [
        f"The top images of each unit from {run.get('images')}, best first: the part that its "
        "most active position sees (hover for the file and value). On the right, the unit's "
        "optimized image, where this folder holds one."
    ]
    counts = data.get("skipped_counts") or {}
    if counts:
        parts = ", ".join(f"{n} {why}" for why, n in sorted(counts.items()))
        lines.append(f"Skipped {sum(counts.values())} files: {parts}.")
    heading = "dataset examples" + ("" if where == "." else f" ({where}/)")
    return pages.GallerySection(heading, tuple(lines), strips=tuple(strips)), shown


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
