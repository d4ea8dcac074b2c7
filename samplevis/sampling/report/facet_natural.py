"""The measures no climb applies (optvis.natural_measures, which `phases.facet_checks.checked`
sets as `Facet.natural`), in words: the summary's line (`natural_line`), the record's entry
(`natural_record`) and the gallery's sentence read back from it (`natural_sentence`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from samplevis.optvis.natural_measures import COLOUR_SHARE, LOW_PASS_FACTOR

if TYPE_CHECKING:
    from samplevis.optvis.natural_measures import NaturalCheck
    from samplevis.sampling.report.run import Facet

# The bars, said once at the head of the line (optvis.natural_measures)
HEAD = (
    f"measures no climb applies (a facet keeps 0.9 of its photos' share at 1/{LOW_PASS_FACTOR} "
    f"resolution, is at most {COLOUR_SHARE:g} times as colourful, and is a copy where it is "
    "nearer 1.0 like its nearest photo than the photos are like each other)"
)


def natural_line(facets: Sequence[Facet]) -> str | None:
    """Each facet's figures beside its photos', in one line, e.g. "measures no climb applies
    (...): facet 0 keeps 0.62 of its value at half resolution (its photos 0.95, fails);
    colourfulness 81 (its photos 34, fails); 0.97 like its nearest photo (the photos 0.46 like
    each other: a copy); its draws: 3 of 4 keep enough, 4 of 4 colours pass, 0 of 4 copies";
    None where no facet was measured (no photos)."""
    if not any(f.natural is not None for f in facets):
        return None
    said = []
    for k, f in enumerate(facets):
        check = f.natural
        if check is None:
            said.append(f"facet {k} not measured (no photos)")
            continue
        text = f"facet {k} {check.words(0)}"
        draws = len(check.nearest) - 1
        if draws:
            text += f", its draws: {_draws(check)}"
        said.append(text)
    return f"{HEAD}: " + "; ".join(said)


def natural_record(check: NaturalCheck | None) -> dict[str, Any] | None:
    """A facet's measures as its record keeps it: for its optimum, the share it keeps at half
    resolution, its colourfulness and its coarse correlation with its nearest photo, each with
    its photos' median and whether it passes, and all in words; for its draws, how many, their
    medians and how many pass each."""
    if check is None:
        return None
    drawn = len(check.nearest) - 1

    def median(values: np.ndarray) -> float:
        finite = np.asarray(values, np.float64)[1:]
        finite = finite[np.isfinite(finite)]
        return float(np.median(finite)) if len(finite) else math.nan

    return {
        "low_pass_factor": LOW_PASS_FACTOR,
        "low_pass_kept": float(check.low_pass_kept[0]),
        "photos_low_pass_kept": check.photos_low_pass_kept,
        "low_pass_passed": bool(check.low_pass_passed[0]),
        "colourfulness": float(check.colour[0]),
        "photos_colourfulness": check.photos_colour,
        "colour_passed": bool(check.colour_passed[0]),
        "nearest_photo": float(check.nearest[0]),
        "photos_nearest": check.photos_nearest,
        "copy": bool(check.copies[0]),
        "passed": bool(check.passed[0]),
        "words": check.words(0),
        "draws": drawn,
        "draws_low_pass_kept": median(check.low_pass_kept),
        "draws_low_pass_passed": int(check.low_pass_passed[1:].sum()),
        "draws_colourfulness": median(check.colour),
        "draws_colour_passed": int(check.colour_passed[1:].sum()),
        "draws_nearest_photo": median(check.nearest),
        "draws_copies": int(check.copies[1:].sum()),
        "draws_passed": int(check.passed[1:].sum()),
    }


def natural_sentence(record: dict) -> str:
    """A facet record's "natural" as a sentence to follow another: ". Measures no climb
    applies: its optimum keeps 0.62 ... (a copy); its draws: 3 of 4 keep enough, ..."; ""
    without it."""
    found = record.get("natural")
    if not isinstance(found, dict) or not isinstance(found.get("words"), str):
        return ""
    said = f". Measures no climb applies: its optimum {found['words']}"
    draws = found.get("draws")
    if isinstance(draws, int) and draws:
        said += (
            f"; its draws: {found.get('draws_low_pass_passed')} of {draws} keep enough, "
            f"{found.get('draws_colour_passed')} of {draws} colours pass, "
            f"{found.get('draws_copies')} of {draws} copies"
        )
    return said


def _draws(check: NaturalCheck) -> str:
    draws = len(check.nearest) - 1
    return (
        f"{int(check.low_pass_passed[1:].sum())} of {draws} keep enough, "
        f"{int(check.colour_passed[1:].sum())} of {draws} colours pass, "
        f"{int(check.copies[1:].sum())} of {draws} copies"
    )
