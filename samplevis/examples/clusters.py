"""A unit's dataset examples and its facets: the examples clustered (`clusters`), each
cluster's start image (`cluster_images`), and each facet's examples (`by_facet`).

Nguyen et al. 2016 (Multifaceted Feature Visualization) found a unit's facets by clustering its
top images in a layer's features and starting one optimization from each cluster. `clusters`
does that with an examples.json: the unit's top images, embedded in a layer's spatially pooled
features and clustered by k-means; `cluster_images` makes each cluster's start (its mean, its
medoid, its best member, or that blurred), which `render` optimizes into a facet
(sampling/starts/photos.py). `starts` gives the clusters' best members' images, which
`render`'s `hmc_opts['init']` takes as they are.

A start is the whole image, not the crop its unit's most active position saw: a channel's value is
a mean over positions, and a crop resized to the render size shows its pattern larger than the
scale that drove the unit, so crops start lower (docs/examples.md). The layer is by default the
unit's own: one layer always (the one before an add has two inputs), whose channels describe an
image at the unit's own level.

The other way round, `by_facet` gives each facet a render found (its optimum) the examples whose
crops lie nearest to it in the same features: real images that name what the facet is.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from samplevis.examples import examples_json
from samplevis.examples import images as image_files
from samplevis.models import Model, as_model
from samplevis.runtime.checks import KerasModel, is_int

BATCH = 32  # images per network call while embedding


@dataclass(frozen=True)
class Example:
    """One of a unit's top images: its `file` (a path), `value`, and `box` (left, top, right,
    bottom px of the file that the unit's most active position saw; None for a unit without a
    map)."""

    file: Path
    value: float
    box: tuple[int, ...] | None


@dataclass(frozen=True)
class Cluster:
    """A cluster of a unit's top images, what Nguyen et al. 2016 call one of its facets.

    Attributes:
        members: indices of its images, best value first.
        medoid: the index of the member nearest the cluster's centre in the features that
            placed them.
        kind: the kind of image it holds (`kinds`: clusters of one kind are variants of it;
            kind 0 holds the best image).
        centre: the direction of its members' features, or None.
    """

    members: tuple[Example, ...]
    medoid: int
    kind: int = 0
    # the direction of its members' features (unit length, in the layer that placed them)
    centre: np.ndarray | None = field(default=None, compare=False)

    @property
    def best(self) -> Example:
        return self.members[0]


# How a cluster's start image is made (`cluster_images`): the mean of its members' images (as
# Nguyen et al. 2016), its medoid's image, its best member's, or its best member's blurred.
START_KINDS = ("mean", "medoid", "best", "blurred")
# The blur of a "blurred" start: a Gaussian of this standard deviation as a share of the image's
# side (3 px at 128 px; measured against others in docs/sampling_designs.md, "Facets from
# photos").
BLUR_SHARE = 3 / 128
# Two clusters are of one kind when a member of one has a member of the other among its this
# many nearest images (`kinds`); measured against other ways to tell kinds apart in
# docs/sampling_designs.md, "Kinds of photos".
KIND_NEIGHBOURS = 5


def _examples(files: list[Path], ranked: list) -> list[Example]:
    """`ranked_files`' files and (file, value, box) entries as Examples."""
    return [
        # a unit without a map keeps no box (-1s)
        Example(f, float(v), tuple(int(b) for b in box) if box[0] >= 0 else None)
        for f, (_, v, box) in zip(files, ranked)
    ]


def clusters(
    examples: str | os.PathLike | object,
    model: Model | KerasModel,
    unit: object,
    k: int,
    *,
    layer: str | None = None,
) -> list[Cluster]:
    """A unit's top images in `k` clusters by k-means (fewer when it has fewer examples),
    ordered by their best members' values.

    Args:
        examples: an examples.json, the folder holding it, or `dataset_examples`' result.
        model: the model the examples were ranked with.
        unit: 'layer:channel' or an objective, as `dataset_examples` named it.
        k: clusters wanted.
        layer: the layer whose features, averaged over positions, place the images (default:
            the unit's own layer).
    """
    if not (is_int(k) and k >= 1):
        raise ValueError(f"k is the number of clusters, an int >= 1; got {k!r}.")
    model = as_model(model)
    files, ranked, size, layer = ranked_files(examples, unit, layer)
    fitted = np.stack([image_files.load_fitted(f, size)[0] for f in files])
    features = _unit_rows(pooled(model, fitted, layer))
    labels = kmeans(features, min(k, len(files)))
    kind_of = kinds(features, labels)
    found = _examples(files, ranked)
    out = []
    for c in range(labels.max() + 1):
        members = np.flatnonzero(labels == c)  # ranked: best value first
        centre = features[members].mean(axis=0)
        nearest = int(np.argmax(features[members] @ centre))
        direction = centre / max(float(np.linalg.norm(centre)), 1e-12)
        out.append(Cluster(tuple(found[i] for i in members), nearest, int(kind_of[c]), direction))
    return sorted(out, key=lambda cluster: -cluster.best.value)


