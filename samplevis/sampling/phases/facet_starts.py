"""Where the chains start: the optimized starts (`optimized_starts`) or a facet per cluster of
the unit's photos (`photo_facet_search`), the facet search from them (`facet_search`), and the
chains' starts at the facets it found (`starts_at_facets`). Every optimum is measured by the
target over the whole image (`first_log_density`), as the starts are."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from samplevis.models import Model, redirect
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.runtime.checks import user_stacklevel
from samplevis.runtime.seeds import fold_in
from samplevis.sampling.density.log_density import LogDensity, make_log_density
from samplevis.sampling.phases.carried import Inputs
from samplevis.sampling.report import advice
from samplevis.sampling.starts import designs, photos, search, search_layer
from samplevis.sampling.starts.chains import (
    Starts,
    dead,
    find_starts,
    saturated,
    start_optimizer,
)


def first_log_density(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    num_transforms: int,
    seed: tf.Tensor,
) -> LogDensity:
    """The target over the whole of `image_param` at T = 1 and lam = 1 (both set once the starts
    are known), measured through `num_transforms` of the default transforms (0: none), their
    seeds drawn from `seed` (int32 [2])."""
    from samplevis.optvis import transform as transform_lib

    return make_log_density(
        model,
        objective,
        image_param,
        temperature=1.0,
        prior_weight=1.0,
        transforms=transform_lib.default_transforms() if num_transforms else (),
        num_transforms=max(1, num_transforms),
        seed=seed,
    )


def optimized_starts(inputs: Inputs, whole: LogDensity) -> Starts:
    """One optimized start per chain (sampling.starts.chains.find_starts), as the options ask,
    measured by `whole`: climbed in the facet search's program where a search follows (the
    objective's value and gradient, one compiled program fewer)."""
    opts = inputs.opts
    settings = search_settings(inputs)
    climbed = inputs.objective
    if settings is not None and settings.rounds and not opts.start_diversity:
        climbed = designs.searchable(inputs.model, inputs.objective, settings.layer)
    return find_starts(
        inputs.model,
        climbed,
        inputs.image_param,
        whole,
        fold_in(inputs.seed, 0),
        inputs.progress,
        inputs.folder,
        start=opts.start,
        init=opts.init,
        optimize_steps=opts.optimize_steps,
        start_diversity=opts.start_diversity,
    )


def warn_about_starts(starts: Starts, objective: Objective, model: Model) -> None:
    """Warn about starts at a dead unit or at a capped unit's ceiling (see sampling.report.advice)."""
    for message in (
        advice.dead_starts_warning(starts, objective),
        advice.capped_starts_warning(starts, objective, capped_layers(objective, model)),
    ):
        if message is not None:
            warnings.warn(message, stacklevel=user_stacklevel())


def capped_layers(objective: Objective, model: Model) -> list[tuple[str, tuple[float, str | None]]]:
    """The layers of `objective` that are capped ReLUs in `model`, each with its cap and the
    layer whose output it caps (`_cap_of`), in their order."""
    return [(layer, cap) for layer in sorted(objective.layers) if (cap := _cap_of(model, layer))]


def _cap_of(model: Model, layer: str) -> tuple[float, str | None] | None:
    """(its cap, the layer whose output it caps) when `layer` of `model` is a capped ReLU
    (ReLU6); the second is None when the cap is fused into a layer with weights. None for
    uncapped layers and for models that are not Keras (a frozen graph)."""
    try:
        keras_model = model.keras_model
        keras_layer = keras_model.get_layer(layer)
    except (AttributeError, ValueError):
        return None
    cap = redirect.relu_cap(keras_layer)
    if cap is None:
        return None
    if keras_layer.weights:
        return cap, None  # e.g. Conv2D(activation="relu6"): its input is not a layer's output
    before = [other.name for other in keras_model.layers if other.output is keras_layer.input]
    return cap, before[0] if before else None


