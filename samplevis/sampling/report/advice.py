"""What a user must know about a run before reading its samples, as warnings that name the
option to change (`checks.OptionWarning`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from samplevis.runtime.checks import OptionWarning
from samplevis.sampling.mcmc.diagnostics import MAX_DIVERGENCE_RATE, Diagnostics
from samplevis.sampling.report.draws_words import low_ess, pooled_sentence
from samplevis.sampling.report.run import Run
from samplevis.sampling.starts.chains import RESEEDS, Starts


def chain_warnings(diagnostics: Diagnostics | None, adapts_step_size: bool) -> list[OptionWarning]:
    """What a user must know before reading the samples: chains that never moved, steps that
    diverged, chains whose activation was still drifting, alone or together (their samples then
    come from no single distribution), and Stan's low bulk or tail ESS
    (`draws_words.low_ess`)."""
    if diagnostics is None:
        return []
    messages = []
    smaller_step = (
        "Give a smaller {hmc_opts.step_size}: with {hmc_opts.adapt_step_size=False} "
        "every chain keeps it."
    )
    if diagnostics.stuck_chains:
        fix = (
            "More burn-in ({hmc_opts.num_burnin_steps}) gives their step size longer to adapt."
            if adapts_step_size
            else smaller_step
        )
        messages.append(
            OptionWarning(
                "hmc_opts.step_size",
                "chains {chains} accepted no step while sampling, so their "
                "samples are all the same image. " + fix,
                chains=list(diagnostics.stuck_chains),
            )
        )
    if diagnostics.divergence_rate > MAX_DIVERGENCE_RATE:
        messages.append(
            OptionWarning(
                "hmc_opts.step_size",
                "{diverged} of {steps} sampling steps diverged (energy error > "
                "1000): the leapfrog step was too large for the target, and those trajectories were "
                "rejected." + ("" if adapts_step_size else f" {smaller_step}"),
                diverged=sum(diagnostics.divergences),
                steps=diagnostics.num_steps * len(diagnostics.divergences),
            )
        )
    if diagnostics.drifting_chains:
        messages.append(
            OptionWarning(
                "hmc_opts.num_burnin_steps",
                "chains {chains} were still drifting (split R-hat, or their activation's rise "
                "or fall over the draws, beyond what a settled chain that may move as slowly "
                "reaches: {why}): their draws come from no single distribution. A longer "
                "burn-in ({hmc_opts.num_burnin_steps}) gives them time to settle.",
                chains=list(diagnostics.drifting_chains),
                why=_drift_figures(diagnostics),
            )
        )
    if diagnostics.pooled_drift:
        messages.append(
            OptionWarning(
                "hmc_opts.num_burnin_steps",
                "{pooled}: no single chain's test need see a drift they share. A longer burn-in "
                "({hmc_opts.num_burnin_steps}) gives them time to settle.",
                pooled=pooled_sentence(diagnostics),
            )
        )
    messages += [
        OptionWarning("hmc_opts.num_results", low) for low in low_ess(diagnostics).values()
    ]
    return messages


def _drift_figures(d: Diagnostics) -> str:
    """Each drifting chain's R-hat or trend against its limit, e.g. "chain 2: split R-hat 8.04
    over 5.80"."""
    parts = []
    for c in d.drifting_chains:
        figures = []
        if c in d.unsettled_chains:
            figures.append(f"split R-hat {d.rhat[c]:.2f} over {d.rhat_limits[c]:.2f}")
        if c in d.trending_chains:
            figures.append(f"trend {d.trend[c]:+.1f} over {d.trend_limits[c]:.1f}")
        parts.append(f"chain {c}: {', '.join(figures)}")
    return "; ".join(parts)


def lost_gain_warning(result: Run) -> OptionWarning | None:
    """A run whose samples kept under half the share of the starts' gain that T was set for (by
    the rule and its adaptation, not given): the chains fell further than the temperature aimed at."""
    target = result.options.target_ratio
    kept = result.gain_ratio
    # a given T is the user's choice; NaN (no samples) has nothing to say
    if result.options.temperature is not None or target is None or not kept < target / 2:
        return None
    tuned = result.options.temperature_steps
    fix = (
        "Adapt T over a longer burn-in ({hmc_opts.num_burnin_steps}, {hmc_opts.temperature_steps})"
        if tuned
        else "Adapt T during burn-in ({hmc_opts.temperature_steps})"
    )
    return OptionWarning(
        "hmc_opts.temperature_steps",
        "the samples keep {kept:.2f} of the starts' gain over prior "
        "images, against {hmc_opts.target_ratio=target}: the chains fell further than the "
        "temperature T = {temperature:.3g} aimed at. " + fix + ", or give a lower "
        "{hmc_opts.temperature}.",
        kept=kept,
        target=target,
        temperature=result.temperature,
    )


def dead_starts_warning(starts: Starts, objective: Any) -> OptionWarning | None:
    """Chains whose start stayed dead after the re-seeded optimizations, and why."""
    if not np.any(starts.dead):
        return None
    # batch=i gives only image i an objective, and in render every chain is an image
    cause = (
        "the objective picks images with batch=, which leaves these chains without one: "
        "drop batch= or give every chain a term"
        if "batch=" in objective.name
        else "a dead unit?"
    )
    return OptionWarning(
        "seed",
        "chains {chains} start with objective <= 0 and no gradient after optimization "
        "and {reseeds} re-seeded tries ({cause}); they sample near the prior. Try another seed "
        "({seed=1}, say), or start from images the unit responds to ({hmc_opts.init}).",
        chains=np.flatnonzero(starts.dead).tolist(),
        reseeds=RESEEDS,
        cause=cause,
    )


def capped_starts_warning(
    starts: Starts, objective: Any, capped: Sequence[tuple[str, tuple[float, str | None]]]
) -> OptionWarning | None:
    """Chains whose start sits at a capped unit's ceiling (a ReLU6 at 6, say), and the layer to
    read instead (`capped`: the objective's capped layers, each with its cap and the layer
    before it, as `phases.facet_starts.capped_layers` finds them): there the density is flat,
    so the samples say only "anything that saturates", and the temperature, set from the
    starts' gain, divides a gain the cap cut short."""
    if not np.any(starts.saturated):
        return None
    chains = np.flatnonzero(starts.saturated)
    if not capped:
        where = (
            "the unit is saturated (a capped activation at its ceiling, or a constant "
            "objective). Read a layer before its activation (list them with `samplevis layers`)"
        )
    else:
        layer, (ceiling, before) = capped[0]
        where = f"{layer!r} is a ReLU capped at {ceiling:g}, and the starts reached the cap. " + (
            f"Read the same unit of {before!r}, the layer before the cap (in the objective, "
            f"{objective.name.replace(repr(layer), repr(before))})"
            if before is not None
            else f"The cap is fused into {layer!r}: read a layer with no cap"
        )
    return OptionWarning(
        "objective",
        "chains {chains} start at objective {values} with no gradient: " + where + ". At the "
        "cap the density is flat, so the samples only say which images saturate the unit, their "
        "activation stays at or near the cap (R-hat and ESS can come out NaN), and T is set "
        "from a gain the cap cut short.",
        chains=chains.tolist(),
        values=", ".join(f"{v:.6g}" for v in starts.activations[chains]),
    )
