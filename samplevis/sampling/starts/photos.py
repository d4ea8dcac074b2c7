"""Facets from photos: one optimization from each cluster of a unit's top images.

Nguyen, Yosinski and Clune (Multifaceted Feature Visualization, 2016) found a class unit's
facets by clustering its top training images and optimizing from each cluster's mean image:
green peppers on leaves, red piles, a single pepper on white. A cluster of photos is the
facet's identity, so every cluster's optimum is a facet of its own, however close the optima's
features (optima of one unit pool to nearly the same features, docs/sampling_designs.md, "Facets
from photos"). The optima are polished on the objective alone with `render_vis`'s compiled step,
as every facet is; a cluster whose optimum stays below the floor of the best is reported, not
kept. The facet search's rounds (search.search_facets) may then add facets beyond them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from samplevis.examples.clusters import Cluster, cluster_images
from samplevis.models import Model
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.sampling.starts.search import FacetSearch, FoundFacet, SearchSettings
from samplevis.sampling.starts.search_layer import features


def photo_facets(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    clusters: list[Cluster],
    activation: Callable[[tuple[np.ndarray, ...]], np.ndarray],
    settings: SearchSettings,
    seed: tf.Tensor,
    *,
    start: str,
    steps: int,
    optimizer: object = None,
    progress: bool = False,
) -> FacetSearch:
    """A facet per cluster of photos that clears `settings.floor`, best first.

    Each cluster's start image (`examples.clusters.cluster_images`, `start` "mean", "medoid" or
    "best") is optimized for `steps` steps on `objective`, all clusters in one batch of
    `image_param`'s parameterization (`batched`); `activation` measures the optima (parts
    [B, ...] -> [B], B the chains) as the seeds' are. Ctrl-C keeps what the optimization had
    reached (`interrupted` set).

    Returns:
      a FacetSearch of round 0: facet k's `cluster` is its cluster's index in `clusters`, its
      `photos` that cluster's members; `below_floor` lists (cluster, height) of the others.
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResizeWarning)  # render has said it
        climber = Renderer.cached(model, objective, climbing, optimizer)
    begun = tuple(np.asarray(p) for p in climbing.state_for(tf.constant(images)))
    label = f"optimize {len(images)} photo clusters" if progress else None
    interrupted = False
    try:
        state, _ = climber.climb(begun, steps, seed, label)
    except KeyboardInterrupt:
        state, interrupted = climber.snapshot(), True  # where the steps taken left it
    states = [tuple(p[i : i + 1] for p in state) for i in range(len(images))]
    return _ranked(model, image_param, clusters, states, activation, settings, interrupted)


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


def _ranked(
    model: Model,
    image_param: ImageParam,
    clusters: list[Cluster],
    states: list[tuple[np.ndarray, ...]],
    activation: Callable[[tuple[np.ndarray, ...]], np.ndarray],
    settings: SearchSettings,
    interrupted: bool,
) -> FacetSearch:
    """The optimized clusters (`states`, one per cluster) as facets, best first, those under
    the floor of the best listed apart (all but the best where no optimum is above 0)."""
    batch = image_param.batch
    values, feats = [], []
    for first in range(0, len(states), batch):
        chunk = states[first : first + batch]
        padded = chunk + [chunk[-1]] * (batch - len(chunk))
        parts = tuple(np.concatenate([s[i] for s in padded]) for i in range(len(padded[0])))
        values.append(np.asarray(activation(parts), np.float64)[: len(chunk)])
        image = image_param.to_image(tuple(tf.constant(p) for p in parts)).numpy()
        feats.append(features(model, image, settings.layer)[: len(chunk)])
    value, feat = np.concatenate(values), np.concatenate(feats)
    best = float(np.max(value))
    order = [int(i) for i in np.argsort(-value)]
    floor = settings.floor * best if best > 0 else best
    kept = [i for i in order if np.isfinite(value[i]) and value[i] >= floor]
    facets = tuple(
        FoundFacet(
            (states[i],),
            np.array([value[i]]),
            feat[i],
            0,
            cluster=i,
            photos=clusters[i].members,
        )
        for i in kept
    )
    facet_of = np.full([len(states)], -1)
    facet_of[kept] = np.arange(len(kept))
    below = tuple(
        (i, float(value[i] / best) if best > 0 else np.nan) for i in order if i not in kept
    )
    return FacetSearch(facets, (value,), (facet_of,), interrupted, below_floor=below)
