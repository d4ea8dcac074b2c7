"""What a run's draws may claim, as Stan splits it: warmup tunes the kernel toward goals, and
the draws claim only the density fixed when warmup ends.

Here that density is exp(A / T) * prior at each chain's frozen T, and `target_ratio` is what
warmup tunes T toward. A chain's draws are named as not from their density only for what makes
them untrustworthy (`not_from_density`): split R-hat or a trend beyond what a stationary chain
of its autocorrelation reaches (`mcmc.stationarity`), divergent steps, low E-BFMI, or draws
that never varied. The share of its gain a chain keeps is
a report of T's tuning (`tuning_sentence`); only a share more than TUNING_TOLERANCE from the
target gets a notice, worded as what it is (`tuning_missed`). Stan never warns because the
achieved acceptance missed adapt_delta.

Pure functions of the figures `diagnostics` computes (R-hat between chains there only among
the chains of one facet).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from samplevis.sampling.mcmc.diagnostics import EBFMI_LIMIT, Diagnostics

# A chain whose share of its start's gain is further than this from `target_ratio` gets a
# tuning notice (docs/sampling_designs.md, "The draws' tests").
TUNING_TOLERANCE = 0.1
# The sentence of a run whose every chain's draws pass the tests.
FROM_DENSITY = "draws from their density"


def not_from_density(
    rhat: Sequence[float],
    rhat_limits: Sequence[float],
    trend: Sequence[float],
    trend_limits: Sequence[float],
    divergences: Sequence[int],
    e_bfmi: Sequence[float],
    still: Sequence[bool],
) -> dict[int, str]:
    """The chains whose draws are not from the density they claim, each with why in words, e.g.
    {2: "split R-hat 8.04 over 5.80, still rising (+5.1 standard errors, over 4.6)"}; empty
    when every chain passes.

    Args:
      rhat: split R-hat of each chain's draws [C] (NaN: too few draws, or no variation).
      rhat_limits: the R-hat a stationary chain exceeds one time in 400 at the slowest
        autocorrelation each one's measurement does not rule out [C].
      trend: each chain's trend in standard errors [C] (empty or NaN: too few draws).
      trend_limits: the |trend| such a chain exceeds one time in 400 [C] (empty or NaN: none).
      divergences: divergent sampling steps per chain [C].
      e_bfmi: E-BFMI per chain [C] (NaN: none).
      still: per chain [C], True where its draws never varied (no step accepted).
    """
    reasons: dict[int, str] = {}
    for c in range(len(rhat)):
        why = []
        if still[c]:
            why.append("its draws never varied (no step accepted)")
        if rhat[c] > rhat_limits[c]:  # an infinite R-hat counts (halves of one value each)
            why.append(f"split R-hat {rhat[c]:.2f} over {rhat_limits[c]:.2f}")
        if c < len(trend) and math.isfinite(trend[c]) and abs(trend[c]) > trend_limits[c]:
            way = "rising" if trend[c] > 0 else "falling"
            why.append(f"still {way} ({trend[c]:+.1f} standard errors, over {trend_limits[c]:.1f})")
        if divergences[c]:
            why.append(f"{divergences[c]} divergent step{'s' if divergences[c] != 1 else ''}")
        if math.isfinite(e_bfmi[c]) and e_bfmi[c] < EBFMI_LIMIT:
            why.append(f"E-BFMI {e_bfmi[c]:.2f} under {EBFMI_LIMIT}")
        if why:
            reasons[c] = ", ".join(why)
    return reasons


def judged(diagnostics: Diagnostics, still: Sequence[int]) -> dict[int, str]:
    """`not_from_density` of a run's diagnostics, `still` the chains whose draws never
    varied."""
    d = diagnostics
    flags = [c in still for c in range(len(d.rhat))]
    return not_from_density(
        d.rhat, d.rhat_limits, d.trend, d.trend_limits, d.divergences, d.e_bfmi, flags
    )


def tuning_sentence(shares: Sequence[float] | np.ndarray, target: float) -> str:
    """T's tuning in words, e.g. "T tuned to keep 0.80 of each start's gain: chains keep
    0.74-0.76" (`shares` [C], each chain's share of its start's gain)."""
    kept = np.asarray(shares, np.float64)
    if not np.any(np.isfinite(kept)):
        return f"T tuned to keep {target:.2f} of each start's gain"
    low, high = np.nanmin(kept), np.nanmax(kept)
    spread = f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"
    chains = "chains keep" if len(kept) > 1 else "the chain keeps"
    return f"T tuned to keep {target:.2f} of each start's gain: {chains} {spread}"


def tuning_missed(shares: Sequence[float] | np.ndarray, target: float) -> str | None:
    """The tuning notice: the chains whose share is more than TUNING_TOLERANCE from `target`,
    e.g. "T's tuning missed: chain 2 keeps 0.62 of its gain"; None when none is."""
    kept = np.asarray(shares, np.float64)
    missed = [c for c in range(len(kept)) if abs(kept[c] - target) > TUNING_TOLERANCE]
    if not missed:
        return None
    return "T's tuning missed: " + ", ".join(
        f"chain {c} keeps {kept[c]:.2f} of its gain" for c in missed
    )


def draws_sentence(
    reasons: dict[int, str], num_draws: int, rhat: Sequence[float], trend: Sequence[float]
) -> str:
    """Whether the draws are from their density: "draws from their density: no chain was seen
    drifting over its 10 draws (split R-hat <= 3.21, trend within 3.3 standard errors, each
    within what a settled chain as autocorrelated reaches)", or the chains that are not
    (`reasons`, from `not_from_density`) and why. What a pass is worth at the tests' power is
    `report.draws_words.stationary_sentence`'s."""
    if not reasons:
        finite_rhat = [r for r in rhat if math.isfinite(r)]
        finite_trend = [abs(z) for z in trend if math.isfinite(z)]
        figures = []
        if finite_rhat:
            figures.append(f"split R-hat <= {max(finite_rhat):.2f}")
        if finite_trend:
            figures.append(f"trend within {max(finite_trend):.1f} standard errors")
        within = ", each within what a settled chain that may move as slowly reaches"
        shown = f" ({', '.join(figures)}{within})" if figures else ""
        return f"{FROM_DENSITY}: no chain was seen drifting over its {num_draws} draws{shown}"
    named = "; ".join(f"chain {c}: {why}" for c, why in reasons.items())
    return (
        f"not from their density: {named}. These draws show where the chain was going, not "
        "its density at the frozen T; a longer burn-in lets it settle"
    )
