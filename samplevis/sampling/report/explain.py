"""What a run's MCMC diagnostics mean, in plain words, for a reader who does not know MCMC."""

from __future__ import annotations

import math
from collections.abc import Sequence

from samplevis.sampling.mcmc.diagnostics import EBFMI_LIMIT, MAX_DIVERGENCE_RATE, Diagnostics
from samplevis.sampling.mcmc.stationarity import FALSE_ALARM, MIN_DRAWS_FOR_RHAT
from samplevis.sampling.report.diagnostics_line import facets_rhat_sentence

MAX_LISTED = 8  # chains whose figures are listed one by one; more are given as a range


def _figures(values: Sequence[float], digits: int) -> str:
    """'1.02, 7.0' per chain, '-' for a chain without one; a range for many chains."""
    finite = [v for v in values if math.isfinite(v)]
    if len(values) > MAX_LISTED and finite:
        return f"{min(finite):.{digits}f} to {max(finite):.{digits}f}"
    return ", ".join(f"{v:.{digits}f}" if math.isfinite(v) else "-" for v in values)


def _chains(chains: Sequence[int]) -> str:
    return f"chain {chains[0]}" if len(chains) == 1 else f"chains {list(chains)}"


def _rhat(d: Diagnostics) -> str:
    if not any(math.isfinite(r) for r in d.rhat):
        why = (
            f"it needs {MIN_DRAWS_FOR_RHAT} samples per chain"
            if d.num_results < MIN_DRAWS_FOR_RHAT
            else "the activation did not vary within any chain"
        )
        return f"No split R-hat: {why}."
    drifting = d.drifting_chains
    verdict = (
        f"{_chains(drifting)} had not settled: the activation was still drifting, so "
        "those samples come from no single distribution (run longer)"
        if drifting
        else "no chain was seen drifting (what the tests can see at these draws: the run's "
        "draws line)"
    )
    trend = (
        f" The trend of each chain's activation over its draws, in standard errors: "
        f"{_figures(d.trend, 1)}; beyond {_figures(d.trend_limits, 1)} either way it was still "
        "rising or falling."
        if any(math.isfinite(z) for z in d.trend)
        else ""
    )
    return (
        f"Split R-hat per chain {_figures(d.rhat, 2)}: it compares the two halves of each "
        f"chain's activation. Below {_figures(d.rhat_limits, 2)} they agree. Each limit is "
        f"what a settled chain exceeds one time in {round(1 / FALSE_ALARM)} at the slowest "
        "autocorrelation from draw to draw that the chain's own measurement "
        f"({_figures(d.autocorrelation, 2)}) does not rule out: a chain that moves slowly "
        f"wanders further over {d.num_results} draws without drifting.{trend} "
        f"Together: {verdict}."
    )


def _across(d: Diagnostics) -> str | None:
    within = facets_rhat_sentence(d)
    if within is None:
        return None
    return (
        f"{within}. Split R-hat among the chains of one facet compares chains started in "
        "different basins of it: far above 1 they sample different basins, as they were "
        "started to; it is not a failure. Chains of different facets are never compared."
    )


def _ess(d: Diagnostics) -> str | None:
    if not any(math.isfinite(e) for e in d.ess):
        return None
    return (
        f"Effective sample size per chain {_figures(d.ess, 1)} of {d.num_results} samples: "
        "how many independent samples each chain's correlated ones are worth. Near "
        f"{d.num_results} they are about independent; far below, consecutive samples "
        "repeat each other (more steps between samples help)."
    )


def _acceptance(d: Diagnostics, target: float | None) -> str:
    stuck = d.stuck_chains
    verdict = (
        f" {_chains(stuck)} took no step at all: all its samples are one image." if stuck else ""
    )
    aim = (
        "The step size was fixed"
        if target is None
        else f"The step size was adapted to aim at {target:g}"
    )
    return (
        f"Acceptance probability per chain {_figures(d.accept_prob, 2)}: the average chance "
        f"that a proposed move was taken. {aim}; near 0 a chain hardly moves (its step is "
        f"too large), near 1 its steps may be needlessly small.{verdict}"
    )


def _divergences(d: Diagnostics) -> str:
    count, total = sum(d.divergences), d.num_steps * len(d.divergences)
    if not count:
        return f"No divergent step in {total}: the leapfrog steps followed the target well."
    verdict = (
        "more than 1 %, too many: give a smaller step size"
        if d.divergence_rate > MAX_DIVERGENCE_RATE
        else f"at most {MAX_DIVERGENCE_RATE:.0%}, tolerable"
    )
    return (
        f"{count} of {total} sampling steps diverged: their energy error exceeded 1000, so "
        f"the leapfrog step was too large for the target there and the move was rejected; "
        f"{verdict}."
    )


def _ebfmi(d: Diagnostics) -> str | None:
    if not any(math.isfinite(e) for e in d.e_bfmi):
        return None
    low = d.low_bfmi_chains
    verdict = f"{_chains(low)} explored slowly" if low else "every chain explored well"
    return (
        f"E-BFMI per chain {_figures(d.e_bfmi, 2)}: how far the momentum drawn at each "
        f"step moves a chain between energy levels. About 1 or more is healthy; below "
        f"{EBFMI_LIMIT} a chain crosses the target's energy levels slowly; {verdict}."
    )


def explain(d: Diagnostics, target_accept_prob: float | None = 0.75) -> list[str]:
    """A sentence per figure of `d`: its values and what they mean for this run.

    Args:
      d: a run's diagnostics.
      target_accept_prob: what the step-size adaptation aimed at (hmc_opts), None when the
        step size was not adapted.
    """
    if not d.num_steps:
        return ["No sampling step ran, so nothing tells how good the samples are."]
    lines = [
        _rhat(d),
        _across(d),
        _ess(d),
        _acceptance(d, target_accept_prob),
        _divergences(d),
        _ebfmi(d),
    ]
    return [line for line in lines if line]
