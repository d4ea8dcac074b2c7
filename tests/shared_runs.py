"""Runs of the `samplevis` command that tests of several modules assert on, each made once per
test process (the first test that asks makes it): a sample run traces its TensorFlow programs
again on every run, for seconds, whatever its size. A test that writes into a run's folder
copies it first."""

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from samplevis import cli

from cli_args import sample


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


MADE: dict[str, Run] = {}  # each run by its function's name, once made in this process


def small_sample_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`samplevis sample` of the Gabor model's channel 0 at 16 px: 2 chains from the facet
    search's starts (4 optimization steps), 4 burn-in steps, 4 samples each (the fewest the
    draws' tests take), T matched to the starts, a TensorBoard log in `logs`."""
    if "small_sample_run" in MADE:
        return MADE["small_sample_run"]
    base = tmp_path_factory.mktemp("small_sample")
    logs = base / "logs" / "sample"
    status, err = run_capturing(
        sample(
            base / "run",
            size=16,
            num_results=4,
            num_chains=2,
            num_burnin_steps=4,
            optimize_steps=4,
            temperature_steps=0,
            log_dir=logs,
        )
    )
    MADE["small_sample_run"] = Run(status, err, base / "run", logs)
    return MADE["small_sample_run"]
