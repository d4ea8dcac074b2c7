"""The sentences of a sample run, functions of what it drew and measured (`run.Run`): each of
the lines (`draws_line`, `facets_line`, `kinds_line`, `photos_line`, `mass_sentence`, and
`off_target_reasons`, why each chain off its target is), and `summary`, all the lines that sum the
run up: what `samplevis sample` prints at its end and its diagnostics.json keeps for the
gallery."""

from __future__ import annotations

import math

import numpy as np

from samplevis.sampling.density import facet_mass
from samplevis.sampling.mcmc.stationarity import MIN_DRAWS_FOR_RHAT
from samplevis.sampling.report import verdict
from samplevis.sampling.report.diagnostics_line import diagnostics_line
from samplevis.sampling.report.draws_words import pooled_sentence, stationary_sentence
from samplevis.sampling.report.run import Run


def summary(result: Run, structural_shares: np.ndarray) -> list[str]:
    """The share of the starts' activation (and gain) the samples kept, how T was set, the facets'
    log-masses, how far the patterns moved (`result.structural_shares`, passed in: a pass over
    every pair of each chain's samples) and the diagnostics' line; before the first sampling
    block, the facets' lines alone."""
    from samplevis.sampling.report.facet_blur import blur_line
    from samplevis.sampling.report.facet_natural import natural_line
    from samplevis.sampling.report.facet_processing import processing_line
    from samplevis.sampling.report.processing_bar import bar_line

    facets = [
        line
        for line in [
            facets_line(result),
            kinds_line(result),
            photos_line(result),
            processing_line(result.facets),
            bar_line(result.facets),
            blur_line(result.facets),
            natural_line(result.facets),
        ]
        if line
    ]
    if result.diagnostics is None:
        return facets
    lines = [
        _temperature_line(result),
        mass_sentence(result),
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
    lines += [line for line in [draws_line(result)] if line]
    lines += facets + [line for line in [_patterns_line(structural_shares)] if line]
    return lines + [diagnostics_line(result.diagnostics)]


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


def _temperature_line(result: Run) -> str:
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


def off_target_reasons(result: Run) -> dict[int, str]:
    """Why each of `chains_off_target` is not from its density, in words, e.g. {2: "split
    R-hat 8.04 over 5.80, still rising (+9.8 standard errors, over 8.1)"}; empty when none is."""
    d = result.diagnostics
    if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
        return {}
    return verdict.judged(d, result.still_chains)


def tuning_line(result: Run) -> str | None:
    """T's tuning: "T tuned to keep 0.80 of each start's gain: chains keep 0.74-0.76", and a
    notice for a chain more than 0.1 off ("T's tuning missed: chain 2 keeps 0.62 of its
    gain"); None where T was given, or without draws."""
    target = result.options.target_ratio
    if target is None or result.options.temperature is not None or not len(result.images):
        return None
    sentence = verdict.tuning_sentence(result.gain_ratios, target)
    missed = verdict.tuning_missed(result.gain_ratios, target)
    return f"{sentence}. {missed}" if missed else sentence


def draws_line(result: Run) -> str | None:
    """Whether the draws are from their density, in one sentence (what their tests saw at the
    power they have, `draws_words.stationary_sentence`, or which chains are not and why; then
    the chains' trends summed), then T's tuning (`tuning_line`); None without draws to judge
    (fewer than 4 per chain)."""
    d = result.diagnostics
    if d is None or d.num_results < MIN_DRAWS_FOR_RHAT:
        return None
    reasons = off_target_reasons(result)
    if reasons:
        line = verdict.draws_sentence(reasons, d.num_results, d.rhat, d.trend)
    else:
        line = f"{verdict.FROM_DENSITY} as far as their tests see: {stationary_sentence(d)}"
    pooled = pooled_sentence(d)
    line += f"; {pooled}" if pooled else ""
    tuning = tuning_line(result)
    return f"{line}. {tuning}" if tuning else line


def facets_line(result: Run) -> str | None:
    """The facets in one line, e.g. "3 facets in 2 kinds (1 found by the search): heights
    1.00, 0.62, 0.93"; None when the search did not run."""
    if not result.facets:
        return None
    searched = sum(f.found.startswith("search") for f in result.facets)
    photos = sum(f.found.startswith("photos") for f in result.facets)
    kinds = len({f.kind for f in result.facets})
    heights = ", ".join(f"{f.height:.2f}" for f in result.facets)
    how = f"{searched} found by the search"
    if photos:
        how = f"{photos} from photo clusters, {how}"
    many = "s" if len(result.facets) != 1 else ""
    in_kinds = f" in {kinds} kind{'s' if kinds != 1 else ''}" if kinds != len(result.facets) else ""
    return f"{len(result.facets)} facet{many}{in_kinds} ({how}): heights {heights}"


def kinds_line(result: Run) -> str | None:
    """What the unit answers to, in a sentence, e.g. "the unit answers most to kind 0
    (facets 0, 2; bell pepper, 13 of 15 photos), also to kind 1 (facet 1; photos like
    theatre_9.jpg) at 0.62 of the best, its photos at 0.80", each kind by its name
    (`Facet.kind_name`) or a photo of it; without photos each facet is a kind ("facet 1
    (search round 1) at 0.68 of the best"); with one kind, its name ("its photos are of one
    kind: bell pepper, 13 of 15 photos"), None without one. Kinds without a chain are
    named, with the chains that would sample every kind."""
    kinds = sorted({f.kind for f in result.facets})
    if len(kinds) == 1 and result.facets[0].kind_name:
        return f"its photos are of one kind: {result.facets[0].kind_name}"
    if len(kinds) < 2:
        return None
    named = [_kind_words(result, k) for k in kinds]
    line = f"the unit answers most to {named[0]}, also to " + ", to ".join(named[1:])
    unsampled = [k for k in kinds if not any(f.chains for f in result.facets if f.kind == k)]
    if unsampled:
        line += (
            f"; {len(unsampled)} of the {len(kinds)} kinds have no chain (num_chains "
            f"{len(kinds)} would sample every kind)"
        )
    return line


def _kind_words(result: Run, kind: int) -> str:
    """Kind `kind` in words: its height and its photos' (but for the first), its facets, a
    photo of it."""
    facets = [(k, f) for k, f in enumerate(result.facets) if f.kind == kind]
    first = facets[0][1]
    if first.examples:
        which = ", ".join(str(k) for k, _ in facets)
        like = first.kind_name or f"photos like {first.examples[0].file.name}"
        name = f"kind {kind} (facet{'s' if len(facets) > 1 else ''} {which}; {like})"
    else:
        name = f"facet {facets[0][0]} ({first.found})"
    if kind == result.facets[0].kind:
        return name
    said = f"{name} at {first.height:.2f} of the best"
    if math.isfinite(first.photos_height):
        said += f", its photos at {first.photos_height:.2f}"
    return said


def photos_line(result: Run) -> str | None:
    """Where each facet from photos came from and how high it is, and the clusters whose
    climb failed, e.g. "from photos: facet 0 cluster 3 (1.00, 15 photos), facet 1 cluster 0
    (0.93, 12 photos); failed climbs, no facets: cluster 7 (0.24)"; None without photos."""
    from_photos = [
        f"facet {k} {f.found.removeprefix('photos, ')} ({f.height:.2f}, {len(f.examples)} photos)"
        for k, f in enumerate(result.facets)
        if f.found.startswith("photos")
    ]
    if not from_photos:
        return None
    under = ", ".join(f"cluster {c} ({h:.2f})" for c, h in result.clusters_below_floor)
    return (
        "from photos: "
        + ", ".join(from_photos)
        + (
            f"; failed climbs (under {result.options.kind_floor:g} of the height their photos"
            f" promise, or nearer another kind's photos), no facets: {under}"
            if under
            else ""
        )
    )


def mass_sentence(result: Run) -> str:
    """What `log_masses` mean, in one plain sentence: each chain's facet's, against the
    heaviest, each with its error bar; facets whose difference from the heaviest is within
    facet_mass.SEPARATION of its standard error are said to be within the error (their
    masses do not tell them apart)."""
    return facet_mass.sentence(
        result.log_masses.tolist(), _matching(result.log_mass_errors, result.log_masses.shape)
    )


def _matching(errors: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`errors` when it has `shape`, else NaN of that shape (a result made without them)."""
    errors = np.asarray(errors, np.float64)
    return errors if errors.shape == shape else np.full(shape, np.nan)
