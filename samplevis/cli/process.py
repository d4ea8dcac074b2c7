"""The `samplevis` command as a process: `run` is the console script's entry.

After the command has returned and the process's exit handlers have run, the process ends
without tearing down its Python objects: a run leaves hundreds of thousands of them (TensorFlow's
traced graphs, the network, the draws), and freeing them one by one kept the process alive for
seconds after its last file was written and closed (docs/benchmarks.md, "Writing the files").
Nothing is lost by skipping that: every file is written whole before the command returns.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys

from samplevis.cli.command_line import main

INTERRUPTED_BY_USER = 130  # the shell's status for a process ended by Ctrl-C


class _Ending:
    """The exit handler registered before any other of the command's (TensorFlow's, Ray's, the
    progress bars'), so it runs after all of them (exit handlers run last registered first)."""

    def __init__(self) -> None:
        self.status = 1  # until the command returns: an error ends the process with 1

    def now(self) -> None:
        logging.shutdown()  # registered before this handler, so it would not run after it
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed stream or a reader gone: nothing to flush
                pass
        os._exit(self.status)


def _status(code: object) -> int:
    """The process's status for `sys.exit(code)`: None 0, an int itself, anything else (printed
    by the interpreter) 1."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def run() -> None:
    """Run the command line's command (`main`) and end the process with its status."""
    ending = _Ending()
    atexit.register(ending.now)
    try:
        status = main()
    except SystemExit as exit_:  # argparse's --help and usage errors
        ending.status = _status(exit_.code)
        raise
    except KeyboardInterrupt:
        ending.status = INTERRUPTED_BY_USER
        raise
    ending.status = status
    sys.exit(status)