def cluster_images(found: list[Cluster], size: tuple[int, int], start: str) -> np.ndarray:
    """One start image per cluster, float32 [K, H, W, 3] in [0, 1] for `size` (H, W): each
    member's whole file (centre part fitted to `size`) averaged (`start` "mean"), the medoid's
    ("medoid"), the best member's ("best"), or the best member's blurred by a Gaussian of
    BLUR_SHARE of the side ("blurred": its layout and colours, the detail left to the
    optimizer)."""
    from PIL import Image, ImageFilter

    if start not in START_KINDS:
        raise ValueError(f"start is one of {START_KINDS}; got {start!r}.")

    def fitted(example: Example) -> np.ndarray:
        return image_files.load_fitted(example.file, size)[0]

    images = []
    for cluster in found:
        if start == "mean":
            images.append(np.mean([fitted(e).astype(np.float32) for e in cluster.members], 0))
        elif start == "blurred":
            blur = ImageFilter.GaussianBlur(BLUR_SHARE * max(size))
            images.append(np.asarray(Image.fromarray(fitted(cluster.best)).filter(blur)))
        else:
            images.append(fitted(cluster.members[cluster.medoid if start == "medoid" else 0]))
    return np.stack(images).astype(np.float32) / 255.0


def by_facet(
    examples: str | os.PathLike | object,
    model: Model | KerasModel,
    unit: object,
    facet_images: np.ndarray,
    *,
    layer: str | None = None,
    per_facet: int = 4,
) -> list[list[Example]]:
    """A unit's top images sorted to the facets they look like, as a name for each facet.

    Each example's crop (the part its unit's most active position saw; the whole image for a
    unit without a map) goes to the facet whose image is nearest to it by cosine in `layer`'s
    features averaged over positions (default: the unit's own layer).

    Args:
        examples: an examples.json, the folder holding it, or `dataset_examples`' result.
        model: the model the examples were ranked with.
        unit: 'layer:channel' or an objective, as `dataset_examples` named it.
        facet_images: float [K, H, W, 3] in [0, 1], one image per facet (a render's facets'
            optima, best first).
        layer: see above.
        per_facet: examples kept per facet.
    Returns:
        For each facet, its examples, best value first (at most `per_facet`; a facet that no
        example looks like more than another gets none).
    """
    if not (is_int(per_facet) and per_facet >= 1):
        raise ValueError(f"per_facet is examples per facet, an int >= 1; got {per_facet!r}.")
    facet_images = np.asarray(facet_images)
    if facet_images.ndim != 4 or facet_images.shape[-1] != 3 or not len(facet_images):
        raise ValueError(
            f"facet_images are one image per facet, float [K, H, W, 3] in [0, 1]; got shape "
            f"{facet_images.shape}."
        )
    model = as_model(model)
    files, ranked, size, layer = ranked_files(examples, unit, layer)
    found = _examples(files, ranked)
    crops = np.stack([_crop(e, size) for e in found])
    optima = np.stack([image_files.array_fitted(image, size)[0] for image in facet_images])
    near = _unit_rows(pooled(model, crops, layer)) @ _unit_rows(pooled(model, optima, layer)).T
    nearest = np.argmax(near, axis=1)
    return [
        sorted([e for e, k in zip(found, nearest) if k == f], key=lambda e: -e.value)[:per_facet]
        for f in range(len(facet_images))
    ]


def seen(example: Example) -> np.ndarray:
    """The part of an example's file its unit saw (the whole file for a unit without a map),
    upright RGB: uint8 [H, W, 3]."""
    image, _ = image_files.open_rgb(example.file)
    if example.box is not None:
        left, top, right, bottom = example.box
        image = image.crop((left, top, right, bottom))
    return np.asarray(image, np.uint8)


