"""How much of its value each facet keeps under a mild blur, against its photos (the blur
measure, optvis.blur_check, which `phases.facet_checks.checked` sets as `Facet.blur`), in words:
the summary's line (`blur_line`) and the record's entry (`blur_record`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from samplevis.optvis.blur_check import KEEP_SHARE

if TYPE_CHECKING:
    from samplevis.optvis.blur_check import BlurCheck
    from samplevis.sampling.report.run import Facet

_NONE = "value is not positive"  # said where a share cannot be measured (NaN)


def blur_line(facets: Sequence[Facet]) -> str | None:
    """What each facet keeps of its value under the blur, in one line, e.g. "under a 1 px blur
    (facets keep 0.9 of their photos' share or more): facet 0 keeps 0.45 of its value, its
    photos 0.69 (fails), its draws 1 of 4 pass; facet 1 keeps 0.70, its photos 0.72, its draws
    4 of 4 pass"; None where no facet was measured (no photos)."""
    measured = [f.blur for f in facets if f.blur is not None]
    if not measured:
        return None
    said = []
    for k, f in enumerate(facets):
        check = f.blur
        if check is None:
            said.append(f"facet {k} not measured (no photos)")
            continue
        kept, theirs = float(check.kept[0]), check.photos_kept
        of = " of its value" if not said else ""
        text = f"facet {k} keeps {kept:.2f}{of}" if math.isfinite(kept) else f"facet {k}'s {_NONE}"
        text += f", its photos {theirs:.2f}" if math.isfinite(theirs) else f", its photos' {_NONE}"
        if not check.passed[0]:
            text += " (fails)"
        draws = len(check.kept) - 1
        if draws:
            text += f", its draws {int(check.passed[1:].sum())} of {draws} pass"
        said.append(text)
    head = (
        f"under a {measured[0].sigma:g} px blur (facets keep {KEEP_SHARE:g} of their photos' "
        "share or more)"
    )
    return f"{head}: " + "; ".join(said)


def blur_record(check: BlurCheck | None) -> dict[str, Any] | None:
    """A facet's blur measure as its record keeps it: the blur's sigma (px), the share its
    optimum keeps, its photos' median share, whether it passes and in words; its draws: how
    many, their median share and how many pass."""
    if check is None:
        return None
    kept = np.asarray(check.kept, np.float64)
    drawn = kept[1:]
    finite = drawn[np.isfinite(drawn)]
    return {
        "sigma": check.sigma,
        "kept": float(kept[0]),
        "photos_kept": check.photos_kept,
        "passed": bool(check.passed[0]),
        "words": check.words(0),
        "draws": len(drawn),
        "draws_kept": float(np.median(finite)) if len(finite) else math.nan,
        "draws_passed": int(check.passed[1:].sum()),
    }
