"""A sample run's folder as sections of the gallery page (`run_section`): its objective, a strip
per facet (its optimum, its photos, the draws that differ, where they vary) or, without facets,
per chain, a table of each chain's figures, the GIF and the trace plot, the summary and the
diagnostics in words, all read from the files `run_folder.save_run` wrote. `samplevis gallery`
shows them on its page, `SampleResult._repr_html_` in a notebook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from samplevis.sampling.report import run_figures as figures
from samplevis.sampling.report import run_json
from samplevis.sampling.report.facet_natural import natural_sentence
from samplevis.sampling.report.run_folder import SAMPLE_PNG

if TYPE_CHECKING:
    from samplevis import pages
    from samplevis.pages import GallerySection

# A sample run's images outside its strips (or all of them, when its strips cannot be cut), in
# the order the gallery shows them, with their captions. starts.png, std.png and structure.png
# show the chains in the same order, chain 0 on the left.
RUN_OVERVIEW = (
    ("starts.png", "starts: the image each chain began from, chain 0 on the left"),
    ("samples.gif", "samples.gif: the chains' samples side by side, in the order drawn"),
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
        "trace.png: activation per chain over burn-in (the first steps adapting T) and sampling",
    ),
)
# A run with facets' grids that its page leaves out (the files stay): its facets' lines say in
# words how far the motifs moved (structure.png), and where the pixels vary shows over each
# facet's start where it repeats between the halves of the draws (facet_K_std.png); std.png's
# blobs of ten draws are chance (docs/sampling.md, "What a run shows").
FACET_RUN_UNSHOWN = ("std.png", "structure.png")
# The grids a run's strips show a tile of per chain: the start first, the maps beside.
STRIP_NOTES = (
    (
        "starts.png",
        "Each chain is a strip in the order drawn: its start (the optimized image it began "
        "from), then its samples, each captioned with its activation.",
    ),
    (
        "std.png",
        "std: the per-pixel standard deviation across the chain's samples, every chain on one "
        "scale: bright where the unit lets the image vary.",
    ),
    (
        "structure.png",
        "structure: where the chain's motifs changed between its samples: dark where they keep "
        "the start's motifs (recoloured or not), bright where the motifs moved.",
    ),
)
GIF_NOTE = "samples.gif plays the strips: a frame per sample, the chains side by side."
FACET_NOTE = (
    "Each facet is a row, kinds first (every kind's best facet, then a second of any kind), in "
    "a section per kind when there are several: its optimum (the best image found of it), from "
    "photos its cluster's photos, then up to 4 of its chains' draws that differ from each other "
    "in structure (blind to colour and shifts: first the draw farthest from the optimum, then "
    "each time the one farthest from those picked, stopping at a copy of one), each tile "
    "captioned with its activation as a share of the best facet's optimum's (a photo's value "
    "too), then, where it repeats between the halves of the draws, where their "
    "pixels vary (std, smoothed, over the chain's start in grey: yellow where they vary most). "
    "The draws come from the facet's chains whose draws are from their density; a facet with "
    "none shows the others' draws marked in red as not from their density (hover for why): "
    "they show where the chain was going, not its density at the frozen T. The line above the row says the facet's height (its "
    "optimum's activation as a share of the best facet's), whether the seeds or which search "
    "round found it, its log-mass with its standard error, and what varied between its draws: "
    "their mean colour (levels of 255) and bends (px) from their chains' starts and their "
    "structural share (0: recoloured copies, 1: as different as the starts); all the draws are "
    "sample_chain*_*.png and samples.gif. With `samplevis sample --examples`, the optimum is "
    "followed by the top images that look most like it (the part of each that the unit saw, "
    "with its value)."
)
SKIPPED = "Skipped:"  # the line of a run's section naming what its diagnostics.json lacks


def run_section(
    report_path: Path, page: Path
) -> tuple[tuple[GallerySection, ...], set[Path]] | None:
    """(gallery sections, the images they show) for a folder that `samplevis sample` wrote: its
    objective, then a strip per facet in the run's order (its optimum, its photos, then the
    draws that differ and where they vary: `_facet_strips`), in a section per kind after the
    run's when its facets are of several kinds (`_kind_sections`), or, for a run without
    facets, a strip per chain in the order drawn (its start, then its samples, each with its
    activation; std.png's and structure.png's tiles of the chain beside), the figures in a
    table, the GIF and the trace plot, and the summary and diagnostics in words, folded; None
    for any other diagnostics.json. Draws of chains off their target are marked. What a
    half-written, interrupted or older diagnostics.json lacks is left out, and the section's
    last line, starting with SKIPPED, names it."""
    from samplevis import pages

    samples = report_path.parent
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
    known = report if isinstance(report, dict) else {}
    strips, in_strips = _strips(samples, chains, known, page)
    num_chains = len(strips) or len(chains)
    by_facet = _facet_strips(samples, strips, chains, known, page)
    if by_facet:
        strips, in_strips = by_facet
        # not shown, nor listed with the loose images: the facets' strips say what they did, and
        # show the draws that differ of all those in samples.gif
        in_strips |= {samples / name for name in FACET_RUN_UNSHOWN}
        in_strips |= {path for found in chains.values() for _, path in found}
    shown = [
        (caption, samples / name)
        for name, caption in RUN_OVERVIEW
        if (samples / name).is_file() and samples / name not in in_strips
    ]
    rows = [shown] if shown else []
    if not strips:  # no tiles to cut: a row of samples per chain, as they are
        for chain in sorted(chains):
            rows.append([(f"chain {chain}, sample {i}", path) for i, path in sorted(chains[chain])])
    where = samples.relative_to(page).as_posix()
    if isinstance(report, dict):
        lines, details, skipped = _report_lines(report, bool(chains))
    else:
        lines, details = [], []
        why = "is not valid JSON (written only in part?)" if report is None else "holds no run"
        skipped = [f"the objective, summary and diagnostics: its diagnostics.json {why}"]
    if strips:
        notes = [FACET_NOTE] if by_facet else [caption for _, caption in STRIP_NOTES]
        if (samples / "samples.gif").is_file():
            notes.append(GIF_NOTE)
        details.append(("What the images show", notes))
    objective = known.get("objective")
    heading = objective if isinstance(objective, str) else "a sample run"
    if where != ".":
        heading += f" ({where}/)"
    if skipped:
        lines.append(f"{SKIPPED} {'; '.join(skipped)}.")
    table, note = figures.chain_table(known, num_chains)
    kinds = _kind_sections(heading, strips, run_json.facets(known, num_chains)) if by_facet else ()
    section = pages.GallerySection(
        heading,
        tuple(lines),
        tuple(
            tuple((caption, path.relative_to(page).as_posix()) for caption, path in row)
            for row in rows
        ),
        strips=() if kinds else tuple(strips),
        table=table,
        table_note=note,
        details=tuple((title, tuple(folded)) for title, folded in details),
    )
    return (section, *kinds), in_strips | {path for row in rows for _, path in row}


def _kind_sections(
    heading: str, strips: list[pages.Strip], records: list[dict]
) -> tuple[GallerySection, ...]:
    """A section per kind of photo of the run's facets (`records`, one per strip of `strips`),
    in the order of their first facets, each with a line saying how strongly the unit answers
    to it; none when the facets are of one kind, not from photos (each facet of the search is a
    kind of its own: its strip's line says its height), or the record has no kinds."""
    from samplevis import pages

    kinds = [k for k in (record.get("kind") for record in records) if isinstance(k, int)]
    from_photos = any(str(record.get("found", "")).startswith("photos") for record in records)
    if not from_photos or len(kinds) < len(records) or len(set(kinds)) < 2:
        return ()
    return tuple(
        pages.GallerySection(
            f"{heading}: kind {kind}" + _kind_name(records, kinds, kind),
            (figures.kind_note(kind, [r for r, k in zip(records, kinds) if k == kind]),),
            strips=tuple(strip for strip, k in zip(strips, kinds) if k == kind),
        )
        for kind in dict.fromkeys(kinds)
    )


def _kind_name(records: list[dict], kinds: list[int], kind: int) -> str:
    """ ", bell pepper, 13 of 15 photos": kind `kind`'s name in its first facet's record, "" for
    a record without one."""
    name = next((r.get("kind_name") for r, k in zip(records, kinds) if k == kind), None)
    return f", {name}" if isinstance(name, str) and name else ""


def _report_lines(
    report: dict, sampled: bool
) -> tuple[list[str], list[tuple[str, list[str]]], list[str]]:
    """(the lines a sample run's report gives the gallery to show, the (title, lines) to fold
    away, the parts of it that could not be read): whether it was interrupted; its summary and
    its diagnostics in plain words."""
    lines, details, skipped = [], [], []
    summary = report.get("summary")
    if isinstance(summary, list) and all(isinstance(line, str) for line in summary):
        if summary:
            details.append(("Summary, as samplevis sample printed it", summary))
    else:
        skipped.append("the summary, which this diagnostics.json lacks (an older run?)")
    if report.get("diagnostics") is not None:
        explained = _explained(report)
        if explained is None:
            skipped.append("the diagnostics, which are of another version")
        elif explained:
            details.append(("The diagnostics in plain words", explained))
    elif not report.get("interrupted"):
        skipped.append("the diagnostics, which this diagnostics.json lacks (an older run?)")
    if report.get("interrupted"):
        lines.append(
            "The run was interrupted: these are the samples drawn before it stopped."
            if sampled
            else "The run was interrupted before its first sample: these are the chains' starts."
        )
    return lines, details, skipped


def _strips(
    samples: Path, chains: dict[int, list[tuple[int, Path]]], report: dict, page: Path
) -> tuple[list[pages.Strip], set[Path]]:
    """(a strip per chain, the images they show): the chain's start (its tile of starts.png),
    then its samples in the order drawn, each captioned with its activation, and its
    tiles of std.png and structure.png beside; none when starts.png is not a row of one tile
    per chain of the samples' size."""
    from samplevis import pages

    count = max(chains) + 1 if chains else len(report.get("init_activations") or [])
    first = min(chains.get(0, []), default=None)
    size = _image_size(first[1]) if first else None
    tiles = {name: _grid_tiles(samples / name, count, size) for name, _ in STRIP_NOTES}
    if not count or tiles["starts.png"] is None:
        return [], set()
    captions = figures.captions(report, count)
    off = figures.off_target(report)
    strips = []
    for c in range(count):
        start = pages.Tile(
            (samples / "starts.png").relative_to(page).as_posix(),
            captions.start(c),
            crop=tiles["starts.png"][c],
            title=f"chain {c}'s start",
        )
        drawn = [
            _draw_tile(path.relative_to(page).as_posix(), captions, i, c, off)
            for i, path in sorted(chains.get(c, []))
        ]
        aside = tuple(
            pages.Tile(
                (samples / name).relative_to(page).as_posix(),
                name.removesuffix(".png"),
                crop=found[c],
                title=f"chain {c}. {note}",
            )
            for name, note in STRIP_NOTES[1:]
            if (found := tiles[name]) is not None
        )
        strips.append(pages.Strip(f"chain {c}", (start, *drawn), aside))
    shown = {samples / name for name, found in tiles.items() if found is not None}
    return strips, shown | {path for found in chains.values() for _, path in found}


def _draw_tile(
    src: str,
    captions: figures.Captions,
    i: int,
    c: int,
    off: dict[int, str],
    named: bool = False,
    best: float | None = None,
) -> pages.Tile:
    """Sample `i` of chain `c` (its PNG at `src`) as a tile, captioned with its activation (and
    its chain, if `named`: a facet's row shows draws of several), or with it as a share of
    `best` (the best facet's activation) where given; marked "not from its density", with why on
    hovering, when its chain is in `off`."""
    from samplevis import pages

    value = captions.value(i, c)
    shared = best is not None and figures.number(value) != "-"
    said = f"{value / best:.2f}" if shared else captions.sample(i, c)
    caption = said + (f" · chain {c}" if named else "")
    if c not in off:
        return pages.Tile(src, caption, title=captions.title(i, c))
    return pages.Tile(
        src,
        f"{caption} · not from its density",
        title=f"{captions.title(i, c)}. Not from its density ({off[c]}): it shows where the "
        "chain was going, not its density at the frozen T",
        mark="off-target",
    )


def _facet_strips(
    samples: Path,
    strips: list[pages.Strip],
    chains: dict[int, list[tuple[int, Path]]],
    report: dict,
    page: Path,
) -> tuple[list[pages.Strip], set[Path]] | None:
    """A strip per facet of the run, best first (`report["facets"]`): its optimum, its photos
    or examples, then the draws that differ (the record's "shown"; a record without it shows
    every draw of its chains: their tiles of `strips`, a strip per chain of `chains`' PNGs),
    then where they vary (its "std_overlay"), the facet's height, how it was found, its
    log-mass and what varied above; None for a run without facets, or whose optima's files
    are missing."""
    from samplevis import pages

    records = run_json.facets(report, len(strips))
    if not strips or not records:
        return None
    optima = [samples / record["optimum"] for record in records]
    if not all(path.is_file() for path in optima):
        return None
    paths = {(c, i): path.relative_to(page).as_posix() for c in chains for i, path in chains[c]}
    captions, off = figures.captions(report, len(strips)), figures.off_target(report)
    scale = _best_value(records)
    found = []
    for k, (record, optimum) in enumerate(zip(records, optima)):
        note = figures.facet_note(k, record) + _blur_sentence(record) + natural_sentence(record)
        height = figures.number(record.get("height"), ".2f")
        best = pages.Tile(
            optimum.relative_to(page).as_posix(),
            "optimum" if height == "-" else f"{height} · optimum",
            title=note,
        )
        shown = _shown(record.get("shown"), paths)
        drawn = (
            tuple(
                _draw_tile(paths[c, i], captions, i, c, off, named=True, best=scale)
                for c, i in shown
            )
            if shown is not None
            else tuple(t for c in record["chains"] for t in strips[c].tiles[1:])
        )
        # the photos beside the optimum, where they name what it shows
        photos = _example_tiles(samples, record, page, scale)
        std = _std_tile(samples, record, page)
        found.append(
            pages.Strip(
                f"facet {k}",
                (best, *photos, *drawn, *std),
                _processing_tile(samples, record, page),
                note=note,
            )
        )
    return found, {page / tile.src for strip in found for tile in strip.tiles}


def _shown(pairs: object, paths: dict[tuple[int, int], str]) -> list[tuple[int, int]] | None:
    """A facet record's "shown" draws as (chain, index) pairs, each with its PNG in `paths`;
    None when the record has no such list (written before draws were chosen) or names a draw
    whose PNG is missing."""
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, int) for n in pair)
        for pair in pairs
    ):
        return None
    found = [(c, i) for c, i in pairs]
    if not all(pair in paths for pair in found):
        return None
    return found