def _crop(example: Example, size: tuple[int, int]) -> np.ndarray:
    """`seen(example)` fitted to `size`: uint8 [H, W, 3]."""
    return image_files.array_fitted(seen(example), size)[0]


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def starts(
    examples: str | os.PathLike | object,
    model: Model | KerasModel,
    unit: object,
    num_chains: int,
    size: int,
    *,
    layer: str | None = None,
) -> np.ndarray:
    """One start per chain from the clusters of a unit's examples (`clusters` with
    k = num_chains): each cluster's best image, its centre square resized to `size`. With fewer
    clusters than chains the clusters repeat, best first (with a warning).

    Args:
        examples: an examples.json, the folder holding it, or `dataset_examples`' result.
        model: the model the examples were ranked with.
        unit: the unit, as `dataset_examples` took it ('layer:channel' or an objective).
        num_chains: how many starts.
        size: their side in px.
        layer: the layer whose features, averaged over positions, place the images (default:
            the unit's own layer).

    Returns:
        float32 [num_chains, size, size, 3] in [0, 1], for `render(..., hmc_opts={'init': ...})`.

    Raises:
        ValueError: `size` is not an int >= 1.
    """
    if not (is_int(size) and size >= 1):
        raise ValueError(f"size is the side of the starts in px, an int >= 1; got {size!r}.")
    found = clusters(examples, model, unit, num_chains, layer=layer)
    if len(found) < num_chains:
        warnings.warn(
            f"{len(found)} distinct examples for {num_chains} chains: the facets repeat; "
            "collect more examples (--top) for as many facets as chains.",
            stacklevel=2,
        )
    chosen = [found[c % len(found)] for c in range(num_chains)]
    return cluster_images(chosen, (size, size), "best")


def ranked_files(
    examples: object, unit: object, layer: str | None
) -> tuple[list[Path], list, tuple[int, int], str]:
    """A unit's examples in an examples.json (see `clusters`): their files (paths, best first),
    ranked (file, value, box) entries, the input size (H, W) they were ranked at, and the
    layer whose features place them (`layer`, default the unit's own). A ValueError says what
    is missing: the file, the unit in it, its examples, a layer, or the image files."""
    from samplevis.examples.units import as_unit

    path, found = _read(examples)
    wanted = as_unit(unit)
    names = [u["unit"] for u in found.units]
    if wanted.name not in names:
        raise ValueError(
            f"{path} has no unit {wanted.name!r}; it holds {', '.join(names[:8])}"
            f"{' ...' if len(names) > 8 else ''}. Run `samplevis examples --objective "
            f"{wanted.name}` into another folder, or give one of these."
        )
    ranked = found.top.ranked(names.index(wanted.name))
    if not ranked:
        raise ValueError(f"{path} holds no examples of {wanted.name!r} yet.")
    layer = layer or wanted.layer
    if layer is None:
        raise ValueError(
            f"{wanted.name!r} reads no single layer; give layer= (the layer whose pooled "
            "features place its examples)."
        )
    folder = _images_folder(path, found)
    files = [folder / name for name in [f for f, _, _ in ranked]]
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise ValueError(
            f"{len(missing)} of the {len(files)} example images of {wanted.name!r} are not in "
            f"{str(folder)!r} any more (e.g. {missing[0].name}); put the images back there, or "
            f"run `samplevis examples` again over where they are now."
        )
    height, width = found.run["input"]  # the examples were ranked at this input size
    return files, ranked, (int(height), int(width)), layer


def other_files(examples: object, unit: object, count: int) -> list[Path]:
    """Up to `count` of the files the examples.json read that are not among `unit`'s top images
    (files of the images folder still on disk), evenly spaced in name order: photos the unit
    answers to less, what its top photos are told apart from (optvis.processing_check)."""
    from samplevis.examples.units import as_unit

    path, found = _read(examples)
    names = [u["unit"] for u in found.units]
    wanted = as_unit(unit).name
    top = {f for f, _, _ in found.top.ranked(names.index(wanted))} if wanted in names else set()
    folder = _images_folder(path, found)
    rest = [folder / name for name in sorted(found.read - top)]
    rest = [f for f in rest if f.is_file()]
    if len(rest) > count:
        rest = [rest[int(i)] for i in np.linspace(0, len(rest) - 1, count).round()]
    return rest


