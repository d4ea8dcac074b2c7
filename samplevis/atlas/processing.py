"""Is each channel's image processed like its top photos? Geirhos et al.'s check over an atlas
made with `samplevis atlas --images` (`check_atlas`): each channel's image against its top
photos (OUT/examples/examples.json) and the other photos read, at the check's default layers
(optvis.processing_check); and the blur measure (optvis.blur_check): the share of the
channel's objective its image keeps under a 1 px blur, and its top photos' median share.
OUT/processing.json keeps both per channel; the page shows them in the channel's numbers and
sorts a layer's channels by the first."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from samplevis.atlas.files import EXAMPLES, PROCESSING_JSON
from samplevis.models import Model

OTHERS = 60  # photos read beyond the channels' top ones compared with, at most


def check_atlas(model: Model, out: Path, entries: list[dict]) -> dict[str, dict[str, Any]]:
    """{"layer/channel": its check} for the `entries` (atlas.json's) whose channel has top
    photos in OUT/examples/examples.json, written to OUT/processing.json: "share", the share of
    the layers at which its image is more like its top photos than like the others (the photos
    read that are not among its top ones), "passes" in words (both absent without other
    photos); "blur_kept", the share of the channel's objective (`objectives.channel`, what the
    atlas renders) its image keeps under a 1 px blur, "photos_blur_kept" its top photos' median
    share (null where not measurable: no positive value), "blur_passed" whether it keeps at
    least `blur_check.KEEP_SHARE` of theirs. Photos and images are read at the channels'
    images' size, the photos' channel means once for all channels."""
    from samplevis.examples.images import BadImage, load_fitted
    from samplevis.io import write_json
    from samplevis.optvis import processing_check as check

    tops = _tops(out / EXAMPLES / "examples.json")
    wanted = [e for e in entries if (e["layer"], e["channel"]) in tops]
    if not wanted:
        return {}
    size = _image(out / wanted[0]["files"][0]).shape[0]
    every_top = {f for e in wanted for f in tops[(e["layer"], e["channel"])]}
    read = _read(out / EXAMPLES / "examples.json")
    rest = sorted(set(read) - every_top)
    if len(rest) > OTHERS:
        rest = [rest[int(i)] for i in np.linspace(0, len(rest) - 1, OTHERS).round()]
    files, pixels = [], []
    for file in sorted(every_top) + rest:
        try:
            pixels.append(load_fitted(file, (size, size))[0])
            files.append(file)
        except (BadImage, OSError):
            continue
    layers = check.block_outputs(model)
    means = check.channel_means(model, np.stack(pixels), layers)
    row = {file: i for i, file in enumerate(files)}
    images = np.stack([_image(out / e["files"][0]) for e in wanted])
    seen = check.channel_means(model, images, layers)
    photos = np.stack(pixels).astype(np.float32) / 255.0
    found = {}
    for i, entry in enumerate(wanted):
        top = tops[(entry["layer"], entry["channel"])]
        own = [row[f] for f in top if f in row]
        others = [row[f] for f in rest if f in row and f not in top]
        if not own:
            continue
        said = _blurred(model, entry, images[i], photos[own])
        if others:
            result = check.likeness(
                {k: seen[k][i : i + 1] for k in layers},
                {k: means[k][own] for k in layers},
                {k: means[k][others] for k in layers},
                layers,
            )
            said = {"share": float(result.shares[0]), "passes": result.words(0), **said}
        found[f"{entry['layer']}/{entry['channel']}"] = said
    write_json(out / PROCESSING_JSON, {"layers": layers, "channels": found})
    return found


def _blurred(model: Model, entry: dict, image: np.ndarray, photos: np.ndarray) -> dict[str, Any]:
    """The channel's blur measure (optvis.blur_check): its `image` [H, W, 3] and its top
    `photos` [P, H, W, 3] (float in [0, 1]) measured in one pass, on the channel's objective."""
    from samplevis.optvis import objectives
    from samplevis.optvis.blur_check import from_shares, kept_under_blur

    objective = objectives.channel(entry["layer"], int(entry["channel"]))
    kept = kept_under_blur(model, objective, np.concatenate([image[None], photos]))
    result = from_shares(kept[:1], kept[1:])
    return {
        "blur_kept": _number(float(kept[0])),
        "photos_blur_kept": _number(result.photos_kept),
        "blur_passed": bool(result.passed[0]),
    }


def _number(value: float) -> float | None:
    """`value`, or None (JSON's null) where it is NaN."""
    return value if math.isfinite(value) else None


def _image(path: Path) -> np.ndarray:
    """A channel's image file as float32 [H, W, 3] in [0, 1] (its colour; alpha dropped)."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), np.float32) / 255.0


def _tops(index: Path) -> dict[tuple[str, int], list[Path]]:
    """{(layer, channel): its top photos' files} of an examples.json; {} without one."""
    try:
        found = json.loads(index.read_text())
        folder = Path(found["run"]["images"])
        units = found["units"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {
        (u["layer"], u["channel"]): [folder / e["file"] for e in u.get("examples", [])]
        for u in units
        if isinstance(u, dict) and u.get("kind") == "channel"
    }


def _read(index: Path) -> list[Path]:
    """The files an examples.json read."""
    found = json.loads(index.read_text())
    folder = Path(found["run"]["images"])
    return [folder / name for name in found.get("files_read", [])]
