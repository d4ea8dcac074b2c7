"""`samplevis atlas`: every channel of some layers, rendered into a resumable, browsable atlas."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.atlas.results import AtlasResult

from samplevis.cli import arguments
from samplevis.cli.shell import (
    INTERRUPTED,
    OK,
    UsageError,
    load_model,
    out_folder,
    say,
    stopped,
)


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`samplevis atlas` and its flags, its defaults those of `samplevis.atlas`."""
    import samplevis
    from samplevis.optvis import recipes

    defaults = inspect.signature(samplevis.atlas).parameters
    parser = commands.add_parser(
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
    arguments.add_model(parser)
    arguments.add_verbose(parser)
    parser.add_argument(
        "--layers",
        nargs="+",
        required=True,
        metavar="LAYER",
        help="layer names, or all: every activation layer and every layer with a fused "
        "nonlinearity such as Dense(gelu) (see `samplevis layers`)",
    )
    parser.add_argument(
        "--channels", help="channels of every layer, e.g. 0-63 or 0-7,12 (default: all)"
    )
    arguments.add_steps(parser, defaults["steps"].default)
    arguments.add_size(parser, defaults["size"].default)
    parser.add_argument(
        "--batch",
        type=arguments.positive_int,
        default=defaults["batch"].default,
        help="channels rendered at once (default %(default)s)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=defaults["samples"].default,
        help="HMC samples per channel, written as CHANNEL_samples.gif and a strip "
        "CHANNEL_samples.png (default %(default)s: none; each channel then takes "
        "minutes)",
    )
    arguments.add_seed(parser, defaults["seed"].default)
    parser.add_argument(
        "--param",
        choices=recipes.PARAMS,
        default=defaults["param"].default,
        help="the image parameterization, as `samplevis optimize --param`: 'image', Lucid's, "
        "or 'maco', MACO's (Nadam at 1.0, 32 crops per image: for deep layers, slower) "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--alpha",
        action="store_true",
        help="RGBA images, as `samplevis optimize --alpha`: what a channel does not need "
        "turns transparent; the PNGs keep it and the page shows them over a checkerboard",
    )
    _add_ray(parser)
    _add_images(parser)
    arguments.add_out(parser, defaults["out"].default)
    arguments.add_quiet(parser)
    return parser


def _add_ray(parser: argparse.ArgumentParser) -> None:
    """The flags of a run on Ray: --ray, --workers, --gpus-per-worker."""
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="render on Ray: alone, a local cluster; with ADDRESS (auto, "
        "ray://HEAD:10001) a running one, whose nodes must have samplevis and "
        "the model",
    )
    parser.add_argument(
        "--workers",
        type=arguments.positive_int,
        help="Ray workers, each loading the model once (default: one per CPU, or "
        "per GPU with --gpus-per-worker)",
    )
    parser.add_argument("--gpus-per-worker", type=float, help="GPUs per Ray worker, e.g. 1")


def _add_images(parser: argparse.ArgumentParser) -> None:
    """The flags of each channel's top images: --images, --top."""
    from samplevis.examples import collect

    parser.add_argument(
        "--images",
        metavar="DIR",
        help="also find each channel's top images in the folder DIR first (as `samplevis "
        "examples`), written to OUT/examples and shown beside the channel on the page",
    )
    parser.add_argument(
        "--top",
        type=arguments.positive_int,
        default=inspect.signature(collect.dataset_examples).parameters["top"].default,
        help="with --images, the images kept per channel (default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    """Render the atlas (its examples first, with --images); the exit status."""
    import functools

    import samplevis

    out = out_folder(args.out)
    if args.ray is not None and importlib.util.find_spec("ray") is None:
        raise UsageError("--ray needs Ray: pip install 'samplevis[ray]'.")
    options = {} if args.gpus_per_worker is None else {"num_gpus": args.gpus_per_worker}
    if args.images is not None and not _examples(args, out):
        return INTERRUPTED
    result = samplevis.atlas(
        functools.partial(load_model, args.spec),
        args.layers,
        channels=args.channels,
        steps=args.steps,
        size=args.size,
        batch=args.batch,
        out=out,
        samples=args.samples,
        seed=args.seed,
        cluster=args.ray,
        param=args.param,
        alpha=args.alpha,
        workers=args.workers,
        worker_options=options,
        progress=not args.quiet,
    )
    if args.images is not None and result.entries and not result.interrupted:
        _check(args, result)
    print(result.index)
    if not args.quiet:
        say(summary(result))
    if result.interrupted:
        say(
            f"{stopped()}; {result.out / 'atlas.json'} lists the {len(result.entries)} channels "
            "finished. The same command goes on from there."
        )
        return INTERRUPTED
    return OK


def summary(result: AtlasResult) -> str:
    """What the run did, beside the other runs writing into its folder."""
    said = [f"rendered {_channels(result.rendered)}"]
    if result.skipped:
        said.append(f"{_channels(result.skipped)} done already")
    if result.others:
        said.append(f"{_channels(result.others)} rendered by another run into {result.out}")
    if result.missing and not result.interrupted:
        said.append(f"{_channels(result.missing)} left to another run still rendering them")
    return "atlas: " + "; ".join(said) + "."


def _channels(n: int) -> str:
    return f"{n} channel" if n == 1 else f"{n} channels"


def _check(args: argparse.Namespace, result: AtlasResult) -> None:
    """Check each channel's image against its top photos (`atlas.processing`), say how many
    pass each measure, and write the page again with them."""
    from samplevis.atlas.files import save_page
    from samplevis.atlas.processing import check_atlas
    from samplevis.optvis.blur_check import BLUR_SIGMA, KEEP_SHARE
    from samplevis.optvis.processing_check import PASS_SHARE

    found = check_atlas(load_model(args.spec), result.out, list(result.entries))
    save_page(result.out)
    if not found or args.quiet:
        return
    shares = [c["share"] for c in found.values() if "share" in c]
    if shares:
        passed = sum(share >= PASS_SHARE for share in shares)
        say(
            f"processed like their top photos (Geirhos et al.'s check): {passed} of "
            f"{len(shares)} channels' images at >= {PASS_SHARE:g} of the layers (the page sorts "
            "a layer's channels by it)"
        )
    kept = sum(bool(c.get("blur_passed")) for c in found.values())
    say(
        f"under a {BLUR_SIGMA:g} px blur: {kept} of {len(found)} channels' images keep >= "
        f"{KEEP_SHARE:g} of the share of their value their top photos keep"
    )


def _examples(args: argparse.Namespace, out: Path) -> bool:
    """Write the dataset examples of the atlas's channels from --images to OUT/examples, which
    the atlas page shows beside each channel; False when Ctrl-C stopped the pass."""
    import samplevis
    from samplevis.atlas.files import EXAMPLES
    from samplevis.atlas.plan import ALL, activation_layers, parse_channels

    model = load_model(args.spec)
    layers = activation_layers(model) if args.layers == [ALL] else args.layers
    wanted = parse_channels(args.channels)
    if wanted is None:
        units, by_layer = [], layers
    else:
        units, by_layer = [f"{layer}:{c}" for layer in layers for c in wanted], None
    found = samplevis.dataset_examples(
        model,
        units,
        images=args.images,
        layer=by_layer,
        top=args.top,
        out=out / EXAMPLES,
        progress=not args.quiet,
    )
    if found.interrupted:
        say(
            f"{stopped()} after {found.read} images; {found.index} holds the top images so "
            "far. The same command goes on from there."
        )
        return False
    return True
