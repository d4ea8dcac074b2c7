"""`Renderer`: feature visualization by compiled gradient ascent, and the loop that runs it.

One `tf.function` runs several whole steps per call — parameterization → transforms → preprocessing
→ model → objective → gradient → optimizer update — so Python is out of the hot path. A `Renderer`
owns that program, its variables and its optimizer; the objective's params (channel indices,
positions, weights) are variables too, so it renders other objectives of the same structure and
other seeds without tracing again. `Renderer.run` calls the program up to each threshold, with a
progress bar, Lucid's printing, and the images so far kept at Ctrl-C, a non-finite objective or
out of memory.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import tensorflow as tf

from samplevis.io.event_files import OptimizationLog, log_folder
from samplevis.models import INPUT, Model, as_model
from samplevis.optvis import objectives as objectives_lib
from samplevis.optvis.evaluation import images_or_features, objective_of, objective_values
from samplevis.optvis.render_arguments import (
    cache_key,
    check_composited,
    check_thresholds,
    compose_transforms,
    new_optimizer,
    resolve_param,
    resolve_transforms,
)
from samplevis.runtime import memory
from samplevis.runtime.checks import KerasModel, check_bool, user_stacklevel
from samplevis.runtime.seeds import SeedLike, as_seed, fold_in
from samplevis.runtime.tracing import expected_retracing

STEPS_PER_CALL = 16  # steps run inside one compiled call; progress and thresholds are per call
REDIRECT_STEPS = 16  # steps with the redirected ReLU gradient (Lucid's redirected_relu_grad)


class NonFiniteObjectiveError(FloatingPointError):
    """The objective or its gradient became NaN/inf. `images` holds what was rendered before: one
    array per threshold reached, then the last finite images, those after `steps` steps.

    Args:
        message: what became non-finite, and what to change.
        images: float [B, H, W, C] arrays in [0, 1]: one per threshold reached, then the last
            finite images.
        steps: the steps the last finite images took.
    """

    def __init__(self, message: str, images: list[np.ndarray], steps: int):
        super().__init__(message)
        self.images = images
        self.steps = steps


@dataclass(frozen=True)
class Rendering:
    """What `render_vis(..., return_state=True)` returns besides the images."""

    images: list
    state: tuple  # final parameterization state (numpy arrays, batch axis first)
    values: np.ndarray  # objective value of each image at the last step, shape [B]
    steps: int
    interrupted: bool


class Renderer:
    """A compiled gradient ascent: one model, objective, parameterization, transforms and
    optimizer, traced once and run as often as you like.

        vis = Renderer(model, objectives.channel("block5c_add", 0))
        images = vis.run(256, seed=0)
        for n in range(1, 8):  # same program: the channel is an input, not a constant
            images = vis.run(256, seed=0, objective=objectives.channel("block5c_add", n))

    `render_vis` takes one from `Renderer.cached`, so calling it again with equal arguments (other
    seeds, thresholds, channels) compiles nothing; keep one yourself for explicit control.
    """

    # Renderers `cached` keeps per model, least recently used dropped first; 0 keeps none.
    cache_size: ClassVar[int] = 4

    @classmethod
    def cached(
        cls,
        model: Model | KerasModel,
        objective_f: object,
        param_f: object = None,
        optimizer: object = None,
        transforms: object = None,
        relu_gradient_override: bool = True,
    ) -> Renderer:
        """A Renderer for these arguments: the one made for equal arguments before, if the model
        (the same `samplevis.Model` object) still keeps it in `model.renderers`, else a new one
        kept there. Equal means the same model object, an objective of the same structure (its
        channel, position or weights may differ), an equal parameterization and transforms, an
        optimizer of the same class and configuration, and the same `relu_gradient_override`;
        any other change builds, and so compiles, a new Renderer. At most `cache_size` are kept
        per model; they go with the model, or with `model.renderers.clear()`. The Renderer
        returned renders `objective_f` (`use`)."""
        model = as_model(model)
        image_param = resolve_param(param_f)
        renderer = None
        goal = objectives_lib.image_objective(objective_f)
        transforms = resolve_transforms(transforms, image_param, model, goal)
        key = cache_key(objective_f, image_param, optimizer, transforms, relu_gradient_override)
        if key is not None and cls.cache_size > 0:
            renderer = model.renderers.get(key)
        if renderer is None:
            renderer = cls(
                model, objective_f, image_param, optimizer, transforms, relu_gradient_override
            )
            if key is not None and cls.cache_size > 0:
                model.renderers[key] = renderer
                while len(model.renderers) > cls.cache_size:
                    model.renderers.popitem(last=False)
        else:
            assert isinstance(renderer, cls)  # only `cached` keeps Renderers there
            model.renderers.move_to_end(key)
            renderer.use(objective_f)
        return renderer

    def __init__(
        self,
        model: Model | KerasModel,
        objective_f: object,
        param_f: object = None,
        optimizer: object = None,
        transforms: object = None,
        relu_gradient_override: bool = True,
    ):
        """Compiles on the first `run`.

        Args:
            model: a `samplevis.Model` or a plain `keras.Model` (images in [0, 1]).
            objective_f: an `Objective`, a "layer:channel" string or a function of T; `run`'s
                `objective` swaps in another of the same structure without compiling again.
            param_f: a parameterization or a function returning one; default
                `param.image(128)`.
            optimizer: a `keras.optimizers.Optimizer`, whose configuration is copied (the
                object you pass is never changed); default Adam(0.05), as Lucid.
            transforms: transforms applied before the model at every step; default as
                `render_vis`'s; `[]` for none.
            relu_gradient_override: for the first 16 steps, ReLUs that block all gradient let
                through the part that raises them (Lucid's redirected ReLU gradient).
        """
        self.model = as_model(model)
        self.image_param = resolve_param(param_f)
        self.objective = self._resolved(objective_f)
        memory.check_fits(
            self.model,
            sorted(self.objective.layers),
            self.image_param.height,
            self.image_param.width,
            self.image_param.batch,
        )
        redirect = check_bool("relu_gradient_override", relu_gradient_override)
        self.relu_redirect_steps = REDIRECT_STEPS if redirect else 0
        resized = self.model.resize_warning(self.image_param.height, self.image_param.width)
        if resized is not None:
            warnings.warn(resized, stacklevel=user_stacklevel())
        self.transform = compose_transforms(
            resolve_transforms(transforms, self.image_param, self.model, self.objective)
        )
        if self.image_param.channels != 3 and self.objective.layers:
            check_composited(self.image_param, self.transform)
        self.optimizer = new_optimizer(optimizer)
        initial = self.image_param.init(tf.constant([0, 0], tf.int64))
        self.state = tuple(tf.Variable(t, trainable=True) for t in initial)
        # the latest state whose objective and gradient were finite, restored if a step is not
        self._last_finite = tuple(tf.Variable(t, trainable=False) for t in initial)
        self._params = tuple(tf.Variable(p, trainable=False) for p in self.objective.params)
        self.optimizer.build(list(self.state))
        self._fresh_optimizer = [v.numpy() for v in self.optimizer.variables]
        # `_steps_fn` compiled: the step loop every `run` calls, and benchmarks/render_speed.py
        # times alone
        self.compiled_steps = tf.function(self._steps_fn, autograph=False)
        self._check(self.objective)

    @property
    def traces(self) -> int:
        """How many times the compiled step loop has been traced (once, on the first run)."""
        return self.compiled_steps.experimental_get_tracing_count()

    def _resolved(self, objective) -> objectives_lib.Objective:
        objective = objectives_lib.image_objective(objective)
        if objective.layers & objectives_lib.ANY_LAYER:  # a plain function of T: find its layers
            probe = self.image_param.to_image(self.image_param.init(tf.constant([0, 0], tf.int64)))

            def read(name: str) -> tf.Tensor:
                if name == INPUT:
                    return probe
                return images_or_features(self.model, probe[..., :3], name)  # RGB, as seen

            objective = objectives_lib.with_layers(objective, read)
        self.model.check_layers(objective.layers)
        return objective

    def _check(self, objective: objectives_lib.Objective) -> None:
        """Evaluate `objective` once, eagerly, on the current images seen through the transforms:
        a channel, position or batch index out of range raises with its own message, before any
        progress bar, rather than wrapped in a trace of the compiled loop."""
        objective_values(
            self.model,
            objective,
            self.image_param.to_image(self.state),
            self.transform,
            tf.constant([0, 0], tf.int32),
        )

    def use(self, objective: object) -> None:
        """Render `objective` from now on: one of the same structure as this renderer's (the
        same function of other channels, positions or weights), so nothing is compiled again."""
        objective = self._resolved(objective)
        if objective.structure != self.objective.structure:
            raise ValueError(
                f"this Renderer was compiled for objectives like {self.objective.name}; "
                f"{objective.name} computes something else. Build a new Renderer for it (only "
                "params such as channel indices, positions and weights may change)."
            )
        self._check(objective)
        for var, value in zip(self._params, objective.params):
            var.assign(value)
        self.objective = objective

    def run(
        self,
        thresholds: int | Sequence[int] = (512,),
        seed: SeedLike = None,
        *,
        objective: object = None,
        progress: bool = True,
        verbose: bool = False,
        print_objectives: Sequence | None = None,
        return_state: bool = False,
        log_dir: str | os.PathLike | None = None,
    ) -> list[np.ndarray] | Rendering:
        """Optimize from a fresh start for `thresholds[-1]` steps: `render_vis`'s thresholds, seed,
        progress, verbose, print_objectives, return_state and log_dir, with `objective` (same
        structure) replacing this renderer's first."""
        folder = log_folder(log_dir)
        if objective is not None:
            self.use(objective)
        return _run(
            self,
            check_thresholds(thresholds),
            seed,
            check_bool("progress", progress),
            check_bool("verbose", verbose),
            _printed(self, print_objectives),
            check_bool("return_state", return_state),
            folder,
        )

    def reset(self, seed: tf.Tensor) -> None:
        self._start_from(self.image_param.init(seed))

    def _start_from(self, state) -> None:
        """Make `state` (parts [B, ...]) the current and last finite state, with a fresh
        optimizer."""
        for var, good, value in zip(self.state, self._last_finite, state):
            var.assign(value)
            good.assign(value)
        for var, value in zip(self.optimizer.variables, self._fresh_optimizer):
            var.assign(value)

    def image(self) -> np.ndarray:
        return self.image_param.to_image(self.state).numpy()

    def snapshot(self) -> tuple[np.ndarray, ...]:
        return tuple(v.numpy() for v in self.state)

    def restore(self, state: tuple[np.ndarray, ...]) -> None:
        for var, value in zip(self.state, state):
            var.assign(value)

    def climb(
        self,
        state: tuple[np.ndarray, ...],
        steps: int,
        seed: SeedLike = None,
        progress: str | None = None,
        until: Callable[[tuple[np.ndarray, ...], int], bool] | None = None,
        project: Callable[[tuple[np.ndarray, ...], int], tuple[np.ndarray, ...]] | None = None,
        every: int = STEPS_PER_CALL,
    ) -> tuple[tuple[np.ndarray, ...], int]:
        """Optimize on from `state` (parts [B, ...]) for `steps` steps with a fresh optimizer
        and no ReLU redirection (the state is no blank start), in this renderer's compiled
        program: no tracing per call; `progress`, if given, labels a progress bar; `until`, if
        given, is asked every STEPS_PER_CALL steps with the state reached and the steps taken,
        and ends the climb there when it says True; `project`, if given, maps the state reached
        and the steps taken to the state the climb goes on from, every `every` steps and after
        the last (the optimizer's moments kept): a regularizer that acts on the images between
        steps (optvis.pixel_regularizers). Returns (the state reached, parts [B, ...]; the steps
        taken, fewer than `steps` where `until` ended it or the objective stopped being finite,
        the state then the last finite one)."""
        from tqdm.auto import tqdm

        if every < 1:
            raise ValueError(f"every is a count of steps >= 1; got {every}.")
        self._start_from(state)
        first = max(self.relu_redirect_steps, 0)
        step_seed, total = as_seed(seed), tf.constant(first + steps, tf.int64)
        done = 0
        # in calls of STEPS_PER_CALL steps for the bar: a step's randomness is its number's and
        # the optimizer's state stays in its variables, so the steps are those of one call
        whole = progress is None and until is None and project is None
        chunk = every if project is not None else STEPS_PER_CALL
        with tqdm(total=steps, disable=progress is None, desc=progress, unit="step") as bar:
            while done < steps:
                requested = min(steps - done, steps if whole else chunk)
                with expected_retracing("Renderer._steps_fn"):
                    _, taken = self.compiled_steps(
                        tf.constant(requested, tf.int32),
                        tf.constant(first + done, tf.int64),
                        step_seed,
                        total,
                    )
                done += int(taken)
                bar.update(int(taken))
                if int(taken) < requested:
                    break
                if project is not None:
                    self.restore(project(self.snapshot(), done))
                if until is not None and done < steps and until(self.snapshot(), done):
                    bar.set_postfix_str("done early", refresh=True)  # a bar short of 100 % says why
                    break
        return self.snapshot(), done

    def _steps_fn(
        self, num_steps: tf.Tensor, first_step: tf.Tensor, seed: tf.Tensor, total: tf.Tensor
    ):
        """Run up to `num_steps` steps from step number `first_step` of a run of `total` steps; at
        a step whose loss or gradient is not finite, go back to the last state where they were
        and stop. Transforms that follow the run's progress get `step / (total - 1)`.

        Returns (objective values [taken, B] at each step taken, number of steps taken).

        Written with `tf.while_loop` and `tf.cond` and traced with AutoGraph off: converting the
        parameterization, transforms, model call and objective it reaches (none of which branches
        on tensors) would dominate the time to compile. Every step's values are kept, not only
        the last, for a TensorBoard log: a few floats per step are nothing beside the step.
        Whether a step redirects ReLU gradients is decided as it runs, so one program serves all.
        """
        params = tuple(v.read_value() for v in self._params)

        def step(i, values, taken, stopped):
            number = first_step + tf.cast(i, tf.int64)
            step_seed = fold_in(seed, number)
            redirect = number < self.relu_redirect_steps if self.relu_redirect_steps else False
            with tf.GradientTape() as tape:
                image = self.image_param.to_image(self.state)
                # the last step's progress is 1, as Xplique's schedules end at the last step
                progress = tf.cast(number, tf.float32) / tf.cast(
                    tf.maximum(total - 1, 1), tf.float32
                )
                step_values = objective_values(
                    self.model,
                    self.objective,
                    image,
                    self.transform,
                    step_seed,
                    redirect,
                    params,
                    progress,
                )
                loss = -tf.reduce_sum(step_values)
            grads = tape.gradient(loss, self.state)
            finite = tf.math.is_finite(loss)
            for g in grads:
                if g is not None:
                    finite = finite & tf.reduce_all(tf.math.is_finite(g))

            def advance():
                with tf.control_dependencies(
                    [good.assign(var) for good, var in zip(self._last_finite, self.state)]
                ):
                    update = self.optimizer.apply_gradients(zip(grads, self.state))
                with tf.control_dependencies([update] if update is not None else []):
                    return values.write(taken, step_values), taken + 1, tf.constant(False)

            def go_back():
                with tf.control_dependencies(
                    [var.assign(good) for var, good in zip(self.state, self._last_finite)]
                ):
                    return values, tf.identity(taken), tf.constant(True)

            values, taken, stopped = tf.cond(finite, advance, go_back)
            return i + 1, values, taken, stopped

        start = (
            tf.constant(0, tf.int32),
            tf.TensorArray(
                tf.float32, size=0, dynamic_size=True, element_shape=[self.image_param.batch]
            ),
            tf.constant(0, tf.int32),
            tf.constant(False),
        )
        _, values, taken, _ = tf.while_loop(
            lambda i, values, taken, stopped: (i < num_steps) & ~stopped, step, start
        )
        return values.stack(), taken


