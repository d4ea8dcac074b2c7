"""The objective's value of images: the model's features of (a view of) the images, read by
the objective. What rendering maximizes and sampling's log density is built on."""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from samplevis.models import INPUT, Model
from samplevis.optvis import objectives as objectives_lib


def objective_of(
    model: Model,
    objective: objectives_lib.Objective,
    images: tf.Tensor,
    seen: tf.Tensor,
    redirect_relu: bool = False,
    params: tuple | None = None,
) -> tf.Tensor:
    """The objective of each image, shape [B].

    Args:
        images: the parameterized images, float [B, H, W, 3] in [0, 1] (what `T("input")` reads).
        seen: what the network receives: the images, or a transformed view of them; or k views of
            each, [k * B, ...], view j of image b at j * B + b (`transform.maco_crops`): then the
            objective is evaluated on each group of B views and averaged.
        params: tensors for the objective's params (a compiled program's inputs); default its own.
    """
    layers = sorted(objective.layers - {INPUT})
    features = model.features(seen, layers, redirect_relu=redirect_relu) if layers else {}
    views = _views(images, seen)
    if views == 1:
        return objective_from_features(objective, images, features, params)
    batch = images.shape[0]
    per_view = [
        objective_from_features(
            objective,
            images,
            {name: f[j * batch : (j + 1) * batch] for name, f in features.items()},
            params,
        )
        for j in range(views)
    ]
    return tf.add_n(per_view) / float(views)


def _views(images: tf.Tensor, seen: tf.Tensor) -> int:
    """How many views of each image `seen` holds (static batch sizes), or a ValueError."""
    batch, seen_batch = images.shape[0], seen.shape[0]
    if batch is None or seen_batch is None or seen_batch == batch:
        return 1
    if seen_batch % batch:
        raise ValueError(
            f"the transforms turned {batch} images into {seen_batch}; a transform gives the same "
            "number of images or a whole number of views of each (view j of image b at j * B + b)."
        )
    return seen_batch // batch


def objective_from_features(
    objective: objectives_lib.Objective,
    images: tf.Tensor,
    features: dict,
    params: tuple | None = None,
) -> tf.Tensor:
    """The objective of each image, shape [B], given {layer: activations [B, ...]} of a view of
    `images` (float [B, H, W, 3] in [0, 1], what `T("input")` reads)."""

    def lookup(name: str) -> tf.Tensor:
        if name == INPUT:
            return images
        if name not in features:  # only the declared layers were computed
            declared = ", ".join(repr(n) for n in sorted(objective.layers | {name}))
            raise ValueError(
                f"objective {objective.name} reads layer {name!r} but does not "
                f"declare it; build it as Objective(fn, frozenset({{{declared}}}))."
            )
        return features[name]

    values = tf.convert_to_tensor(objective(lookup, params), tf.float32)
    if values.shape.rank not in (None, 0, 1):
        raise ValueError(
            f"objective {objective.name} gives shape {tuple(values.shape)}; it must "
            "give one value per image, shape [B] (reduce over the other axes)."
        )
    return tf.broadcast_to(values, [tf.shape(images)[0]])


def objective_values(
    model: Model,
    objective: objectives_lib.Objective,
    images: tf.Tensor,
    transform: Callable | None = None,
    seed: tf.Tensor | None = None,
    redirect_relu: bool = False,
    params: tuple | None = None,
    progress: tf.Tensor | None = None,
) -> tf.Tensor:
    """The objective of each image, shape [B]: images (float [B, H, W, 3] in [0, 1]) are
    transformed with `transform(images, seed)` if given, then passed through the model.
    `progress`, the fraction of the run done (float scalar in [0, 1]), goes to transforms that
    follow it (`takes_progress`, e.g. `transform.maco_crops`)."""
    if transform is None:
        seen = images
    elif progress is not None and getattr(transform, "takes_progress", False):
        seen = transform(images, seed, progress=progress)
    else:
        seen = transform(images, seed)
    return objective_of(model, objective, images, seen, redirect_relu, params)


def images_or_features(model: Model, images: tf.Tensor, name: str) -> tf.Tensor:
    """What `T(name)` reads for `images`: the images themselves for "input", else activations."""
    return images if name == INPUT else model.features(images, [name])[name]