def _processing_tile(samples: Path, record: dict, page: Path) -> tuple:
    """A facet's Geirhos et al. check (the record's "processing") as a plot tile: layers across,
    how alike it is processed to its photos and to the others up; none when the record has no
    check or its PNG is missing."""
    from samplevis import pages

    found = record.get("processing")
    if not isinstance(found, dict) or not isinstance(found.get("plot"), str):
        return ()
    plot = samples / found["plot"]
    if not plot.is_file():
        return ()
    passes = str(found.get("passes") or "")
    layers = found["layers"] if isinstance(found.get("layers"), list) else []
    passed = "processed like its photos" if found.get("passed") else "not processed like its photos"
    return (
        pages.Tile(
            plot.relative_to(page).as_posix(),
            passed,
            title=f"Its optimum is processed like its kind's photos more than like the other "
            f"photos {passes} (Spearman correlation of channel means at {len(layers)} layers, "
            f"Geirhos et al.'s check); {found.get('draws_passed')} of {found.get('draws')} of "
            f"its draws pass{_photos_sentence(record)}{_blur_sentence(record)}",
        ),
    )


def _photos_sentence(record: dict) -> str:
    """The record's "photos_processing" as a clause: "; its kind's own photos 31 of 40, each
    checked as a facet is"; "" without it."""
    found = record.get("photos_processing")
    if not isinstance(found, dict):
        return ""
    return (
        f"; its kind's own photos {found.get('passed')} of {found.get('checked')}, each checked "
        "as a facet is"
    )


