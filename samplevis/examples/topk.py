"""The running top-k of every unit: the k best images so far, in memory that does not grow with
the number of images.

A `TopK` is a value: `merge` of two is pure and symmetric (ties broken by file name, a file in
both counted once), so work done in pieces, by a resumed run or by runs side by side, merges to
what one run over all the files finds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMPTY_BOX = (-1, -1, -1, -1)


@dataclass(frozen=True)
class TopK:
    """Per unit, its best `k` images, best first: `values` float64 [U, k] (-inf where fewer
    were seen), `files` object [U, k] (names; '' where empty) and `boxes` int64 [U, k, 4] (each
    (left, top, right, bottom) px of the file that the unit's receptive field saw; -1s where
    empty)."""

    values: np.ndarray
    files: np.ndarray
    boxes: np.ndarray

    @property
    def k(self) -> int:
        return self.values.shape[1]

    @property
    def units(self) -> int:
        return self.values.shape[0]

    def ranked(self, unit: int) -> list[tuple[str, float, tuple[int, ...]]]:
        """(file, value, box) of `unit`'s images, best first, the empty places left out."""
        return [
            (str(f), float(v), tuple(int(b) for b in box))
            for f, v, box in zip(self.files[unit], self.values[unit], self.boxes[unit])
            if f
        ]


def empty(units: int, k: int) -> TopK:
    """A TopK of `units` units that has seen nothing."""
    return TopK(
        np.full((units, k), -np.inf),
        np.full((units, k), "", dtype=object),
        np.full((units, k, 4), -1, np.int64),
    )


def of_batch(values: np.ndarray, files: list[str], boxes: np.ndarray) -> TopK:
    """A batch's images as a TopK holding all of them: `values` [B, U], `files` [B], `boxes`
    [B, U, 4]."""
    values = np.asarray(values, np.float64)
    units = values.shape[1]
    return TopK(
        values.T.copy(),
        np.tile(np.asarray(files, dtype=object)[None], (units, 1)),
        np.transpose(np.asarray(boxes, np.int64), (1, 0, 2)).copy(),
    )


def merge(a: TopK, b: TopK, k: int | None = None) -> TopK:
    """The best `k` (default: a's) of each unit's images in `a` and `b`: by value, ties by file
    name; a file in both is kept once (its entry with the larger value). NaN counts as -inf."""
    if a.units != b.units:
        raise ValueError(f"cannot merge the top images of {a.units} units with {b.units}'s.")
    k = a.k if k is None else k
    values = np.concatenate([a.values, b.values], axis=1)
    values = np.where(np.isnan(values), -np.inf, values)
    files = np.concatenate([a.files, b.files], axis=1)
    boxes = np.concatenate([a.boxes, b.boxes], axis=1)
    _, codes = np.unique(files.astype(str), return_inverse=True)
    codes = codes.reshape(files.shape)  # file names as ints in the names' order
    order = np.lexsort((codes, -values), axis=-1)
    # an entry repeats a file when an earlier one in `order` has its name
    sorted_codes = np.take_along_axis(codes, order, axis=1)
    by_name = np.argsort(sorted_codes, axis=1, kind="stable")
    named = np.take_along_axis(sorted_codes, by_name, axis=1)
    repeat_sorted = np.zeros(named.shape, bool)
    repeat_sorted[:, 1:] = named[:, 1:] == named[:, :-1]
    repeat = np.empty_like(repeat_sorted)
    np.put_along_axis(repeat, by_name, repeat_sorted, axis=1)
    repeat |= np.take_along_axis(values, order, axis=1) == -np.inf  # empty places
    keep = np.take_along_axis(order, np.argsort(repeat, axis=1, kind="stable"), axis=1)[:, :k]
    kept_repeat = np.sort(repeat, axis=1, kind="stable")[:, :k]
    out_values = np.where(kept_repeat, -np.inf, np.take_along_axis(values, keep, axis=1))
    out_files = np.where(kept_repeat, "", np.take_along_axis(files, keep, axis=1))
    out_boxes = np.where(
        kept_repeat[..., None], -1, np.take_along_axis(boxes, keep[..., None], axis=1)
    )
    return TopK(out_values, out_files.astype(object), out_boxes.astype(np.int64))
