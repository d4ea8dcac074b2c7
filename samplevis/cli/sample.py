"""`samplevis sample`: draw images with HMC and write them, the starts, a GIF, the std map and
diagnostics.json (`run_report`), replacing what an earlier run left in the folder."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from samplevis.optvis.objectives import Objective
    from samplevis.sampling.report.result import SampleResult


import importlib.util
import math
import os
import re
import sys
from pathlib import Path

from samplevis.cli.optimize import non_finite_message
from samplevis.cli.shell import (
    INTERRUPTED,
    OK,
    USAGE,
    WRITE_FAILED,
    UsageError,
    load_model,
    objective,
    out_folder,
    print_out,
    resize_said_once,
    say,
    stopped,
    written,
)
from samplevis.runtime import signals

HMC_OPTS = "hmc_opts."  # the prefix of the flags' dests that are `render`'s hmc_opts
# The sample PNGs `sample` writes (SampleResult.save_pngs): chain, then sample index.
SAMPLE_PNG = re.compile(r"sample_chain(\d+)_(\d+)\.png")
# Each facet's optimum (`result.facets`, best first): facet K's, named in its record.
FACET_PNG = "facet_{}_optimum.png"
# With --examples, the top images that look like facet K, J-th best: the part its unit saw.
EXAMPLE_PNG = "facet_{}_example_{}.png"
EXAMPLES_PER_FACET = 4
# --init PHOTOS_FOLDER ranks this many top photos per photo cluster (Nguyen et al. 2016: 15)
PHOTOS_PER_CLUSTER = 15
# What `sample` writes that another run may not overwrite (other sample counts, chains, facets).
SAMPLE_FILES = re.compile(
    rf"{SAMPLE_PNG.pattern}|facet_\d+_(optimum|example_\d+)\.png|samples\.gif|std\.png|"
    r"structure\.png|trace\.png"
)


def run(args: argparse.Namespace) -> int:
    import samplevis
    from samplevis.io.event_files import log_folder
    from samplevis.optvis import param
    from samplevis.sampling import options

    obj = objective(args.objective)
    out = out_folder(args.out)
    log_dir = log_folder(args.log_dir)
    given = {
        dest[len(HMC_OPTS) :]: value
        for dest, value in vars(args).items()
        if dest.startswith(HMC_OPTS) and value is not None
    }
    # a bad option fails before the model loads, and before --init reads its files
    options.resolve_options({k: v for k, v in given.items() if k != "init"})
    num_chains = given["num_chains"]
    init_files = vars(args)[f"{HMC_OPTS}init"]
    from_examples = "init" in given and _examples_file(given["init"])
    if args.examples is not None:
        from samplevis.examples.facets import ranked_files

        try:  # the file, the unit in it and its images, before any work
            ranked_files(args.examples, obj, None)
        except ValueError as err:
            raise UsageError(f"--examples: {err}") from None
    in_folder = "init" in given and _photos_folder(given["init"])
    if "init" in given and not (from_examples or in_folder):
        given["init"] = _init(given["init"], args.size, num_chains)
    if from_examples:  # the photo route: render clusters the unit's photos
        index = str(_examples_index(given["init"][0]))
        given["init"], init_files = index, [index]
    model = load_model(args.spec)
    if in_folder:  # a folder of photos: rank them for the unit first, then the photo route
        ranked = _ranked_photos(model, obj, given["init"][0], out, given, args.quiet)
        if ranked is None:
            return INTERRUPTED
        given["init"], init_files = str(ranked), [str(ranked)]
    try:
        with resize_said_once(model, args.size):
            result = samplevis.render(
                model,
                obj,
                hmc_opts=given,
                seed=args.seed,
                progress=not args.quiet,
                param_f=lambda: param.image(args.size, batch=num_chains),
                log_dir=log_dir,
            )
    except samplevis.NonFiniteObjectiveError as err:
        say(
            non_finite_message(
                err,
                "no samples were drawn",
                f"Lower --optimize-steps to {err.steps} or less",
                during="while optimizing the chains' starts, ",
            )
        )
        return USAGE
    photos = _cluster_photos(result)
    if args.examples:
        nearest = _facet_examples(args.examples, model, obj, result)
        if nearest is not None:  # facets from photos keep their cluster's
            photos = [mine or theirs for mine, theirs in zip(photos, nearest)]
    by_facet = photos if any(photos) else None
    with signals.held():  # a SIGTERM now waits for the files and the lines about them
        return _finish(obj, result, init_files, out, by_facet)


def _cluster_photos(result: SampleResult) -> list:
    """Each facet's photos (from `--init EXAMPLES.json`: its cluster's best ones; [] for a
    facet the seeds or the search found)."""
    return [list(f.examples[:EXAMPLES_PER_FACET]) for f in result.facets]


def _facet_examples(path: str, model, obj: Objective, result: SampleResult) -> list | None:
    """Each facet's examples (`examples.facets.by_facet`) from the examples.json at `path`;
    None, said, where there are none to give (the run's files are written all the same)."""
    import numpy as np

    from samplevis.examples import facets

    if not result.facets:
        return None
    try:
        images = np.stack([f.image for f in result.facets])
        return facets.by_facet(path, model, obj, images, per_facet=EXAMPLES_PER_FACET)
    except ValueError as err:
        say(f"no examples beside the facets: {err}")
        return None


def _finish(
    obj: Objective,
    result: SampleResult,
    init_files: list[str] | None,
    out: Path,
    by_facet: list | None = None,
) -> int:
    """Write the run's files (with each facet's examples, `by_facet`), print them and the
    summary; the exit status."""
    report = run_report(obj, result, init_files=init_files, by_facet=by_facet)
    paths, in_out = written(lambda folder: write_sample(folder, result, report, by_facet), out)
    print_out(files_line(paths))
    if len(result.images) == 1:
        say("std.png and structure.png need 2 samples per chain or more; not written.")
    for line in report["summary"]:
        print(line, file=sys.stderr)
    if result.interrupted:
        kept = (
            "the samples drawn so far"
            if len(result.images)
            else "the chains' starts; no samples had been drawn"
        )
        say(f"{stopped()}; wrote {kept}.")
        return INTERRUPTED
    return OK if in_out else WRITE_FAILED


def files_line(paths: list[Path]) -> str:
    """One line naming the files a run wrote (all in one folder): the sample PNGs counted, the
    others by name, e.g. 'wrote 8 samples (sample_chain*_*.png), samples.gif, starts.png,
    diagnostics.json to out/'."""
    samples = [p for p in paths if SAMPLE_PNG.fullmatch(Path(p).name)]
    optima = [p for p in paths if re.fullmatch(r"facet_\d+_optimum\.png", Path(p).name)]
    named = [f"{len(samples)} samples (sample_chain*_*.png)"] if samples else []
    some = "1 facet's optimum" if len(optima) == 1 else f"{len(optima)} facets' optima"
    named += [f"{some} (facet_*_optimum.png)"] if optima else []
    examples = [p for p in paths if re.fullmatch(r"facet_\d+_example_\d+\.png", Path(p).name)]
    named += (
        [f"{len(examples)} examples beside the facets (facet_*_example_*.png)"] if examples else []
    )
    grouped = {*samples, *optima, *examples}
    named += [Path(p).name for p in paths if p not in grouped]
    return f"wrote {', '.join(named)} to {os.path.join(Path(paths[0]).parent, '')}"


def _init(values: list[str], size: int, num_chains: int):
    """--init as hmc_opts['init']: 'optimize', 'prior', or images [num_chains, size, size, 3]."""
    import numpy as np

    from samplevis import io
    from samplevis.sampling.options import INIT_KINDS

    if len(values) == 1 and values[0] in INIT_KINDS:
        return values[0]
    if len(values) not in (1, num_chains):
        raise UsageError(
            f"--init takes {' or '.join(INIT_KINDS)}, one image file that every "
            f"chain starts from, or one per chain (--num-chains {num_chains}); got "
            f"{len(values)} files."
        )
    try:
        images = io.load_images(values, size)
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(f"--init: {err}") from None
    return np.repeat(images, num_chains // len(images), axis=0)


def _examples_file(values: list[str]) -> bool:
    """Whether --init names an examples.json (`samplevis examples`' index) or its folder."""
    one = len(values) == 1
    return one and (values[0].endswith(".json") or (Path(values[0]) / "examples.json").is_file())


def _photos_folder(values: list[str]) -> bool:
    """Whether --init names a folder of photos (no examples.json in it)."""
    from samplevis.sampling.options import examples_index

    one = len(values) == 1
    return one and Path(values[0]).is_dir() and examples_index(values[0]) is None


def _ranked_photos(
    model, obj: Objective, folder: str, out: Path, given: dict, quiet: bool
) -> Path | None:
    """`samplevis examples` of the unit over the photos in `folder` into OUT/examples, its top
    PHOTOS_PER_CLUSTER per photo cluster: the examples.json, or None at Ctrl-C (the same
    command goes on from the photos ranked so far)."""
    import samplevis
    from samplevis.sampling.options import DEFAULTS

    clusters = given.get("photo_clusters", DEFAULTS["photo_clusters"])
    say(
        f"ranking the photos in {folder} for {obj.name} (their top {PHOTOS_PER_CLUSTER * clusters})"
    )
    try:
        found = samplevis.dataset_examples(
            model,
            obj,
            images=folder,
            top=PHOTOS_PER_CLUSTER * clusters,
            out=out / "examples",
            progress=not quiet,
        )
    except (ValueError, FileNotFoundError) as err:
        raise UsageError(f"--init: {err}") from None
    if found.interrupted:
        say(f"{stopped()} while ranking the photos; {found.index} holds those ranked so far.")
        return None
    assert found.index is not None  # written to out/examples
    return found.index


def _examples_index(value: str) -> Path:
    """--init EXAMPLES.json, or the folder holding it, as the file: a usage error when it is
    neither."""
    from samplevis.sampling.options import examples_index

    index = examples_index(value)
    if index is None:
        raise UsageError(
            f"--init: no examples file {value!r}; give the examples.json that `samplevis "
            "examples --images FOLDER --objective UNIT --out OUT` wrote (OUT/examples.json)."
        )
    return index


def write_sample(
    folder: Path, result: SampleResult, report: dict, by_facet: list | None = None
) -> list[Path]:
    """Write a sample run's files in `folder` (and each facet's examples, `by_facet`), then
    delete the ones an earlier run left there that this run did not write, so that the folder
    and its diagnostics.json describe one run."""
    from samplevis import io
    from samplevis.examples.facets import seen

    paths = result.save_pngs(folder) if len(result.images) else []
    if len(result.images):
        paths.append(result.save_gif(folder / "samples.gif"))
    if len(result.images) >= 2:
        paths.append(result.save_std_map(folder / "std.png"))
        paths.append(result.save_structure_map(folder / "structure.png"))
    # One row, chain 0 first, as samples.gif and std.png lay the chains out.
    paths.append(io.save_grid(folder / "starts.png", result.init_images, ncols=result.num_chains))
    paths += [
        io.save_png(folder / FACET_PNG.format(k), facet.image)
        for k, facet in enumerate(result.facets)
    ]
    for k, examples in enumerate(by_facet or []):
        paths += [
            io.save_png(folder / EXAMPLE_PNG.format(k, j), seen(example) / 255.0)
            for j, example in enumerate(examples)
        ]
    # with the optional plot extra, once there are steps to show
    ran = len(result.burnin_activations) or len(result.images)
    if ran and importlib.util.find_spec("matplotlib") is not None:
        from samplevis.sampling.report.plots import plot_trace

        paths.append(io.save_figure(folder / "trace.png", plot_trace(result)))
    elif ran:
        say("no trace.png: the trace plot of the chains needs matplotlib (pip install matplotlib).")
    paths.append(io.write_json(folder / "diagnostics.json", report))
    kept = {Path(p).name for p in paths}
    stale = sorted(
        p for p in folder.iterdir() if SAMPLE_FILES.fullmatch(p.name) and p.name not in kept
    )
    for path in stale:
        path.unlink()
    if stale:
        say(
            f"removed {len(stale)} files an earlier run had written to {str(folder)!r} (e.g. "
            f"{stale[0].name})."
        )
    return paths


def run_report(
    objective: Objective,
    result: SampleResult,
    init_files: list[str] | None = None,
    by_facet: list | None = None,
) -> dict:
    """What `samplevis sample` records beside the images: options (the chains' start as
    "optimize", "prior", or the `init_files` the images came from), temperature, activations,
    MCMC diagnostics, each facet's examples (`by_facet`), and `summary`, the lines the command
    prints about the run at its end (the gallery shows them too)."""
    options = result.options.as_dict()
    init = options["init"]
    from_photos = isinstance(init, Path)
    if from_photos:
        init = str(init)
    elif not isinstance(init, str):
        init = list(init_files) if init_files else f"images {list(init.shape)}"
    if init != "optimize" and not from_photos:
        del options["optimize_steps"]  # nothing was optimized
    if not from_photos:
        del options["photo_clusters"], options["photo_steps"], options["photo_start"]
    shares = result.structural_shares  # a pass over every pair of each chain's samples: once
    return {
        "objective": objective.name,
        "options": options | {"init": init},
        "seed": result.seed,
        "temperature": result.temperature,  # geometric mean of chain_temperatures
        "chain_temperatures": result.chain_temperatures,  # the T each chain sampled at
        "temperatures": result.temperatures,  # [block, chain] while burn-in adapted T
        "prior_weight": result.prior_weight,
        "interrupted": result.interrupted,
        "init_activations": result.init_activations,
        "activations": result.activations,
        "prior_activation": result.prior_activation,  # a0, objective of prior images
        "activation_ratio": result.activation_ratio if len(result.images) else None,
        "gain_ratio": result.gain_ratio if len(result.images) else None,  # of a* - a0
        "target_ratio": result.options.target_ratio,  # asked of every chain (None: T given)
        "gain_ratios": result.gain_ratios if len(result.images) else None,  # kept, per chain
        "diagnostics": None if result.diagnostics is None else result.diagnostics.to_dict(),
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
        "seconds": dict(result.seconds),  # per phase
        # the facet search's facets, best first (each chain starts at an optimum of its facet);
        # "optimum" names the PNG of the facet's optimum beside this file
        "facets": [
            {
                "optimum": FACET_PNG.format(k),
                "height": f.height,
                "activation": f.activation,
                "found": f.found,
                "chains": list(f.chains),
                "log_mass": f.log_mass,
                "log_mass_error": f.log_mass_error,
                # with --examples: the top images that look like it, best first ("png" beside
                # this file: the part of "file" its unit saw)
                "examples": [
                    {"file": str(e.file), "value": e.value, "png": EXAMPLE_PNG.format(k, j)}
                    for j, e in enumerate(by_facet[k])
                ]
                if by_facet
                else None,
            }
            for k, f in enumerate(result.facets)
        ],
        # photo clusters whose optimum stayed under the floor: no facets
        "clusters_below_floor": [
            {"cluster": c, "height": h} for c, h in result.clusters_below_floor
        ],
        "summary": summary(result, shares),
    }


def summary(result: SampleResult, structural_shares: np.ndarray) -> list[str]:
    """The share of the starts' activation (and gain) the samples kept, how T was set, the facets'
    log-masses, how far the patterns moved (`result.structural_shares`) and the diagnostics'
    line; before the first sampling block, the facets' lines alone."""
    facets = [line for line in [result.facets_line(), result.photos_line()] if line]
    if result.diagnostics is None:
        return facets
    lines = [
        temperature_line(result),
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
    lines += facets + [line for line in [patterns_line(structural_shares)] if line]
    return lines + [result.diagnostics.summary()]


def patterns_line(shares: np.ndarray) -> str | None:
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


def temperature_line(result: SampleResult) -> str:
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