def _printed(renderer: Renderer, print_objectives) -> tuple:
    """`print_objectives` as objectives whose layers the renderer's model has."""
    if print_objectives is None:
        return ()
    if isinstance(print_objectives, (str, objectives_lib.Objective)) or callable(print_objectives):
        print_objectives = [print_objectives]
    return tuple(renderer._resolved(o) for o in print_objectives)


def _report(renderer: Renderer, step: int, values: np.ndarray, printed: tuple, bar) -> None:
    """Lucid's verbose line at a threshold: the step, the objective's values and those of
    `printed` on the current images."""
    parts = [f"{renderer.objective.label()} {_numbers(values)}"]
    if printed:
        images = tf.constant(renderer.image())
        seen = images[..., :3]  # RGBA images are seen opaque: their colours alone
        parts += [
            f"{o.label()} {_numbers(objective_of(renderer.model, o, images, seen).numpy())}"
            for o in printed
        ]
    bar.write(f"step {step}: " + "; ".join(parts))


def _numbers(values: np.ndarray) -> str:
    return " ".join(f"{v:.4g}" for v in np.ravel(values))


def _run(
    renderer: Renderer,
    thresholds: tuple[int, ...],
    seed: SeedLike,
    progress: bool,
    verbose: bool,
    printed: tuple,
    return_state: bool,
    log_dir: Path | None = None,
):
    """The optimization loop of `Renderer.run`, in compiled calls of up to STEPS_PER_CALL steps;
    with `log_dir`, every step's objective and the images go to a TensorBoard log there."""
    base = as_seed(seed)
    renderer.reset(fold_in(base, 0))
    if renderer.relu_redirect_steps:  # the user may have set new weights since the last call
        renderer.model.refresh_redirected_weights()
    step_seed = fold_in(base, 1)
    total = thresholds[-1]
    images: list[np.ndarray] = []
    values = np.zeros([renderer.image_param.batch], np.float32)
    step, interrupted = 0, False
    bar = _progress_bar(total, progress, renderer.objective)
    log = OptimizationLog(log_dir, renderer.image_param.batch)
    # A Ctrl-C during a compiled call takes effect as the call returns, and may land before its
    # steps are counted: the state goes back to the last counted call, so the images, state,
    # values and step count agree.
    checkpoint = (step, len(images), values, renderer.snapshot())
    try:
        while step < total:
            stop = min(next(t for t in thresholds if t > step), step + STEPS_PER_CALL)
            requested = stop - step
            taken, history = _call(renderer, requested, step, step_seed, total)
            if taken:
                values = history[-1]
            step += taken
            if taken < requested:
                images.append(renderer.image())
                log.objective(step - taken, history)
                log.images(step, images[-1])
                raise _non_finite(images, step)
            if step in thresholds:
                images.append(renderer.image())
                if verbose or printed:
                    _report(renderer, step, values, printed, bar)
            checkpoint = (step, len(images), values, renderer.snapshot())
            # logged once counted, so the log holds no step that a Ctrl-C takes back
            log.objective(step - taken, history)
            if step in thresholds:
                log.images(step, images[-1])
            bar.update(taken)
            bar.set_postfix(objective=f"{float(np.sum(values)):.4g}")
    except KeyboardInterrupt:
        interrupted = True
        step, values = _rolled_back(renderer, checkpoint, images)
        warnings.warn(
            f"render_vis interrupted at step {step} of {total}; returning images so far.",
            stacklevel=user_stacklevel(),
        )
        if step not in thresholds:  # a threshold's images are in the list already
            images.append(renderer.image())
            log.images(step, images[-1])
    except tf.errors.ResourceExhaustedError as err:
        # as at Ctrl-C, the images so far are kept: on the error, as a NonFiniteObjectiveError's
        step, values = _rolled_back(renderer, checkpoint, images)
        if step not in thresholds:
            images.append(renderer.image())
        error = memory.out_of_memory_error(
            err, renderer.image_param.height, renderer.image_param.width, renderer.image_param.batch
        )
        error.images, error.steps = images, step
        raise error from err
    finally:
        bar.close()
        log.close()
    if not return_state:
        return images
    state = tuple(v.numpy() for v in renderer.state)
    return Rendering(images, state, values, step, interrupted)


