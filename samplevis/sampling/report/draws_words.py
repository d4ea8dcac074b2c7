"""What a run's draws may claim, in words that hold at their power, and Stan's low-ESS warnings.

A chain that passes its tests has not been shown stationary: with few autocorrelated draws the
tests miss all but steep drifts. So a passing run says how large a drift its tests catch 4
times in 5 (`Diagnostics.caught`, simulated by `mcmc.power`), and says "stationary" only where
that is at most `power.STATIONARY_SIZE` standard deviations over the draws
(docs/sampling_designs.md, "What the draws' tests catch"). The chains' trends summed
(`Diagnostics.pooled_trend`) are worded beside it. Effective sample sizes below Vehtari et al.
(2021)'s minimum get Stan's warning: what is unreliable, and what may help.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from samplevis.sampling.mcmc import power
from samplevis.sampling.mcmc.diagnostics import Diagnostics

# Vehtari et al. (2021), section 4: bulk and tail ESS above 100 per chain (400 over their 4
# chains), below which R-hat, the ESS itself and the Monte Carlo error of a mean or quantile
# are unreliable. A facet of k chains needs 100 k.
MIN_ESS_PER_CHAIN = 100


def stationary_sentence(d: Diagnostics) -> str:
    """The claim of a run whose every chain passes its tests, at the power they have, e.g.
    "no chain drifted by more than 10.1 sd over its 10 draws (what their tests catch 80% of the
    time at their autocorrelation); too few draws to call them stationary, which takes a test
    that catches a 2 sd drift: more draws narrow it (split R-hat <= 3.85, trend within 3.2
    standard errors, each within what a settled chain that may move as slowly reaches)"; "every chain
    was stationary" only where the largest of `d.caught` is at most power.STATIONARY_SIZE."""
    n = d.num_results
    finite_rhat = [r for r in d.rhat if math.isfinite(r)]
    finite_trend = [abs(z) for z in d.trend if math.isfinite(z)]
    figures = []
    if finite_rhat:
        figures.append(f"split R-hat <= {max(finite_rhat):.2f}")
    if finite_trend:
        figures.append(f"trend within {max(finite_trend):.1f} standard errors")
    shown = (
        f" ({', '.join(figures)}, each within what a settled chain that may move as slowly reaches)"
        if figures
        else ""
    )
    caught = [k for k in d.caught if not math.isnan(k)]
    often = f"{power.POWER:.0%} of the time"
    if not caught:
        return f"no chain was seen drifting over its {n} draws{shown}"
    worst = max(caught)
    if worst <= power.STATIONARY_SIZE:
        return (
            f"every chain was stationary over its {n} draws: their tests catch a steady drift "
            f"of {worst:.1f} sd over the draws {often}{shown}"
        )
    if math.isinf(worst):
        size = f"{power.SIZES[-1]:.0f} sd"
        return (
            f"no steep drift was seen over the {n} draws, but their tests do not catch even a "
            f"drift of {size} {often} at these chains' autocorrelation: too few draws to call "
            f"them stationary{shown}"
        )
    return (
        f"no chain drifted by more than {worst:.1f} sd over its {n} draws (what their tests "
        f"catch {often} at their autocorrelation); too few draws to call them stationary, "
        f"which takes a test that catches a {power.STATIONARY_SIZE:.0f} sd drift: more draws "
        f"narrow it{shown}"
    )


def pooled_sentence(d: Diagnostics) -> str | None:
    """The chains' trends summed, e.g. "the chains' trends summed +1.2 of their settled spread
    (within 2.9)", or beyond the limit "the chains are still falling together: their trends
    summed -4.1 of their settled spread, beyond 2.9"; None with one chain or too few draws."""
    if len(d.trend) < 2 or not math.isfinite(d.pooled_trend):
        return None
    z, limit = d.pooled_trend, d.pooled_limit
    if not d.pooled_drift:
        return f"the chains' trends summed {z:+.1f} of their settled spread (within {limit:.1f})"
    way = "rising" if z > 0 else "falling"
    return (
        f"the chains are still {way} together: their trends summed {z:+.1f} of their settled "
        f"spread, beyond {limit:.1f}"
    )


def draws_needed(ess: Sequence[float], num_draws: int, minimum: float) -> int | None:
    """The draws per chain at which the lowest ESS per draw of `ess` [C] reaches `minimum`,
    rounded up to tens (ESS grows about in proportion to the draws); None without a finite,
    positive ESS."""
    finite = [e for e in ess if math.isfinite(e) and e > 0]
    if not finite or num_draws < 1:
        return None
    return int(math.ceil(minimum * num_draws / min(finite) / 10.0) * 10)


def low_ess(d: Diagnostics) -> dict[str, str]:
    """Stan's ESS warnings, {"bulk" or "tail": the warning}, for each kind whose ESS per chain,
    or per facet of k chains, is below MIN_ESS_PER_CHAIN (per facet 100 k); empty when none
    is or ArviZ computed none. What each means and what may help, in Stan's terms."""
    found = {}
    means = {
        "bulk": "the draws' means and medians",
        "tail": "the draws' spread and tail quantiles (their 5 % and 95 %)",
    }
    for kind, per_chain, per_facet in (
        ("bulk", d.ess_bulk, d.ess_bulk_facets),
        ("tail", d.ess_tail, d.ess_tail_facets),
    ):
        chains = [c for c, e in enumerate(per_chain) if math.isfinite(e)]
        if not chains:
            continue
        low = [c for c in chains if per_chain[c] < MIN_ESS_PER_CHAIN]
        members = {g: [c for c, f in enumerate(d.facets) if f == g] for g in set(d.facets)}
        facets = [
            g
            for g, e in enumerate(per_facet)
            if math.isfinite(e) and len(members.get(g, [])) > 1
            if e < MIN_ESS_PER_CHAIN * len(members[g])
        ]
        if not low and not facets:
            continue
        where = f"{kind} ESS per chain {', '.join(f'{per_chain[c]:.1f}' for c in chains)}"
        if facets:
            where += "; per facet " + ", ".join(
                f"{per_facet[g]:.1f} (facet {g}, {len(members[g])} chains)" for g in facets
            )
        needed = draws_needed([per_chain[c] for c in chains], d.num_results, MIN_ESS_PER_CHAIN)
        more = f", about {needed} at these chains' ESS per draw" if needed else ""
        # a template: {hmc_opts.num_results} is spelt as its reader names it
        found[kind] = (
            f"{kind} effective sample size is too low ({where}, of {d.num_results} draws; "
            f"Vehtari et al. 2021 ask at least {MIN_ESS_PER_CHAIN} per chain), indicating that "
            f"{means[kind]} may be unreliable, as may R-hat and ESS themselves; the draws still "
            "show images of their density. Running the chains for more draws "
            "({hmc_opts.num_results}" + more + ") may help."
        )
    return found
