"""`samplevis layers`: the layers of a model that objectives can name, as a table."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.models import LayerInfo


from samplevis.cli import arguments
from samplevis.cli.shell import OK, load_model, print_out


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`samplevis layers [--model MODEL]`."""
    parser = commands.add_parser(
        "layers",
        help="list the layers of a model and their channel counts",
        description="List the layers of --model that objectives can name: layer name, type, "
        "output shape and channel count (an objective's channel runs from 0 to the "
        "count - 1), and for a vision transformer's token layers their patch grid (their "
        "positions) and the tokens ahead of it. Layers inside layers are named by their "
        "path, outer/inner.",
    )
    arguments.add_model(parser)
    arguments.add_verbose(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the table of the model's layers; the exit status."""
    model = load_model(args.spec, pretrained=False)
    for line in table(model.layers_info()):
        print_out(line)
    return OK


def table(infos: Sequence[LayerInfo]) -> list[str]:
    """Lines of a table of `models.LayerInfo`s: name, type, output shape, channels, and a
    column of token grids when a layer has one."""
    rows: list[tuple[str, ...]] = [
        (
            info.name,
            info.kind,
            _shape(info.output_shape),
            "" if info.channels is None else str(info.channels),
            "" if info.tokens is None else info.tokens.describe(),
        )
        for info in infos
    ]
    header: tuple[str, ...] = ("layer", "type", "output shape", "channels", "tokens")
    columns = 5 if any(row[4] for row in rows) else 4
    rows, header = [row[:columns] for row in rows], header[:columns]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(columns)]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header] + rows
    ]


def _shape(dims) -> str:
    """An output shape as 14x14x112; ? where any size fits (fully convolutional models)."""
    return "x".join("?" if d is None else str(d) for d in dims)
