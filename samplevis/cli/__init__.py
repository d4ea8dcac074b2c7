"""The `samplevis` command: optimize (also `render`), sample, layers, gallery, atlas, examples.

samplevis layers --model efficientnet_lite0
samplevis optimize --objective block5c_add:12 --steps 256 --out out/
samplevis sample --objective block6a_expand_activation:301 --num-results 10 --out out/
samplevis gallery out/
samplevis atlas --layers block3a_expand_activation --out atlas/
samplevis examples --images photos/ --objective block4c_add:12 --out examples/
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import inspect
import sys
from collections.abc import Callable
from typing import Any

from samplevis.cli import atlas as atlas_command
from samplevis.cli import examples as examples_command
from samplevis.cli import gallery, layers, sample
from samplevis.cli import optimize as render
from samplevis.cli.quiet import QuietTensorFlow, quiet_tensorflow
from samplevis.cli.shell import (
    INTERRUPTED,
    OK,
    UsageError,
    discard,
    explained,
    say,
    stopped,
    warnings_said,
)
from samplevis.optvis import recipes
from samplevis.runtime import signals
from samplevis.runtime.checks import NO_VALUE, Spelling, python_spelling, spelt
from samplevis.zoo.specs import DEFAULT as DEFAULT_MODEL

# The commands give the same images for the same flags unless told otherwise (the library draws
# a seed when given none).
SEED = 0


class FromLibrary:
    """A flag's default that a library module importing TensorFlow holds: read when a command
    runs, or when its --help shows it, so that the other commands start without TensorFlow."""

    def __init__(self, read: Callable[[], Any]):
        self.read = read

    def __str__(self) -> str:  # argparse's %(default)s in --help
        return str(self.read())


def _render_vis_default(name: str) -> Any:
    from samplevis.optvis import optimize

    return inspect.signature(optimize.render_vis).parameters[name].default


def _examples_top() -> int:
    from samplevis.examples import collect

    return inspect.signature(collect.dataset_examples).parameters["top"].default


def _learning_rate() -> float:
    from samplevis.optvis import optimize

    return optimize.DEFAULT_LEARNING_RATE


class _Given(argparse.Action):
    """Store the value and note that it was given (`<dest>_given`), so that a default can depend
    on other flags."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def _positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1; got {text!r}")
    return value


