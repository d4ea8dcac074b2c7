"""The 1000 ImageNet (ILSVRC-2012) class names, in the standard class-index order.

Names are spelled as in Keras' ``imagenet_class_index.json`` (e.g. 0 ``tench``,
8 ``hen``, 281 ``tabby``, 967 ``espresso``); multi-word names use underscores
(``tiger_cat``). Two names occur twice in that list: ``crane`` (134 the bird, 517
the machine) and ``maillot`` (638, 639); ``Cardigan`` (264, a corgi) and ``cardigan``
(474, a sweater) differ only by case.
"""

from __future__ import annotations

import difflib
import functools
from importlib import resources

NUM_CLASSES = 1000


@functools.lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """All 1000 class names; ``imagenet_labels()[i]`` names class index ``i``."""
    text = (
        resources.files("samplevis")
        .joinpath("data")
        .joinpath("imagenet_labels.txt")
        .read_text(encoding="utf-8")
    )
    labels = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(labels) != NUM_CLASSES:
        raise RuntimeError(
            f"the packaged ImageNet label file has {len(labels)} names; expected "
            f"{NUM_CLASSES}. Reinstall samplevis."
        )
    return labels


def _normalize(name: str) -> str:
    # Case-insensitive, and a space matches an underscore ("tiger cat" == "tiger_cat").
    return name.strip().lower().replace(" ", "_")


@functools.lru_cache(maxsize=1)
def _indices_by_name() -> dict[str, tuple[int, ...]]:
    table: dict[str, tuple[int, ...]] = {}
    for i, label in enumerate(imagenet_labels()):
        key = _normalize(label)
        table[key] = table.get(key, ()) + (i,)
    return table


def label_index(name: str) -> int:
    """Class index (0–999) of an ImageNet class name.

    Matching is exact up to case, and spaces may stand for underscores. Where two names differ
    only by case the exact spelling decides: ``label_index("Cardigan") == 264`` (the dog),
    ``label_index("cardigan") == 474`` (the sweater).

    Args:
        name: a class name of `imagenet_labels()`.

    Returns:
        The class index.

    Raises:
      ValueError: the name is unknown (the message lists close matches), or it names
        two classes (``crane``, ``maillot``, or ``CARDIGAN`` in neither spelling);
        then pass the class index instead.

    Examples:
        >>> label_index("Tabby"), label_index("tiger cat")
        (281, 282)
    """
    if not isinstance(name, str):
        raise TypeError(f"expected a class name string, got {type(name).__name__} {name!r}.")
    table = _indices_by_name()
    indices = table.get(_normalize(name))
    if indices is not None and len(indices) > 1:
        # 'Cardigan' (the corgi, 264) and 'cardigan' (the sweater, 474) differ only by case.
        exact = tuple(i for i in indices if imagenet_labels()[i] == name.strip().replace(" ", "_"))
        indices = exact if len(exact) == 1 else indices
    if indices is None:
        labels = imagenet_labels()
        close = difflib.get_close_matches(_normalize(name), list(table), n=5, cutoff=0.6)
        hint = (
            " Close matches: " + ", ".join(f"{labels[table[c][0]]!r}" for c in close) + "."
            if close
            else ""
        )
        raise ValueError(
            f"{name!r} is not an ImageNet class name.{hint} "
            "See samplevis.zoo.imagenet_labels() for all 1000 names."
        )
    if len(indices) > 1:
        raise ValueError(
            f"{name!r} names {len(indices)} ImageNet classes, indices "
            f"{list(indices)}; pass the class index instead of the name."
        )
    return indices[0]
