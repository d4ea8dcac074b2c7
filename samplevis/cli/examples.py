"""`samplevis examples`: the images of a folder that drive units most, with the part of each that
a unit's most active position sees."""

from __future__ import annotations

import argparse

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


def run(args: argparse.Namespace) -> int:
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
