"""The arguments `render_vis` and `Renderer` share, read and checked at the door: the
parameterization, the transforms (and their compositing of RGBA images), the optimizer and the
thresholds; and `cache_key`, what makes two sets of them the same compiled program."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from samplevis.optvis import objectives as objectives_lib
from samplevis.runtime.checks import OptionError, is_int

if TYPE_CHECKING:
    from samplevis.models import Model
    from samplevis.optvis.param import ImageParam

DEFAULT_LEARNING_RATE = 0.05  # Lucid's default Adam learning rate


def resolve_param(param_f: object) -> ImageParam:
    """`param_f` as a parameterization; None is Lucid's default, `param.image(128)`."""
    from samplevis.optvis import param as param_lib

    if param_f is None:
        return param_lib.image(128)  # Lucid's default image size
    return param_lib.as_image_param(param_f)


def resolve_transforms(
    transforms: object,
    image_param: ImageParam,
    model: Model | None = None,
    objective: objectives_lib.Objective | None = None,
) -> tuple:
    """The transforms as a tuple; None is the library's default for `objective` on `model`
    (`default_transforms_for`), for RGBA images preceded by `collapse_alpha_random()` (as
    Lucid's alpha notebooks), so that the network sees RGB."""
    from samplevis.optvis import transform as transform_lib

    if transforms is not None:
        return transform_lib.as_transforms(transforms)
    resolved = default_transforms_for(model, objective, image_param)
    if image_param.channels == 4:
        return (transform_lib.collapse_alpha_random(), *resolved)
    return resolved


def default_transforms_for(
    model: Model | None, objective: objectives_lib.Objective | None, image_param: ImageParam
) -> tuple:
    """Lucid's standard transforms; for an objective that reads a vision transformer's token
    layers, `transform.vit_transforms` of its patch as large as it is in the images."""
    from samplevis.optvis import transform as transform_lib

    patch = _patch_in_images(model, objective, image_param.height, image_param.width)
    return (
        transform_lib.default_transforms() if patch is None else transform_lib.vit_transforms(patch)
    )


def _patch_in_images(
    model: Model | None, objective: objectives_lib.Objective | None, height: int, width: int
) -> int | None:
    """The side in px of the images of a patch of the token layers `objective` reads (the
    network resizes the images to its input size); None when it reads none, or its layers are
    not known until it runs (a plain function of T)."""
    if model is None or objective is None or model.patch_size is None:
        return None
    if objective.layers & objectives_lib.ANY_LAYER:
        return None
    if not any(model.reads_tokens(layer) for layer in objective.layers):
        return None
    (patch_h, patch_w), size = model.patch_size, model.input_size or (height, width)
    return max(1, min(round(patch_h * height / size[0]), round(patch_w * width / size[1])))


def compose_transforms(transforms: Sequence[Callable]) -> Callable | None:
    """One transform applying `transforms` in order, or None for none."""
    from samplevis.optvis import transform as transform_lib

    return transform_lib.compose(tuple(transforms)) if transforms else None


def check_composited(image_param: ImageParam, transform: Callable | None) -> None:
    """Raise unless `transform` turns the parameterization's RGBA images into RGB ones."""
    probe = image_param.to_image(image_param.init(tf.constant([0, 0], tf.int64)))
    seen = probe if transform is None else transform(probe, tf.constant([0, 0], tf.int32))
    if seen.shape[-1] != 3:
        raise ValueError(
            f"the images have {image_param.channels} channels (RGBA) and reach the network "
            f"with {seen.shape[-1]}; composite them first: put transform.collapse_alpha_random() "
            "first in the transforms, e.g. [transform.collapse_alpha_random(), "
            "*transform.standard_transforms], or leave transforms=None for that default."
        )


def check_optimizer(optimizer: Any) -> None:
    """Raise unless `optimizer` is a keras optimizer with a positive learning rate."""
    import keras

    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            f"optimizer must be a keras.optimizers.Optimizer (e.g. keras.optimizers.Adam(0.05)) or "
            f"None for Lucid's Adam(0.05); got {type(optimizer).__name__}."
        )
    rate = float(optimizer.learning_rate)  # a schedule's rate at the optimizer's current step
    if not rate > 0:
        raise ValueError(
            f"the optimizer's learning rate must be > 0 (render_vis maximizes the "
            f"objective); got {rate:g}. Lucid's is 0.05."
        )


def new_optimizer(optimizer: Any) -> Any:
    """A fresh keras optimizer configured as `optimizer` (None: Lucid's Adam), never `optimizer`
    itself, so the caller's object is not changed."""
    import keras

    if optimizer is None:
        return keras.optimizers.Adam(learning_rate=DEFAULT_LEARNING_RATE)
    check_optimizer(optimizer)
    return type(optimizer).from_config(optimizer.get_config())


def cache_key(
    objective_f: object,
    image_param: ImageParam,
    optimizer: Any,
    transforms: tuple,
    relu_gradient_override: bool,
) -> Hashable | None:
    """What makes two Renderers the same program, or None when an argument has no value equality
    (then nothing is reused)."""
    objective = objectives_lib.image_objective(objective_f)
    if optimizer is None:
        optimizer_key: Hashable = None
    else:
        check_optimizer(optimizer)
        optimizer_key = (type(optimizer), repr(sorted(optimizer.get_config().items())))
    key = (
        objective.structure,
        objective.layers,
        image_param,
        optimizer_key,
        transforms,
        bool(relu_gradient_override),
    )
    try:
        hash(key)
    except TypeError:  # e.g. a transform that is an unhashable object
        return None
    return key


def check_thresholds(thresholds: int | Sequence[int]) -> tuple[int, ...]:
    """`thresholds` (a step count or increasing step counts) as a tuple of ints."""
    if isinstance(thresholds, (int, np.integer)):
        thresholds = (thresholds,)
    try:
        values = tuple(thresholds)
    except TypeError:
        raise TypeError(
            f"thresholds must be a sequence of step counts; got {thresholds!r}."
        ) from None
    bad = [t for t in values if not is_int(t) or t < 1]
    if not values or bad:
        raise OptionError(
            "thresholds",
            "{thresholds} must be positive whole step counts, e.g. (128, 512); got {got!r}.",
            got=thresholds,
        )
    # One image per threshold, in the order given: so they must increase.
    if any(b <= a for a, b in zip(values, values[1:])):
        raise OptionError(
            "thresholds",
            "{thresholds} must increase, one image each, e.g. "
            "(128, 512); got {got!r}. Give them as {fix}.",
            got=thresholds,
            fix=tuple(sorted(set(int(t) for t in values))),
        )
    return tuple(int(t) for t in values)