def _positive_number(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    import samplevis
    from samplevis.optvis import param
    from samplevis.sampling import options

    parser = argparse.ArgumentParser(prog="samplevis", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def verbose(p):
        p.add_argument(
            "--verbose",
            action="store_true",
            help="show TensorFlow's start-up log and C++ messages (CUDA probing, "
            "oneDNN notices), hidden otherwise",
        )

    def common(p, objective=True):
        p.set_defaults(command_parser=p)  # for error messages in its flags
        # dest "spec": the option of zoo.load, whose errors then name this flag
        p.add_argument(
            "--model",
            dest="spec",
            default=DEFAULT_MODEL,
            help="zoo or Keras application name, .keras or .h5 file, or "
            "module:function or file.py:function returning a model (default "
            "%(default)s, offline)",
        )
        if objective:
            p.add_argument(
                "--objective",
                required=True,
                help="'layer:channel', e.g. block5c_add:12 (see `samplevis layers`)",
            )
            p.add_argument("--out", default="out", help="output folder (default: %(default)s)")
            p.add_argument(
                "--seed",
                type=int,
                default=SEED,
                help="same seed and options, same images (default %(default)s)",
            )
            p.add_argument("--quiet", action="store_true", help="no progress bar")
            p.add_argument(
                "--log-dir",
                metavar="DIR",
                help="also write a TensorBoard log to DIR (created if missing); view "
                "it with `tensorboard --logdir DIR` (pip install tensorboard)",
            )
        verbose(p)

    p = sub.add_parser(
        "layers",
        help="list the layers of a model and their channel counts",
        description="List the layers of --model that objectives can name: layer name, type, "
        "output shape and channel count (an objective's channel runs from 0 to the "
        "count - 1).",
    )
    common(p, objective=False)
    p.set_defaults(func=layers.run)

    p = sub.add_parser(
        "optimize",
        aliases=["render"],  # its earlier name, kept for scripts that call it
        help="optimize images for an objective and write PNGs",
        description="Optimize images for an objective by gradient ascent (FFT, colour-"
        "decorrelated images seen through random transforms) and write "
        "<objective>_<step>_<i>.png to --out at every threshold.",
    )
    common(p)
    p.add_argument(
        "--steps",
        type=_positive_int,
        default=FromLibrary(lambda: _render_vis_default("thresholds")[-1]),
        help="optimization steps (default %(default)s)",
    )
    p.add_argument(
        "--thresholds",
        type=_positive_int,
        nargs="+",
        help="write images at these steps; the run ends at the largest, and --steps is "
        "then ignored (default: at --steps only)",
    )
    p.add_argument(
        "--size",
        type=_positive_int,
        default=options.DEFAULT_IMAGE_SIZE,
        help="image size in pixels (default %(default)s)",
    )
    p.add_argument(
        "--batch",
        type=_positive_int,
        default=inspect.signature(param.image).parameters["batch"].default,
        help="images rendered at once, each from its own start (default %(default)s)",
    )
    p.add_argument(
        "--learning-rate",
        type=_positive_number,
        default=FromLibrary(_learning_rate),
        action=_Given,
        help="Adam's learning rate (default %(default)s); with --param maco, Nadam's "
        "(default 1.0, MACO's)",
    )
    p.set_defaults(learning_rate_given=False)
    p.add_argument(
        "--param",
        choices=recipes.PARAMS,
        default="image",
        help="the image parameterization: 'image', Lucid's (FFT spectrum, colour "
        "decorrelation) seen through the standard transforms, or 'maco', MACO's (only the "
        "Fourier phase moves, the magnitude is a photographs' spectrum) seen through 32 random "
        "crops with noise, meant for deep layers and slower (default %(default)s)",
    )
    p.add_argument(
        "--no-transforms",
        dest="transforms",
        action="store_false",
        help="optimize the image as the network sees it, without the random "
        "transforms (a 12 px grey border, shifts of up to 12 px, scale and "
        "rotation: much of a small image; with --param maco, its crops)",
    )
    p.add_argument(
        "--alpha",
        action="store_true",
        help="render RGBA images, composited over a random image at every step, and maximize "
        "the objective times the image's mean transparency (Lucid's transparency notebook): "
        "what the unit does not need turns transparent in the PNGs",
    )
    p.set_defaults(func=render.run)

    p = sub.add_parser(
        "sample",
        help="draw diverse high-activation images with HMC",
        description="Draw diverse high-activation images with HMC, from chains started at "
        "optimized images. Writes to --out: sample_chain<c>_<i>.png for every sample, "
        "samples.gif (the chains side by side), std.png (per-pixel standard deviation "
        "across each chain's samples: bright where the unit lets the image vary), "
        "starts.png, diagnostics.json and, with matplotlib (samplevis[plot]), "
        "trace.png (the activation per chain over tuning, burn-in and sampling).",
    )
    common(p)
    _add_hmc_opts(p, options)
    p.add_argument(
        "--size",
        type=_positive_int,
        default=options.DEFAULT_IMAGE_SIZE,
        help="image size in pixels (default %(default)s)",
    )
    p.add_argument(
        "--examples",
        metavar="EXAMPLES.json",
        help="an examples.json (samplevis examples) of the objective: each facet gets the top "
        "images that look most like its optimum (facet_K_example_J.png, the part its unit "
        "saw)",
    )
    p.set_defaults(func=sample.run)

    atlas = inspect.signature(samplevis.atlas).parameters
    p = sub.add_parser(
        "atlas",
        help="render every channel of layers into a browsable, resumable atlas",
        description="Render every channel (or --channels) of --layers, --batch channels at a "
        "time, and write OUT/LAYER/CHANNEL.png, OUT/atlas.json (per channel: the "
        "objective reached, steps, seed, files, seconds) and OUT/index.html, a page "
        "to browse them (no server needed). A rerun skips the channels written "
        "already; Ctrl-C (or SIGTERM, SIGHUP) keeps those finished. Several runs with the same "
        "settings may write into one --out at once (terminals, a scheduler's jobs): they merge "
        "their channels and share the work. --ray renders on a Ray cluster "
        "(pip install 'samplevis[ray]').",
    )
    common(p, objective=False)
    p.add_argument(
        "--layers",
        nargs="+",
        required=True,
        metavar="LAYER",
        help="layer names, or all: every activation layer (see `samplevis layers`)",
    )
    p.add_argument("--channels", help="channels of every layer, e.g. 0-63 or 0-7,12 (default: all)")
    p.add_argument(
        "--steps",
        type=_positive_int,
        default=atlas["steps"].default,
        help="optimization steps (default %(default)s)",
    )
    p.add_argument(
        "--size",
        type=_positive_int,
        default=atlas["size"].default,
        help="image size in pixels (default %(default)s)",
    )
    p.add_argument(
        "--batch",
        type=_positive_int,
        default=atlas["batch"].default,
        help="channels rendered at once (default %(default)s)",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=atlas["samples"].default,
        help="HMC samples per channel, written as CHANNEL_samples.gif and a strip "
        "CHANNEL_samples.png (default %(default)s: none; each channel then takes "
        "minutes)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=atlas["seed"].default,
        help="same seed and options, same images (default %(default)s)",
    )
    p.add_argument(
        "--param",
        choices=recipes.PARAMS,
        default=atlas["param"].default,
        help="the image parameterization, as `samplevis optimize --param`: 'image', Lucid's, "
        "or 'maco', MACO's (Nadam at 1.0, 32 crops per image: for deep layers, slower) "
        "(default %(default)s)",
    )
    p.add_argument(
        "--alpha",
        action="store_true",
        help="RGBA images, as `samplevis optimize --alpha`: what a channel does not need "
        "turns transparent; the PNGs keep it and the page shows them over a checkerboard",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="render on Ray: alone, a local cluster; with ADDRESS (auto, "
        "ray://HEAD:10001) a running one, whose nodes must have samplevis and "
        "the model",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        help="Ray workers, each loading the model once (default: one per CPU, or "
        "per GPU with --gpus-per-worker)",
    )
    p.add_argument("--gpus-per-worker", type=float, help="GPUs per Ray worker, e.g. 1")
    p.add_argument(
        "--images",
        metavar="DIR",
        help="also find each channel's top images in the folder DIR first (as `samplevis "
        "examples`), written to OUT/examples and shown beside the channel on the page",
    )
    p.add_argument(
        "--top",
        type=_positive_int,
        default=FromLibrary(_examples_top),
        help="with --images, the images kept per channel (default %(default)s)",
    )
    p.add_argument(
        "--out", default=atlas["out"].default, help="output folder (default: %(default)s)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=atlas_command.run)

    _add_examples(sub.add_parser, common)

    p = sub.add_parser(
        "gallery",
        help="write index.html showing every PNG and GIF in a folder",
        description="Write index.html in FOLDER showing every PNG and GIF under it. Each folder "
        "that `samplevis sample` wrote shows as a section: the objective, a strip per "
        "chain in the order drawn (its start, then its samples with their activation, its "
        "std and structure maps beside), a table of each chain's figures, "
        "the GIF and the trace plot, then the summary and the MCMC diagnostics in words, "
        "folded. Each folder that `samplevis examples` wrote shows a strip per unit of its top "
        "images' crops, beside the unit's optimized image when FOLDER holds one. Of a diagnostics.json written in part, or by an interrupted or older run, "
        "it shows what it can and names what it skipped.",
    )
    p.add_argument("folder")
    verbose(p)
    p.set_defaults(command_parser=p)
    p.set_defaults(func=gallery.run)
    return parser


def _add_examples(add_parser: Callable, common: Callable) -> None:
    """`samplevis examples`, its defaults from `dataset_examples`'s."""
    from samplevis.examples import collect

    defaults = inspect.signature(collect.dataset_examples).parameters
    p = add_parser(
        "examples",
        help="find the images of a folder that drive units most",
        description="Stream every image under --images (recursively: JPEG, PNG, WebP, ...), "
        "run the network up to the layers needed, and keep each unit's --top images and the "
        "box of each that its most active position sees (its receptive field). Writes "
        "OUT/examples.json (per unit: files relative to --images, values, boxes in the files' "
        "pixels) and OUT/UNIT/NN.png (the image, its box outlined) and NN_crop.png. Files that "
        "do not decode are skipped and counted. A rerun goes on from the files read; Ctrl-C "
        "(or SIGTERM, SIGHUP) keeps the top images so far.",
    )
    common(p, objective=False)
    p.add_argument("--images", required=True, metavar="DIR", help="the folder of images")
    p.add_argument(
        "--objective",
        nargs="+",
        metavar="LAYER:CHANNEL",
        help="units, e.g. block4c_add:12 (see `samplevis layers`)",
    )
    p.add_argument(
        "--layer", nargs="+", metavar="LAYER", help="layers whose every channel is a unit"
    )
    p.add_argument(
        "--top",
        type=_positive_int,
        default=defaults["top"].default,
        help="images kept per unit (default %(default)s)",
    )
    p.add_argument(
        "--batch",
        type=_positive_int,
        default=defaults["batch"].default,
        help="images per network call (default %(default)s)",
    )
    p.add_argument(
        "--size",
        type=_positive_int,
        help=f"input side in px for a network that takes any size (default "
        f"{collect.DEFAULT_SIZE}); a fixed-input network takes its own",
    )
    p.add_argument("--out", default="examples", help="output folder (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=examples_command.run)


def _add_hmc_opts(p: argparse.ArgumentParser, options) -> None:
    """A flag for every key of `render`'s hmc_opts, from the library's table (`options.OPTIONS`):
    --num-results for num_results, --no-adapt-step-size for adapt_step_size=False. Its dest is
    the option ('hmc_opts.num_results'), so that errors about it name the flag."""
    added = []
    for name, option in options.OPTIONS.items():
        dest, flag = sample.HMC_OPTS + name, "--" + name.replace("_", "-")
        text = option.help.replace("%", "%%")
        if name == "num_chains":  # render needs no count, but --init and the images here do
            text, option = (
                "chains, each from its own start",
                dataclasses.replace(option, default=options.DEFAULT_NUM_CHAINS),
            )
        if name == "init":  # files on the command line, images in Python
            action = p.add_argument(
                flag,
                dest=dest,
                nargs="+",
                metavar="optimize|prior|IMAGE|EXAMPLES.json|PHOTOS/",
                help="where the chains start: optimize (default: images optimized for the "
                "objective), prior (needs {hmc_opts.temperature}), image files: one that "
                "every chain starts from, or one per chain, cropped to their centre square "
                "and resized to --size; or an examples.json (samplevis examples) or its "
                "folder: the objective's top photos in {hmc_opts.photo_clusters} clusters, "
                "each optimized from its start image into a facet shown with its photos; or a "
                "folder of photos, ranked for the objective first (into OUT/examples, "
                + f"{sample.PHOTOS_PER_CLUSTER} per cluster)",
            )
        elif option.kind is bool:  # a switch away from the default
            action = p.add_argument(
                "--no-" + flag[2:] if option.default else flag,
                dest=dest,
                action="store_const",
                const=not option.default,
                default=option.default,
                help=f"turn off: {text}" if option.default else text,
            )
        else:
            action = p.add_argument(
                flag,
                dest=dest,
                type=option.kind,
                default=option.default,
                metavar=name.upper(),
                help=text + ("" if option.default is None else " (default %(default)s)"),
            )
        added.append(action)
    spell = flag_spelling(p)
    for action in added:
        action.help = spelt(action.help or "", spell)


def flag_spelling(parser: argparse.ArgumentParser) -> Spelling:
    """How `parser`'s command names the library's options: by the flag whose dest is the option
    ('steps', 'hmc_opts.num_results', 'spec' for --model); with a value, as it is typed
    (--kernel nuts, --no-adapt-step-size). Options without a flag keep their Python names."""
    # argparse keeps its actions here; there is no public view
    actions = {action.dest: action for action in parser._actions if action.option_strings}

    def spell(option: str, value: Any = NO_VALUE) -> str:
        action = actions.get(option)
        if action is None:
            return python_spelling(option, value)
        flag = action.option_strings[0]
        if value is NO_VALUE:
            return flag
        if action.nargs == 0:  # a switch: it stores its const
            return flag if value == action.const else f"without {flag}"
        if value is None:
            return f"without {flag}"
        if isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value)
        return f"{flag} {value}"

    return spell


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv` (default: the command line); returns the exit status. Output
    piped into a reader that stops early (`| head`) ends it quietly with status 0."""
    try:
        with quiet_tensorflow() as quiet:
            status = _run(argv, quiet)
        sys.stdout.flush()  # inside the try: a reader gone shows here, not at exit
        return status
    except BrokenPipeError:
        for stream in (sys.stdout, sys.stderr):
            discard(stream)
        return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's arguments; flags it does not know exit with status 2 naming the
    closest ones the command has, or, for an option of `render` that is gone, what to give
    instead."""
    from samplevis.sampling import options

    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        command = getattr(args, "command_parser", parser)
        sampling = any(a.dest.startswith(sample.HMC_OPTS) for a in command._actions)
        for extra in extras:
            flag = extra.partition("=")[0]
            name = flag.removeprefix("--").replace("-", "_")
            if sampling and flag.startswith("--") and name in options.REMOVED:
                command.error(spelt(options.REMOVED[name], flag_spelling(command), given=flag))
        known = [
            flag
            for action in command._actions
            for flag in action.option_strings
            if flag.startswith("--")
        ]  # argparse keeps its actions here; no public view
        guesses = {}
        for extra in extras:
            flag = extra.partition("=")[0]
            close = difflib.get_close_matches(flag, known, n=1) if flag.startswith("-") else []
            if close:
                guesses[flag] = close[0]
        if len(guesses) == 1:
            hint = f" Did you mean {next(iter(guesses.values()))}?"
        elif guesses:
            hint = f" Did you mean {', '.join(f'{g} for {f}' for f, g in guesses.items())}?"
        else:
            hint = f" See {command.prog} --help."
        command.error(f"unrecognized arguments: {' '.join(extras)}.{hint}")
    return args


def _run(argv: list[str] | None, quiet: QuietTensorFlow) -> int:
    """Parse `argv` and run its command: SIGTERM and SIGHUP stop it as Ctrl-C does, and exit
    with the shell's status for them (143, 129)."""
    args = _parse(argv)
    if args.verbose:
        quiet.off()
    for dest, value in vars(args).items():
        if isinstance(value, FromLibrary):
            setattr(args, dest, value.read())
    spell = flag_spelling(args.command_parser)
    with signals.stop_on_termination() as stop:
        try:
            with warnings_said(spell):
                status = args.func(args)
        except KeyboardInterrupt:
            say(f"{stopped()}.")
            return stop.status
        except BrokenPipeError:  # stderr's reader has gone; `main` ends quietly
            raise
        except (UsageError, ValueError, OSError) as err:
            status, message = explained(err, getattr(args, "spec", None), spell)
            say(message)
            return status
    if stop.signum is None or status not in (OK, INTERRUPTED):
        return status
    if status == OK:  # the signal came as the run ended, and its files are all written
        say(f"{stopped()} as the run ended; its files are written.")
    return stop.status


if __name__ == "__main__":
    sys.exit(main())