def _blur_sentence(record: dict) -> str:
    """The record's "blur" as a sentence to follow another: ". Its optimum keeps 0.45 of its
    value under a 1 px blur; its photos keep 0.69 (fails; 1 of 4 of its draws pass)"; ""
    without it."""
    found = record.get("blur")
    if not isinstance(found, dict) or not isinstance(found.get("words"), str):
        return ""
    verdict = "passes" if found.get("passed") else "fails"
    draws = found.get("draws")
    if isinstance(draws, int) and draws:
        verdict += f"; {found.get('draws_passed')} of {draws} of its draws pass"
    return f". Its optimum {found['words']} ({verdict})"


def _std_tile(samples: Path, record: dict, page: Path) -> tuple:
    """A facet's std overlay (the record's "std_overlay") as a tile, what it shows on hovering;
    none when the record names none or its PNG is missing."""
    from samplevis import pages

    name = record.get("std_overlay")
    if not isinstance(name, str) or not (samples / name).is_file():
        return ()
    chain = record.get("std_chain")
    return (
        pages.Tile(
            (samples / name).relative_to(page).as_posix(),
            f"std · chain {chain}" if isinstance(chain, int) else "std",
            title=str(record.get("std_note") or ""),
        ),
    )


def _best_value(records: list[dict]) -> float | None:
    """The best facet's activation, the unit the facets' tiles are said in (a share of it):
    the first record's activation over its height; None where the record lacks them."""
    value, height = records[0].get("activation"), records[0].get("height")
    if figures.number(value) == "-" or figures.number(height) == "-":
        return None
    assert isinstance(value, (int, float)) and isinstance(height, (int, float))  # numbers
    if not height > 0:
        return None
    best = value / height
    return best if best > 0 else None


