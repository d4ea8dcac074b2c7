"""`samplevis sample`: draw images with HMC and write them, the starts, a GIF, the std map and
the run's record as diagnostics.json (`sampling.report.run_json`), replacing what an earlier run
left in the folder."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.examples.clusters import Example
    from samplevis.models import Model
    from samplevis.optvis.objectives import Objective
    from samplevis.sampling.report.result import SampleResult


import os
import re
import sys
from pathlib import Path

from samplevis.cli import arguments
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
from samplevis.runtime.checks import spelt
from samplevis.sampling.report.run_folder import SAMPLE_PNG

HMC_OPTS = "hmc_opts."  # the prefix of the flags' dests that are `render`'s hmc_opts
# --init PHOTOS_FOLDER ranks this many top photos per photo cluster (Nguyen et al. 2016: 15)
PHOTOS_PER_CLUSTER = 15


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`samplevis sample` and its flags: one for every key of `render`'s hmc_opts."""
    from samplevis.sampling import options

    parser = commands.add_parser(
        "sample",
        help="draw diverse high-activation images with HMC",
        description="Draw diverse high-activation images with HMC, from chains started at "
        "optimized images. Writes to --out: sample_chain<c>_<i>.png for every sample, "
        "samples.gif (the chains side by side), std.png (per-pixel standard deviation "
        "across each chain's samples: bright where the unit lets the image vary), "
        "structure.png, starts.png, per facet facet_K_optimum.png and, where its draws vary "
        "in some places more than others, facet_K_std.png (over its chain's start), "
        "diagnostics.json (with each facet's draws that differ and what varied) and, with "
        "matplotlib (samplevis[plot]), "
        "trace.png (the activation per chain over tuning, burn-in and sampling).",
    )
    arguments.add_model(parser)
    arguments.add_objective(parser)
    arguments.add_verbose(parser)
    _add_hmc_opts(parser)
    arguments.add_size(parser, options.DEFAULT_IMAGE_SIZE)
    parser.add_argument(
        "--examples",
        metavar="EXAMPLES.json",
        help="an examples.json (samplevis examples) of the objective: each facet gets the top "
        "images that look most like its optimum (facet_K_example_J.png, the part its unit "
        "saw)",
    )
    return parser


def _add_hmc_opts(parser: argparse.ArgumentParser) -> None:
    """A flag for every key of `render`'s hmc_opts, from the library's table (`options.OPTIONS`):
    --num-results for num_results, --no-adapt-step-size for adapt_step_size=False. Its dest is
    the option ('hmc_opts.num_results'), so that errors about it name the flag."""
    from samplevis.sampling import options

    added = []
    for name, option in options.OPTIONS.items():
        dest, flag = HMC_OPTS + name, "--" + name.replace("_", "-")
        text = option.help.replace("%", "%%")
        if name == "num_chains":  # render needs no count, but --init and the images here do
            text, option = (
                "chains, each from its own start",
                dataclasses.replace(option, default=options.DEFAULT_NUM_CHAINS),
            )
        if name == "init":  # files on the command line, images in Python
            action = parser.add_argument(
                flag,
                dest=dest,
                nargs="+",
                metavar="optimize|prior|IMAGE|EXAMPLES.json|PHOTOS/",
                help="where the chains start: optimize (default: images optimized for the "
                "objective), prior (needs {hmc_opts.temperature}), image files: one that "
                "every chain starts from, or one per chain, cropped to their centre square "
                "and resized to --size; or an examples.json (samplevis examples) or its "
                "folder: the objective's top photos in {hmc_opts.photo_clusters} clusters, "
                "each optimized from its start image into a facet shown with its photos; or a "
                "folder of photos, ranked for the objective first (into OUT/examples, "
                + f"{PHOTOS_PER_CLUSTER} per cluster)",
            )
        elif option.kind is bool:  # a switch away from the default
            action = parser.add_argument(
                "--no-" + flag[2:] if option.default else flag,
                dest=dest,
                action="store_const",
                const=not option.default,
                default=option.default,
                help=f"turn off: {text}" if option.default else text,
            )
        else:
            assert option.kind is not None  # an Option takes its default's type when given none
            action = parser.add_argument(
                flag,
                dest=dest,
                type=option.kind,
                default=option.default,
                metavar=name.upper(),
                help=text + ("" if option.default is None else " (default %(default)s)"),
            )
        added.append(action)
    spell = arguments.flag_spelling(parser)
    for action in added:
        action.help = spelt(action.help or "", spell)


def run(args: argparse.Namespace) -> int:
    """Sample, write the run's files and say what went wrong; the exit status."""
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
        from samplevis.examples.clusters import ranked_files

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
    nearest = _nearest_examples(args.examples, model, obj, result)
    if args.examples is not None and nearest:  # each facet checked against its examples
        from samplevis.sampling.report.facet_examples import facet_examples

        by_facet = facet_examples(result, nearest)
        if by_facet is not None:
            result = _checked(args.examples, model, obj, result, by_facet)
    with signals.held():  # a SIGTERM now waits for the files and the lines about them
        return _finish(obj, result, init_files, out, nearest)


def _checked(
    path: str, model: Model, obj: Objective, result: SampleResult, by_facet: list
) -> SampleResult:
    """`result` with each facet checked against its examples (`by_facet`) and the others: the
    other facets' and the files the examples.json read beyond the unit's top ones, and the
    blur measure against its examples (`phases.facet_checks`)."""
    from samplevis.examples.clusters import other_files
    from samplevis.sampling.phases.facet_checks import OTHERS, checked

    others = other_files(path, obj, OTHERS)
    facets = checked(result.facets, result.images, model, obj, others, photos=by_facet)
    return dataclasses.replace(result, facets=facets)


def _nearest_examples(
    path: str | None, model: Model, obj: Objective, result: SampleResult
) -> list[list[Example]] | None:
    """With --examples, the examples of the examples.json at `path` nearest each facet's
    optimum (`phases.nearest_examples`); where that file gives none, said, the run's
    files are written all the same."""
    from samplevis.sampling.phases.nearest_examples import nearest_examples

    if not path:
        return None
    try:
        return nearest_examples(path, model, obj, result)
    except ValueError as err:
        say(f"no examples beside the facets: {err}")
        return None


def _finish(
    obj: Objective,
    result: SampleResult,
    init_files: list[str] | None,
    out: Path,
    nearest: list | None = None,
) -> int:
    """Write the run's files (`save_run`, with the examples.json's examples nearest each facet,
    `nearest`), print them and the summary; the exit status."""
    from samplevis.sampling.report.run_folder import save_run
    from samplevis.sampling.report.summary import summary

    paths, in_out = written(
        lambda folder: save_run(folder, result, obj.name, nearest, init_files), out
    )
    print_out(files_line(paths))
    if len(result.images) == 1:
        say("std.png and structure.png need 2 samples per chain or more; not written.")
    for line in summary(result, result.structural_shares):
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
    overlays = [p for p in paths if re.fullmatch(r"facet_\d+_std\.png", Path(p).name)]
    named += [f"{len(overlays)} std maps over the facets (facet_*_std.png)"] if overlays else []
    grouped = {*samples, *optima, *examples, *overlays}
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
