"""`dataset_examples`: one pass over a folder of images (or an array of them) keeping every unit's
top images and the part of each that its most active position saw."""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.examples import examples_json, topk
from samplevis.examples import images as image_files
from samplevis.models import Model, as_model
from samplevis.runtime import signals
from samplevis.runtime.checks import KerasModel, TensorLike, is_int

if TYPE_CHECKING:
    from samplevis.examples.units import Unit

DEFAULT_SIZE = 224  # px, the input side for networks that take any size (ImageNet's)
# Threads decoding files: Pillow releases the GIL while it decodes and resizes, and on 2 cores 4
# threads kept further ahead of the network than 1 or 2 (docs/examples.md).
DECODERS = 4


@dataclass(frozen=True)
class Examples:
    """What `dataset_examples` found.

    In a notebook it shows itself as `samplevis gallery` shows its folder: a strip per unit of
    its top images' crops, best first.

    Attributes:
        units: the units, as named.
        top: per unit its top images (see `ranked`).
        read: how many files were read.
        skipped: {file: why} of those skipped.
        interrupted: whether Ctrl-C (or SIGTERM) stopped the pass.
        out: the output folder (None when nothing was written).
        record: what examples.json holds.
        source: the images by name (for `save`).
    """

    units: list[Unit]
    top: topk.TopK
    read: int
    skipped: dict[str, str]
    interrupted: bool
    out: Path | None
    record: examples_json.Record | None = dataclasses.field(default=None, repr=False, compare=False)
    source: Callable[[str], object] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )

    def ranked(self, unit: int | str) -> list[tuple[str, float, tuple[int, ...]]]:
        """(file, value, box) of a unit's top images, best first; `unit` is its index or name
        ('block4c_add:12'). A box is (left, top, right, bottom) px of the file."""
        if isinstance(unit, str):
            names = [u.name for u in self.units]
            if unit not in names:
                raise KeyError(f"no unit {unit!r}; the units are {', '.join(names[:8])} ...")
            unit = names.index(unit)
        return self.top.ranked(unit)

    @property
    def index(self) -> Path | None:
        """OUT/examples.json, or None without an output folder."""
        return None if self.out is None else self.out / examples_json.FILE

    def save(self, folder: str | os.PathLike) -> Path:
        """Write examples.json and each unit's pictures (UNIT/NN.png, NN_crop.png) to `folder`,
        as `dataset_examples(..., out=folder)` and `samplevis examples` write them, added to
        what an earlier run of the same arguments wrote there; returns examples.json. Raises
        ValueError for a result made before these were kept (read it from its `out`)."""
        if self.record is None or self.source is None:
            raise ValueError(
                "this Examples does not hold its images; run dataset_examples again, or read "
                "the folder it wrote (its out)."
            )
        with signals.held():
            _write(Path(folder), self.record, self.units, self.source)
        return Path(folder) / examples_json.FILE

    def _repr_html_(self) -> str:
        """A strip per unit of its top images' crops, as `samplevis gallery` shows them, the
        images inline: what Jupyter shows for an Examples at the end of a cell."""
        import tempfile

        from samplevis import pages
        from samplevis.examples.gallery_section import examples_section

        with tempfile.TemporaryDirectory(prefix="samplevis-") as scratch:
            folder = Path(scratch)
            if self.out is not None and self.index is not None and self.index.is_file():
                folder = self.out  # what the run wrote, as the gallery shows it
            else:
                self.save(folder)
            found = examples_section(folder / examples_json.FILE, folder)
            if found is None:
                return "<p>no examples: no image was read.</p>"
            return pages.gallery_html([found[0]], folder)


