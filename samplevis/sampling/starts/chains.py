"""The facets' starts: one optimized image per chain, dead starts optimized again.

Each chain samples the basin of its own start, so the starts decide which patterns the samples
show. `start_diversity` optimizes them together with Lucid's diversity term, which pushes their
patterns apart at some cost in activation.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from samplevis.models import Model
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam, normal_state
from samplevis.runtime.seeds import fold_in
from samplevis.sampling.density.log_density import LogDensity

RESEEDS = 2  # new optimizations tried for chains whose optimized start is dead
# The start kinds (of sampling.options.STARTS, resolved there) whose starts `find_starts` makes
CHAIN_STARTS = ("optimize", "prior", "images")


@dataclasses.dataclass(frozen=True)
class Starts:
    """The chains' starts.

    Attributes:
      state: state parts of the full parameterization, each [C, ...].
      activations: float32 [C], the objective of each start under the log density's views (a*).
      dead: bool [C], starts with objective <= 0 and no gradient (see `dead`).
      interrupted: True when Ctrl-C stopped an optimization (the state is what it had reached).
      saturated: bool [C], starts with objective > 0 and no gradient (see `saturated`).
    """

    state: tuple[tf.Tensor, ...]
    activations: np.ndarray
    dead: np.ndarray
    interrupted: bool
    saturated: np.ndarray


def start_optimizer(image_param: ImageParam) -> object:
    """The optimizer the starts climb with: Adam at the parameterization's own learning rate,
    or None for render_vis's default."""
    import keras

    rate = image_param.start_learning_rate
    return None if rate is None else keras.optimizers.Adam(learning_rate=rate)


def _optimized(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    optimize_steps: int,
    start_diversity: float,
    seed: tf.Tensor,
    progress: bool,
    log_dir: Path | None,
) -> tuple[tuple[tf.Tensor, ...], bool]:
    """(state parts [C, ...], interrupted) of `render_vis` from `seed` over `optimize_steps`,
    with Lucid's diversity term weighted `start_diversity` (0: none), logged to `log_dir`."""
    from samplevis.models import ResizeWarning
    from samplevis.optvis import objectives
    from samplevis.optvis.optimize import Rendering, render_vis

    optimizer = start_optimizer(image_param)
    target = objective
    if start_diversity:
        layer = sorted(objective.layers)[0]
        target = objective - start_diversity * objectives.diversity(layer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResizeWarning)  # render has said it
        rendering = render_vis(
            model,
            target,
            param_f=image_param,
            optimizer=optimizer,
            thresholds=(optimize_steps,),
            seed=seed,
            progress=progress,
            return_state=True,
            log_dir=log_dir,
        )
    assert isinstance(rendering, Rendering)  # return_state=True
    return tuple(tf.constant(s, tf.float32) for s in rendering.state), rendering.interrupted


def flat(log_density: LogDensity, state: tuple[tf.Tensor, ...]) -> np.ndarray:
    """Chains whose objective has no gradient at `state` (parts [C, ...]), bool [C]."""
    with tf.GradientTape() as tape:
        tape.watch(state)
        # chain c's value depends on its own state only, so one sum gives every chain's gradient
        total = tf.reduce_sum(log_density.activation(*state))
    grads = [g for g in tape.gradient(total, state) if g is not None]
    if not grads:
        return np.ones(int(state[0].shape[0]), bool)  # the objective ignores the state
    norm2 = sum(tf.reduce_sum(tf.square(tf.reshape(g, [g.shape[0], -1])), axis=1) for g in grads)
    return norm2.numpy() == 0


def dead(
    log_density: LogDensity, state: tuple[tf.Tensor, ...], activations: np.ndarray
) -> np.ndarray:
    """Chains whose start is dead, bool [C]: objective <= 0 and no gradient to climb (a ReLU unit
    off at every position and view). An objective below 0 that still has a gradient is alive,
    as with a penalty term, which also keeps a unit that is off from being seen as dead."""
    is_dead = activations <= 0
    if not is_dead.any():
        return is_dead
    return is_dead & flat(log_density, state)


def saturated(
    log_density: LogDensity, state: tuple[tf.Tensor, ...], activations: np.ndarray
) -> np.ndarray:
    """Chains whose start is saturated, bool [C]: objective > 0 and no gradient (a capped unit,
    ReLU6 say, at its cap at every view). The density is flat there: every image that keeps
    the unit at its cap is equally likely, and the objective cannot say which is better."""
    return (activations > 0) & flat(log_density, state)


def find_starts(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    log_density: LogDensity,
    seed: tf.Tensor,
    progress: bool,
    log_dir: Path | None = None,
    *,
    start: str,
    init: str | np.ndarray,
    optimize_steps: int,
    start_diversity: float = 0.0,
) -> Starts:
    """The chains' starts where `start` (`SamplingOptions.start`) says: "optimize"d over
    `optimize_steps` (dead ones optimized again from up to RESEEDS other seeds, each logged to
    `log_dir/starts_reseedN`), drawn from the "prior", or the "images" `init` holds, float32
    [C, H, W, 3] in [0, 1]. `log_density` measures their activation; `start_diversity` weighs
    Lucid's diversity term in the optimization. A folder's "photos" start from their clusters
    instead (sampling.starts.photos)."""
    if start not in CHAIN_STARTS:
        raise ValueError(
            f"find_starts starts chains from one of {CHAIN_STARTS}; got start={start!r}. "
            f"Photos' facets start from their clusters: sampling.starts.photos.photo_facets."
        )
    if start == "images":
        from samplevis.optvis import param as param_lib

        given = param_lib.initialized(image_param, init).init(None)  # type: ignore[arg-type]  # an RGBImage: `render` made it from init
        state = tuple(tf.constant(s, tf.float32) for s in given)
        activations = log_density.activation(*state).numpy()
        no_dead = np.zeros(len(init), bool)
        return Starts(
            state, activations, no_dead, False, saturated(log_density, state, activations)
        )
    if start == "prior":
        state = normal_state(image_param.state_shapes, seed, 1.0)
        activations = log_density.activation(*state).numpy()
        no_dead = np.zeros(image_param.batch, bool)
        return Starts(
            state, activations, no_dead, False, saturated(log_density, state, activations)
        )
    inside = (lambda name: None) if log_dir is None else (lambda name: log_dir / name)
    state, interrupted = _optimized(
        model,
        objective,
        image_param,
        optimize_steps,
        start_diversity,
        seed,
        progress,
        inside("starts"),
    )
    activations = log_density.activation(*state).numpy()
    is_dead = (
        np.zeros(len(activations), bool) if interrupted else dead(log_density, state, activations)
    )
    for attempt in range(1, RESEEDS + 1):
        if interrupted or not is_dead.any():
            break
        fresh, interrupted = _optimized(
            model,
            objective,
            image_param,
            optimize_steps,
            start_diversity,
            fold_in(seed, 100 + attempt),
            progress,
            inside(f"starts_reseed{attempt}"),
        )
        fresh_activations = log_density.activation(*fresh).numpy()
        revive = is_dead & (fresh_activations > activations)
        mask = tf.constant(revive)
        state = tuple(
            tf.where(tf.reshape(mask, [-1] + [1] * (len(s.shape) - 1)), f, s)
            for s, f in zip(state, fresh)
        )
        activations = np.where(revive, fresh_activations, activations)
        if not interrupted:
            is_dead = dead(log_density, state, activations)
    is_saturated = (
        np.zeros(len(activations), bool)
        if interrupted
        else saturated(log_density, state, activations)
    )
    return Starts(state, activations, is_dead, interrupted, is_saturated)
