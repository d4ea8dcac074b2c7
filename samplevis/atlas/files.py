"""The atlas folder: a channel's files, atlas.json (read to resume, rewritten as channels finish)
and index.html, each written whole or not at all."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from samplevis.atlas.results import ATLAS_JSON, INDEX_HTML, ChannelResult, Settings
from samplevis.runtime.checks import OptionError

# What atlas.json says each choice of `param` (and `alpha`) renders with: `recipes.recipe`'s parts.
_RENDERED_WITH = {
    ("image", False): dict(
        image="param.image(size): FFT spectrum, colour decorrelation, sigmoid",
        transforms="transform.standard_transforms (a vision transformer's token layers: "
        "transform.vit_transforms of its patch size), drawn per image",
        optimizer="Adam(0.05)",
        objective="the channel's mean activation",
    ),
    ("image", True): dict(
        image="param.image(size, alpha=True): FFT spectrum, colour decorrelation, sigmoid; "
        "an alpha channel",
        transforms="transform.collapse_alpha_random, then transform.standard_transforms (a "
        "vision transformer's token layers: transform.vit_transforms of its patch size), drawn "
        "per image",
        optimizer="Adam(0.05)",
        objective="the channel's mean activation times (1 - penalize_alpha())",
    ),
    ("maco", False): dict(
        image="param.maco(size): a photographs' Fourier magnitude, the phase optimized",
        transforms="transform.maco_crops(the network's input size), drawn per image",
        optimizer="Nadam(1.0)",
        objective="the channel's mean activation, averaged over the crops",
    ),
}


# OUT/examples/examples.json: the dataset examples of the atlas's channels (`samplevis atlas
# --images`), which the page shows beside each channel's image
EXAMPLES = "examples"


def with_examples(out: Path, entries: list[dict]) -> list[dict]:
    """The page's entries, each channel's top crops from OUT/examples/examples.json added after
    its own files (its "examples": the files they come from, best first); as they are without
    that file."""
    index = out / EXAMPLES / "examples.json"
    try:
        units = json.loads(index.read_text())["units"]
    except (OSError, ValueError, KeyError, TypeError):
        return entries
    crops = {}
    for unit in units:
        if not isinstance(unit, dict) or unit.get("kind") != "channel":
            continue
        ranked = [e for e in unit.get("examples", []) if isinstance(e, dict) and e.get("crop")]
        crops[(unit.get("layer"), unit.get("channel"))] = ranked
    shown = []
    for entry in entries:
        best = crops.get((entry["layer"], entry["channel"]))
        if best:
            entry = dict(
                entry,
                files=[*entry["files"], *(f"{EXAMPLES}/{e['crop']}" for e in best)],
                examples=[str(e.get("file")) for e in best],
            )
        shown.append(entry)
    return shown


# OUT/processing.json: Geirhos et al.'s check of each channel's image against its top photos
# and the blur measure (`atlas.processing.check_atlas`), which the page shows in the channel's
# numbers and sorts by
PROCESSING_JSON = "processing.json"


def with_processing(out: Path, entries: list[dict]) -> list[dict]:
    """The page's entries, each channel's checks from OUT/processing.json added
    ("processed_like_photos": the share of the layers at which its image is processed like its
    top photos, "processed_like_photos_at" in words; "blur_kept" and "photos_blur_kept": the
    share of its objective its image and, at the median, its top photos keep under a 1 px
    blur); as they are without that file."""
    try:
        found = json.loads((out / PROCESSING_JSON).read_text())["channels"]
    except (OSError, ValueError, KeyError, TypeError):
        return entries
    shown = []
    for entry in entries:
        check = found.get(f"{entry['layer']}/{entry['channel']}")
        if isinstance(check, Mapping):
            entry = dict(
                entry,
                processed_like_photos=check.get("share"),
                processed_like_photos_at=check.get("passes"),
                blur_kept=check.get("blur_kept"),
                photos_blur_kept=check.get("photos_blur_kept"),
            )
        shown.append(entry)
    return shown


def save_page(out: Path) -> Path:
    """Write index.html again from the atlas.json in `out`, with its examples and checks."""
    from samplevis import pages

    atlas = json.loads((out / ATLAS_JSON).read_text())
    entries = with_processing(out, with_examples(out, list(atlas["channels"])))
    title = f"{atlas['model']} atlas"
    return pages.save_atlas_page(out / INDEX_HTML, entries, layer_counts(atlas), title=title)


def folder_name(layer: str) -> str:
    """A layer's folder: its name with characters a file name cannot hold replaced by '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", layer)


def check_out(out: str | os.PathLike) -> Path:
    """The output folder, checked before any work: it (or the folder it will be made in) must be
    a writable folder (`io.writable_folder`)."""
    from samplevis import io

    return io.writable_folder(out, name=f"out={str(out)!r}")


