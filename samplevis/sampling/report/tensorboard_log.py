"""The TensorBoard log of a `render` run (`render(..., log_dir=...)`, or
`samplevis.save_tensorboard(result, log_dir)` afterwards), written from the result's arrays once
the run ends, so an interrupted run logs what it drew.

Steps are MCMC steps counted as the trace plot counts them (`plots.trace_steps`): the chains'
starts at step 0, then every step of burn-in, then each kept sample at the step it
was drawn (with thinning, every `num_steps_between_results + 1` steps). Tags, per chain c:

    activation/chain_{c}   the objective under the fixed transforms: start, every step, samples
    acceptance/chain_{c}   the step's Metropolis acceptance probability, min(1, exp(log ratio))
    step_size/chain_{c}    the leapfrog step size (adapting during burn-in)
    samples/chain_{c}      each kept sample, an image at its step
    starts                 the chains' starts, C images at step 0
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from samplevis.io.event_files import Curves, file_writer, log_folder, write_images
from samplevis.sampling.mcmc.kernels import accept_prob
from samplevis.sampling.report.plots import trace_steps

if TYPE_CHECKING:
    from samplevis.sampling.report.run import Run


def _step_curves(result: Run, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(steps [S], values [S, 2C]): acceptance then step size of every chain at every step
    of burn-in and at every kept sample (those the result holds: `steps` as
    `trace_steps` gives them)."""
    burnin = result.burnin_activations.shape[0]
    parts = [
        (trace, at)
        for trace, at in (
            (result.burnin_trace, steps[1 : burnin + 1]),
            (result.trace, steps[burnin + 1 :]),
        )
        if trace
    ]
    at = np.concatenate([at for _, at in parts] + [np.zeros([0], np.int64)])
    values = np.concatenate(
        [
            np.concatenate(
                [accept_prob(trace["log_accept_ratio"]).numpy(), trace["step_size"]], axis=1
            )
            for trace, _ in parts
        ]
        + [np.zeros([0, 2 * result.num_chains])]
    )
    return at, values


def save_tensorboard(result: Run, log_dir: str | os.PathLike) -> Path:
    """Write `result` as a TensorBoard event file in `log_dir` (see the module's docstring for
    its tags and steps).

    Args:
        result: a run, as `samplevis.render` returns it (a `SampleResult`).
        log_dir: the folder, created if missing.

    Returns:
        The folder.

    Raises:
        TypeError: `log_dir` is None.

    Examples:
        ```python
        result = samplevis.render(model, obj, hmc_opts=dict(num_results=10), seed=0)
        samplevis.save_tensorboard(result, "logs/run0")  # tensorboard --logdir logs
        ```
    """
    folder = log_folder(log_dir)
    if folder is None:
        raise TypeError("log_dir must be a folder path (a str or os.PathLike); got None.")
    chains = range(result.num_chains)
    steps, activations = trace_steps(result)
    steps = steps.astype(np.int64)
    writer = file_writer(folder)
    try:
        Curves(writer, [f"activation/chain_{c}" for c in chains]).write(steps, activations)
        at, values = _step_curves(result, steps)
        if len(at):
            tags = [f"{name}/chain_{c}" for name in ("acceptance", "step_size") for c in chains]
            Curves(writer, tags).write(at, values)
        with writer.as_default():
            write_images("starts", result.init_images, 0)
            kept_steps = steps[result.burnin_activations.shape[0] + 1 :]
            for step, batch in zip(kept_steps, result.images):
                for c in chains:
                    write_images(f"samples/chain_{c}", batch[c : c + 1], int(step))
    finally:
        writer.close()
    return folder
