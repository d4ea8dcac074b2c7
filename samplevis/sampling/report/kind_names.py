"""Kinds of photos named in words (`kind_names`): by the labels a classifier gives a kind's photos
("bell pepper, 13 of 15 photos"), or by the folders they sit in ("peppers, 15 of 15 photos").
Without either a kind keeps its number, and a photo of it names it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from samplevis.sampling.report.run import Facet


def labels(outputs: np.ndarray) -> list[str]:
    """The ImageNet label of each row of a classifier's outputs [N, 1000], in words."""
    from samplevis.zoo.labels import imagenet_labels

    names = imagenet_labels()
    return [names[int(i)].replace("_", " ") for i in np.argmax(outputs, axis=-1)]


def kind_names(facets: Sequence[Facet], labelled: Mapping[Path, str] | None) -> dict[int, str]:
    """{kind: its name} for the kinds of `facets` with photos: the label most of its photos get
    (`labelled`, a photo's file -> its label, of those labelled; None without a classifier) and
    how many do; else,
    where the photos sit in more than one folder, the folder most of them sit in; no entry
    otherwise."""
    photos: dict[int, list[Path]] = {}
    for facet in facets:
        for example in facet.examples:
            photos.setdefault(facet.kind, [])
            if example.file not in photos[facet.kind]:
                photos[facet.kind].append(example.file)
    folders = {file.parent for files in photos.values() for file in files}
    out = {}
    for kind, files in photos.items():
        if labelled is not None and any(f in labelled for f in files):
            said = [labelled[f] for f in files if f in labelled]
        elif len(folders) > 1:
            said = [f.parent.name for f in files]
        else:
            continue
        name, count = Counter(said).most_common(1)[0]
        out[kind] = f"{name}, {count} of {len(said)} photos"
    return out