def read_atlas(out: Path, model_name: str) -> dict:
    """The atlas.json already in `out`, or an empty one; another model's atlas is an error."""
    path = out / ATLAS_JSON
    if not path.exists():
        return {}
    try:
        found = json.loads(path.read_text())
        if not isinstance(found, dict) or not isinstance(found.get("channels"), list):
            raise ValueError
    except (OSError, ValueError):
        raise ValueError(
            f"{path} is not an atlas.json written by samplevis.atlas; remove it or "
            "give another out folder."
        ) from None
    if found.get("model") not in (None, model_name):
        raise ValueError(
            f"{out} holds an atlas of model {found['model']!r}, not {model_name!r}; "
            "give another out folder."
        )
    return found


def entries_by_channel(atlas: Mapping) -> dict[tuple[str, int], dict]:
    """{(layer, channel): entry} of an atlas.json's entries."""
    return {
        (e["layer"], e["channel"]): e
        for e in atlas.get("channels", [])
        if isinstance(e, dict) and "layer" in e and "channel" in e
    }


def layer_counts(atlas: Mapping) -> dict[str, int | None]:
    """{layer: channel count} of an atlas.json, in page order."""
    return {
        layer: info.get("channels")
        for layer, info in (atlas.get("layers") or {}).items()
        if isinstance(info, dict)
    }


def check_same_choice(previous: Mapping, settings: Settings, out: Path) -> None:
    """Raise unless the atlas in `out` (its atlas.json, `previous`), if it has channels, was
    rendered with the settings' `param` and `alpha`: one atlas holds one kind of image."""
    if not previous.get("channels"):
        return
    was = previous.get("settings") or {}
    param, alpha = was.get("param", "image"), was.get("alpha", False)  # older atlases: image
    if (param, alpha) != (settings.param, settings.alpha):
        raise OptionError(
            "param",
            "{folder} holds an atlas rendered with {param=param}, {alpha=alpha}; this call asks "
            "for {param=new_param}, {alpha=new_alpha}. Add to it with {param=param}, "
            "{alpha=alpha}, or give another {out} folder.",
            folder=str(out),
            param=param,
            alpha=alpha,
            new_param=settings.param,
            new_alpha=settings.alpha,
        )


def is_done(entry: Mapping, settings: Settings, out: Path) -> bool:
    """Whether an atlas.json entry was rendered with these settings and its files exist."""
    same = (
        entry.get("steps_asked") == settings.steps
        and entry.get("size") == settings.size
        and entry.get("seed") == settings.seed
        and entry.get("samples", 0) >= settings.samples
    )
    return same and all((out / f).is_file() for f in entry.get("files", ()))


def write_channel(out: Path, result: ChannelResult, settings: Settings) -> dict:
    """Write a channel's files (each whole or not at all; an RGBA image keeps its alpha); its
    atlas.json entry."""
    from samplevis import io

    folder = folder_name(result.layer)
    files = [f"{folder}/{result.channel}.png"]
    io.save_png(out / files[0], result.image)
    if result.frames is not None:
        files += [f"{folder}/{result.channel}_samples{suffix}" for suffix in (".gif", ".png")]
        io.save_gif(out / files[1], result.frames)
        io.save_png(out / files[2], result.strip)
    entry = dict(
        layer=result.layer,
        channel=result.channel,
        objective=result.objective,
        steps=result.steps,
        steps_asked=settings.steps,
        size=settings.size,
        seed=settings.seed,
        channel_seed=list(result.channel_seed),
        samples=0 if result.frames is None else len(result.frames),
        files=files,
        seconds=round(result.seconds, 3),
    )
    if result.notes:
        entry["notes"] = list(result.notes)
    return entry


def save(
    out: Path,
    model_name: str,
    counts: Mapping[str, int | None],
    entries: Mapping,
    settings: Settings,
) -> list[dict]:
    """Write atlas.json and index.html for the entries so far (atomically); the entries in
    layer, then channel order."""
    from samplevis import io, pages

    order = {layer: i for i, layer in enumerate(counts)}
    ordered = sorted(
        entries.values(),
        key=lambda e: (order.get(e["layer"], len(order)), e["layer"], e["channel"]),
    )
    io.write_json(
        out / ATLAS_JSON,
        dict(
            model=model_name,
            settings=dict(
                steps=settings.steps,
                size=settings.size,
                batch=settings.batch,
                seed=settings.seed,
                samples=settings.samples,
                param=settings.param,
                alpha=settings.alpha,
                **_RENDERED_WITH[(settings.param, settings.alpha)],
            ),
            layers={layer: dict(channels=count) for layer, count in counts.items()},
            channels=ordered,
        ),
    )
    page = with_processing(out, with_examples(out, ordered))
    pages.save_atlas_page(out / INDEX_HTML, page, counts, title=f"{model_name} atlas")
    return ordered