def dataset_examples(
    model: Model | KerasModel,
    units: object | Sequence[object] = (),
    *,
    images: str | os.PathLike | TensorLike,
    layer: str | Sequence[str] | None = None,
    top: int = 16,
    out: str | os.PathLike | None = None,
    batch: int = 32,
    size: int | None = None,
    workers: int | None = None,
    progress: bool = True,
    checkpoint_seconds: float = 60.0,
) -> Examples:
    """The images that drive each unit most, from a folder of photos: a unit's top `top` images
    by its objective value, and for spatial units the box of each that its most active position
    sees (its receptive field, from the network's layers).

    Args:
        model: a samplevis.Model (or a keras.Model, taken with value range (0, 1)).
        units: 'layer:channel' strings or objectives (`objectives.channel`, `neuron`,
            `direction`, `direction_neuron`; other objectives rank whole images), one or a list.
        images: a folder, read recursively (every file Pillow opens: JPEG, PNG, WebP, ...;
            EXIF orientation applied, greyscale and transparent images made RGB), or images
            float [N, H, W, 3] in [0, 1] (named '0', '1', ...), taken as 8-bit files would be.
            Each is resized so its shorter side fits the network's input, then centre-cropped.
        layer: a layer name (or several): all its channels are units too, scored in one pass.
        top: images kept per unit.
        out: a folder for examples.json (per unit its files relative to `images`, values and
            boxes in the files' px) and UNIT/NN.png, NN_crop.png; a rerun with the same
            arguments goes on from the files read, and runs into one folder add up.
        batch: images per network call.
        size: the input side in px for a network that takes any size (default 224).
        workers: threads decoding files ahead of the network (default DECODERS).
        progress: show a progress bar with images per second.
        checkpoint_seconds: with `out`, how often examples.json is saved during the pass.
    Returns:
        Examples. Ctrl-C (or SIGTERM within `signals.stop_on_termination`) ends the pass early,
        keeping and writing what it found; `interrupted` says so.

    Examples:
        ```python
        import samplevis
        from samplevis import zoo

        found = samplevis.dataset_examples(
            zoo.efficientnet_lite0(), "block4c_add:12", images="photos/", out="examples/"
        )
        ```
    """
    model = as_model(model)
    unit_list = _units(model, units, layer)
    for name, value in (("top", top), ("batch", batch)):
        if not (is_int(value) and value >= 1):
            raise ValueError(f"{name} must be an int >= 1; got {value!r}.")
    target = model.input_size or (size or DEFAULT_SIZE,) * 2
    source = _Source(images, target)
    if out is not None and source.root is not None:
        _check_out(Path(out), source.root)
    if source.outputs:
        warnings.warn(_outputs_line(source.outputs, source.root), stacklevel=2)
    run = {
        "model": model.name,
        "images": source.description,
        "input": list(target),
        "top": int(top),
        "units": [u.name for u in unit_list],
    }
    blank = examples_json.Record(
        run, [u.describe() for u in unit_list], topk.empty(len(unit_list), top)
    )
    found = examples_json.start(out, blank)
    todo = [n for n in source.names if n not in found.read]
    fields = _fields(model, unit_list, target)
    from samplevis.examples.units import cached_scorer

    score = cached_scorer(model, unit_list)
    best, read, skipped = found.top, set(found.read), dict(found.skipped)
    out_path = None if out is None else Path(out)
    bar = _bar(progress, len(source.names), len(source.names) - len(todo))
    interrupted, saved = False, time.monotonic()
    try:
        for got in source.batches(todo, batch, workers or DECODERS):
            skipped.update(got.bad)
            if got.names:
                values, positions = _scored(score, got.pixels, batch)
                boxes = _boxes(fields, positions, got.fits)
                best = topk.merge(best, topk.of_batch(values, got.names, boxes))
            read.update(got.names, got.bad)
            bar.update(len(got.names) + len(got.bad))
            if got.bad:
                bar.set_postfix(skipped=len(skipped), refresh=False)
            if out_path is not None and time.monotonic() - saved > checkpoint_seconds:
                with signals.held():
                    examples_json.save(out_path, _record(found, best, read, skipped))
                saved = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    done = _record(found, best, read, skipped)
    if out_path is not None:
        with signals.held():  # a SIGTERM now waits for the files
            done = _write(out_path, done, unit_list, source.open)
    if done.skipped:
        warnings.warn(skipped_line(done.skipped, len(done.read), out_path), stacklevel=2)
    if interrupted:
        warnings.warn(
            f"examples interrupted after {len(done.read)} of {len(source.names)} images; the "
            "top images so far are kept"
            + (", and the same call goes on from there." if out_path else "."),
            stacklevel=2,
        )
    return Examples(
        unit_list, done.top, len(done.read), done.skipped, interrupted, out_path, done, source.open
    )


