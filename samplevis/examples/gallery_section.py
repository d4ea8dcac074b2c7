"""A folder that `dataset_examples` wrote as a section of the gallery page (`examples_section`): a
strip per unit of the crops of its top images, best first, and beside it the unit's optimized
image where one is given. `samplevis gallery` shows it on its page, `Examples._repr_html_` in a
notebook."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.pages import GallerySection, Tile

INDEX = "examples.json"


def examples_section(
    index: Path, page: Path, visualization: Callable[[dict], Path | None] | None = None
) -> tuple[GallerySection, set[Path]] | None:
    """(a gallery section, the images it shows) for an examples.json under the gallery's
    folder `page`; `visualization(unit)` gives a unit's optimized image (a unit of the file's
    "units"), or None. None for a file that is not one `dataset_examples` wrote."""
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
        visual = visualization(unit) if visualization is not None else None
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
