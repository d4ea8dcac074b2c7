"""`samplevis optimize`: optimize images for an objective and write a PNG per threshold."""

from __future__ import annotations

import argparse
import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from samplevis.optvis.optimize import NonFiniteObjectiveError


from pathlib import Path

from samplevis.cli import arguments
from samplevis.cli.shell import (
    INTERRUPTED,
    OK,
    USAGE,
    WRITE_FAILED,
    load_model,
    objective,
    out_folder,
    print_out,
    resize_said_once,
    say,
    slug,
    stopped,
    written,
)
from samplevis.runtime import signals


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`samplevis optimize` and its flags, its defaults those of `render_vis`."""
    from samplevis.optvis import param, recipes
    from samplevis.sampling import options

    parser = commands.add_parser(
        "optimize",
        help="optimize images for an objective and write PNGs",
        description="Optimize images for an objective by gradient ascent (FFT, colour-"
        "decorrelated images seen through random transforms) and write "
        "<objective>_<step>_<i>.png to --out at every threshold.",
    )
    arguments.add_model(parser)
    arguments.add_objective(parser)
    arguments.add_verbose(parser)
    arguments.add_steps(
        parser, arguments.FromLibrary(lambda: _render_vis_default("thresholds")[-1])
    )
    parser.add_argument(
        "--thresholds",
        type=arguments.positive_int,
        nargs="+",
        help="write images at these steps; the run ends at the largest, and --steps is "
        "then ignored (default: at --steps only)",
    )
    arguments.add_size(parser, options.DEFAULT_IMAGE_SIZE)
    parser.add_argument(
        "--batch",
        type=arguments.positive_int,
        default=inspect.signature(param.image).parameters["batch"].default,
        help="images rendered at once, each from its own start (default %(default)s)",
    )
    parser.add_argument(
        "--learning-rate",
        type=arguments.positive_number,
        default=arguments.FromLibrary(_learning_rate),
        action=arguments.Given,
        help="Adam's learning rate (default %(default)s); with --param maco, Nadam's "
        "(default 1.0, MACO's)",
    )
    parser.set_defaults(learning_rate_given=False)
    parser.add_argument(
        "--param",
        choices=recipes.PARAMS,
        default="image",
        help="the image parameterization: 'image', Lucid's (FFT spectrum, colour "
        "decorrelation) seen through the standard transforms, or 'maco', MACO's (only the "
        "Fourier phase moves, the magnitude is a photographs' spectrum) seen through 32 random "
        "crops with noise, meant for deep layers and slower (default %(default)s)",
    )
    parser.add_argument(
        "--no-transforms",
        dest="transforms",
        action="store_false",
        help="optimize the image as the network sees it, without the random "
        "transforms (a 12 px grey border, shifts of up to 12 px, scale and "
        "rotation: much of a small image; with --param maco, its crops)",
    )
    parser.add_argument(
        "--alpha",
        action="store_true",
        help="render RGBA images, composited over a random image at every step, and maximize "
        "the objective times the image's mean transparency (Lucid's transparency notebook): "
        "what the unit does not need turns transparent in the PNGs",
    )
    return parser


def _render_vis_default(name: str) -> Any:
    """The default of `render_vis`'s argument `name` (its module imports TensorFlow)."""
    from samplevis.optvis import optimize

    return inspect.signature(optimize.render_vis).parameters[name].default


def _learning_rate() -> float:
    """`render_vis`'s default learning rate (its module imports TensorFlow)."""
    from samplevis.optvis import optimize

    return optimize.DEFAULT_LEARNING_RATE


def run(args: argparse.Namespace) -> int:
    """Optimize, write the PNGs and say what went wrong; the exit status."""
    import samplevis
    from samplevis.io.event_files import log_folder
    from samplevis.optvis import recipes

    obj = objective(args.objective)
    recipes.check_choice(args.param, args.alpha)  # before the model loads
    out = out_folder(args.out)
    log_dir = log_folder(args.log_dir)
    model = load_model(args.spec)
    thresholds = tuple(args.thresholds or (args.steps,))
    name = slug(obj.name)
    parts = recipes.recipe(
        model,
        obj,
        args.size,
        args.batch,
        args.param,
        args.alpha,
        transforms=args.transforms,
        learning_rate=args.learning_rate if args.learning_rate_given else None,
    )
    try:
        with resize_said_once(model, args.size):
            rendering = samplevis.render_vis(
                model,
                parts.objective,
                param_f=parts.param,
                optimizer=parts.optimizer,
                transforms=parts.transforms,
                thresholds=thresholds,
                seed=args.seed,
                progress=not args.quiet,
                return_state=True,
                log_dir=log_dir,
            )
    except samplevis.NonFiniteObjectiveError as err:
        images, steps = err.images, err.steps
        written(lambda folder: write_renders(folder / name, thresholds, images, steps), out)
        say(
            non_finite_message(
                err,
                f"wrote the images so far, ending with those after step {err.steps}",
                f"Render at most {err.steps} steps (--steps), lower --learning-rate",
            )
        )
        return USAGE
    except samplevis.MemoryLimitError as err:
        if getattr(err, "images", None):  # out of memory during the run: keep what it rendered
            images, steps = err.images, err.steps
            written(lambda folder: write_renders(folder / name, thresholds, images, steps), out)
            say(f"wrote the images so far, those after step {steps}.")
        raise
    last_step = rendering.steps if rendering.interrupted else None
    with signals.held():  # a SIGTERM now waits for the files and the line about them
        _, in_out = written(
            lambda folder: write_renders(folder / name, thresholds, rendering.images, last_step),
            out,
        )
        if rendering.interrupted:
            say(
                f"{stopped()} at step {rendering.steps} of {thresholds[-1]}; wrote the images "
                "so far."
            )
            return INTERRUPTED
    # Exactly 0 after every step, with ReLU gradient redirection on, is a unit that is off for
    # every image the optimizer tried; the images are then the start, not what the unit likes.
    zero = [i for i, v in enumerate(rendering.values) if v == 0]
    if zero:
        say(
            f"the objective is exactly 0 for image{'s' if len(zero) > 1 else ''} {zero} after "
            f"{rendering.steps} steps: the unit is off for every image tried (a dead unit?). Try "
            "another --seed or another channel."
        )
    return OK if in_out else WRITE_FAILED


def non_finite_message(
    err: NonFiniteObjectiveError, outcome: str, fewer_steps: str, during: str = ""
) -> str:
    """What a `NonFiniteObjectiveError` means on the command line: the step, `outcome` (what was
    kept) and the fixes, `fewer_steps` first unless no step stayed finite."""
    fixes = f"{fewer_steps}, or add" if err.steps else "Add"
    return (
        f"{during}the objective or its gradient became NaN or infinite at step "
        f"{err.steps + 1}; {outcome}. {fixes} a penalty to the objective in Python "
        "(e.g. - 1e-3 * objectives.L2())."
    )


def write_renders(
    prefix: Path, thresholds: tuple[int, ...], images: list, last_step: int | None
) -> list[Path]:
    """Writes (and prints) `prefix`_STEP_I.png for image I of each batch in `images`: one batch
    per threshold reached, then, when the run stopped early, the batch after `last_step` steps."""
    from samplevis import io

    steps = list(thresholds[: len(images)])
    if last_step is not None:
        steps[len(images) - 1 :] = [last_step]
    paths = []
    for step, batch in zip(steps, images):
        for i, image in enumerate(batch):
            paths.append(io.save_png(f"{prefix}_{step:04d}_{i}.png", image))
            print_out(paths[-1])
    return paths
