"""A `SampleResult` as an `arviz.InferenceData`, so that ArviZ's summaries and plots read it.

    idata = samplevis.to_arviz(result)
    az.summary(idata)        # mean, sd, ESS and R-hat of the activation and log pi
    az.plot_trace(idata)     # per chain
    az.plot_energy(idata)    # the Hamiltonian's marginal and transition distributions, E-BFMI

ArviZ is an optional extra (`pip install 'samplevis[arviz]'`), imported only here.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from samplevis.sampling.mcmc.kernels import accept_prob

if TYPE_CHECKING:
    import arviz

    from samplevis.sampling.report.run import Run


def _arviz():
    try:
        with warnings.catch_warnings():
            # ArviZ 0.2x announces its 1.0 refactor on import; samplevis asks for arviz < 1.
            warnings.filterwarnings("ignore", "\nArviZ is undergoing", FutureWarning)
            import arviz
    except ImportError:
        raise ImportError(
            "to_arviz needs ArviZ: pip install 'samplevis[arviz]' (or pip install 'arviz<1')."
        ) from None
    return arviz


def _by_chain(draws: np.ndarray) -> np.ndarray:
    """[N, C] as samplevis keeps draws -> [C, N] as ArviZ takes them (chain, draw)."""
    return np.swapaxes(np.asarray(draws), 0, 1)


def to_arviz(result: Run) -> arviz.InferenceData:
    """`result` as InferenceData with dimensions (chain, draw).

    posterior: "activation" (the objective A, under the fixed transforms) and
    "target_log_prob" (log pi = A / T - lam |z|^2 / 2, the density sampled).
    sample_stats, under ArviZ's names: "acceptance_rate" (the step's acceptance probability),
    "step_size", "diverging", "energy" (the Hamiltonian -log pi + K) and "lp" (log pi).
    warmup_posterior: "activation" at every step of burn-in (no thinning).
    attrs: temperature (per chain), prior_weight, seed, interrupted and the steps between kept samples.

    Args:
        result: a run, as `samplevis.render` returns it (a `SampleResult`).

    Returns:
        ArviZ's InferenceData.

    Raises:
        ValueError: the run has no samples (interrupted before the first).

    Examples:
        ```python
        result = samplevis.render(model, obj, hmc_opts=dict(num_results=10), seed=0)
        arviz.summary(samplevis.to_arviz(result), var_names=["activation"])
        ```
    """
    az = _arviz()
    if result.activations.shape[0] == 0:
        raise ValueError("no samples to convert: the run was interrupted before the first one.")
    trace = result.trace
    attrs: dict[str, Any] = {
        "temperature": [float(t) for t in result.chain_temperatures],
        "prior_weight": result.prior_weight,
        "seed": [int(s) for s in result.seed],
        "interrupted": int(result.interrupted),  # netCDF attributes hold no booleans
        "steps_per_draw": result.options.num_steps_between_results + 1,
        "tuning_steps": result.tuning_steps,
    }
    warmup = {}
    if result.burnin_activations.shape[0]:
        warmup = dict(
            warmup_posterior={"activation": _by_chain(result.burnin_activations)}, save_warmup=True
        )
    return az.from_dict(
        posterior={
            "activation": _by_chain(result.activations),
            "target_log_prob": _by_chain(trace["target_log_prob"]),
        },
        sample_stats={
            "acceptance_rate": _by_chain(accept_prob(trace["log_accept_ratio"]).numpy()),
            "step_size": _by_chain(trace["step_size"]),
            "diverging": _by_chain(trace["divergent"]).astype(bool),
            "energy": _by_chain(trace["energy"]),
            "lp": _by_chain(trace["target_log_prob"]),
        },
        **warmup,
        attrs=attrs,
    )
