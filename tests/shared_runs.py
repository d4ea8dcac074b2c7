"""A `samplevis` command run in the test's process, kept for several tests to assert on (a run
traces its TensorFlow programs again every time, for seconds, whatever its size): the session's
`small_sample_run` (tests/conftest.py) and the modules' own runs. A test that writes into a run's
folder copies it first."""

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from samplevis import cli


@dataclass(frozen=True)
class Run:
    """A finished command: its exit status, what it printed on stderr, the folder it wrote and
    the folder of its TensorBoard log (or None)."""

    status: int
    err: str
    folder: Path
    logs: Path | None = None


def run_capturing(args: list[str]) -> tuple[int, str]:
    """(exit status, stderr) of `samplevis ARGS`, run in this process."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = cli.main(args)
    return status, err.getvalue()