def skipped_line(skipped: dict[str, str], read: int, out: Path | None) -> str:
    """One line counting the files skipped, by why."""
    counts: dict[str, int] = {}
    for reason in skipped.values():
        counts[reason] = counts.get(reason, 0) + 1
    parts = ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))
    where = f" (listed under 'skipped' in {out / examples_json.FILE})" if out is not None else ""
    return f"skipped {len(skipped)} of {read} files: {parts}{where}."


def _check_out(out: Path, images: Path) -> None:
    """Refuse an `out` that is the images folder: its pictures would be ranked as photos."""
    if out.resolve() == images.resolve():
        raise ValueError(
            f"out {str(out)!r} is the images folder: the pictures written there would be ranked "
            f"as photos next time. Give a folder outside it, or a subfolder such as "
            f"{str(images / 'examples')!r}, which a ranking skips as it holds {examples_json.FILE}."
        )


def _outputs_line(outputs: list[str], root: Path | None) -> str:
    """One line naming the folders a ranking skips because they hold an examples.json."""
    shown = ", ".join(outputs[:3]) + (f" and {len(outputs) - 3} more" if len(outputs) > 3 else "")
    return (
        f"skipped {len(outputs)} folder{'s' if len(outputs) > 1 else ''} under {root} that hold "
        f"{examples_json.FILE} ({shown}): pictures written by a ranking are not photos."
    )


def _units(model: Model, units: object, layer: str | Sequence[str] | None) -> list[Unit]:
    # objectives import TensorFlow: not before a pass needs it (the command's --help does not)
    from samplevis.examples.units import as_unit, layer_units

    given = [units] if isinstance(units, str) or not isinstance(units, Sequence) else list(units)
    found = [as_unit(u) for u in given]
    layers = [layer] if isinstance(layer, str) else list(layer or ())
    for name in layers:
        found += layer_units(model, name)
    if not found:
        raise ValueError(
            "no units given: name objectives (e.g. 'block4c_add:12') or a layer whose channels "
            "to rank (layer='block4c_add')."
        )
    model.check_layers([u.layer for u in found if u.layer is not None])
    names = [u.name for u in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"units given twice: {', '.join(twice)}; give each once.")
    return found


class _Source:
    """The images: a folder's files or an array's images, by name."""

    def __init__(self, images: object, target: tuple[int, int]):
        self.target = target
        if isinstance(images, (str, os.PathLike)):
            self.root: Path | None = Path(images)
            self.names = image_files.image_files(self.root)
            self.outputs = image_files.examples_outputs(self.root)
            self.description = str(self.root.resolve())
            self.array = None
        else:
            array = np.asarray(images)
            if array.ndim == 3:
                array = array[None]
            if array.ndim != 4 or array.shape[-1] not in (3, 4) or len(array) == 0:
                raise ValueError(
                    f"images must be a folder or an array [N, H, W, 3] in [0, 1] with N >= 1; "
                    f"got shape {array.shape}."
                )
            self.root, self.array, self.outputs = None, array, []
            self.names = [str(i) for i in range(len(array))]
            self.description = f"array of {len(array)} images {array.shape[1]}x{array.shape[2]}"

    def batches(self, names: list[str], batch: int, workers: int) -> Iterator[image_files.Batch]:
        """`names` in order, `batch` at a time, decoded and fitted."""
        if self.array is None:
            assert self.root is not None
            yield from image_files.read_batches(self.root, names, self.target, batch, workers)
            return
        for start in range(0, len(names), batch):
            chunk = names[start : start + batch]
            done = [image_files.array_fitted(self.array[int(n)], self.target) for n in chunk]
            yield image_files.Batch(chunk, np.stack([d[0] for d in done]), [d[1] for d in done], {})

    def open(self, name: str):
        """The upright PIL RGB image `name`."""
        if self.root is not None:
            return image_files.open_rgb(self.root / name)[0]
        from PIL import Image

        assert self.array is not None
        image = self.array[int(name)][..., :3]
        if image.dtype != np.uint8:
            image = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
        return Image.fromarray(image)