def _call(
    renderer: Renderer, requested: int, step: int, seed: tf.Tensor, total: int
) -> tuple[int, np.ndarray]:
    """One compiled call of up to `requested` steps from `step` of `total`: the steps taken and
    the objective's values at each, [taken, B]."""
    # Each Renderer traces its own program; TensorFlow counts the traces of all Renderers'
    # programs together and would call that retracing.
    with expected_retracing("Renderer._steps_fn"):
        out, taken = renderer.compiled_steps(
            tf.constant(requested, tf.int32),
            tf.constant(step, tf.int64),
            seed,
            tf.constant(total, tf.int64),
        )
    return int(taken), out.numpy()


def _non_finite(images: list[np.ndarray], step: int) -> NonFiniteObjectiveError:
    """The error of a run whose objective or gradient stopped being finite after `step`."""
    return NonFiniteObjectiveError(
        f"the objective or its gradient became NaN or infinite at step {step + 1}; "
        "stopped there. The error's .images holds the images so far, ending with the "
        "last finite one. Lower the learning rate or add a penalty (e.g. - 1e-3 * "
        "objectives.L2()).",
        images,
        step,
    )


def _rolled_back(renderer: Renderer, checkpoint: tuple, images: list[np.ndarray]) -> tuple:
    """Back to the last counted call (`checkpoint`: step, images kept, values, state): the
    images after it dropped, the state restored; (step, values) there."""
    step, kept, values, state = checkpoint
    del images[kept:]
    renderer.restore(state)
    return step, values


def _progress_bar(total: int, enabled: bool, objective):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=f"render {objective.label()}", unit="step")
