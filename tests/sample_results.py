"""A SampleResult whose numbers say where they belong, for the tests of what reads one (its
TensorBoard log, the command line's report and gallery)."""

import dataclasses
import types

import numpy as np

from samplevis.sampling.options import resolve_options
from samplevis.sampling.report.result import SampleResult

C, N, THIN = 2, 3, 1  # chains, kept samples, steps discarded between them
TUNING, BURNIN = 2, 3


def known_result() -> SampleResult:
    """A result whose numbers say where they belong: chain c's activation at MCMC step s is
    10 c + s, its step size 0.1 (c + 1) + s / 1000, its log accept ratio log(s / 100)."""
    burnin_steps = np.arange(1, TUNING + BURNIN + 1)[:, None]
    sample_steps = TUNING + BURNIN + (THIN + 1) * np.arange(1, N + 1)[:, None]
    chain = np.arange(C)[None]

    def trace(steps):
        return {
            "activation": (10 * chain + steps).astype(np.float32),
            "step_size": (0.1 * (chain + 1) + steps / 1000 + 0 * chain).astype(np.float32),
            "log_accept_ratio": np.log(steps / 100 + 0 * chain).astype(np.float32),
        }

    grey = (np.arange(N)[:, None] + chain + 1) / 10  # sample i of chain c: (i + c + 1) / 10
    return SampleResult(
        images=np.broadcast_to(grey[..., None, None, None], (N, C, 4, 6, 3)).astype(np.float32),
        activations=trace(sample_steps)["activation"],
        init_images=np.zeros((C, 4, 6, 3), np.float32),
        init_activations=10.0 * np.arange(C, dtype=np.float32),
        prior_activation=0.0,
        burnin_activations=trace(burnin_steps)["activation"],
        tuning_steps=TUNING,
        trace=types.MappingProxyType(trace(sample_steps)),
        diagnostics=None,
        temperature=1.0,
        chain_temperatures=np.full(C, 1.0),
        temperatures=np.zeros([1, C]),
        prior_weight=1.0,
        interrupted=False,
        seed=np.zeros(2, np.int32),
        options=resolve_options(dict(num_steps_between_results=THIN)),
        burnin_trace=types.MappingProxyType(trace(burnin_steps)),
        log_masses=np.zeros(C),
        cutoff=1 / 16,
        num_moving=6,
        rule_temperature=1.0,
        temperature_shares=np.zeros([1, C]),
    )


def known_run_result() -> SampleResult:
    """`known_result` with the starts' activations 10 and 20; chain 1's facet the heaviest,
    chain 0's 5 nats lighter, with standard errors 0.4 and 0.3."""
    return dataclasses.replace(
        known_result(),
        init_activations=np.array([10.0, 20.0], np.float32),
        log_masses=np.array([-5.0, 0.0]),
        log_mass_errors=np.array([0.4, 0.3]),
    )
