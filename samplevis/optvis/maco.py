"""`maco`: MACO in one call, with Xplique's arguments and defaults.

Fel et al., "Unlocking Feature Visualization for Deeper Networks with MAgnitude Constrained
Optimization", NeurIPS 2023. The image's Fourier magnitude is fixed to a natural-image spectrum
and only its phase is optimized (`param.maco`), by Nadam at rate 1, through random crops with
noise (`transform.maco_crops`); the transparency map is the sum over the steps of the absolute
gradient of the objective with respect to the image (`transparency_image` shows it, `with_alpha`
makes it the alpha of an RGBA image). The same parts render with `render_vis`
and `Renderer` (`param_f=param.maco(512), transforms=[transform.maco_crops(224)],
optimizer=keras.optimizers.Nadam(1.0)`); this function adds the transparency map.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import tensorflow as tf

from samplevis.models import Model, as_model
from samplevis.optvis import objectives as objectives_lib
from samplevis.optvis import param as param_lib
from samplevis.optvis import transform as transform_lib
from samplevis.optvis.evaluation import objective_values
from samplevis.runtime.checks import KerasModel, is_int, is_number
from samplevis.runtime.seeds import SeedLike, as_seed, fold_in

# Xplique's maco defaults (xplique.features_visualizations.maco)
NADAM_RATE = 1.0
NOISE_SCHEDULE = (1.0, 1e-4)  # noise_intensity=None: np.logspace(0, -4, nb_steps)
BOX_SCHEDULE = (0.5, 0.05)  # box_size=None: np.linspace(0.5, 0.05, nb_steps)


def _schedule(name: str, value: object, default: tuple, crops_name: str) -> tuple:
    if value is None:
        return default
    if callable(value) or not is_number(value):
        raise TypeError(
            f"{name} must be a number (held over the run) or None (Xplique's schedule, "
            f"{default[0]:g} to {default[1]:g}); got {value!r}. For another schedule, pass "
            f"transforms=[transform.maco_crops(size, {crops_name}=(start, end))] to "
            "render_vis."
        )
    return (float(value), float(value))


def _magnitude(maco_dataset: object, height: int, width: int) -> np.ndarray:
    """The fixed magnitude for height x width images from Xplique's `maco_dataset` argument."""
    if maco_dataset is None:
        return param_lib.natural_spectrum(height, width)
    if isinstance(maco_dataset, (str, os.PathLike)):
        spectrum = param_lib.folder_spectrum(maco_dataset)
    elif isinstance(maco_dataset, Iterable):
        spectrum = param_lib.image_spectrum(list(maco_dataset))
    else:
        raise TypeError(
            "maco_dataset is a folder of photographs, a list of RGB images [H, W, 3] or None "
            f"(the shipped spectrum); got {type(maco_dataset).__name__}."
        )
    return param_lib.resize_spectrum(spectrum, height, width)


