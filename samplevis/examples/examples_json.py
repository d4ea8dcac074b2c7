"""OUT/examples.json: what a run found so far, and how runs into one folder add up.

A `Record` is the top images of every unit, the files read and those skipped, under the `run`
arguments that make them comparable. `merge` of two records is pure; `save` reads the record on
disk, merges the one given into it and writes the result whole, in one function, so that a lock
around it lets runs into one folder merge their work.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from samplevis.examples import topk

FILE = "examples.json"
FORMAT = 1


class OtherRunError(ValueError):
    """OUT/examples.json holds a run with other arguments."""


@dataclass(frozen=True)
class Record:
    """`run`: the arguments that decide the results (model, images, input size, units, k);
    `units`: each unit's description (`Unit.describe`); `top`: their TopK; `read`: the files
    read (names relative to the images); `skipped`: {name: why} of those that did not decode."""

    run: dict
    units: list[dict]
    top: topk.TopK
    read: frozenset[str] = frozenset()
    skipped: dict[str, str] = field(default_factory=dict)
    pictures: dict[str, str] = field(default_factory=dict)  # {unit name: its folder of PNGs}


def merge(a: Record, b: Record) -> Record:
    """The record of both runs' work (pure). Runs with other arguments are an OtherRunError."""
    if a.run != b.run:
        raise OtherRunError(_other_run(a.run, b.run))
    return Record(
        a.run,
        a.units,
        topk.merge(a.top, b.top),
        a.read | b.read,
        {**a.skipped, **b.skipped},
        {**a.pictures, **b.pictures},
    )


def _other_run(on_disk: dict, given: dict) -> str:
    differ = sorted(k for k in set(on_disk) | set(given) if on_disk.get(k) != given.get(k))
    return (
        f"{FILE} there holds a run with other arguments ({', '.join(differ)} differ); give "
        "another output folder, or delete it to start over."
    )


def to_json(record: Record) -> dict:
    """The record as examples.json holds it: per unit its images best first, each with its
    file, value and box (left, top, right, bottom px of the file)."""
    units = []
    for u, description in enumerate(record.units):
        folder = record.pictures.get(description["unit"])
        ranked = []
        for rank, (name, value, box) in enumerate(record.top.ranked(u)):
            entry = {"file": name, "value": value, "box": list(box) if box[0] >= 0 else None}
            if folder is not None:
                entry["image"] = f"{folder}/{rank:02d}.png"
                entry["crop"] = f"{folder}/{rank:02d}_crop.png"
            ranked.append(entry)
        units.append({**description, "examples": ranked})
    skipped: dict[str, int] = {}
    for reason in record.skipped.values():
        skipped[reason] = skipped.get(reason, 0) + 1
    return {
        "format": FORMAT,
        "run": record.run,
        "units": units,
        "pictures": record.pictures,
        "files_read": sorted(record.read),
        "skipped": dict(sorted(record.skipped.items())),
        "skipped_counts": skipped,
    }


def from_json(data: dict) -> Record:
    """The record of a loaded examples.json."""
    if data.get("format") != FORMAT:
        raise ValueError(
            f"{FILE} has format {data.get('format')!r}; this version reads format {FORMAT}."
        )
    units = data["units"]
    k = int(data["run"]["top"])
    top = topk.empty(len(units), k)
    for u, unit in enumerate(units):
        for rank, entry in enumerate(unit["examples"][:k]):
            top.values[u, rank] = -np.inf if entry["value"] is None else entry["value"]
            top.files[u, rank] = entry["file"]
            top.boxes[u, rank] = entry["box"] if entry["box"] is not None else topk.EMPTY_BOX
    described = [{k: v for k, v in unit.items() if k != "examples"} for unit in units]
    return Record(
        data["run"],
        described,
        top,
        frozenset(data["files_read"]),
        dict(data["skipped"]),
        dict(data.get("pictures", {})),
    )


def load(out: str | os.PathLike) -> Record | None:
    """The record in folder `out`, or None when it has none."""
    path = Path(out) / FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return from_json(data)
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise ValueError(
            f"{path} is not an examples file this version reads ({err}); move it away or give "
            "another output folder."
        ) from None


def save(out: str | os.PathLike, record: Record) -> Record:
    """Merge `record` into the one in folder `out` (if any) and write the result whole; returns
    it. The one place that writes examples.json, under the folder's lock, so that concurrent runs
    into one folder add up."""
    from samplevis import io
    from samplevis.runtime.folder_lock import folder_lock

    with folder_lock(out):
        on_disk = load(out)
        merged = record if on_disk is None else merge(on_disk, record)
        io.write_json(Path(out) / FILE, to_json(merged))
    return merged


def start(out: str | os.PathLike | None, blank: Record) -> Record:
    """What a run with `blank`'s arguments goes on from: the record in `out` (checked to have
    those arguments), else `blank`."""
    on_disk = None if out is None else load(out)
    if on_disk is None:
        return blank
    if on_disk.run != blank.run:
        raise OtherRunError(f"{Path(out) / FILE}: " + _other_run(on_disk.run, blank.run))  # type: ignore[arg-type]
    return replace(on_disk, units=blank.units)