def cluster_layer(model: Model, objective: Objective) -> str | None:
    """The layer whose pooled features cluster the unit's photos: the unit's own, or for an
    objective of no single unit the facet search's default layer (None: it reads none)."""
    from samplevis.examples.units import as_unit

    layers = sorted(objective.layers)
    own = as_unit(objective).layer
    return own or (search_layer.upstream_layer(model, layers[0]) if layers else None)


def search_settings(inputs: Inputs) -> search.SearchSettings | None:
    """The facet search's settings from the options: its rounds climb with the starts' steps
    (a deflation round half steered and half polishing, a probe round polishing throughout).
    None for an objective of no layer without {hmc_opts.search_layer} (no features to
    compare)."""
    opts = inputs.opts
    layers = sorted(inputs.objective.layers)
    if opts.search_layer is None and not layers:
        return None
    return search.SearchSettings(
        rounds=opts.search_rounds,
        floor=opts.facet_floor,
        kind_floor=opts.kind_floor,
        kind_distance=opts.kind_distance,
        strength=opts.search_strength,
        distance=opts.facet_distance,
        layer=opts.search_layer or search_layer.upstream_layer(inputs.model, layers[0]),
        climb_steps=max(1, opts.optimize_steps // 2),
        polish_steps=max(1, opts.optimize_steps - opts.optimize_steps // 2),
    )


def measure(whole: LogDensity) -> Callable[[tuple[np.ndarray, ...]], np.ndarray]:
    """The activation [B] of states (parts [B, ...]) as `whole` measured the starts."""

    def activation(state: tuple[np.ndarray, ...]) -> np.ndarray:
        return whole.activation(*(tf.constant(s, tf.float32) for s in state)).numpy()

    return activation


def photo_facet_search(inputs: Inputs, whole: LogDensity) -> search.FacetSearch:
    """A facet per cluster of the unit's top photos (`hmc_opts.init` an examples.json, see
    sampling.starts.photos), each optimized with the starts' optimizer and steps."""
    from samplevis.examples.clusters import clusters

    opts = inputs.opts
    settings = search_settings(inputs)
    assert settings is not None  # a unit with examples reads a layer
    layer = cluster_layer(inputs.model, inputs.objective)
    assert layer is not None  # render's check of the photos found one (_check_photos)
    found = clusters(opts.init, inputs.model, inputs.objective, opts.photo_clusters, layer=layer)
    return photos.photo_facets(
        inputs.model,
        inputs.objective,
        inputs.image_param,
        found,
        measure(whole),
        settings,
        fold_in(inputs.seed, 0),
        layer=layer,
        start=opts.photo_start,
        climb=opts.photo_climb,
        transforms=opts.photo_transforms,
        steps=opts.photo_steps,
        optimizer=start_optimizer(inputs.image_param),
        progress=inputs.progress,
    )


def facet_search(
    inputs: Inputs,
    starts: Starts,
    whole: LogDensity,
    from_photos: search.FacetSearch | None = None,
) -> search.FacetSearch | None:
    """The facet search from the optimized starts, or from the photo clusters' facets
    `from_photos` (sampling.starts.search); `whole` measures every optimum as it measured the
    starts. None for an objective of no layer without {hmc_opts.search_layer} (no features to
    compare), or when no optimum is above 0."""
    settings = search_settings(inputs)
    if settings is None:
        return None
    found = search.search_facets(
        inputs.model,
        inputs.objective,
        inputs.image_param,
        tuple(s.numpy() for s in starts.state),
        measure(whole),
        settings,
        fold_in(inputs.seed, 9),
        start_optimizer(inputs.image_param),
        progress=inputs.progress,
        start=from_photos,
    )
    return found if found.facets else None  # no start above 0: nothing is a facet


def starts_at_facets(found: search.FacetSearch, whole: LogDensity, num_chains: int) -> Starts:
    """The chains' starts at the facets' optima, best facet first (`FacetSearch.starts`),
    measured again where they now sit (an objective of one batch index reads only its chain)."""
    parts, _ = found.starts(num_chains)
    state = tuple(tf.constant(p, tf.float32) for p in parts)
    activations = whole.activation(*state).numpy()
    return Starts(
        state,
        activations,
        dead(whole, state, activations),
        False,
        saturated(whole, state, activations),
    )
