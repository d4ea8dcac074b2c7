"""The processing check's bar, set by the photos: a kind's facets must pass Geirhos et al.'s check
(`Facet.processing`) at least as often as the kind's own photos, each checked as a facet is
(`Facet.photos_processing`), less PHOTOS_MARGIN. Per kind (`kind_bars`), in words
(`bar_line`) and as the record keeps it (`bar_record`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from samplevis.optvis.processing_check import PHOTOS_MARGIN

if TYPE_CHECKING:
    from samplevis.sampling.report.run import Facet

_SLACK = 1e-9  # rates equal up to rounding meet the bar


@dataclasses.dataclass(frozen=True)
class KindBar:
    """One kind's facets through the check against its photos: `facets_passed` of
    `facets_checked` facets pass (their optima), `photos_passed` of `photos_checked` of its
    photos; `name` its kind in words ("" without)."""

    kind: int
    name: str
    facets_passed: int
    facets_checked: int
    photos_passed: int
    photos_checked: int

    @property
    def met(self) -> bool:
        """Whether the facets pass at least as often as the photos, less PHOTOS_MARGIN."""
        if not self.facets_checked or not self.photos_checked:
            return False
        facets = self.facets_passed / self.facets_checked
        photos = self.photos_passed / self.photos_checked
        return facets >= photos - PHOTOS_MARGIN - _SLACK


def kind_bars(facets: Sequence[Facet]) -> list[KindBar]:
    """Each kind whose facets were checked and whose photos set a bar, in the facets' order."""
    found: dict[int, KindBar] = {}
    for f in facets:
        if f.processing is None or not f.photos_processing:
            continue
        passed, checked = f.photos_processing
        bar = found.get(f.kind) or KindBar(f.kind, f.kind_name, 0, 0, passed, checked)
        found[f.kind] = dataclasses.replace(
            bar,
            facets_passed=bar.facets_passed + int(bool(f.processing.passed[0])),
            facets_checked=bar.facets_checked + 1,
        )
    return list(found.values())


def bar_line(facets: Sequence[Facet]) -> str | None:
    """The bar per kind in one line, e.g. "processed like their photos as often as the photos
    themselves (a kind's facets pass at least at its photos' rate less 10 points): kind 0
    (bell pepper, 13 of 15 photos) facets 9 of 10, their photos 31 of 40 (meets it); kind 1
    facets 1 of 3, their photos 35 of 40 (falls short)"; None where no kind was checked."""
    bars = kind_bars(facets)
    if not bars:
        return None
    said = []
    for bar in bars:
        named = f" ({bar.name})" if bar.name else ""
        verdict = "meets it" if bar.met else "falls short"
        said.append(
            f"kind {bar.kind}{named} facets {bar.facets_passed} of {bar.facets_checked}, their "
            f"photos {bar.photos_passed} of {bar.photos_checked} ({verdict})"
        )
    head = (
        "processed like their photos as often as the photos themselves (a kind's facets pass "
        f"at least at its photos' rate less {100 * PHOTOS_MARGIN:.0f} points)"
    )
    return f"{head}: " + "; ".join(said)


def bar_record(facets: Sequence[Facet]) -> list[dict[str, Any]]:
    """The bar per kind as the record keeps it: kind, its name, the facets' and the photos'
    counts, and whether the facets meet it."""
    return [
        {
            "kind": bar.kind,
            "kind_name": bar.name or None,
            "facets_passed": bar.facets_passed,
            "facets_checked": bar.facets_checked,
            "photos_passed": bar.photos_passed,
            "photos_checked": bar.photos_checked,
            "margin": PHOTOS_MARGIN,
            "met": bar.met,
        }
        for bar in kind_bars(facets)
    ]
