"""`samplevis gallery`: index.html showing every PNG and GIF in a folder, with a section for each
run that `samplevis sample` wrote and for each folder of dataset examples (`samplevis examples`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from samplevis.cli import arguments
from samplevis.cli.examples_gallery import examples_section
from samplevis.cli.shell import OK, UsageError, print_out, say
from samplevis.examples.gallery_section import INDEX
from samplevis.sampling.report.gallery_section import SKIPPED, run_section

if TYPE_CHECKING:
    from samplevis.pages import GallerySection


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`samplevis gallery FOLDER`."""
    parser = commands.add_parser(
        "gallery",
        help="write index.html showing every PNG and GIF in a folder",
        description="Write index.html in FOLDER showing every PNG and GIF under it. Each folder "
        "that `samplevis sample` wrote shows as a section: the objective, a strip per "
        "facet (its optimum, its photos, the few draws that differ from each other, where "
        "their pixels vary, and what varied in words; draws of chains off their target "
        "marked) or, without facets, per chain in the order drawn (its start, then its "
        "samples with their activation, its std and structure maps beside), a table of each "
        "chain's figures, "
        "the GIF and the trace plot, then the summary and the MCMC diagnostics in words, "
        "folded. Each folder that `samplevis examples` wrote shows a strip per unit of its top "
        "images' crops, beside the unit's optimized image when FOLDER holds one. Of a "
        "diagnostics.json written in part, or by an interrupted or older run, it shows what it "
        "can and names what it skipped.",
    )
    parser.add_argument("folder")
    arguments.add_verbose(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Write FOLDER/index.html; the exit status."""
    from samplevis import pages

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
    for (section, *_), _ in runs:
        if section.lines and section.lines[-1].startswith(SKIPPED):
            say(f"{section.heading}: skipped{section.lines[-1].removeprefix(SKIPPED)}")
    pngs = [p for p in files if p.suffix.lower() == ".png"]
    runs += [
        ((found[0],), found[1])
        for found in (
            examples_section(index, folder, pngs) for index in sorted(folder.rglob(INDEX))
        )
        if found
    ]
    shown = {path for _, paths in runs for path in paths}
    entries: list[tuple[str, str] | GallerySection] = [
        section for sections, _ in runs for section in sections
    ]
    entries += [(p.relative_to(folder).as_posix(),) * 2 for p in files if p not in shown]
    page = pages.save_gallery(folder / "index.html", entries)
    print_out(page)
    return OK
