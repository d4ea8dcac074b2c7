"""`samplevis examples`: the images of a folder that drive units most, with the part of each that
a unit's most active position sees."""

from __future__ import annotations

import argparse
import inspect

from samplevis.cli import arguments
from samplevis.cli.shell import (
    INTERRUPTED,
    OK,
    UsageError,
    load_model,
    objective,
    out_folder,
    print_out,
    say,
    stopped,
)


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`samplevis examples` and its flags, its defaults those of `dataset_examples`."""
    from samplevis.examples import collect

    defaults = inspect.signature(collect.dataset_examples).parameters
    parser = commands.add_parser(
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
    arguments.add_model(parser)
    arguments.add_verbose(parser)
    parser.add_argument("--images", required=True, metavar="DIR", help="the folder of images")
    parser.add_argument(
        "--objective",
        nargs="+",
        metavar="LAYER:CHANNEL",
        help="units, e.g. block4c_add:12 (see `samplevis layers`)",
    )
    parser.add_argument(
        "--layer", nargs="+", metavar="LAYER", help="layers whose every channel is a unit"
    )
    parser.add_argument(
        "--top",
        type=arguments.positive_int,
        default=defaults["top"].default,
        help="images kept per unit (default %(default)s)",
    )
    parser.add_argument(
        "--batch",
        type=arguments.positive_int,
        default=defaults["batch"].default,
        help="images per network call (default %(default)s)",
    )
    parser.add_argument(
        "--size",
        type=arguments.positive_int,
        help=f"input side in px for a network that takes any size (default "
        f"{collect.DEFAULT_SIZE}); a fixed-input network takes its own",
    )
    arguments.add_out(parser, "examples")
    arguments.add_quiet(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Find and write the units' top images; the exit status."""
    import samplevis

    if not args.objective and not args.layer:
        raise UsageError(
            "name the units: --objective LAYER:CHANNEL (one or more) or --layer LAYER for all "
            "its channels (see `samplevis layers`)."
        )
    units = [objective(spec) for spec in args.objective or ()]
    out = out_folder(args.out)
    model = load_model(args.spec)
    found = samplevis.dataset_examples(
        model,
        units,
        images=args.images,
        layer=args.layer,
        top=args.top,
        out=out,
        batch=args.batch,
        size=args.size,
        progress=not args.quiet,
    )
    print_out(found.index)
    if found.interrupted:
        say(
            f"{stopped()} after {found.read} images; {found.index} holds the top images so "
            "far. The same command goes on from there."
        )
        return INTERRUPTED
    return OK
