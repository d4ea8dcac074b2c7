"""Is each facet processed like the photos it stands for? Geirhos et al.'s sanity check
(optvis.processing_check), as `phases.facet_checks` measured it on every facet that has photos,
in words (`processing_line`) and as the record keeps it (`processing_record`); the blur
measure of the same pass is said by `report.facet_blur`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from samplevis.optvis.processing_check import ProcessingCheck
    from samplevis.sampling.report.run import Facet

NEEDS_PHOTOS = (
    "processed like their photos: not checked, the check needs photos (start the run from a "
    "folder's photos, or give it a folder's ranked examples)"
)
NOT_CHECKED = (
    "processed like their photos: not checked, every photo ranked is among the facets' own "
    "kind; rank a folder that also holds photos of other things than the unit's top ones"
)


def processing_line(facets: Sequence[Facet]) -> str | None:
    """Where each facet is processed like its photos, in one line, e.g. "processed like their
    photos (Geirhos et al.'s check, 11 layers): facet 0 at every layer (11 of 11), its draws 4 of
    4; facet 1 from block4c_add on, not before (7 of 11), its draws 1 of 4"; NEEDS_PHOTOS when no
    facet has photos, NOT_CHECKED when no facet has other photos to be told from; None without
    facets."""
    if not facets:
        return None
    if not any(f.examples or f.processing for f in facets):
        return NEEDS_PHOTOS
    if all(f.processing is None for f in facets):
        return NOT_CHECKED
    said = []
    layers = 0
    for k, f in enumerate(facets):
        check = f.processing
        if check is None:
            why = "no photos" if not f.examples else "no other photos to tell its own from"
            said.append(f"facet {k} not checked ({why})")
            continue
        layers = len(check.layers)
        draws = len(check.passes) - 1
        drawn = f", its draws {int(check.passed[1:].sum())} of {draws}" if draws else ""
        said.append(f"facet {k} {check.words(0)}{drawn}")
    many = "s" if layers != 1 else ""
    head = f"Geirhos et al.'s check, {layers} layer{many}" if layers else "Geirhos et al.'s check"
    return f"processed like their photos ({head}): " + "; ".join(said)


def processing_record(check: ProcessingCheck | None) -> dict | None:
    """A facet's check as its record keeps it: the layers; its optimum's similarities to its
    photos and to the others per layer and where it passes in words; its draws' medians, and
    how many draws pass (at PASS_SHARE of the layers)."""
    if check is None:
        return None
    drawn = len(check.passes) - 1
    return {
        "layers": list(check.layers),
        "to_photos": check.to_photos[0],
        "to_others": check.to_others[0],
        "passes": check.words(0),
        "passed": bool(check.passed[0]),
        "draws": drawn,
        "draws_passed": int(check.passed[1:].sum()),
        "draws_to_photos": np.median(check.to_photos[1:], axis=0) if drawn else None,
        "draws_to_others": np.median(check.to_others[1:], axis=0) if drawn else None,
    }
