"""`render_vis`: Lucid's entry point to feature visualization, compiled.

It checks its arguments, takes a compiled program from a small cache per model
(`Renderer.cached`), so a call again with equal arguments compiles nothing, and runs it. The
program and its loop are `renderer.Renderer`'s; the arguments they share are read in
`render_arguments`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from samplevis.io.event_files import log_folder
from samplevis.models import Model
from samplevis.optvis.render_arguments import DEFAULT_LEARNING_RATE as DEFAULT_LEARNING_RATE
from samplevis.optvis.render_arguments import check_thresholds
from samplevis.optvis.renderer import REDIRECT_STEPS as REDIRECT_STEPS
from samplevis.optvis.renderer import STEPS_PER_CALL as STEPS_PER_CALL
from samplevis.optvis.renderer import NonFiniteObjectiveError as NonFiniteObjectiveError
from samplevis.optvis.renderer import Renderer, Rendering
from samplevis.runtime.checks import KerasModel, check_bool
from samplevis.runtime.seeds import SeedLike


def render_vis(
    model: Model | KerasModel,
    objective_f: object,
    param_f: object = None,
    optimizer: object = None,
    transforms: object = None,
    thresholds: Sequence[int] = (512,),
    print_objectives: Sequence | None = None,
    verbose: bool = False,
    relu_gradient_override: bool = True,
    use_fixed_seed: bool = False,
    *,
    seed: SeedLike = None,
    progress: bool = True,
    return_state: bool = False,
    log_dir: str | os.PathLike | None = None,
    reuse: bool = True,
) -> list[np.ndarray] | Rendering:
    """Optimize images to maximize `objective_f` (Lucid's `render_vis`, compiled; its arguments
    in its order, samplevis's extras keyword-only).

    Args:
        model: a `samplevis.Model`, or a plain `keras.Model` (then inputs are taken to be images in
            [0, 1], value range (0, 1), no preprocessing).
        objective_f: a `samplevis.optvis.objectives.Objective`, a "layer:channel" string, or a function
            of T as Lucid's (`lambda T: tf.reduce_mean(T("block5c_add")[..., 3])`).
        param_f: a parameterization (`param.image(128)`) or a function returning one; default
            `param.image(128)`: 128 px, FFT spectrum, ImageNet colour decorrelation, sigmoid.
            `param.image(128, alpha=True)` gives RGBA images, composited by the transforms.
        optimizer: a `keras.optimizers.Optimizer` (its configuration is copied); default Adam with
            learning rate 0.05, as Lucid.
        transforms: transforms applied before the model at every step (random parameters drawn
            per step); default `transform.standard_transforms` (for an objective on a vision
            transformer's token layers `transform.vit_transforms` of its patch size), for RGBA
            images preceded by `transform.collapse_alpha_random()`; `[]` for none.
        thresholds: step counts at which to return images, e.g. (64, 256).
        print_objectives: objectives whose values (per image, on the images without transforms;
            RGBA images seen opaque) are printed at each threshold, as Lucid's.
        verbose: print the objective's values at each threshold.
        relu_gradient_override: for the first 16 steps, ReLUs that block all gradient let through
            the part that raises them (Lucid's redirected ReLU gradient).
        use_fixed_seed: with no `seed`, use seed 0 (Lucid's fixed seed) rather than a fresh one.
        seed: an int (or a stateless seed, int [2]) for reproducible results (same seed →
            identical images); None draws one.
        progress: show a progress bar with the current objective value.
        return_state: also return the final parameterization state (see `Rendering`).
        log_dir: a folder (created if missing) for a TensorBoard event file: the objective at
            every step, summed ("objective") and per image ("objective/image_0", ...), and the
            images at each threshold ("images"); see `event_files.OptimizationLog`. View it with
            `tensorboard --logdir DIR`.
        reuse: take the compiled program from `Renderer.cached`: a call with the same model
            object, an objective of the same structure (another channel, position or weight),
            an equal parameterization, transforms and optimizer configuration compiles nothing;
            seed, thresholds, print_objectives, verbose, progress, return_state and log_dir never
            do. False builds a new Renderer.

    Returns:
        A list with one float32 array [B, H, W, 3] (RGBA: 4) in [0, 1] per threshold (fewer, ending with the
        current images, if interrupted with Ctrl-C). With `return_state=True`, a `Rendering`.

    Raises:
        NonFiniteObjectiveError: the objective or its gradient became NaN or infinite; the error's
            `images` holds the images so far, ending with the last finite one.
        MemoryLimitError: before any work, when the images, their spectra and the network's
            activations cannot fit in the memory available (it says what to lower); during the
            work, when TensorFlow ran out of memory, with the images so far as its `images`
            (those at the thresholds reached, then the current ones) and `steps`.

    Examples:
        ```python
        import samplevis
        from samplevis import objectives, zoo

        model = zoo.efficientnet_lite0()
        images = samplevis.render_vis(
            model, objectives.channel("block5c_add", 12), thresholds=(256,), seed=0
        )
        samplevis.io.save_png("channel12.png", images[-1][0])
        ```
    """
    thresholds = check_thresholds(thresholds)
    if check_bool("use_fixed_seed", use_fixed_seed) and seed is None:
        seed = 0
    folder = log_folder(log_dir)
    make = Renderer.cached if check_bool("reuse", reuse) else Renderer
    renderer = make(model, objective_f, param_f, optimizer, transforms, relu_gradient_override)
    return renderer.run(
        thresholds,
        seed,
        progress=progress,
        verbose=verbose,
        print_objectives=print_objectives,
        return_state=return_state,
        log_dir=folder,
    )
