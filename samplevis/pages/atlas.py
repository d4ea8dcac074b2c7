"""The atlas page (templates/atlas.html): a section of channel thumbnails per layer, and a
detail view of one channel with its other files and numbers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from samplevis import io
from samplevis.pages.templating import write_page
from samplevis.runtime.checks import is_int

THUMBNAIL_PX = 96  # side of a channel's thumbnail on an atlas page


def save_atlas_page(
    path: str | os.PathLike,
    entries: Sequence[Mapping],
    layers: Mapping[str, int | None],
    title: str = "samplevis atlas",
) -> Path:
    """Write an atlas page (a .html path), atomically: a section per layer of `layers` ({name:
    channel count}, in page order) with a labelled thumbnail per entry; clicking one shows it
    large with its other files and numbers. A section's thumbnails are made as it nears the
    window and load lazily, so a page of tens of thousands of channels opens at once. It works
    from the file system, without a server (with JavaScript).

    `entries` are atlas.json entries: dicts with at least "layer", "channel" (int) and "files"
    (paths relative to the page, the channel's image first).
    """
    io.check_suffix(path, ".html", ".htm")
    bad = [
        e
        for e in entries
        if not (
            isinstance(e, Mapping)
            and isinstance(e.get("layer"), str)
            and is_int(e.get("channel"))
            and e.get("files")
            and all(isinstance(f, str) for f in e["files"])
        )
    ]
    if bad:
        raise ValueError(
            f"atlas entries are dicts with 'layer', 'channel' and 'files' (image "
            f"first); got {bad[0]!r}."
        )
    by_layer: dict[str, list] = {layer: [] for layer in layers}
    for entry in entries:
        by_layer.setdefault(entry["layer"], []).append(entry)
    # (layer, its channel count if known, the channels shown), for the layers with any
    sections = [
        (layer, layers.get(layer), len(found)) for layer, found in by_layer.items() if found
    ]
    return write_page(
        path,
        "atlas.html",
        title=title,
        entries=list(entries),
        sections=sections,
        thumbnail_px=THUMBNAIL_PX,
    )
