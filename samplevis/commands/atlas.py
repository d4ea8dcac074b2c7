"""`samplevis atlas`: every channel of some layers, rendered into a resumable, browsable atlas."""

from __future__ import annotations

import argparse
import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.atlas.records import AtlasResult

from samplevis.commands.shell import (
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
