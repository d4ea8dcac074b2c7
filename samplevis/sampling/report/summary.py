"""The lines that sum a sample run up (`summary`): what `samplevis sample` prints at its end and
the run's record keeps for the gallery."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from samplevis.sampling.report.result import SampleResult


def summary(result: SampleResult, structural_shares: np.ndarray) -> list[str]:
    """The share of the starts' activation (and gain) the samples kept, how T was set, the facets'
    log-masses, how far the patterns moved (`result.structural_shares`, passed in: a pass over
    every pair of each chain's samples) and the diagnostics' line; before the first sampling
    block, the facets' lines alone."""
    from samplevis.sampling.report.facet_processing import processing_line

    facets = [
        line
        for line in [
            result.facets_line(),
            result.kinds_line(),
            result.photos_line(),
            processing_line(result.facets),
        ]
        if line
    ]
    if result.diagnostics is None:
        return facets
    lines = [
        _temperature_line(result),
        result.mass_sentence,
        "seconds: "
        + ", ".join(f"{phase} {seconds:.0f}" for phase, seconds in result.seconds.items()),
    ]
    if math.isfinite(result.activation_ratio):  # NaN without samples, or at a* = 0
        gain = (
            f" and {result.gain_ratio:.2f} of their gain over prior images"
            if math.isfinite(result.gain_ratio)
            else ""
        )
        lines.append(f"samples keep {result.activation_ratio:.2f} of the starts' activation{gain}")
    if len(result.images) and result.options.target_ratio is not None:
        kept = ", ".join(f"{r:.2f}" for r in result.gain_ratios)
        lines.append(
            f"share of each start's gain over prior images: asked {result.options.target_ratio:.2f}"
            f", kept per chain {kept}"
        )
    lines += [line for line in [result.draws_line()] if line]
    lines += facets + [line for line in [_patterns_line(structural_shares)] if line]
    return lines + [result.diagnostics.summary()]


def _patterns_line(shares: np.ndarray) -> str | None:
    """How far each chain's patterns moved (float [C]), in words; None without 2 samples and 2
    chains (NaN)."""
    if not all(math.isfinite(s) for s in shares):
        return None
    return (
        "patterns: each chain's samples differ in structure by "
        + ", ".join(f"{s:.2f}" for s in shares)
        + " of the distance between the starts (0: recoloured or shifted copies of the start, "
        "1: as different as the starts; a bend of a few px counts too: a copy of a start bent "
        "by 2 px scores about 0.6; structure.png shows where)"
    )


def _temperature_line(result: SampleResult) -> str:
    """How T was set: the equipartition rule over the coefficients that moved, and each chain's
    T after burn-in adapted it to the target ratio."""
    grid = result.options.warp_grid
    warp = 2 * grid**2 if result.options.warp else 0
    moved = (
        f"the {result.num_moving - warp} coefficients below {result.cutoff:g} cycles/px"
        if result.cutoff is not None
        else f"all {result.num_moving} coefficients"
    )
    if warp:
        moved += f" and a {grid}x{grid} warp ({warp} numbers)"
    if not len(result.temperatures):
        return f"T = {result.temperature:.3g}, moving {moved}"
    chains = ", ".join(f"{t:.3g}" for t in result.chain_temperatures)
    return (
        f"T per chain {chains}: adapted over {result.tuning_steps} burn-in steps to keep "
        f"{result.options.target_ratio:.2f} of each start's gain, from "
        f"{result.rule_temperature:.3g}, equipartition over {moved}"
    )
