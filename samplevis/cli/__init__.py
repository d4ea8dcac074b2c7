"""The `samplevis` command line (the console script runs `main`): a module per command, each
adding its parser and running it; `command_line.COMMANDS` lists them."""

from samplevis.cli.command_line import build_parser, main

__all__ = ["build_parser", "main"]