def _fields(model: Model, units: list[Unit], target: tuple[int, int]) -> list:
    """Each unit's receptive field at the `target` input (None: the whole input). A token
    layer's position is a patch, and its field that patch's own box: attention lets the token
    depend on the whole image, but the patch is what it was made from (docs/vit.md)."""
    cache: dict[str, object] = {}
    fields: list = []
    for unit in units:
        if unit.layer is None:
            fields.append(None)
            continue
        if unit.layer not in cache:
            cache[unit.layer] = model.receptive_field(unit.layer, *target)
        fields.append(cache[unit.layer])
    return fields


def _scored(score: Callable, pixels: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """score(pixels) with the batch padded to `batch` images (one compiled shape)."""
    n = len(pixels)
    if n < batch:
        pixels = np.concatenate([pixels, np.zeros((batch - n, *pixels.shape[1:]), np.uint8)])
    values, positions = score(pixels)
    return np.asarray(values)[:n], np.asarray(positions)[:n]


def _boxes(fields: list, positions: np.ndarray, fits: list) -> np.ndarray:
    """(left, top, right, bottom) px of each file seen by each unit's position, int [B, U, 4]:
    its receptive field (the whole input without one), clipped to the input, in the file's px."""
    batch, units = positions.shape[:2]
    height, width = fits[0].target
    boxes = np.empty((batch, units, 4), np.float64)
    boxes[:] = (0, 0, width, height)
    for u, field in enumerate(fields):
        if field is None:
            continue
        rows, cols = positions[:, u, 0], positions[:, u, 1]
        has = rows >= 0
        top = field.start[0] + rows * field.jump[0]
        left = field.start[1] + cols * field.jump[1]
        box = np.stack(
            [
                np.maximum(left, 0),
                np.maximum(top, 0),
                np.minimum(left + field.size[1], width),
                np.minimum(top + field.size[0], height),
            ],
            axis=-1,
        )
        boxes[has, u] = box[has]
    return image_files.source_boxes(boxes, fits)


def _record(
    found: examples_json.Record, best: topk.TopK, read: set, skipped: dict
) -> examples_json.Record:
    return examples_json.Record(
        found.run, found.units, best, frozenset(read), dict(skipped), found.pictures
    )


def _with_pictures(done: examples_json.Record, pictures: dict[str, str]) -> examples_json.Record:
    return examples_json.Record(done.run, done.units, done.top, done.read, done.skipped, pictures)


def _write(
    out: Path, done: examples_json.Record, units: list[Unit], open_image: Callable
) -> examples_json.Record:
    """Write `done` as examples.json in `out` (added to what is there) and every unit's
    pictures; the record written."""
    from samplevis.examples.pictures import write_pictures

    done = examples_json.save(out, done)
    pictures = write_pictures(out, [u.name for u in units], done.top, open_image)
    return examples_json.save(out, _with_pictures(done, pictures))


def _bar(enabled: bool, total: int, initial: int):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        disable=not enabled,
        desc="examples",
        unit="img",
        smoothing=0.1,
    )
