"""`samplevis gallery`: index.html showing every PNG and GIF in a folder, with a section for each
run that `samplevis sample` wrote."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from samplevis.commands.sample import SAMPLE_PNG
from samplevis.commands.shell import OK, UsageError, print_out

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
    shown = {path for _, paths in runs for path in paths}
    entries: list[tuple[str, str] | GallerySection] = [section for section, _ in runs]
    entries += [(p.relative_to(folder).as_posix(),) * 2 for p in files if p not in shown]
    page = io.save_gallery(folder / "index.html", entries)
    print_out(page)
    return OK


def run_section(report_path: Path, page: Path) -> tuple[GallerySection, set[Path]] | None:
    """(a gallery section, the images it shows) for a folder that `samplevis sample` wrote: its
    objective and summary, the overview images, then a row of samples per chain; None for any
    other diagnostics.json."""
    from samplevis import io

    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or not {"objective", "diagnostics"} <= report.keys():
        return None
    samples = report_path.parent
    shown = [
        (caption, samples / name) for name, caption in RUN_OVERVIEW if (samples / name).is_file()
    ]
    chains: dict[int, list[tuple[int, Path]]] = {}
    for path in samples.iterdir():
        if match := SAMPLE_PNG.fullmatch(path.name):
            chain, index = map(int, match.groups())
            chains.setdefault(chain, []).append((index, path))
    rows = [shown] if shown else []
    for chain in sorted(chains):
        rows.append([(f"chain {chain}, sample {i}", path) for i, path in sorted(chains[chain])])
    lines = [str(line) for line in report.get("summary") or []] + _explained(report)
    if report.get("interrupted"):
        lines.append("The run was interrupted: these are the samples drawn before it stopped.")
    where = samples.relative_to(page).as_posix()
    section = io.GallerySection(
        report["objective"] + ("" if where == "." else f" ({where}/)"),
        tuple(lines),
        tuple(
            tuple((caption, path.relative_to(page).as_posix()) for caption, path in row)
            for row in rows
        ),
    )
    return section, {path for row in rows for _, path in row}


def _explained(report: dict) -> list[str]:
    """The run's diagnostics in plain words (none when the report has none or is of another
    make)."""
    from samplevis.sampling.diagnostics import Diagnostics
    from samplevis.sampling.explain import explain

    try:
        diagnostics = Diagnostics.from_dict(report["diagnostics"])
    except (KeyError, TypeError, ValueError):
        return []
    options = report.get("options") or {}
    adapted = options.get("adapt_step_size", True)
    return explain(diagnostics, options.get("target_accept_prob", 0.75) if adapted else None)
