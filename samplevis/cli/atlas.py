"""`samplevis atlas`: every channel of some layers, rendered into a resumable, browsable atlas."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.atlas.records import AtlasResult

from samplevis.cli.shell import (
    INTERRUPTED,
    OK,
    UsageError,
    load_model,
    out_folder,
    say,
    stopped,
)


def run(args: argparse.Namespace) -> int:
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