def maco(
    model: Model | KerasModel,
    objective: object,
    optimizer: object = None,
    maco_dataset: object = None,
    nb_steps: int = 256,
    noise_intensity: float | None = 0.08,
    box_size: float | None = None,
    nb_crops: int = 32,
    custom_shape: tuple[int, int] = (512, 512),
    *,
    seed: SeedLike = None,
    crop_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Optimize one image for `objective` with MACO; Xplique's `maco`, its arguments in its order
    after the model, but for `values_range`: the model's `value_range` stands for it (pass
    `custom_shape` by name).

    Args:
        model: a `samplevis.Model` or a plain `keras.Model` taking images in [0, 1].
        objective: an objective or a "layer:channel" string; one image is optimized.
        optimizer: a `keras.optimizers.Optimizer` (its configuration is copied); default
            Nadam(1.0).
        maco_dataset: where the fixed magnitude comes from: None for the shipped photographs'
            spectrum, a folder of photographs, or a list of RGB images [H, W, 3].
        nb_steps: optimization steps.
        noise_intensity: std of the noise added to the crops (image units, [0, 1]); None for
            Xplique's schedule from 1 down to 1e-4.
        box_size: the crops' mean side, a fraction of the image's; None for Xplique's schedule
            from 0.5 down to 0.05.
        nb_crops: crops the network sees at each step.
        custom_shape: (height, width) of the image in pixels.
        seed: an int (or stateless seed [2]) for a reproducible result; None draws one.
        crop_size: the crops' side in pixels; default the network's input size (the image's
            height for a network taking any size).

    Returns:
        (image, transparency): the image float32 [H, W, 3] in [0, 1], and the summed absolute
        gradients of the objective with respect to it, float32 [H, W, 3] (>= 0; bright where the
        objective depends on the image); save it with
        `io.save_png(path, transparency_image(t))` or `io.save_png(path, with_alpha(image, t))`.

    Examples:
        ```python
        import samplevis
        from samplevis import objectives, zoo

        model = zoo.efficientnet_lite0()
        image, transparency = samplevis.maco(model, objectives.channel("block5c_add", 12), seed=0)
        samplevis.io.save_png("maco.png", image)
        ```
    """
    model = as_model(model)
    height, width = _shape(custom_shape)
    steps = _positive("nb_steps", nb_steps)
    crops = transform_lib.maco_crops(
        maco_crop_size(model, height) if crop_size is None else _positive("crop_size", crop_size),
        _positive("nb_crops", nb_crops),
        _schedule("box_size", box_size, BOX_SCHEDULE, "box_size"),
        _schedule("noise_intensity", noise_intensity, NOISE_SCHEDULE, "noise"),
    )
    image_param = param_lib.maco(width, height, magnitude=_magnitude(maco_dataset, height, width))
    objective = objectives_lib.image_objective(objective)
    model.check_layers(objective.layers)
    program = _cached(model, objective, image_param, crops, optimizer)
    return program.run(objective, steps, as_seed(seed))


class _Program:
    """The compiled MACO loop of one model, objective structure, image and optimizer; the
    objective's params (channel, position) are variables, so other channels reuse it."""

    def __init__(
        self,
        model: Model,
        objective: objectives_lib.Objective,
        image_param: param_lib.MacoImage,
        crops: transform_lib.MacoCrops,
        optimizer: object,
    ) -> None:
        self.model, self.objective = model, objective
        self.image_param, self.crops = image_param, crops
        self.optimizer = _optimizer(optimizer)
        self.state = tf.Variable(image_param.init(tf.constant([0, 0], tf.int32))[0])
        self.params = tuple(tf.Variable(p, trainable=False) for p in objective.params)
        self.optimizer.build([self.state])
        self.fresh = [v.numpy() for v in self.optimizer.variables]
        self.compiled = tf.function(self._run, autograph=False)

    def run(
        self, objective: objectives_lib.Objective, steps: int, seed: tf.Tensor
    ) -> tuple[np.ndarray, np.ndarray]:
        for var, value in zip(self.params, objective.params):
            var.assign(value)
        self.state.assign(self.image_param.init(fold_in(seed, 0))[0])
        for var, value in zip(self.optimizer.variables, self.fresh):
            var.assign(value)
        transparency = self.compiled(tf.constant(steps, tf.int32), fold_in(seed, 1))
        image = self.image_param.to_image((self.state,))
        return image.numpy()[0], transparency.numpy()[0]

    def _run(self, steps: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """`steps` steps of gradient ascent on the phase; the transparency map [1, H, W, 3]."""
        last = tf.cast(tf.maximum(steps - 1, 1), tf.float32)
        params = tuple(v.read_value() for v in self.params)

        def step(i, transparency):
            with tf.GradientTape() as tape:
                image = self.image_param.to_image((self.state,))
                tape.watch(image)
                values = objective_values(
                    self.model,
                    self.objective,
                    image,
                    self.crops,
                    fold_in(seed, i),
                    params=params,
                    progress=tf.cast(i, tf.float32) / last,
                )
                loss = -tf.reduce_sum(values)
            grad_state, grad_image = tape.gradient(loss, [self.state, image])
            update = self.optimizer.apply_gradients([(grad_state, self.state)])
            with tf.control_dependencies([update] if update is not None else []):
                return i + 1, transparency + tf.abs(grad_image)

        shape = [1, self.image_param.height, self.image_param.width, 3]
        start = (tf.constant(0, tf.int32), tf.zeros(shape))
        _, transparency = tf.while_loop(lambda i, _: i < steps, step, start)
        return transparency


def _cached(
    model: Model,
    objective: objectives_lib.Objective,
    image_param: param_lib.MacoImage,
    crops: transform_lib.MacoCrops,
    optimizer: object,
) -> _Program:
    """The program for these arguments kept with the model (as `Renderer.cached` keeps its
    Renderers, in `model.renderers`, and as many), or a new one kept there."""
    from samplevis.optvis.optimize import Renderer

    config = (
        None
        if optimizer is None
        else (type(optimizer), repr(sorted(_optimizer(optimizer).get_config().items())))
    )
    key = ("maco", objective.structure, objective.layers, image_param, crops, config)
    program = model.renderers.get(key)
    if isinstance(program, _Program):
        model.renderers.move_to_end(key)
        return program
    program = _Program(model, objective, image_param, crops, optimizer)
    if Renderer.cache_size > 0:
        model.renderers[key] = program
        while len(model.renderers) > Renderer.cache_size:
            model.renderers.popitem(last=False)
    return program


def _shape(custom_shape: object) -> tuple[int, int]:
    try:
        height, width = custom_shape  # type: ignore[misc]  # refused below if not a pair
    except (TypeError, ValueError):
        height = width = None
    if not (is_int(height) and is_int(width) and height >= 8 and width >= 8):
        raise ValueError(
            f"custom_shape is the image's (height, width) in pixels, ints >= 8, e.g. (512, 512); "
            f"got {custom_shape!r}."
        )
    return int(height), int(width)


def _positive(name: str, value: object) -> int:
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
    return int(value)


def maco_crop_size(model: Model, image_size: int) -> int:
    """The side (px) of MACO's crops: the network's input height, or `image_size` for a network
    taking any size (Xplique needs a fixed one)."""
    return model.input_size[0] if model.input_size else image_size


def _optimizer(optimizer: object) -> Any:
    import keras

    if optimizer is None:
        return keras.optimizers.Nadam(NADAM_RATE)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            "optimizer must be a keras.optimizers.Optimizer, e.g. keras.optimizers.Nadam(1.0) "
            f"(the default); got {type(optimizer).__name__}."
        )
    return type(optimizer).from_config(optimizer.get_config())


