"""The `samplevis` command: optimize, sample, layers, gallery, atlas, examples.

samplevis layers --model efficientnet_lite0
samplevis optimize --objective block5c_add:12 --steps 256 --out out/
samplevis sample --objective block6a_expand_activation:301 --num-results 10 --out out/
samplevis gallery out/
samplevis atlas --layers block3a_expand_activation --out atlas/
samplevis examples --images photos/ --objective block4c_add:12 --out examples/
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Protocol

from samplevis.cli import atlas, examples, gallery, layers, optimize, sample
from samplevis.cli.arguments import FromLibrary, flag_spelling
from samplevis.cli.parsing import parse
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
from samplevis.runtime import signals


class Command(Protocol):
    """A command's module: it adds its parser (named, with its flags) and runs the parsed
    arguments, returning the exit status."""

    def add_parser(self, commands: argparse._SubParsersAction) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace) -> int: ...


# The commands, in the order `samplevis --help` lists them. A new command is a module with
# `add_parser` and `run` (a Command), and its entry here.
COMMANDS: tuple[Command, ...] = (layers, optimize, sample, atlas, examples, gallery)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line: a subparser per command in COMMANDS."""
    parser = argparse.ArgumentParser(prog="samplevis", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        added = command.add_parser(commands)
        # command_parser: for messages in its own flags
        added.set_defaults(func=command.run, command_parser=added)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in `argv` (default: the command line); returns the exit status. Output
    piped into a reader that stops early (`| head`) ends it quietly with status 0."""
    try:
        with quiet_tensorflow() as quiet:
            status = _run(sys.argv[1:] if argv is None else argv, quiet)
        sys.stdout.flush()  # inside the try: a reader gone shows here, not at exit
        return status
    except BrokenPipeError:
        for stream in (sys.stdout, sys.stderr):
            discard(stream)
        return 0


def _run(argv: Sequence[str], quiet: QuietTensorFlow) -> int:
    """Parse `argv` and run its command: SIGTERM and SIGHUP stop it as Ctrl-C does, and exit
    with the shell's status for them (143, 129)."""
    args = parse(build_parser(), argv)
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
