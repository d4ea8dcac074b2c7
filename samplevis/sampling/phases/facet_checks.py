"""The measures of each facet against its photos, as `render`'s last phase takes them (and
`samplevis sample --examples` after it): Geirhos et al.'s processing check
(optvis.processing_check) and the blur measure (optvis.blur_check) on every facet that has
photos (`checked`), reading the photos and running the network; `report.facet_processing` and
`report.facet_blur` say what they measured.

A facet's photos are those of its kind (every facet of that kind's photos, at most PER_KIND);
the other photos are the other kinds' and those read while ranking that are not among the
unit's top ones (at most OTHERS). Its optimum and up to DRAWS of its draws are compared with
both at each layer, at the facets' size; and the share of its objective each keeps under a
1 px blur with the median share its kind's photos keep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example
    from samplevis.models import Model
    from samplevis.optvis.blur_check import BlurCheck
    from samplevis.optvis.objectives import Objective
    from samplevis.sampling.report.run import Facet

DRAWS = 4  # of each facet's draws checked, evenly spaced over its chains' samples
# Photos read: a kind's mean from at most PER_KIND of its photos, evenly spaced in rank, and at
# most OTHERS of those read beyond the unit's top ones (one pass over them costs the check most)
PER_KIND = 40
OTHERS = 60


def checked(
    facets: Sequence[Facet],
    images: np.ndarray,
    model: Model,
    objective: Objective | str,
    others: Sequence[Path] = (),
    layers: Sequence[str] | None = None,
    photos: Sequence[Sequence[Example]] | None = None,
) -> tuple[Facet, ...]:
    """`facets` with `processing` set where a facet has photos (`Facet.examples`) and other
    photos exist: its optimum's and up to DRAWS of its draws' (`images` [N, C, H, W, 3], the
    run's samples) check against its kind's photos and the others (the other kinds' and
    `others`, files), at `layers` (default `processing_check.block_outputs`); `blur` set where
    it has photos: the share of `objective` (the run's) the same images keep under a 1 px blur
    against the median its kind's photos keep (`optvis.blur_check`); and its `kind_name`
    (`kind_names`), a classifier's labels read in the same pass over the photos. `photos`
    gives each facet's photos in place of its `examples` (`samplevis sample --examples`: the
    examples nearest each facet of the search, each facet a kind). The same pass sets
    `natural` (`optvis.natural_measures`: measures no climb applies, against its kind's photos)
    and `photos_processing`, how many of its kind's photos pass the check as a facet is
    checked: the bar its kind's facets are held to."""
    from samplevis.optvis import processing_check as check
    from samplevis.optvis.natural_measures import grouped_checks
    from samplevis.sampling.report import kind_names

    given = list(facets)
    if photos is not None:
        facets = [dataclasses.replace(f, examples=tuple(p)) for f, p in zip(facets, photos)]
    with_photos = [f for f in facets if f.examples]
    if not with_photos:
        return tuple(facets)
    layers = list(check.block_outputs(model) if layers is None else layers)
    size = (
        (int(images.shape[2]), int(images.shape[3])) if images.size else facets[0].image.shape[:2]
    )
    pixels, kept, own_rows = photo_rows(with_photos, others, size)
    output = label_layer(model)
    read = [*layers, output] if output is not None and output not in layers else layers
    means = check.channel_means(model, pixels, read) if kept and read else {}
    labelled = (
        dict(zip(kept, kind_names.labels(means[output]))) if output is not None and kept else None
    )
    named = kind_names.kind_names(with_photos, labelled)
    shown = [_shown(f, images) for f in facets]
    seen = check.channel_means(model, np.concatenate(shown), layers) if layers else {}
    blurred = _blurred(model, objective, facets, shown, pixels, own_rows)
    natural = grouped_checks(
        model,
        objective,
        shown,
        pixels,
        [own_rows.get(f.kind, []) if f.examples else [] for f in facets],
    )
    bars: dict[int, tuple[int, int] | None] = {}
    out, first = [], 0
    for f, own_images, blur, measured in zip(facets, shown, blurred, natural):
        rows = slice(first, first + len(own_images))
        first += len(own_images)
        own = own_rows.get(f.kind, [])
        rest = sorted(set(range(len(kept))) - set(own))
        f = dataclasses.replace(f, kind_name=named.get(f.kind, ""), blur=blur, natural=measured)
        if not f.examples or not own or not rest or not layers:  # layers: none with a map
            out.append(f)
            continue
        if f.kind not in bars:  # the kind's own photos, each checked as a facet is
            passing = check.photos_passing(
                {k: means[k][own] for k in layers}, {k: means[k][rest] for k in layers}, layers
            )
            # a kind of one photo has no others to check it against: it sets no bar
            bars[f.kind] = (int(passing.sum()), len(passing)) if len(passing) else None
        f = dataclasses.replace(f, photos_processing=bars[f.kind])
        found = check.likeness(
            {k: seen[k][rows] for k in layers},
            {k: means[k][own] for k in layers},
            {k: means[k][rest] for k in layers},
            layers,
        )
        out.append(dataclasses.replace(f, processing=found))
    if photos is not None:  # the facets keep their own examples (none for the search's)
        out = [dataclasses.replace(f, examples=g.examples) for f, g in zip(out, given)]
    return tuple(out)


def photo_rows(
    facets: Sequence[Facet], others: Sequence[Path], size: tuple[int, int]
) -> tuple[np.ndarray, list[Path], dict[int, list[int]]]:
    """The photos the check reads, fitted to `size`: each kind's of `facets` (every facet of
    that kind's examples, at most PER_KIND, evenly spaced in rank) and `others`, as uint8
    [N, H, W, 3]; the files that decoded, in that order; and each kind's rows among them."""
    by_kind: dict[int, list[Path]] = {}
    for f in facets:
        by_kind.setdefault(f.kind, []).extend(e.file for e in f.examples)
    files = list(
        dict.fromkeys([p for k in by_kind.values() for p in _spaced(k, PER_KIND)] + list(others))
    )
    pixels, kept = _loaded(files, size)
    row = {file: i for i, file in enumerate(kept)}
    own = {k: sorted({row[p] for p in ps if p in row}) for k, ps in by_kind.items()}
    return pixels, kept, own


def _blurred(
    model: Model,
    objective: Objective | str,
    facets: Sequence[Facet],
    shown: Sequence[np.ndarray],
    pixels: np.ndarray,
    own_rows: dict[int, list[int]],
) -> list[BlurCheck | None]:
    """Each facet's blur measure: its `shown` images (its optimum and draws) against its kind's
    photos (`pixels[own_rows[kind]]`, at the facets' size); None for a facet without photos of
    its kind. Each image is measured once, the photos of every kind in one pass."""
    from samplevis.optvis.blur_check import from_shares, kept_under_blur

    measured = [bool(f.examples and own_rows.get(f.kind)) for f in facets]
    if not any(measured):
        return [None] * len(facets)
    photo_rows = sorted({i for f in facets for i in own_rows.get(f.kind, [])})
    photos_kept = dict(zip(photo_rows, kept_under_blur(model, objective, pixels[photo_rows])))
    images_kept = kept_under_blur(model, objective, np.concatenate(shown))
    out: list[BlurCheck | None] = []
    first = 0
    for f, own_images, wanted in zip(facets, shown, measured):
        kept = images_kept[first : first + len(own_images)]
        first += len(own_images)
        theirs = np.array([photos_kept[i] for i in own_rows.get(f.kind, [])])
        out.append(from_shares(kept, theirs) if wanted else None)
    return out


def _spaced(files: list[Path], count: int) -> list[Path]:
    """Up to `count` of `files` (without repeats), evenly spaced in their order."""
    files = list(dict.fromkeys(files))
    if len(files) <= count:
        return files
    return [files[int(i)] for i in np.linspace(0, len(files) - 1, count).round()]


def _shown(facet: Facet, images: np.ndarray) -> np.ndarray:
    """float32 [1 + D, H, W, 3]: the facet's optimum and up to DRAWS of its draws, evenly
    spaced."""
    if not images.size:
        return facet.image[None].astype(np.float32)
    drawn = images[:, list(facet.chains)].reshape(-1, *images.shape[2:])
    if len(drawn):
        drawn = drawn[np.linspace(0, len(drawn) - 1, min(DRAWS, len(drawn))).astype(int)]
    return np.stack([facet.image, *drawn]).astype(np.float32)


def _loaded(files: Sequence[Path], size: tuple[int, int]) -> tuple[np.ndarray, list[Path]]:
    """The files fitted to `size`, uint8 [N, H, W, 3], and those that decoded."""
    from samplevis.examples.images import BadImage, load_fitted

    pixels, kept = [], []
    for file in files:
        try:
            pixels.append(load_fitted(file, size)[0])
            kept.append(file)
        except (BadImage, OSError):
            continue
    return (np.stack(pixels) if pixels else np.zeros([0, *size, 3], np.uint8)), kept


def label_layer(model: Model) -> str | None:
    """The layer whose argmax is a label the library knows: a classifier's last layer when it
    has the 1000 ImageNet classes (the built-in model, Keras applications, KerasHub
    classifiers); None for any other model."""
    from samplevis.zoo.labels import NUM_CLASSES

    last = model.layers_info()[-1]
    return last.name if tuple(last.output_shape) == (NUM_CLASSES,) else None