def pooled(model: Model, pixels: np.ndarray, layer: str) -> np.ndarray:
    """`layer`'s activations of images uint8 [N, H, W, 3], averaged over positions: [N, C]."""
    import tensorflow as tf

    model.check_layers([layer])
    out = []
    for start in range(0, len(pixels), BATCH):
        images = tf.constant(pixels[start : start + BATCH], tf.float32) / 255.0
        acts = model.features(images, [layer])[layer]
        if len(acts.shape) == 4:
            acts = tf.reduce_mean(acts, axis=(1, 2))
        out.append(np.asarray(tf.reshape(acts, [len(images), -1]), np.float64))
    return np.concatenate(out)


def kmeans(features: np.ndarray, k: int, iterations: int = 100) -> np.ndarray:
    """Cluster labels int [N] of `features` [N, D] (ranked: row 0 the unit's best image) in k
    clusters by direction (rows scaled to unit length, so that a facet is a pattern of the
    layer's channels, not how strongly they fire). Deterministic: the centres start at row 0 and
    then each row farthest from those chosen (farthest-point seeding), then Lloyd's iterations."""
    x = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    chosen = [0]
    for _ in range(1, k):
        far = np.min(((x[:, None] - x[chosen][None]) ** 2).sum(-1), axis=1)
        chosen.append(int(np.argmax(far)))
    centres = x[chosen]
    labels = np.full(len(x), -1)
    for _ in range(iterations):
        new = np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        centres = np.stack(
            [x[labels == c].mean(0) if (labels == c).any() else centres[c] for c in range(k)]
        )
    # labels numbered 0.. without gaps (identical rows can leave a centre empty)
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def kinds(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The kind of each cluster, int [K] for labels int [N] in 0..K-1 of images' features [N, D]
    (ranked: row 0 the best image), kinds numbered by their best image (kind 0 holds row 0).

    k-means cuts what a person sees as one kind (peppers) into pieces that touch: an image near
    the border of one has its nearest images in the next. Kinds a person names apart (peppers,
    theatres) leave a gap no image's neighbours cross. So two clusters are of one kind when
    one's member has the other's among its KIND_NEIGHBOURS nearest images by cosine (fewer for
    fewer than 10 images a neighbour), and kinds are the connected groups of clusters."""
    x = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    count = int(labels.max()) + 1
    near = x @ x.T
    np.fill_diagonal(near, -np.inf)
    neighbours = min(KIND_NEIGHBOURS, max(1, (len(x) - 1) // 10))
    nearest = np.argsort(-near, axis=1)[:, :neighbours]
    root = list(range(count))

    def find(c: int) -> int:
        while root[c] != c:
            c = root[c]
        return c

    for i, row in enumerate(nearest):
        for j in row:
            a, b = find(int(labels[i])), find(int(labels[j]))
            root[max(a, b)] = min(a, b)
    groups = [find(c) for c in range(count)]
    # number the kinds in the order of their best images (the rows are ranked)
    order = list(dict.fromkeys(groups[int(c)] for c in labels))
    return np.array([order.index(g) for g in groups])


def _read(examples: object) -> tuple[Path, examples_json.Record]:
    """The path of an examples.json and its record."""
    from samplevis.examples.collect import Examples

    if isinstance(examples, Examples) and examples.index is not None:
        examples = examples.index
    if not isinstance(examples, (str, os.PathLike)):
        raise TypeError(
            f"examples is an examples.json, its folder or dataset_examples' result; got a "
            f"{type(examples).__name__}."
        )
    path = Path(examples)
    if path.is_dir():
        path = path / examples_json.FILE
    if not path.is_file():
        raise ValueError(
            f"no examples file {str(path)!r}; give the examples.json that `samplevis examples "
            "--out OUT` wrote (OUT/examples.json)."
        )
    try:
        return path, examples_json.from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise ValueError(
            f"{str(path)!r} is not an examples.json ({type(err).__name__}: {err}); give the "
            "one that `samplevis examples --out OUT` wrote (OUT/examples.json)."
        ) from None


def _images_folder(path: Path, found: examples_json.Record) -> Path:
    """The folder the examples' files are relative to."""
    folder = Path(found.run["images"])
    if not folder.is_absolute() or found.run["images"].startswith("array of "):
        raise ValueError(
            f"{str(path)!r} ranked images given as an array, which it keeps no files of; run "
            "dataset_examples over a folder of the images for starts from them."
        )
    if not folder.is_dir():
        raise ValueError(
            f"the images folder {str(folder)!r} that {str(path)!r} ranked is gone; put the "
            "images back there, or run `samplevis examples --images DIR` again over where "
            "they are now."
        )
    return folder
