"""A run's MCMC diagnostics (`mcmc.diagnostics.Diagnostics`) in words: the one line that sums
them up (`diagnostics_line`) and the R-hat among the chains of each facet
(`facets_rhat_sentence`)."""

from __future__ import annotations

import math

import numpy as np

from samplevis.sampling.mcmc.diagnostics import EBFMI_LIMIT, Diagnostics, facets_of
from samplevis.sampling.mcmc.stationarity import MIN_DRAWS_FOR_RHAT


def facets_rhat_sentence(d: Diagnostics) -> str | None:
    """R-hat among the chains of each facet that has two or more, with what it means, e.g.
    "R-hat between the chains of a facet: facet 0 (chains 0, 2) 1.04 (each chain samples its
    own start's basin: this says how far apart the basins are, not whether a chain settled)";
    None when no facet has two chains."""
    shared = facets_of(d.facets)
    parts = [
        f"facet {g} (chains {', '.join(map(str, chains))}) {d.rhat_facets[g]:.2f}"
        for g, chains in shared.items()
        if len(chains) >= 2 and g < len(d.rhat_facets) and math.isfinite(d.rhat_facets[g])
    ]
    if not parts:
        return None
    return (
        "R-hat between the chains of a facet: "
        + ", ".join(parts)
        + " (each chain samples its own start's basin: this says how far apart the basins "
        "are, not whether a chain settled)"
    )


def _worst(values, pick):
    finite = [v for v in values if math.isfinite(v)]
    return pick(finite) if finite else math.nan


def diagnostics_line(d: Diagnostics) -> str:
    """One line: median acceptance, divergences, worst per-chain R-hat, min ESS (bulk and
    tail where ArviZ computed them), R-hat between the chains of each facet and E-BFMI."""
    if not d.num_steps:
        burnin = [r for r in d.burnin_acceptance_rate if math.isfinite(r)]
        if not burnin:
            return "no steps: stopped before the first burn-in step"
        return (
            f"no sampling steps (stopped during burn-in); burn-in acceptance probability "
            f"{np.median(burnin):.2f} (median over chains)"
        )
    health = (
        f"acceptance probability {np.median(d.accept_prob):.2f} (median over chains), "
        f"divergences {sum(d.divergences)}/{d.num_steps * len(d.divergences)}, "
    )
    if d.stuck_chains:
        health += f"chains {list(d.stuck_chains)} accepted no step, "
    if d.num_results < MIN_DRAWS_FOR_RHAT:
        return health + (
            f"no R-hat or ESS: they need {MIN_DRAWS_FOR_RHAT} samples per "
            f"chain, this run kept {d.num_results}"
        )
    if not any(math.isfinite(r) for r in d.rhat):  # zero variance within every chain
        return health + "no R-hat or ESS: the activation did not vary within any chain"
    energy = ""
    if any(math.isfinite(e) for e in d.e_bfmi):
        energy = f", E-BFMI >= {_worst(d.e_bfmi, min):.2f}"
        if d.low_bfmi_chains:
            energy += f" (chains {list(d.low_bfmi_chains)} below {EBFMI_LIMIT})"
    ess = f"ESS >= {_worst(d.ess, min):.1f}"
    if any(math.isfinite(e) for e in d.ess_bulk):
        ess += f" (bulk >= {_worst(d.ess_bulk, min):.1f}, tail >= {_worst(d.ess_tail, min):.1f})"
    within = facets_rhat_sentence(d)
    return health + (
        f"split R-hat per chain <= {_worst(d.rhat, max):.3f}, {ess}"
        f"{', ' + within if within else ''}{energy}"
    )