def with_alpha(image: object, transparency: object) -> np.ndarray:
    """The image [H, W, 3] with `transparency_image(transparency)` as its alpha: RGBA [H, W, 4]
    in [0, 1], for `io.save_png` (opaque where the objective depends on the image most)."""
    rgb = np.asarray(image, dtype=np.float32)
    alpha = transparency_image(transparency)[..., :1]
    if rgb.shape != alpha.shape[:2] + (3,):
        raise ValueError(
            f"the image {list(rgb.shape)} and its transparency map {list(alpha.shape[:2])} "
            "differ in size; pass the two that samplevis.maco returned together."
        )
    return np.concatenate([rgb, alpha], axis=-1)


def transparency_image(transparency: object) -> np.ndarray:
    """A transparency map [H, W, 3] (or [H, W]) as a grey image [H, W, 3] in [0, 1]: the mean
    over colours, divided by its largest value (black where the objective ignores the image)."""
    t = np.asarray(transparency, dtype=np.float32)
    shape = list(t.shape)
    if t.ndim == 3:
        t = t.mean(axis=-1)
    if t.ndim != 2 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(
            "a transparency map is finite, >= 0 and of shape [H, W, 3] or [H, W], as "
            f"samplevis.maco returns it; got shape {shape}."
        )
    peak = float(t.max())
    scaled = t / peak if peak > 0 else t
    return np.repeat(scaled[..., None], 3, axis=-1)
