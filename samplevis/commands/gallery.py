"""`samplevis gallery`: index.html showing every PNG and GIF in a folder, with a section for each
run that `samplevis sample` wrote."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from samplevis.commands.sample import SAMPLE_PNG
from samplevis.commands.shell import OK, UsageError, print_out, say

if TYPE_CHECKING:
    from samplevis.io import GallerySection

# A sample run's overview images, in the order the gallery shows them, with their captions.
# The three strips show the chains in the same order, chain 0 on the left.
RUN_OVERVIEW = (
    ("starts.png", "starts: the image each chain began from, chain 0 on the left"),
    ("samples.gif", "samples: the chains side by side in the same order, one sample per frame"),
    (
        "std.png",
        "per-pixel std across each chain's samples, same order: bright where the unit "
        "lets the image vary",
    ),
    (
        "structure.png",
        "where each chain's motifs changed between its samples, same order: dark where they "
        "keep the start's motifs (recoloured or not), bright where the motifs moved",
    ),
    (
        "trace.png",
        "activation per chain over the steps of burn-in (the first adapting T) and sampling",
    ),
)
SKIPPED = "Skipped:"  # the line of a run's section naming what its diagnostics.json lacks


def run(args: argparse.Namespace) -> int:
    from samplevis import io

    folder = Path(args.folder)
    if folder.is_file():
        raise UsageError(
            f"{str(folder)!r} is a file; give the folder that holds the images "
            f"({str(folder.parent)!r})."
        )
    if not folder.is_dir():
        raise UsageError(f"no folder {str(folder)!r}.")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".png", ".gif"))
    if not files:
        raise UsageError(f"no .png or .gif files under {str(folder)!r}.")
    runs = [
        found
        for found in (
            run_section(report, folder) for report in sorted(folder.rglob("diagnostics.json"))
        )
        if found
    ]
    for section, _ in runs:
        if section.lines and section.lines[-1].startswith(SKIPPED):
            say(f"{section.heading}: skipped{section.lines[-1].removeprefix(SKIPPED)}")
    shown = {path for _, paths in runs for path in paths}
    entries: list[tuple[str, str] | GallerySection] = [section for section, _ in runs]
    entries += [(p.relative_to(folder).as_posix(),) * 2 for p in files if p not in shown]
    page = io.save_gallery(folder / "index.html", entries)
    print_out(page)
    return OK


def run_section(report_path: Path, page: Path) -> tuple[GallerySection, set[Path]] | None:
    """(a gallery section, the images it shows) for a folder that `samplevis sample` wrote: its
    objective and summary, the overview images, then a row of samples per chain; None for any
    other diagnostics.json. What a half-written, interrupted or older diagnostics.json lacks is
    left out, and the section's last line, starting with SKIPPED, names it."""
    from samplevis import io

    samples = report_path.parent
    shown = [
        (caption, samples / name) for name, caption in RUN_OVERVIEW if (samples / name).is_file()
    ]
    chains: dict[int, list[tuple[int, Path]]] = {}
    for path in samples.iterdir():
        if match := SAMPLE_PNG.fullmatch(path.name):
            chain, index = map(int, match.groups())
            chains.setdefault(chain, []).append((index, path))
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        report = None
    ours = isinstance(report, dict) and "objective" in report
    if not ours and not (chains or (samples / "starts.png").is_file()):
        return None  # another program's diagnostics.json
    rows = [shown] if shown else []
    for chain in sorted(chains):
        rows.append([(f"chain {chain}, sample {i}", path) for i, path in sorted(chains[chain])])
    where = samples.relative_to(page).as_posix()
    if isinstance(report, dict):
        lines, skipped = _report_lines(report, bool(chains))
    else:
        lines = []
        why = "is not valid JSON (written only in part?)" if report is None else "holds no run"
        skipped = [f"the objective, summary and diagnostics: its diagnostics.json {why}"]
    objective = report.get("objective") if isinstance(report, dict) else None
    heading = objective if isinstance(objective, str) else "a sample run"
    if where != ".":
        heading += f" ({where}/)"
    if skipped:
        lines.append(f"{SKIPPED} {'; '.join(skipped)}.")
    section = io.GallerySection(
        heading,
        tuple(lines),
        tuple(
            tuple((caption, path.relative_to(page).as_posix()) for caption, path in row)
            for row in rows
        ),
    )
    return section, {path for row in rows for _, path in row}


def _report_lines(report: dict, sampled: bool) -> tuple[list[str], list[str]]:
    """(the lines a sample run's report gives the gallery, the parts of it that could not be
    read): its summary, its diagnostics in plain words, and whether it was interrupted."""
    lines, skipped = [], []
    summary = report.get("summary")
    if isinstance(summary, list) and all(isinstance(line, str) for line in summary):
        lines += summary
    else:
        skipped.append("the summary, which this diagnostics.json lacks (an older run?)")
    if report.get("diagnostics") is not None:
        explained = _explained(report)
        if explained is None:
            skipped.append("the diagnostics, which are of another version")
        lines += explained or []
    elif not report.get("interrupted"):
        skipped.append("the diagnostics, which this diagnostics.json lacks (an older run?)")
    if report.get("interrupted"):
        lines.append(
            "The run was interrupted: these are the samples drawn before it stopped."
            if sampled
            else "The run was interrupted before its first sample: these are the chains' starts."
        )
    return lines, skipped


def _explained(report: dict) -> list[str] | None:
    """The run's diagnostics in plain words; None when they are of another make."""
    from samplevis.sampling.mcmc.diagnostics import Diagnostics
    from samplevis.sampling.report.explain import explain

    try:
        diagnostics = Diagnostics.from_dict(report["diagnostics"])
        options = report.get("options") or {}
        adapted = options.get("adapt_step_size", True)
        return explain(diagnostics, options.get("target_accept_prob", 0.75) if adapted else None)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