def _example_tiles(samples: Path, record: dict, page: Path, best: float | None = None) -> tuple:
    """A facet's examples (`samplevis sample --examples`) as tiles: the part of each top image
    its unit saw, captioned with its value as a share of `best` (the best facet's activation;
    the value itself without it), the file and value in its title; those whose PNG is missing
    are left out."""
    from samplevis import pages

    tiles = []
    for entry in record.get("examples") or []:
        png = samples / str(entry.get("png", ""))
        if not entry.get("png") or not png.is_file():
            continue
        value = figures.number(entry.get("value"), ".3g")
        kind = "photo" if str(record.get("found", "")).startswith("photos") else "example"
        shared = best is not None and value != "-"
        said = f"{entry['value'] / best:.2f} · {kind}" if shared else f"{kind} {value}"
        tiles.append(
            pages.Tile(
                png.relative_to(page).as_posix(),
                said,
                title=f"{entry.get('file')}: value {value}, the part its unit saw",
            )
        )
    return tuple(tiles)


def _image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of an image file in px; None when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError):
        return None


def _grid_tiles(path: Path, count: int, size: tuple[int, int] | None) -> list[pages.Crop] | None:
    """The `count` tiles of a row that `io.grid` wrote to `path` (ncols=count, 2 px gaps), each
    of `size` (width, height) if given; None when the file is missing or laid out otherwise."""
    from samplevis import pages

    found = _image_size(path) if path.is_file() and count else None
    if found is None:
        return None
    width, height = found
    pad = 2  # io.grid's default gap, which SampleResult's strips use
    tile = ((width - pad) // count - pad, height - 2 * pad)
    if tile[0] < 1 or tile[1] < 1 or width != pad + count * (tile[0] + pad):
        return None
    if size is not None and tile != size:
        return None
    return [pages.Crop(pad + c * (tile[0] + pad), pad, *tile, width) for c in range(count)]


def _explained(report: dict) -> list[str] | None:
    """The run's diagnostics in plain words; None when they are of another make."""
    from samplevis.sampling.report.explain import explain
    from samplevis.sampling.report.run_json import diagnostics_from_dict

    try:
        diagnostics = diagnostics_from_dict(report["diagnostics"])
        options = report.get("options") or {}
        adapted = options.get("adapt_step_size", True)
        return explain(diagnostics, options.get("target_accept_prob", 0.75) if adapted else None)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
