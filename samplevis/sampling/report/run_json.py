"""The record of a sample run: what `samplevis sample` writes beside the images as
diagnostics.json (`record_of`), and its parts read back for the gallery's figures (`per_chain`,
`per_sample`, `facets`), and the MCMC diagnostics as JSON and back (`diagnostics_to_dict`,
`diagnostics_from_dict`).

A record is a JSON value (dicts, lists, strings, numbers, and None for NaN and infinities, which
JSON has no token for), so the value `record_of` returns is the one the file reads back as. A
file of an older version lacks some keys: the readers give what it has.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from samplevis.io import json_value
from samplevis.sampling.report import facet_draws
from samplevis.sampling.report.facet_blur import blur_record
from samplevis.sampling.report.facet_natural import natural_record
from samplevis.sampling.report.facet_processing import processing_record
from samplevis.sampling.report.processing_bar import bar_record

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example
    from samplevis.sampling.mcmc.diagnostics import Diagnostics
    from samplevis.sampling.report.facet_draws import FacetDraws
    from samplevis.sampling.report.run import Facet, Run

# Each facet's optimum (`result.facets`, best first): facet K's, named in its record.
FACET_PNG = "facet_{}_optimum.png"
# Each facet's examples (`facet_examples`): facet K's J-th best, the part its unit saw.
EXAMPLE_PNG = "facet_{}_example_{}.png"
# Where facet K's draws vary, over its chain's start (`FacetDraws.std_overlay`).
STD_PNG = "facet_{}_std.png"
# Facet K's Geirhos et al. check, plotted (`plots.plot_processing`; needs matplotlib).
PROCESSING_PNG = "facet_{}_processing.png"


def record_of(
    result: Run,
    objective: str,
    init_files: Sequence[str] | None = None,
    examples: Sequence[Sequence[Example]] | None = None,
    drawn: Sequence[FacetDraws] | None = None,
) -> dict[str, Any]:
    """The record of a run of `objective` (its name): options (the chains' start as "optimize",
    "prior", an examples.json, or the `init_files` the images came from), temperature,
    activations, MCMC diagnostics, the chains off their target and why, the facets with each
    one's `examples` (`facet_examples`) and what its draws add (`drawn`, default
    `facet_draws.per_facet`), and `summary`, the lines that sum the run up."""
    # the words read the run's diagnostics and masses, which load TensorFlow: not on import,
    # so that the command line starts it quietly (cli.quiet)
    from samplevis.sampling.report.summary import (
        draws_line,
        off_target_reasons,
        summary,
        tuning_line,
    )

    sampled = len(result.images) > 0
    shares = result.structural_shares  # a pass over every pair of each chain's samples: once
    if drawn is None:
        drawn = facet_draws.per_facet(result, shares)
    return json_value(
        {
            "objective": objective,
            "options": _options(result, init_files),
            "seed": result.seed,
            "temperature": result.temperature,  # geometric mean of chain_temperatures
            "chain_temperatures": result.chain_temperatures,  # the T each chain sampled at
            "temperatures": result.temperatures,  # [block, chain] while burn-in adapted T
            "prior_weight": result.prior_weight,
            "interrupted": result.interrupted,
            "init_activations": result.init_activations,
            "activations": result.activations,
            "prior_activation": result.prior_activation,  # a0, objective of prior images
            "activation_ratio": result.activation_ratio if sampled else None,
            "gain_ratio": result.gain_ratio if sampled else None,  # of a* - a0
            "target_ratio": result.options.target_ratio,  # asked of every chain (None: T given)
            "gain_ratios": result.gain_ratios if sampled else None,  # kept, per chain
            "diagnostics": None
            if result.diagnostics is None
            else diagnostics_to_dict(result.diagnostics),
            "cutoff": result.cutoff,  # cycles per pixel below which coefficients moved; None: all
            "num_moving": result.num_moving,
            "rule_temperature": result.rule_temperature,  # equipartition over the moving ones
            "temperature_shares": result.temperature_shares,  # [block, chain] while T adapted
            # per chain, its facet's; nats relative to the heaviest
            "log_masses": result.log_masses,
            # their standard errors (nats; null where no mode was found or not measured)
            "log_mass_errors": result.log_mass_errors,
            # per chain: structural distance between its samples over that between the starts
            "structural_shares": shares,
            # chains whose draws are not from their density, each with why
            "chains_off_target": [
                {"chain": c, "why": why} for c, why in off_target_reasons(result).items()
            ],
            "tuning": tuning_line(result),  # T's tuning: the share each chain keeps
            "draws": draws_line(result),
            "seconds": dict(result.seconds),  # per phase
            # the facets, kinds first (each chain starts at an optimum of its facet)
            "facets": [
                _facet(k, f, examples[k] if examples else None, drawn[k])
                for k, f in enumerate(result.facets)
            ],
            # per kind: its facets and its own photos through Geirhos et al.'s check, and
            # whether the facets pass at the photos' rate less the margin
            "processing_bar": bar_record(result.facets),
            # photo clusters whose climb failed (under the floor of their photos' height)
            "clusters_below_floor": [
                {"cluster": c, "height": h} for c, h in result.clusters_below_floor
            ],
            "summary": summary(result, shares),
        }
    )


def _options(result: Run, init_files: Sequence[str] | None) -> dict[str, Any]:
    """The run's options, init as it was given (images by their files or their shape), without
    those that did not act: optimize_steps where nothing was optimized, the photo route's
    without photos."""
    options = result.options.as_dict()
    init, start = options["init"], result.options.start
    if start == "photos":
        init = str(init)
    elif start == "images":
        init = list(init_files) if init_files else f"images {list(init.shape)}"
    if start not in ("optimize", "photos"):
        del options["optimize_steps"]
    if start != "photos":
        for key in (
            "photo_clusters",
            "photo_steps",
            "photo_start",
            "photo_climb",
            "photo_transforms",
        ):
            del options[key]
    return options | {"init": init}


def _facet(
    k: int, facet: Facet, examples: Sequence[Example] | None, drawn: FacetDraws
) -> dict[str, Any]:
    """Facet `k`'s record: "optimum" names the PNG of its optimum beside the record; with
    `examples`, the top images that look like it, best first ("png" beside the record: the part
    of "file" its unit saw); what its draws add (`drawn`): "shown", the [chain, index] of those
    that differ, "varied" in words, "std_overlay" the PNG of where they vary (null where it
    shows nothing) and "std_note" what it shows or why there is none."""
    return {
        "optimum": FACET_PNG.format(k),
        "height": facet.height,
        "activation": facet.activation,
        "kind": facet.kind,  # its kind of image, 0 the best facet's (`Facet.kind`)
        "kind_name": facet.kind_name or None,  # in words, e.g. "bell pepper, 13 of 15 photos"
        # how strongly the unit answers to its kind's photos, against the best kind's
        "photos_height": facet.photos_height,
        "found": facet.found,
        "chains": list(facet.chains),
        "log_mass": facet.log_mass,
        "log_mass_error": facet.log_mass_error,
        # Geirhos et al.'s check: its optimum and draws against its kind's photos and the others
        "processing": _processing(k, facet),
        # the share of its value it keeps under a 1 px blur, against its kind's photos' median
        "blur": blur_record(facet.blur),
        # measures no climb applies: half resolution, colourfulness, likeness to its nearest photo
        "natural": natural_record(facet.natural),
        # how many of its kind's photos pass Geirhos et al.'s check, each checked as a facet is
        "photos_processing": (
            {"passed": facet.photos_processing[0], "checked": facet.photos_processing[1]}
            if facet.photos_processing
            else None
        ),
        "examples": [
            {"file": str(e.file), "value": e.value, "png": EXAMPLE_PNG.format(k, j)}
            for j, e in enumerate(examples)
        ]
        if examples is not None
        else None,
        "shown": [list(pair) for pair in drawn.shown],
        "shown_off_target": drawn.off_target,  # the facet has no chain at its target
        "varied": drawn.varied,
        "std_overlay": STD_PNG.format(k) if drawn.std_overlay is not None else None,
        "std_chain": drawn.std_chain,
        "std_note": drawn.std_note,
    }


def _processing(k: int, facet: Facet) -> dict[str, Any] | None:
    """Facet `k`'s check as its record keeps it, with "plot" the PNG of it beside the record
    (null where none is written: without matplotlib)."""
    import importlib.util

    found = processing_record(facet.processing)
    if found is None:
        return None
    plotted = importlib.util.find_spec("matplotlib") is not None
    return found | {"plot": PROCESSING_PNG.format(k) if plotted else None}


def per_chain(record: Any, key: str, num_chains: int) -> list[Any] | None:
    """record[key] when it is a list of `num_chains` values ([C]), else None."""
    values = record.get(key) if isinstance(record, dict) else None
    return values if isinstance(values, list) and len(values) == num_chains else None


def per_sample(record: Mapping[str, Any], key: str, num_chains: int) -> list[list[Any]]:
    """record[key] as rows of `num_chains` values, one per sample ([N, C]); [] when it is not."""
    rows = record.get(key)
    if not isinstance(rows, list) or not all(
        isinstance(row, list) and len(row) == num_chains for row in rows
    ):
        return []
    return rows


def facets(record: Mapping[str, Any], num_chains: int) -> list[dict]:
    """The run's facets, best first, those whose record names its optimum's file and chains of a
    run of `num_chains`; [] for a run without them (the search off, or a file from before it)."""
    found = record.get("facets")
    if not isinstance(found, list):
        return []
    return [
        facet
        for facet in found
        if isinstance(facet, dict)
        and isinstance(facet.get("optimum"), str)
        and isinstance(facet.get("chains"), list)
        and all(isinstance(c, int) and 0 <= c < num_chains for c in facet["chains"])
    ]


# The diagnostics given per facet: a file written before facets has none (not NaN per chain).
_PER_FACET = ("facets", "rhat_facets", "ess_bulk_facets", "ess_tail_facets")


def diagnostics_to_dict(d: Diagnostics) -> dict[str, Any]:
    """`d` as plain Python values, with its `divergence_rate`; NaN becomes None so the JSON is
    standard."""

    def clean(v):
        if isinstance(v, tuple):
            return [clean(x) for x in v]
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v

    out = {k: clean(v) for k, v in dataclasses.asdict(d).items()}
    out["divergence_rate"] = clean(d.divergence_rate)
    return out


def diagnostics_from_dict(data: Mapping[str, Any]) -> Diagnostics:
    """The inverse of `diagnostics_to_dict` (None back to NaN); figures a file written before
    they existed (e.g. e_bfmi) are NaN."""
    # TensorFlow comes with the diagnostics: not on import (cli.quiet)
    from samplevis.sampling.mcmc.diagnostics import Diagnostics

    chains = len(data["rhat"])
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Diagnostics):
        value = data.get(field.name)
        if str(field.type).startswith("tuple"):
            missing = [] if field.name in _PER_FACET else [math.nan] * chains
            value = missing if value is None else value
            value = tuple(math.nan if v is None else v for v in value)
        elif value is None and str(field.type) == "float":
            value = math.nan
        values[field.name] = value
    return Diagnostics(**values)
