"""Facets from photos: one optimization from each cluster of a unit's top images.

Nguyen, Yosinski and Clune (Multifaceted Feature Visualization, 2016) found a class unit's
facets by clustering its top training images and optimizing from each cluster's mean image:
green peppers on leaves, red piles, a single pepper on white. A cluster of photos is the
facet's identity, so every cluster's optimum is a facet of its own, however close the optima's
features (optima of one unit pool to nearly the same features, docs/sampling_designs.md, "Facets
from photos"), and however high: what the unit answers to less strongly (a dog unit's cats,
"albeit not as much") is the facet a person most wants to see. Only a failed climb is no facet:
an optimum under `kind_floor` of the height its cluster's photos promise (`failed`), or one
that climbed into another kind (`left_kind`: from theater photos to peppers, where the unit
answers to peppers more strongly). Clusters of one
kind of photo (examples.clusters.kinds) are variants of it, and the facets are ordered kinds
first (search.kinds_first). By default each climb starts at its cluster's mean image, as
Nguyen et al.'s, and climbs the pixels through the blur's transforms with their regularizers
between steps and its colourfulness held at its kind's photos' (`photo_climb` "mfv"): a facet
synthesized from the cluster, none a copy of a photo under an overlay (docs/sampling_designs.md,
"Facets that show their cluster"); the phase climb (`param.phase_image`) keeps a photo's
magnitude instead. The facet search's rounds (search.search_facets) may then add facets beyond
them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from samplevis.examples.clusters import Cluster, cluster_images, pooled
from samplevis.models import Model
from samplevis.optvis.natural_measures import colourfulness
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.optvis.param.phase import phase_image
from samplevis.optvis.pixel_regularizers import PixelRegularizers
from samplevis.optvis.transform import jitter, pad, random_blur, random_rotate, random_scale
from samplevis.sampling.starts.search import FacetSearch, FoundFacet, SearchSettings, kinds_first
from samplevis.sampling.starts.search_layer import features

# With transforms "blur": Lucid's standard transforms at twice their reach (pad 12 -> 16,
# jitter 8 -> 16 and 4 -> 8, zoom 0.9-1.1 -> 0.8-1.2, rotation 10 -> 20 degrees) and a blur of 0,
# 0.5 or 1 px (1 px: the blur measure's, docs/trust.md), so that a climb gains nothing from
# texture a blur removes (docs/sampling_designs.md, "Natural facets: what the blur takes").
ROBUST_TRANSFORMS = (
    pad(16, mode="constant", constant_value=0.5),
    jitter(16),
    random_scale([1 + (i - 5) / 25.0 for i in range(11)]),
    random_rotate(list(range(-20, 21)) + 10 * [0]),
    jitter(8),
    random_blur((0.0, 0.5, 1.0)),
)

# With climb "mfv": Nguyen et al.'s regularizers between steps (optvis.pixel_regularizers), and a
# cap on colourfulness at its kind's photos' (docs/sampling_designs.md, "Facets that show
# their cluster").
REGULARIZERS = PixelRegularizers()


def photo_facets(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    clusters: list[Cluster],
    activation: Callable[[tuple[np.ndarray, ...]], np.ndarray],
    settings: SearchSettings,
    seed: tf.Tensor,
    *,
    layer: str,
    start: str,
    steps: int,
    climb: str,
    transforms: str = "standard",
    optimizer: object = None,
    progress: bool = False,
) -> FacetSearch:
    """A facet per cluster of photos whose climb did not fail (`failed`), kinds first.

    Each cluster's start image (`examples.clusters.cluster_images`, `start` "best", "medoid",
    "mean" or "blurred") is optimized for `steps` steps on `objective`, all clusters in one
    batch: `climb` "phase" moves its phase alone (`param.phase_image`: the start's magnitude is
    kept), "pixels" the state of `image_param`'s parameterization (`batched`), "mfv" the same
    state with REGULARIZERS applied to the images every few steps (`regularized`: Nguyen et
    al.'s decay, blur and clipping of weak pixels, and the colourfulness held at the kind's
    photos'); each optimum is held in `image_param`'s state and the chains go on. `transforms`
    "standard" climbs through Lucid's standard transforms, "blur" through ROBUST_TRANSFORMS
    (stronger, and a random blur). `activation` measures the optima (parts [B, ...] -> [B], B
    the chains) as the seeds' are; `layer` is the one whose pooled features placed the photos
    (`left_kind` compares the optima there). Ctrl-C keeps what the optimization had reached
    (`interrupted` set).

    Returns:
      a FacetSearch of round 0: facet k's `cluster` is its cluster's index in `clusters`, its
      `photos` that cluster's members, its `kind` that cluster's; `below_floor` lists
      (cluster, height) of the failed climbs.
    """
    from samplevis.models import ResizeWarning
    from samplevis.optvis.optimize import Renderer

    images = cluster_images(clusters, (image_param.height, image_param.width), start)
    climbing = batched(image_param, len(images))
    if not climbing.starts_at_images:
        raise ValueError(
            f"starts from photos need a parameterization that can start at an image, such as "
            f"param.image(128); {image_param!r} cannot. Leave param_f at its default."
        )
    moving = phase_image(images) if climb == "phase" else climbing
    chain = ROBUST_TRANSFORMS if transforms == "blur" else None  # None: render_vis's default
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResizeWarning)  # render has said it
        climber = Renderer.cached(model, objective, moving, optimizer, chain)
    begun = tuple(np.asarray(p) for p in moving.state_for(tf.constant(images)))
    label = f"optimize {len(images)} photo clusters" if progress else None
    project = regularized(climbing, images, clusters) if climb == "mfv" else None
    interrupted = False
    try:
        climbed, _ = climber.climb(
            begun, steps, seed, label, project=project, every=REGULARIZERS.every
        )
    except KeyboardInterrupt:
        climbed, interrupted = climber.snapshot(), True  # where the steps taken left it
    state = climbed
    if moving is not climbing:  # held in the chains' parameterization from here on
        optima = moving.to_image(tuple(tf.constant(p) for p in climbed))
        state = tuple(np.asarray(p) for p in climbing.state_for(optima))
    states = [tuple(p[i : i + 1] for p in state) for i in range(len(images))]
    return _ranked(model, image_param, clusters, states, activation, settings, layer, interrupted)


def regularized(
    image_param: ImageParam,
    starts: np.ndarray,
    clusters: list[Cluster],
    regularizers: PixelRegularizers = REGULARIZERS,
) -> Callable[[tuple[np.ndarray, ...], int], tuple[np.ndarray, ...]]:
    """The climb's projection for `climb` "mfv" (`Renderer.climb`'s `project`): the images of a
    state of `image_param` (one per cluster) through `regularizers`, decayed toward their start's
    mean colour (`starts` float [K, H, W, 3] in [0, 1]) and their colourfulness held at most at
    `regularizers.colour` times their kind's photos' median (`photos_colourfulness`), and back
    to a state."""
    centres = np.asarray(starts, np.float32).mean(axis=(1, 2))
    references = photos_colourfulness(clusters, (image_param.height, image_param.width))

    def project(state: tuple[np.ndarray, ...], done: int) -> tuple[np.ndarray, ...]:
        images = image_param.to_image(tuple(tf.constant(p) for p in state)).numpy()
        held = regularizers(images, centres, references)
        return tuple(np.asarray(p) for p in image_param.state_for(tf.constant(held)))

    return project


def photos_colourfulness(clusters: list[Cluster], size: tuple[int, int]) -> np.ndarray:
    """float64 [K]: for each cluster, the median colourfulness (`natural_measures.colourfulness`)
    of its kind's photos (every cluster of its kind), each fitted to `size` (H, W) as its start
    is: the reference the colour measure holds a facet to (docs/trust.md, "Measures no climb
    applies"), so that a cluster of neon signs among the kind's façades is not painted
    brighter than the kind."""
    from samplevis.examples import images as image_files

    measured = [
        colourfulness(np.stack([image_files.load_fitted(e.file, size)[0] for e in c.members]))
        for c in clusters
    ]
    kinds = np.array([c.kind for c in clusters])
    return np.array(
        [
            np.median(np.concatenate([m for m, k in zip(measured, kinds) if k == kind]))
            for kind in kinds
        ],
        np.float64,
    )


def batched(image_param: ImageParam, batch: int) -> ImageParam:
    """`image_param` with `batch` images: the same parameterization, so that a state of one
    image carries over (`ImageParam.with_batch`: param.image's pixel and FFT images are
    rebuilt; another parameterization must already hold `batch` images)."""
    rebuilt = image_param.with_batch(batch)
    if rebuilt is None:
        raise ValueError(
            f"{image_param!r} holds {image_param.batch} images and cannot be rebuilt with "
            f"{batch} for the photo clusters; use param.image(...) (the default)."
        )
    return rebuilt


def photo_levels(clusters: list[Cluster]) -> np.ndarray:
    """How strongly the unit answers to each cluster's photos, float [K]: the median value of
    its photos over the highest such median (1 for that cluster; NaN where no median is above
    0)."""
    medians = np.array([np.median([e.value for e in c.members]) for c in clusters], np.float64)
    top = np.max(medians) if len(medians) else np.nan
    return medians / top if top > 0 else np.full(len(medians), np.nan)


def failed(heights: np.ndarray, levels: np.ndarray, floor: float) -> np.ndarray:
    """Clusters whose climb failed, bool [K]: an optimum's height (its share of the best optimum,
    float [K]) under `floor` of its photos' level (`photo_levels`, float [K]). A cluster the
    unit answers to less climbs less far, about as much less as its photos; a climb that ends
    far under what its photos promise went astray (docs/sampling_designs.md, "Kinds of
    photos"). Without photo levels (NaN), the floor is of the best optimum."""
    promised = np.where(np.isfinite(levels), np.clip(levels, 0.0, 1.0), 1.0)
    return ~np.isfinite(heights) | (heights < floor * promised)


def left_kind(optima: np.ndarray, clusters: list[Cluster]) -> np.ndarray:
    """Clusters whose optimum climbed into another kind, bool [K]: its features (float [K, D],
    in the layer that placed the photos) nearer, by cosine, to another kind's photos than to its
    own kind's (a kind's direction: its clusters' centres weighed by their photos). A unit
    that answers to two kinds unequally pulls a climb from the weaker kind's photos towards the
    stronger kind; shown beside its photos, such an optimum would name the wrong kind
    (docs/sampling_designs.md, "Kinds of photos")."""
    kinds = sorted({c.kind for c in clusters})
    weighed = [(c.kind, len(c.members) * c.centre) for c in clusters if c.centre is not None]
    if len(kinds) < 2 or len(weighed) < len(clusters):
        return np.zeros(len(clusters), bool)
    centres = np.stack([np.sum([w for k, w in weighed if k == kind], axis=0) for kind in kinds])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    x = optima / np.maximum(np.linalg.norm(optima, axis=1, keepdims=True), 1e-12)
    nearest = np.array(kinds)[np.argmax(x @ centres.T, axis=1)]
    return nearest != np.array([c.kind for c in clusters])


def _ranked(
    model: Model,
    image_param: ImageParam,
    clusters: list[Cluster],
    states: list[tuple[np.ndarray, ...]],
    activation: Callable[[tuple[np.ndarray, ...]], np.ndarray],
    settings: SearchSettings,
    layer: str,
    interrupted: bool,
) -> FacetSearch:
    """The optimized clusters (`states`, one per cluster) as facets, kinds first, the failed
    climbs listed apart (all but the best where no optimum is above 0)."""
    batch = image_param.batch
    values, feats, placed = [], [], []
    for first in range(0, len(states), batch):
        chunk = states[first : first + batch]
        padded = chunk + [chunk[-1]] * (batch - len(chunk))
        parts = tuple(np.concatenate([s[i] for s in padded]) for i in range(len(padded[0])))
        values.append(np.asarray(activation(parts), np.float64)[: len(chunk)])
        image = image_param.to_image(tuple(tf.constant(p) for p in parts)).numpy()
        feats.append(features(model, image, settings.layer)[: len(chunk)])
        pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
        placed.append(pooled(model, pixels, layer)[: len(chunk)])
    value, feat = np.concatenate(values), np.concatenate(feats)
    best = float(np.nanmax(value)) if np.isfinite(value).any() else np.nan
    order = [int(i) for i in np.argsort(-np.nan_to_num(value, nan=-np.inf))]
    if best > 0:
        floor = settings.floor if settings.kind_floor is None else settings.kind_floor
        lost = failed(value / best, photo_levels(clusters), floor)
        lost |= left_kind(np.concatenate(placed), clusters)
    else:  # no optimum above 0: heights mean nothing, the best alone is a facet
        lost = np.array([i != order[0] or not np.isfinite(value[i]) for i in range(len(value))])
    kept = [i for i in order if not lost[i]]
    facets = [
        FoundFacet(
            (states[i],),
            np.array([value[i]]),
            feat[i],
            0,
            cluster=i,
            photos=clusters[i].members,
            kind=clusters[i].kind,
        )
        for i in kept
    ]
    shown = kinds_first(facets)
    facet_of = np.full([len(states)], -1)
    for new, old in enumerate(shown):
        facet_of[kept[old]] = new
    below = tuple((i, float(value[i] / best) if best > 0 else np.nan) for i in order if lost[i])
    return FacetSearch(
        tuple(facets[k] for k in shown), (value,), (facet_of,), interrupted, below_floor=below
    )
