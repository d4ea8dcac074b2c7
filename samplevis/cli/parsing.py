"""The command line read into a command's arguments. What argparse would only call unrecognized
exits with status 2 saying what to give instead: the command's new name, the library's
replacement for an option that is gone, or the closest flags the command has."""

from __future__ import annotations

import argparse
import difflib
import shlex
from collections.abc import Sequence

from samplevis.cli.arguments import flag_spelling, flags
from samplevis.cli.sample import HMC_OPTS
from samplevis.runtime.checks import spelt
from samplevis.sampling import options

# Commands that were renamed: old name -> new name (same flags). `render` is the library's HMC
# sampler, so the command that optimizes is no longer called that.
RENAMED = {"render": "optimize"}


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """`argv` parsed by `parser` (the whole command line's), or exit with status 2 naming the
    fix."""
    if argv and argv[0] in RENAMED:
        new = RENAMED[argv[0]]
        parser.error(
            f"`samplevis {argv[0]}` is now `samplevis {new}` (same flags): "
            f"{shlex.join(['samplevis', new, *argv[1:]])}"
        )
    args, extras = parser.parse_known_args(argv)
    if extras:
        command = getattr(args, "command_parser", parser)
        command.error(_removed(command, extras) or _unrecognized(command, extras))
    return args


def _removed(command: argparse.ArgumentParser, extras: list[str]) -> str | None:
    """What to give instead of the first of `extras` that names a sampling option that is gone
    (`options.REMOVED`), for a command with flags for the sampler's options; None otherwise."""
    if not any(action.dest.startswith(HMC_OPTS) for action in flags(command)):
        return None
    for extra in extras:
        flag = extra.partition("=")[0]
        name = flag.removeprefix("--").replace("-", "_")
        if flag.startswith("--") and name in options.REMOVED:
            return spelt(options.REMOVED[name], flag_spelling(command), given=flag)
    return None


def _unrecognized(command: argparse.ArgumentParser, extras: list[str]) -> str:
    """argparse's message for `extras`, with the closest flags of `command` to give instead or,
    when none is close, where to see them."""
    known = [flag for action in flags(command) for flag in action.option_strings]
    known = [flag for flag in known if flag.startswith("--")]
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
    return f"unrecognized arguments: {' '.join(extras)}.{hint}"
